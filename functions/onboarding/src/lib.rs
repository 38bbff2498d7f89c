//! Onboarding: the four setup steps, detected from live state (numbers owned, calendar
//! connected, scenarios created, first call placed) every time they are read.

mod detect;
mod handlers;

use shared::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every route of the onboarding context.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::status::status))
        .routes(routes!(handlers::next_action::next_action))
        .routes(routes!(handlers::complete_step::complete_step))
        .routes(routes!(handlers::initialize::initialize))
        .routes(routes!(handlers::check_step::check_step))
}
