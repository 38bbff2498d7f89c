//! Whether a tenant may start a call now: not suspended by an administrator, and this month's
//! call minutes not used up. Checked before every call starts: one placed on demand or by a
//! schedule (in `calling::place_outbound`), an inbound call before it is answered, and a
//! browser session before it is signed.
//!
//! A call that starts may run for what is left of the month's minutes at its start, when that
//! is less than the deployment's longest call ([`CallLength`]): Twilio's `TimeLimit` of an
//! outbound call, and the bridge's end of every call, phone or browser (a phone call's stream
//! token carries it; a browser call's is read as the bridge takes the call). Calls side by side each
//! get the whole remainder, so they can take a month over its cap by at most that much each;
//! a single call no longer runs on past it.

use std::time::Duration;

use chrono::{NaiveDate, Utc};

use crate::domain::usage::{month_of, next_month_start};
use crate::error::{Error, Result};
use crate::state::AppState;

/// Why a tenant may not start a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    Suspended { reason: String },
    MinutesUsedUp { cap: u32, resumes: NaiveDate },
}

impl Refusal {
    /// What the tenant is told (and what a refused call records).
    pub fn message(&self) -> String {
        match self {
            Refusal::Suspended { reason } => format!(
                "This account is suspended ({reason}): calls, scheduled calls and inbound \
                 numbers are stopped until the platform's administrators reinstate it"
            ),
            Refusal::MinutesUsedUp { cap, resumes } => format!(
                "This month's call minutes are used up ({cap} minutes); calls resume on {resumes}"
            ),
        }
    }
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Error {
        let detail = refusal.message();
        match refusal {
            Refusal::Suspended { .. } => Error::Forbidden(detail),
            Refusal::MinutesUsedUp { resumes, .. } => {
                let resumes_at = resumes
                    .and_hms_opt(0, 0, 0)
                    .map(|t| t.and_utc().timestamp())
                    .unwrap_or_default();
                Error::RateLimited {
                    detail,
                    retry_after: (resumes_at - Utc::now().timestamp()).max(1) as u64,
                }
            }
        }
    }
}

/// How long a call that starts now may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLength {
    pub limit: Duration,
    /// Whether the month's minutes left set the limit (rather than the longest call).
    pub by_cap: bool,
}

impl CallLength {
    /// The deployment's longest call: no cap, or more minutes left than that.
    fn longest(state: &AppState) -> CallLength {
        CallLength {
            limit: state.config.telephony.max_call_duration,
            by_cap: false,
        }
    }
}

/// `Ok(Err(refusal))` when the tenant may not start a call now; otherwise how long it may run.
pub async fn check(
    state: &AppState,
    tenant_id: &str,
) -> Result<std::result::Result<CallLength, Refusal>> {
    let today = Utc::now().date_naive();
    let month = month_of(today);
    let (standing, used) = tokio::try_join!(
        state.store.standing(tenant_id),
        state.store.month_usage(tenant_id, &month)
    )?;
    let standing = standing.unwrap_or_default();
    if let Some(suspension) = standing.suspension {
        return Ok(Err(Refusal::Suspended {
            reason: suspension.reason,
        }));
    }
    let cap = standing
        .monthly_minute_cap
        .or(state.config.usage.monthly_minute_cap);
    let Some(cap) = cap else {
        return Ok(Ok(CallLength::longest(state)));
    };
    let left = (u64::from(cap) * 60).saturating_sub(used.call_seconds());
    if left == 0 {
        return Ok(Err(Refusal::MinutesUsedUp {
            cap,
            resumes: next_month_start(today),
        }));
    }
    let longest = CallLength::longest(state);
    Ok(Ok(if Duration::from_secs(left) < longest.limit {
        CallLength {
            limit: Duration::from_secs(left),
            by_cap: true,
        }
    } else {
        longest
    }))
}

/// Refuses (403 suspended, 429 minutes used up) a tenant that may not start a call now;
/// otherwise says how long the call may run.
pub async fn ensure_may_call(state: &AppState, tenant_id: &str) -> Result<CallLength> {
    check(state, tenant_id).await?.map_err(Error::from)
}

/// How long a call starting now may run, for the bridge that runs it (the API has already let
/// it start). A tenant whose minutes ran out meanwhile gets no time; one whose standing cannot
/// be read gets the longest call (the API's check stands; a store hiccup must not cut calls).
pub async fn call_length(state: &AppState, tenant_id: &str) -> CallLength {
    match check(state, tenant_id).await {
        Ok(Ok(length)) => length,
        Ok(Err(Refusal::MinutesUsedUp { .. })) => CallLength {
            limit: Duration::ZERO,
            by_cap: true,
        },
        // Suspension ends live calls itself (and refused this one's start).
        Ok(Err(Refusal::Suspended { .. })) => CallLength::longest(state),
        Err(e) => {
            tracing::warn!(error = %e, "the month's minutes left could not be read; the call gets the longest length");
            CallLength::longest(state)
        }
    }
}
