//! Call transcripts: Voice Intelligence's webhook (which hands a finished transcript to the
//! worker), the tenant's enhanced transcripts, and the worker that runs the transcript jobs
//! (`worker`, invoked by the `transcript-worker` function and the local runner's poller).

mod handlers;
mod view;
pub mod worker;

use axum::routing::get;
use shared::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every route of the transcripts context. The listing answers with and without the trailing
/// slash the reference frontend uses (API Gateway routes both to the same function).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::webhook::webhook))
        .routes(routes!(handlers::enhanced::list))
        .route("/api/enhanced-transcripts", get(handlers::enhanced::list))
        .routes(routes!(handlers::enhanced::get))
}
