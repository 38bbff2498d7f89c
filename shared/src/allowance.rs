//! Whether a tenant may start a call now: not suspended by an administrator, and this month's
//! call minutes not used up. Checked before every call starts: one placed on demand or by a
//! schedule (in `calling::place_outbound`), an inbound call before it is answered, and a
//! browser session before it is signed. A call already running is not cut off: the cap is
//! checked at the start, so a month can end a call's length over it.

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

/// `Ok(Err(refusal))` when the tenant may not start a call now.
pub async fn check(state: &AppState, tenant_id: &str) -> Result<std::result::Result<(), Refusal>> {
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
    match cap {
        Some(cap) if used.call_seconds() >= u64::from(cap) * 60 => {
            Ok(Err(Refusal::MinutesUsedUp {
                cap,
                resumes: next_month_start(today),
            }))
        }
        _ => Ok(Ok(())),
    }
}

/// Refuses (403 suspended, 429 minutes used up) a tenant that may not start a call now.
pub async fn ensure_may_call(state: &AppState, tenant_id: &str) -> Result<()> {
    check(state, tenant_id).await?.map_err(Error::from)
}
