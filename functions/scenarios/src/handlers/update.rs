use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use shared::domain::ids::ScenarioId;
use shared::domain::scenarios::CustomScenarioInput;
use shared::http::{AuthUser, JsonBody};
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

use crate::view::CustomScenarioView;

#[derive(Serialize, ToSchema)]
pub struct Updated {
    message: &'static str,
    scenario: CustomScenarioView,
}

/// Replace a custom scenario's fields (same body as create).
#[utoipa::path(put, path = "/custom-scenarios/{scenario_id}", tag = "scenarios",
    security(("bearer" = [])),
    params(("scenario_id" = String, Path)),
    request_body = CustomScenarioInput,
    responses(
        (status = 200, description = "Updated", body = Updated),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Custom scenario not found", body = shared::error::Problem),
        (status = 422, description = "Invalid fields, or not a custom scenario id", body = shared::error::Problem),
    ))]
pub async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    Path(scenario_id): Path<String>,
    JsonBody(body): JsonBody<CustomScenarioInput>,
) -> Result<Json<Updated>> {
    let scenario_id = ScenarioId::parse(&scenario_id, "scenario_id")?;
    let fields = body
        .validate(&state.config.telephony.allowed_countries)
        .map_err(Error::Validation)?;
    let scenario = state
        .store
        .update_scenario(&user.tenant_id, scenario_id.as_str(), &fields)
        .await?;
    Ok(Json(Updated {
        message: "Custom scenario updated successfully",
        scenario: scenario.into(),
    }))
}
