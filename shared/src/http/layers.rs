//! What every router gets before it is served, on Lambda and locally alike.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::Config;
use crate::error::Error;

/// The CSP allows same-origin scripts and styles only (the docs page loads its script from
/// `/docs/app.js`), no framing, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Set on every response, whatever the handler said.
const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
];

/// Set unless the route set its own: the local runner's web console needs the microphone and
/// lets the browser cache its hashed assets; nothing of the API does either.
const DEFAULT_HEADERS: [(&str, &str); 2] = [
    (
        "permissions-policy",
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()",
    ),
    ("cache-control", "no-store"),
];

/// Response headers a cross-origin frontend may read (the next page's cursor, when to retry).
const EXPOSED_HEADERS: [&str; 2] = ["x-next-cursor", "retry-after"];

/// Adds the fallbacks, request logging, security headers and CORS (limited to
/// `FRONTEND_URL`) to a router whose state is already applied.
pub fn finish(router: Router, config: &Config) -> Router {
    let mut router = router
        .fallback(not_found)
        .layer(middleware::from_fn(problem_for_bare_errors))
        .layer(middleware::from_fn(log_request));
    for (name, value) in SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    for (name, value) in DEFAULT_HEADERS {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    router.layer(cors(config))
}

fn cors(config: &Config) -> CorsLayer {
    // A list (not `exact`) so other origins get no `Access-Control-Allow-Origin` at all.
    let origin = AllowOrigin::list(HeaderValue::from_str(&config.frontend_url).ok());
    CorsLayer::new()
        .allow_origin(origin)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers(EXPOSED_HEADERS.map(HeaderName::from_static))
        .max_age(Duration::from_secs(600))
}

async fn not_found() -> Error {
    Error::NotFound("Not Found".into())
}

/// axum answers some requests itself (405 for a wrong method, 413, ...) with an empty or
/// plain-text body; turn those into problem+json too.
async fn problem_for_bare_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if status.is_client_error() && !is_problem && status != StatusCode::NOT_FOUND {
        let detail = status.canonical_reason().unwrap_or("Request refused");
        let (parts, _) = response.into_parts();
        let mut fixed = Error::BadRequest {
            detail: detail.to_string(),
            errors: Vec::new(),
        }
        .into_response();
        *fixed.status_mut() = parts.status;
        for name in [header::ALLOW, header::RETRY_AFTER] {
            if let Some(v) = parts.headers.get(&name) {
                fixed.headers_mut().insert(name, v.clone());
            }
        }
        return fixed;
    }
    response
}

/// One line per request: method, route template (never the raw path, which can hold phone
/// numbers), status and latency. No headers or bodies, so no credentials.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}
