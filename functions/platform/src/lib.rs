//! Platform endpoints: liveness, the OpenAPI 3.1 document of every route, and a docs page
//! that renders it.

mod handlers;

use shared::AppState;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this context.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::health::health))
        .routes(routes!(handlers::openapi::openapi_json))
        .routes(routes!(handlers::docs::docs))
        .routes(routes!(handlers::docs::docs_script))
}

/// Every context's router, merged: what the local runner serves and what the OpenAPI
/// document describes. A new context is added here once.
pub fn all_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(shared::openapi::ApiDoc::openapi())
        .merge(auth::router())
        .merge(scenarios::router())
        .merge(onboarding::router())
        .merge(phone_numbers::router())
        .merge(calls::router())
        .merge(twilio_webhooks::router())
        .merge(schedules::router())
        .merge(transcripts::router())
        .merge(webhooks::router())
        .merge(calendar::router())
        .merge(router())
}

/// The OpenAPI document of the whole API, as served at `/openapi.json`.
pub fn openapi() -> serde_json::Value {
    let mut doc = serde_json::to_value(all_routes().into_openapi()).unwrap_or_default();
    shared::openapi::finish_document(&mut doc);
    doc
}
