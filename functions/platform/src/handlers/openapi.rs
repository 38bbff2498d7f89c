use std::sync::OnceLock;

use axum::Json;
use serde_json::Value;

/// The OpenAPI 3.1 document of every route and schema.
#[utoipa::path(get, path = "/openapi.json", tag = "platform",
    responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn openapi_json() -> Json<Value> {
    // Built once per cold start: it never changes while the process lives.
    static DOC: OnceLock<Value> = OnceLock::new();
    Json(DOC.get_or_init(crate::openapi).clone())
}
