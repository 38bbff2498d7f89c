//! Call transcripts: Voice Intelligence's webhook (which hands a finished transcript to the
//! worker), the tenant's enhanced transcripts, and the worker that runs the transcript jobs
//! (`worker`, invoked by the `job-worker` function and the local runner's poller).

mod handlers;
mod ingest;
mod view;
pub mod worker;

pub use handlers::manage::IMPORT_BUDGET;

use axum::extract::DefaultBodyLimit;
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
        .routes(routes!(handlers::manage::re_enhance))
        .routes(routes!(handlers::manage::fetch_and_store_enhanced))
        .routes(routes!(handlers::manage::fetch_and_store))
        .routes(routes!(handlers::manage::import))
        .routes(routes!(handlers::manage::delete))
        .routes(routes!(handlers::stored::twilio_list))
        .routes(routes!(handlers::stored::twilio_get))
        .routes(routes!(handlers::stored::list))
        .route("/stored-transcripts", get(handlers::stored::list))
        .routes(routes!(handlers::stored::get))
        .routes(routes!(handlers::stored::plain))
        .routes(routes!(handlers::summarize::summarize))
        .merge(
            // An upload is bigger than any other body. The file's own limit is checked once it
            // is read, so a client sending a little too much gets the clear 413, not a
            // connection cut mid-upload; this bound only stops unreasonable bodies.
            OpenApiRouter::new()
                .routes(routes!(handlers::whisper::transcribe))
                .layer(DefaultBodyLimit::max(handlers::whisper::MAX_BODY_BYTES)),
        )
}
