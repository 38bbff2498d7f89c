//! Twilio: the REST client (v2010, form-encoded, Basic auth, base URL from config), webhook
//! signature validation, and TwiML.

pub mod client;
pub mod intelligence;
pub mod platform_account;
pub mod signature;
pub mod transport;
pub mod twiml;

pub use client::Client;
pub use transport::{Transport, TwilioError};
