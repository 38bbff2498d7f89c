//! Calls: place an outbound call with a predefined or custom scenario, the call history, one
//! call, hanging up a live call, and the usage calls add up to.

mod handlers;
mod view;

use shared::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use view::CallView;

/// Every route of the calls context.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::make_call::make_call))
        .routes(routes!(handlers::make_call::make_custom_call))
        .routes(routes!(handlers::make_call::make_calendar_call))
        .routes(routes!(handlers::list::list))
        .routes(routes!(handlers::get::get))
        .routes(routes!(handlers::hangup::hangup))
        .routes(routes!(handlers::usage::usage))
}
