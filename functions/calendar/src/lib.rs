//! Google Calendar: connecting a tenant's Google account (OAuth 2.0 with PKCE), its calendar
//! settings, and reading it: events, availability and free meeting slots in the tenant's
//! zone. Calendar calls themselves go through the calls and schedules contexts, and booking
//! happens in the media bridge; all share `shared::calendar`.

mod handlers;

use shared::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every route of the calendar context.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::connect::auth))
        .routes(routes!(handlers::connect::callback))
        .routes(routes!(
            handlers::connection::status,
            handlers::connection::disconnect
        ))
        .routes(routes!(handlers::settings::get, handlers::settings::put))
        .routes(routes!(handlers::calendars::calendars))
        .routes(routes!(handlers::events::events))
        .routes(routes!(handlers::availability::check_availability))
        .routes(routes!(handlers::availability::find_slots))
}
