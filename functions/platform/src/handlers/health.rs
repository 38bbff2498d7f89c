use axum::Json;
use serde_json::{Value, json};

/// Liveness.
#[utoipa::path(get, path = "/health", tag = "platform",
    responses((status = 200, description = "Alive", body = Object, example = json!({"status": "ok"}))))]
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}
