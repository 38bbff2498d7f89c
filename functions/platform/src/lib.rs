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

/// Every context with the folder of its crate (what `template.yaml` names as `CodeUri`). A new
/// context is added here once.
pub fn contexts() -> Vec<(&'static str, OpenApiRouter<AppState>)> {
    vec![
        ("functions/auth", auth::router()),
        ("functions/scenarios", scenarios::router()),
        ("functions/onboarding", onboarding::router()),
        ("functions/phone-numbers", phone_numbers::router()),
        ("functions/calls", calls::router()),
        ("functions/twilio-webhooks", twilio_webhooks::router()),
        ("functions/schedules", schedules::router()),
        ("functions/transcripts", transcripts::router()),
        ("functions/webhooks", webhooks::router()),
        ("functions/calendar", calendar::router()),
        ("functions/realtime", realtime::router()),
        ("functions/admin", admin::router()),
        ("functions/platform", router()),
    ]
}

/// Every context's router, merged: what the local runner serves and what the OpenAPI
/// document describes.
pub fn all_routes() -> OpenApiRouter<AppState> {
    contexts().into_iter().fold(
        OpenApiRouter::with_openapi(shared::openapi::ApiDoc::openapi()),
        |all, (_, context)| all.merge(context),
    )
}

/// The OpenAPI document of the whole API, generated from the routes. `/openapi.json` serves
/// the copy in `assets/openapi.json`; the test below keeps the two equal.
pub fn openapi() -> serde_json::Value {
    let mut doc = serde_json::to_value(all_routes().into_openapi()).unwrap_or_default();
    shared::openapi::finish_document(&mut doc);
    doc
}

#[cfg(test)]
mod tests {
    const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/openapi.json");

    /// `UPDATE_OPENAPI=1 cargo test -p platform` rewrites the file after a route changes.
    #[test]
    fn the_served_document_is_the_generated_one() {
        let generated = super::openapi();
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
            std::fs::write(COMMITTED, text).unwrap();
        }
        let committed: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(COMMITTED).unwrap()).unwrap();
        assert!(
            committed == generated,
            "assets/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test -p platform`"
        );
    }
}
