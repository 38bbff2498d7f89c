//! The web console's static files (`console/dist`, built by `npm run build` in `console/`),
//! served by the local runner under `/console/`, as CloudFront serves them on AWS. Routes the
//! single-page app handles itself get its `index.html`; nothing outside the folder is served.

use std::path::{Component, Path, PathBuf};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// Where the console is served.
pub const PREFIX: &str = "/console";

/// The API's own policy turns every device off; "talk in browser" needs the microphone.
const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(self), payment=(), usb=()";

/// The built console of this checkout (`CONSOLE_DIR` overrides it).
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../console/dist")
}

/// The console's routes, serving the files under `dir`.
pub fn routes(dir: PathBuf) -> Router {
    Router::new()
        .route(PREFIX, get(|| async { Redirect::permanent("/console/") }))
        .route("/console/", get(index))
        .route("/console/{*path}", get(file))
        // Where the API's Google OAuth callback sends the browser back (FRONTEND_URL's
        // `/scheduled-meetings`, the reference frontend's path): the app shows the outcome.
        .route("/scheduled-meetings", get(index))
        .with_state(dir)
}

async fn index(State(dir): State<PathBuf>) -> Response {
    serve(&dir, "index.html").await
}

async fn file(State(dir): State<PathBuf>, UrlPath(path): UrlPath<String>) -> Response {
    serve(&dir, &path).await
}

async fn serve(dir: &Path, path: &str) -> Response {
    let relative = Path::new(path);
    // Only plain names below the folder: no `..`, no absolute paths.
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return StatusCode::NOT_FOUND.into_response();
    }
    let wanted = dir.join(relative);
    let (file, bytes) = match tokio::fs::read(&wanted).await {
        Ok(bytes) => (wanted, bytes),
        // An asset that is not there is a 404; any other path is a route of the app.
        Err(_) if relative.extension().is_some() => {
            return StatusCode::NOT_FOUND.into_response();
        }
        Err(_) => match tokio::fs::read(dir.join("index.html")).await {
            Ok(bytes) => (dir.join("index.html"), bytes),
            Err(_) => return not_built(),
        },
    };
    // Hashed asset names change with their content; index.html must always be fresh.
    let cache = if file.ends_with("index.html") {
        "no-cache"
    } else {
        "public, max-age=31536000, immutable"
    };
    (
        [
            (header::CONTENT_TYPE, content_type(&file)),
            (header::CACHE_CONTROL, cache),
            (
                HeaderName::from_static("permissions-policy"),
                PERMISSIONS_POLICY,
            ),
        ],
        bytes,
    )
        .into_response()
}

fn not_built() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "The console is not built: run `npm ci && npm run build` in console/ (make run does it).",
    )
        .into_response()
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_routes_and_nothing_outside_the_folder() {
        let dir = std::env::temp_dir().join(format!("console-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        std::fs::write(dir.join("index.html"), "<html>app</html>").unwrap();
        std::fs::write(dir.join("assets/app.js"), "console.log(1)").unwrap();
        let body = |r: Response| async {
            let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
            String::from_utf8(bytes.to_vec()).unwrap()
        };
        let js = serve(&dir, "assets/app.js").await;
        assert_eq!(
            js.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(body(js).await, "console.log(1)");
        // An app route gets the app; a missing asset or a path out of the folder does not.
        let route = serve(&dir, "calls").await;
        assert_eq!(route.headers()[header::CACHE_CONTROL], "no-cache");
        assert_eq!(body(route).await, "<html>app</html>");
        assert_eq!(serve(&dir, "assets/gone.js").await.status(), 404);
        assert_eq!(serve(&dir, "../Cargo.toml").await.status(), 404);
        assert_eq!(serve(&dir, "/etc/passwd").await.status(), 404);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
