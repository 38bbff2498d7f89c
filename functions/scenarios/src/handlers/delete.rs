use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use shared::domain::ids::ScenarioId;
use shared::http::AuthUser;
use shared::{AppState, Result};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Deleted {
    message: &'static str,
}

/// Delete a custom scenario, freeing its slot.
#[utoipa::path(delete, path = "/custom-scenarios/{scenario_id}", tag = "scenarios",
    security(("bearer" = [])),
    params(("scenario_id" = String, Path)),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Custom scenario not found", body = shared::error::Problem),
        (status = 422, description = "Not a custom scenario id", body = shared::error::Problem),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    Path(scenario_id): Path<String>,
) -> Result<Json<Deleted>> {
    let scenario_id = ScenarioId::parse(&scenario_id, "scenario_id")?;
    state
        .store
        .delete_scenario(&user.tenant_id, scenario_id.as_str())
        .await?;
    Ok(Json(Deleted {
        message: "Custom scenario deleted successfully",
    }))
}
