//! Scheduled calls through EventBridge Scheduler: create (a one-time `at(...)` schedule whose
//! target is the scheduled-call runner), list, get, cancel; and the runner itself, which places
//! the call exactly once however often its event is delivered.

mod handlers;
pub mod runner;
mod view;

use shared::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every route of the schedules context.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::create::create))
        .routes(routes!(handlers::list::list))
        .routes(routes!(handlers::get::get, handlers::cancel::cancel))
}

/// The EventBridge schedule of a scheduled call (unique within the group).
pub fn schedule_name(schedule_id: &str) -> String {
    format!("call-{schedule_id}")
}
