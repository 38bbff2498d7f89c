//! Tenant webhooks: a tenant registers HTTPS endpoints for `call.completed` and
//! `transcript.ready`, sees each endpoint's delivery log, and removes endpoints; `delivery`
//! is the job that sends, signs and retries one event to one endpoint.

pub mod delivery;
mod handlers;

use shared::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every route of the webhooks context.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            handlers::endpoints::create,
            handlers::endpoints::list
        ))
        .routes(routes!(handlers::endpoints::delete))
        .routes(routes!(handlers::deliveries::deliveries))
}
