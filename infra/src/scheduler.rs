//! The local stand-in for EventBridge Scheduler firing: moto stores schedules but never fires
//! them, so this loop reads the schedules of the configured group from moto's Scheduler API,
//! invokes the same runner the Lambda target runs for each one that is due, and then deletes
//! it (what `ActionAfterCompletion: DELETE` does on AWS). No such loop runs in production.

use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use schedules::runner::{self, ScheduledCallEvent};
use shared::{AppState, Error, Result};

/// Creates the schedule group if it does not exist (on AWS the template creates it).
pub async fn ensure_group(state: &AppState) -> Result<()> {
    let group = &state.config.telephony.scheduler.group;
    let created = state
        .scheduler
        .create_schedule_group()
        .name(group)
        .send()
        .await;
    match created {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_conflict_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(Error::internal(
            aws_sdk_scheduler::error::DisplayErrorContext(&e),
        )),
    }
}

/// `at(2026-11-25T09:30:00)` in UTC -> the instant.
fn due_time(expression: &str) -> Option<chrono::DateTime<Utc>> {
    let inner = expression.strip_prefix("at(")?.strip_suffix(')')?;
    NaiveDateTime::parse_from_str(inner, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

/// Fires every due schedule once; returns how many fired.
pub async fn fire_due(state: &AppState) -> Result<usize> {
    let group = &state.config.telephony.scheduler.group;
    let aws = |e: &dyn std::fmt::Display| Error::internal(e.to_string());
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = state
            .scheduler
            .list_schedules()
            .group_name(group)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| aws(&aws_sdk_scheduler::error::DisplayErrorContext(&e)))?;
        names.extend(
            page.schedules()
                .iter()
                .filter_map(|s| s.name().map(str::to_string)),
        );
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let mut fired = 0;
    for name in names {
        let schedule = state
            .scheduler
            .get_schedule()
            .name(&name)
            .group_name(group)
            .send()
            .await
            .map_err(|e| aws(&aws_sdk_scheduler::error::DisplayErrorContext(&e)))?;
        let Some(at) = schedule.schedule_expression().and_then(due_time) else {
            continue;
        };
        if at > Utc::now() {
            continue;
        }
        let input = schedule.target().and_then(|t| t.input()).unwrap_or("{}");
        match serde_json::from_str::<ScheduledCallEvent>(input) {
            Ok(event) => {
                let outcome = crate::permissions::as_worker(
                    "scheduled-call-runner",
                    runner::run(state, &event),
                )
                .await?;
                tracing::info!(schedule = %name, ?outcome, "local scheduler fired a schedule");
                if outcome.retry_later() {
                    // Kept, so the next pass delivers it again (as Lambda's retry would).
                    continue;
                }
            }
            Err(_) => {
                tracing::warn!(schedule = %name, "schedule input is not a scheduled-call event")
            }
        }
        state
            .scheduler
            .delete_schedule()
            .name(&name)
            .group_name(group)
            .send()
            .await
            .map_err(|e| aws(&aws_sdk_scheduler::error::DisplayErrorContext(&e)))?;
        fired += 1;
    }
    Ok(fired)
}

/// Fires due schedules every `tick`, forever.
pub async fn run(state: AppState, tick: Duration) {
    let state = crate::permissions::guarded(&state);
    loop {
        if let Err(e) = fire_due(&state).await {
            tracing::warn!(error = %e, "local scheduler pass failed");
        }
        tokio::time::sleep(tick).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_at_expressions() {
        let t = due_time("at(2026-11-25T09:30:00)").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-25T09:30:00+00:00");
        assert!(due_time("rate(5 minutes)").is_none());
    }
}
