use axum::Json;
use axum::extract::State;
use shared::domain::onboarding::StatusView;
use shared::http::AuthUser;
use shared::{AppState, Result};

use crate::detect;

/// The caller's onboarding progress, brought up to date with their live state.
#[utoipa::path(get, path = "/onboarding/status", tag = "onboarding",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Progress", body = StatusView),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
    ))]
pub async fn status(State(state): State<AppState>, user: AuthUser) -> Result<Json<StatusView>> {
    let (onboarding, live) = detect::refresh(&state, &user.tenant_id).await?;
    Ok(Json(onboarding.view(live.has_scenarios)))
}
