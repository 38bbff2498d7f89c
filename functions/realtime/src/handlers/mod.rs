pub mod session;
pub mod signal;
