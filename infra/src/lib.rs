//! Running the whole stack on one machine: every function's router in one axum server, local
//! AWS on moto, and the table created from the same definition `template.yaml` declares.
//!
//! The local runner binary (`local-stack`) and the end-to-end tests both build on this, so
//! what the tests exercise is exactly what a developer runs.

pub mod console;
pub mod jobs;
pub mod load_calls;
pub mod moto;
pub mod permissions;
pub mod platform_admin;
pub mod scheduler;

use std::net::SocketAddr;

use axum::Router;
use shared::{AppState, Result};
use tokio::net::TcpListener;

/// Every route of every context, with the same layers the Lambda functions apply, each
/// route held to its function's IAM grant (see [`permissions`]), and the web console.
/// The web console is served from `CONSOLE_DIR` (default: this checkout's `console/dist`).
pub fn app(state: AppState) -> Router {
    let config = state.config.clone();
    let (router, _) = platform::all_routes().split_for_parts();
    let router = router.route_layer(axum::middleware::from_fn(permissions::scope_route));
    let console_dir = std::env::var_os("CONSOLE_DIR")
        .map(Into::into)
        .unwrap_or_else(console::default_dir);
    let router = router
        .with_state(permissions::guarded(&state))
        .merge(console::routes(console_dir));
    shared::http::finish(router, &config)
}

/// Creates the table and the schedule group if needed (moto starts empty).
pub async fn prepare(state: &AppState) -> Result<()> {
    shared::store::schema::ensure_table(state.store.client(), state.store.table()).await?;
    scheduler::ensure_group(state).await
}

/// Serves `app` until `shutdown` resolves. The peer address is kept so rate limits see the
/// client's IP as they do behind API Gateway.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
