//! The scheduled-call runner: what EventBridge Scheduler invokes (on AWS through the
//! `scheduled-call-runner` function, locally through the local scheduler loop).
//!
//! Scheduler delivers at least once, so the runner first claims the scheduled call
//! (`pending` -> `dialing`, conditionally). Only the delivery that wins the claim places the
//! call; a duplicate, or an event for a canceled call, does nothing.

use serde::{Deserialize, Serialize};
use shared::calling::{self, Outbound};
use shared::domain::phone::E164;
use shared::{AppState, Error, Result};

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
}

/// Places the scheduled call once and records the outcome on the scheduled call.
pub async fn run(state: &AppState, event: &ScheduledCallEvent) -> Result<RunOutcome> {
    let claimed = match state
        .store
        .transition_schedule(&event.tenant_id, &event.schedule_id, "pending", "dialing")
        .await
    {
        Ok(claimed) => claimed,
        Err(Error::NotFound(_)) => false,
        Err(e) => return Err(e),
    };
    if !claimed {
        tracing::info!(schedule_id = %event.schedule_id, "scheduled call already handled or canceled");
        return Ok(RunOutcome::Skipped);
    }
    let scheduled = state
        .store
        .schedule(&event.tenant_id, &event.schedule_id)
        .await?;
    let placed = match E164::parse(&scheduled.phone_number, "phone_number") {
        Ok(to) => {
            calling::place_outbound(
                state,
                &event.tenant_id,
                Outbound {
                    to,
                    scenario: scheduled.scenario.clone(),
                    schedule_id: Some(event.schedule_id.clone()),
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
