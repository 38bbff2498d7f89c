pub mod check_step;
pub mod complete_step;
pub mod initialize;
pub mod next_action;
pub mod status;
