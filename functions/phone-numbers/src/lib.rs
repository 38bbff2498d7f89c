//! Tenant phone numbers: search Twilio's inventory, buy (provision) a number wired to the
//! inbound webhook, list, the primary number, release, and the scenario inbound calls use.

mod handlers;
pub mod purchase;
mod view;

use shared::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every route of the phone-numbers context.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::account::account))
        .routes(routes!(handlers::search::search))
        .routes(routes!(handlers::provision::provision))
        .routes(routes!(handlers::list::list))
        .routes(routes!(handlers::primary::primary))
        .routes(routes!(handlers::release::release))
        .routes(routes!(
            handlers::inbound_scenario::get_inbound_scenario,
            handlers::inbound_scenario::set_inbound_scenario
        ))
}
