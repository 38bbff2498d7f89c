use axum::http::header;
use axum::response::{Html, IntoResponse};

/// An HTML page that renders `/openapi.json` (self-contained: no CDN, and its script is a
/// same-origin file so the CSP needs no `unsafe-inline` for scripts).
#[utoipa::path(get, path = "/docs", tag = "platform",
    responses((status = 200, description = "API documentation page", content_type = "text/html")))]
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("../../assets/docs.html"))
}

/// The docs page's script.
#[utoipa::path(get, path = "/docs/app.js", tag = "platform",
    responses((status = 200, description = "Docs page script", content_type = "text/javascript")))]
pub async fn docs_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../assets/docs.js"),
    )
}
