pub mod get;
pub mod hangup;
pub mod list;
pub mod make_call;
pub mod usage;
