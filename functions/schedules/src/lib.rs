//! Scheduled calls through EventBridge Scheduler: create (a one-time `at(...)` schedule whose
//! target is the scheduled-call runner), list, get, cancel; and the runner itself, which places
//! the call exactly once however often its event is delivered.

mod handlers;
pub mod runner;
mod view;

use aws_sdk_scheduler::types::{DeadLetterConfig, RetryPolicy, Target};
use shared::config::{Config, SchedulerTarget};
use shared::{AppState, Error, Result};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How late a scheduled call may still be placed when Scheduler had to retry delivering it
/// (throttling, the runner unavailable): a call much later than scheduled is not what the
/// tenant asked for. Past this, or after the retries, the event goes to the dead-letter queue.
pub const MAX_DELIVERY_DELAY_SECS: i32 = 15 * 60;
/// Scheduler's delivery attempts after the first.
pub const DELIVERY_RETRIES: i32 = 10;

/// Every route of the schedules context.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::create::create))
        .routes(routes!(handlers::create::create_calendar))
        .routes(routes!(handlers::list::list))
        .routes(routes!(handlers::get::get, handlers::cancel::cancel))
}

/// The EventBridge schedule of a scheduled call (unique within the group).
pub fn schedule_name(schedule_id: &str) -> String {
    format!("call-{schedule_id}")
}

/// What a call schedule invokes: the runner with `input`, retried by Scheduler for a bounded
/// time, and kept in the dead-letter queue if it still cannot be delivered.
pub fn schedule_target(target: &SchedulerTarget, input: String) -> Result<Target> {
    Target::builder()
        .arn(&target.runner_arn)
        .role_arn(&target.role_arn)
        .input(input)
        .retry_policy(
            RetryPolicy::builder()
                .maximum_event_age_in_seconds(MAX_DELIVERY_DELAY_SECS)
                .maximum_retry_attempts(DELIVERY_RETRIES)
                .build(),
        )
        .dead_letter_config(
            DeadLetterConfig::builder()
                .arn(&target.dead_letter_arn)
                .build(),
        )
        .build()
        .map_err(Error::internal)
}

/// The schedules functions need the schedule target; outside development mode they refuse to
/// start without it (rather than creating schedules that point nowhere).
pub fn check_configuration(config: &Config) -> Result<()> {
    config.telephony.scheduler.target().map(|_| ())
}
