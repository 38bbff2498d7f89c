//! Scenarios: the predefined templates (read-only) and each tenant's custom scenarios
//! (create, list, get, replace, delete; at most `MAX_CUSTOM_SCENARIOS` per tenant).

mod handlers;
mod view;

use shared::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use view::CustomScenarioView;

/// Every route of the scenarios context.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::predefined::list_predefined))
        .routes(routes!(handlers::predefined::get_predefined))
        .routes(routes!(handlers::create::create))
        .routes(routes!(handlers::list::list))
        .routes(routes!(
            handlers::get::get,
            handlers::update::update,
            handlers::delete::delete
        ))
}
