//! The scheduled-call runner: what EventBridge Scheduler invokes (on AWS through the
//! `scheduled-call-runner` function, locally through the local scheduler loop).
//!
//! Scheduler delivers at least once, so the runner first claims the scheduled call
//! (`pending` -> `dialing`, conditionally). Only the delivery that wins the claim places the
//! call; a duplicate, or an event for a canceled call, does nothing.
//!
//! A runner can also die after claiming (a timeout, a crash). Its claim then goes stale, and
//! the next delivery (Lambda's retry of the failed invocation, or Scheduler's) takes it over.
//! What it does depends on how far the first runner got, as the call record it was placing
//! tells, and it never dials a number twice:
//! - no call record, or one that never reached Twilio: the call is placed now;
//! - a call with a SID (Twilio accepted it): the scheduled call is recorded as placed;
//! - a call Twilio refused: recorded as failed, with Twilio's reason;
//! - a call whose request was sent but never answered: whether the phone rang cannot be known,
//!   so it is recorded as failed with that reason rather than risking a second call.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use shared::calling::{self, Outbound};
use shared::domain::calls::ScheduleStatus;
use shared::domain::ids::CallId;
use shared::domain::phone::E164;
use shared::store::schedules::{Claim, ScheduledCall};
use shared::{AppState, Error, Result};

/// A claim older than this belongs to a runner that stopped. It must exceed the runner
/// function's timeout (30 s in template.yaml; a test checks the two together) and be shorter
/// than Lambda's first retry of a failed invocation (at least a minute after the failure).
pub const CLAIM_STALE_AFTER: Duration = Duration::from_secs(60);

/// Why a scheduled call is not retried after its runner stopped mid-request.
pub const UNKNOWN_OUTCOME: &str = "The runner stopped while Twilio was being asked to place \
    the call, so whether it rang is unknown; it is not retried, so the number is never called twice";

/// The schedule's `Input`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScheduledCallEvent {
    pub tenant_id: String,
    pub schedule_id: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RunOutcome {
    Placed {
        call_id: String,
    },
    Failed {
        reason: String,
    },
    /// Already handled (a repeated delivery), canceled, or unknown.
    Skipped,
    /// Another runner holds a fresh claim: deliver again later (it may yet die).
    InProgress,
}

impl RunOutcome {
    /// The delivery must be retried later (the invocation reports a failure so it is).
    pub fn retry_later(&self) -> bool {
        matches!(self, RunOutcome::InProgress)
    }
}

/// What to do about a scheduled call someone else claimed.
enum Recovery {
    Dial(String),
    Done(RunOutcome),
}

/// Places the scheduled call once and records the outcome on the scheduled call.
pub async fn run(state: &AppState, event: &ScheduledCallEvent) -> Result<RunOutcome> {
    let tenant_id = &event.tenant_id;
    let claim = match state
        .store
        .claim_schedule(tenant_id, &event.schedule_id)
        .await
    {
        Ok(claim) => claim,
        Err(Error::NotFound(_)) => return Ok(RunOutcome::Skipped),
        Err(e) => return Err(e),
    };
    let call_id = match claim {
        Claim::Won { call_id } => call_id,
        Claim::Lost(current) => match recover(state, tenant_id, current).await? {
            Recovery::Dial(call_id) => call_id,
            Recovery::Done(outcome) => {
                tracing::info!(schedule_id = %event.schedule_id, ?outcome, "scheduled call already handled");
                return Ok(outcome);
            }
        },
    };
    dial(state, event, call_id).await
}

/// Decides what a delivery does about a scheduled call it could not claim.
async fn recover(state: &AppState, tenant_id: &str, current: ScheduledCall) -> Result<Recovery> {
    if current.status != ScheduleStatus::Dialing {
        return Ok(Recovery::Done(RunOutcome::Skipped));
    }
    if !is_stale(current.claimed_at.as_deref()) {
        return Ok(Recovery::Done(RunOutcome::InProgress));
    }
    let schedule_id = current.schedule_id.clone();
    let call = match &current.call_id {
        Some(id) => state.store.find_call(tenant_id, id).await?,
        None => None,
    };
    let outcome = match call {
        Some(call) if call.call_sid.is_some() => Ok(call.call_id),
        Some(call) if call.status.is_final() => Err(call
            .error
            .unwrap_or_else(|| format!("The call ended {}", call.status))),
        Some(call) if call.twilio_requested_at.is_some() => {
            state
                .store
                .fail_call(tenant_id, &call.call_id, UNKNOWN_OUTCOME)
                .await?;
            Err(UNKNOWN_OUTCOME.to_string())
        }
        Some(call) => {
            // Recorded but never sent to Twilio: that record is closed and a new call placed.
            state
                .store
                .fail_call(
                    tenant_id,
                    &call.call_id,
                    "The runner stopped before dialling; the scheduled call was retried",
                )
                .await?;
            return take_over(state, tenant_id, &current, CallId::generate().into_string()).await;
        }
        None => {
            let call_id = current
                .call_id
                .clone()
                .unwrap_or_else(|| CallId::generate().into_string());
            return take_over(state, tenant_id, &current, call_id).await;
        }
    };
    // The stale claim is finished on the first runner's behalf.
    let outcome = match outcome {
        Ok(call_id) => {
            state
                .store
                .finish_schedule(tenant_id, &schedule_id, Ok(&call_id))
                .await?;
            RunOutcome::Placed { call_id }
        }
        Err(reason) => {
            state
                .store
                .finish_schedule(tenant_id, &schedule_id, Err(&reason))
                .await?;
            RunOutcome::Failed { reason }
        }
    };
    Ok(Recovery::Done(outcome))
}

async fn take_over(
    state: &AppState,
    tenant_id: &str,
    stale: &ScheduledCall,
    call_id: String,
) -> Result<Recovery> {
    Ok(
        match state
            .store
            .reclaim_schedule(tenant_id, stale, &call_id)
            .await?
        {
            Claim::Won { call_id } => {
                tracing::warn!(schedule_id = %stale.schedule_id, "took over a stale scheduled-call claim");
                Recovery::Dial(call_id)
            }
            Claim::Lost(_) => Recovery::Done(RunOutcome::Skipped),
        },
    )
}

fn is_stale(claimed_at: Option<&str>) -> bool {
    let Some(claimed) = claimed_at.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    else {
        return true;
    };
    let age = chrono::Utc::now().signed_duration_since(claimed);
    age.to_std().is_ok_and(|age| age >= CLAIM_STALE_AFTER)
}

/// Places the claimed call under `call_id` and records the outcome.
async fn dial(state: &AppState, event: &ScheduledCallEvent, call_id: String) -> Result<RunOutcome> {
    let scheduled = state
        .store
        .schedule(&event.tenant_id, &event.schedule_id)
        .await?;
    let call_id = CallId::parse(&call_id, "call_id").map_err(|e| Error::internal(e.message))?;
    let placed = match E164::parse(&scheduled.phone_number, "phone_number") {
        Ok(to) => {
            calling::place_outbound(
                state,
                &event.tenant_id,
                Outbound {
                    to,
                    scenario: scheduled.scenario.clone(),
                    scheduled: Some((event.schedule_id.clone(), call_id)),
                },
            )
            .await
        }
        Err(e) => Err(Error::Validation(vec![e])),
    };
    // Every failure is recorded rather than retried: the claim means a retry would do nothing.
    match placed {
        Ok(call) => {
            state
                .store
                .finish_schedule(&event.tenant_id, &event.schedule_id, Ok(&call.call_id))
                .await?;
            tracing::info!(schedule_id = %event.schedule_id, call_id = %call.call_id, "scheduled call placed");
            Ok(RunOutcome::Placed {
                call_id: call.call_id,
            })
        }
        Err(e) => {
            let reason = e.problem().detail;
            state
                .store
                .finish_schedule(&event.tenant_id, &event.schedule_id, Err(&reason))
                .await?;
            tracing::warn!(schedule_id = %event.schedule_id, reason = %reason, "scheduled call failed");
            Ok(RunOutcome::Failed { reason })
        }
    }
}
