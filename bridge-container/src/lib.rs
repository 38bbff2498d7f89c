//! The media bridge: a long-running server that carries every live call between Twilio Media
//! Streams and the OpenAI Realtime API (GA protocol only).
//!
//! - [`server`]: the axum app: health, readiness, metrics and the Twilio WebSocket endpoint,
//!   with admission (signature on the upgrade, stream token in `start`) and draining.
//! - [`call`]: one call: OpenAI session set-up, the relay loop, barge-in, tools, session
//!   rotation and the call record.
//! - [`playout`]: re-cutting the model's audio into 20 ms frames paced to Twilio, with marks
//!   that tell how much the caller actually heard.
//! - [`twilio`] and [`realtime`]: the two wire protocols.
//! - [`tools`]: function tools the model can call (`end_call`; later issues add more).
//! - [`metrics`]: process-wide counters and latency histograms.

pub mod call;
pub mod metrics;
pub mod playout;
pub mod realtime;
pub mod server;
pub mod tools;
pub mod twilio;

pub use server::{Bridge, STREAM_PATH, Settings};
