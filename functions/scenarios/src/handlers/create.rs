use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use shared::domain::scenarios::CustomScenarioInput;
use shared::http::{AuthUser, JsonBody};
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

use crate::view::CustomScenarioView;

#[derive(Serialize, ToSchema)]
pub struct Created {
    scenario_id: String,
    message: &'static str,
    scenario: CustomScenarioView,
}

/// Create a custom scenario (at most 20 per tenant by default).
#[utoipa::path(post, path = "/realtime/custom-scenario", tag = "scenarios",
    security(("bearer" = [])),
    request_body = CustomScenarioInput,
    responses(
        (status = 201, description = "Created", body = Created),
        (status = 400, description = "Scenario limit reached", body = shared::error::Problem),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 422, description = "Invalid fields", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
    ))]
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<CustomScenarioInput>,
) -> Result<(StatusCode, Json<Created>)> {
    state
        .store
        .rate_limit(
            "scenario_create",
            &user.tenant_id,
            &state.config.rate_limits.scenario_create,
        )
        .await?;
    let fields = body
        .validate(&state.config.telephony.allowed_countries)
        .map_err(Error::Validation)?;
    let scenario = state
        .store
        .create_scenario(&user.tenant_id, &fields, state.config.max_custom_scenarios)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            scenario_id: scenario.scenario_id.clone(),
            message: "Custom scenario created successfully",
            scenario: scenario.into(),
        }),
    ))
}
