use axum::http::header;
use axum::response::IntoResponse;

/// The OpenAPI 3.1 document of every route and schema.
///
/// Served from `assets/openapi.json`, which a test keeps equal to what [`crate::openapi`]
/// generates from every context's routes. Serving the file rather than generating it keeps the
/// other contexts' handlers out of this function's binary (half its size).
#[utoipa::path(get, path = "/openapi.json", tag = "platform",
    responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../../assets/openapi.json"),
    )
}
