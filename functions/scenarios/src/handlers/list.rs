use axum::Json;
use axum::extract::State;
use shared::http::AuthUser;
use shared::{AppState, Result};

use crate::view::CustomScenarioView;

/// The caller's custom scenarios, newest first.
#[utoipa::path(get, path = "/custom-scenarios", tag = "scenarios",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's scenarios", body = [CustomScenarioView]),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
    ))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<CustomScenarioView>>> {
    let scenarios = state.store.list_scenarios(&user.tenant_id).await?;
    Ok(Json(scenarios.into_iter().map(Into::into).collect()))
}
