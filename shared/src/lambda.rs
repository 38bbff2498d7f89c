//! The entry point every function binary shares: configuration and clients once per cold
//! start, then the context's router under the Lambda runtime.

use utoipa_axum::router::OpenApiRouter;

use crate::config::{Config, Env};
use crate::error::Error;
use crate::state::AppState;

/// Telemetry, configuration (environment plus the Secrets Manager secret) and the AWS clients:
/// everything a function builds once. A configuration error fails the cold start (Lambda
/// reports an init error) rather than serving a half-configured function.
pub async fn cold_start() -> Result<AppState, Error> {
    crate::telemetry::init();
    let config = Config::load(&Env).await.map_err(|e| {
        tracing::error!(error = %e, "cold start failed");
        e
    })?;
    Ok(AppState::new(config).await)
}

/// Runs `router` on Lambda.
pub async fn run(router: OpenApiRouter<AppState>) -> Result<(), lambda_http::Error> {
    serve(cold_start().await?, router).await
}

/// Serves `router` on Lambda with an already-built state.
pub async fn serve(
    state: AppState,
    router: OpenApiRouter<AppState>,
) -> Result<(), lambda_http::Error> {
    let config = state.config.clone();
    let (router, _) = router.split_for_parts();
    let app = crate::http::finish(router.with_state(state), &config);
    lambda_http::run(app).await
}
