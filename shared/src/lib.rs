//! Everything two or more functions need: configuration, the error type, telemetry, the
//! DynamoDB store, authentication, the HTTP glue and the domain rules.
//!
//! Handlers in `functions/*` stay thin: they extract, call into this crate, and answer.

pub mod agent;
pub mod allowance;
pub mod auth;
pub mod calendar;
pub mod calling;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod google;
pub mod hang_up;
pub mod http;
pub mod jobs;
pub mod lambda;
pub mod openai;
pub mod openapi;
pub mod sideband;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod transfer;
pub mod twilio;

pub use config::Config;
pub use error::{Error, FieldError, Result};
pub use state::AppState;
