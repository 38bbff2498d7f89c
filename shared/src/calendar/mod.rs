//! The calendar feature over Google: connecting a tenant's account ([`connect`]), using it
//! with fresh tokens ([`access`]), reading availability ([`availability`]), booking and
//! cancelling appointments during calls ([`booking`]), and the calendar block of a calendar
//! call's instructions ([`prompt`]).
//!
//! Everything here is scoped to one tenant, whose id comes from a verified token (HTTP) or a
//! verified stream token (the bridge). Nothing ever falls back to another tenant's calendar.

pub mod access;
pub mod availability;
pub mod booking;
pub mod connect;
pub mod prompt;

use crate::auth::seal::Sealer;
use crate::config::Google;
use crate::error::{Error, Result};
use crate::google::{GoogleError, calendar, oauth::OAuth};
use crate::state::AppState;

pub use access::TenantCalendar;

/// Google's APIs as configured for this deployment.
#[derive(Clone, Debug)]
pub struct GoogleApis {
    pub config: Google,
    pub oauth: OAuth,
    pub calendar: calendar::Client,
    /// Seals tokens and verifiers at rest, bound to their tenant.
    pub sealer: Sealer,
}

impl GoogleApis {
    pub fn new(config: &Google) -> Self {
        GoogleApis {
            oauth: OAuth::new(config),
            calendar: calendar::Client::new(&config.calendar_url, config.timeout),
            sealer: Sealer::new(&config.token_key),
            config: config.clone(),
        }
    }
}

/// The Google APIs, or 503 when this deployment has no Google client configured.
pub fn apis(state: &AppState) -> Result<&GoogleApis> {
    state.google.as_ref().ok_or_else(|| {
        Error::Unavailable("Google Calendar is not configured on this deployment".into())
    })
}

/// What a client is told when Google fails: never Google's raw text for 5xx, and a clear
/// instruction when the tenant must act.
pub fn google_error(e: GoogleError) -> Error {
    match (e.status, e.reason.as_deref()) {
        (401, _) | (_, Some("invalid_grant")) => Error::Conflict(REVOKED.into()),
        (403, _) => Error::Conflict(
            "The calendar connection lacks a permission it needs; connect the calendar again and grant every requested permission".into(),
        ),
        (404, _) => Error::bad_request(
            "The configured calendar is not available to the connected Google account; check calendar_id in the calendar settings",
        ),
        (0 | 429 | 500.., _) => {
            tracing::warn!(status = e.status, "Google Calendar unavailable");
            Error::Upstream("Google Calendar is unavailable; please retry shortly".into())
        }
        _ => {
            tracing::warn!(status = e.status, reason = ?e.reason, "Google refused a calendar request");
            Error::Upstream("Google Calendar refused the request".into())
        }
    }
}

pub const NOT_CONNECTED: &str = "Google Calendar is not connected";
pub const REVOKED: &str =
    "Google Calendar access was revoked or has expired; connect the calendar again";
