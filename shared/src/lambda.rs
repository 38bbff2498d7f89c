//! The entry point every function binary shares: configuration and clients once per cold
//! start, then the context's router under the Lambda runtime.

use utoipa_axum::router::OpenApiRouter;

use crate::config::{Config, Env};
use crate::state::AppState;

/// Runs `router` on Lambda. Configuration errors fail the cold start (Lambda reports an init
/// error) rather than serving a half-configured function.
pub async fn run(router: OpenApiRouter<AppState>) -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let config = Config::load(&Env).await.map_err(|e| {
        tracing::error!(error = %e, "cold start failed");
        e
    })?;
    let state = AppState::new(config).await;
    let config = state.config.clone();
    let (router, _) = router.split_for_parts();
    let app = crate::http::finish(router.with_state(state), &config);
    lambda_http::run(app).await
}
