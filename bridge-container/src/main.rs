//! The media bridge container. Its relay (Twilio Media Streams <-> OpenAI Realtime) is built by
//! the bridge issue; for now it is the long-running server skeleton Fargate runs: liveness on
//! `GET /health`, and a clean stop on SIGTERM.

use axum::Json;
use axum::routing::get;
use serde_json::{Value, json};

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    shared::telemetry::init();
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    tracing::info!(port, "bridge listening");
    let app = axum::Router::new().route("/health", get(health));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            if let Ok(mut term) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                term.recv().await;
            }
        })
        .await
}
