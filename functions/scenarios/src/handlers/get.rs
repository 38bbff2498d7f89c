use axum::Json;
use axum::extract::{Path, State};
use shared::domain::ids::ScenarioId;
use shared::http::AuthUser;
use shared::{AppState, Result};

use crate::view::CustomScenarioView;

/// One of the caller's custom scenarios; 404 for anyone else's.
#[utoipa::path(get, path = "/custom-scenarios/{scenario_id}", tag = "scenarios",
    security(("bearer" = [])),
    params(("scenario_id" = String, Path)),
    responses(
        (status = 200, description = "The scenario", body = CustomScenarioView),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Custom scenario not found", body = shared::error::Problem),
        (status = 422, description = "Not a custom scenario id", body = shared::error::Problem),
    ))]
pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    Path(scenario_id): Path<String>,
) -> Result<Json<CustomScenarioView>> {
    let scenario_id = ScenarioId::parse(&scenario_id, "scenario_id")?;
    let scenario = state
        .store
        .scenario(&user.tenant_id, scenario_id.as_str())
        .await?;
    Ok(Json(scenario.into()))
}
