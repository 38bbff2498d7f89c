//! The media bridge: a long-running server that carries every live call between Twilio Media
//! Streams and the OpenAI Realtime API (GA protocol only).
//!
//! - [`server`]: settings, the shared state of all calls, the health routes, the signature
//!   check on each Media Stream upgrade, and draining.
//! - [`attach`]: browser calls taken over from the attach queue (watched through their
//!   sideband by [`call::run_browser`]).
//! - [`listener`]: the accept loop: Media Streams upgraded straight on the TCP socket, every
//!   other request to the health routes.
//! - [`call`]: one call, from admission to the call record: `admission` (stream token, claim,
//!   scenario and the call's tools), `session` (OpenAI Realtime set-up and its writer),
//!   `relay` (the loop: audio both ways, barge-in, session rotation and reconnects) and
//!   `tool_calls` (function calls, run once each after their item completed, in a time
//!   budget).
//! - [`playout`]: re-cutting the model's audio into 20 ms frames paced to Twilio, with marks
//!   that tell how much the caller actually heard.
//! - [`twilio`] and [`realtime`]: the two wire protocols.
//! - [`tools`]: function tools the model can call (`end_call`; later issues add more), and the
//!   per-call registry.
//! - [`intern`]: one copy of the instructions and tool definitions that calls share.
//! - [`metrics`]: process-wide counters and latency histograms; [`emf`] publishes them to
//!   CloudWatch as embedded-metric-format log lines.

pub mod attach;
pub mod call;
pub mod emf;
pub mod intern;
pub mod listener;
pub mod metrics;
pub mod playout;
pub mod realtime;
pub mod server;
pub mod tools;
pub mod twilio;

pub use server::{Bridge, STREAM_PATH, Settings};
