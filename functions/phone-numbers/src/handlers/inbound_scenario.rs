use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shared::http::{AuthUser, JsonBody};
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

/// The scenario used when someone calls one of the tenant's numbers.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct InboundScenario {
    /// A predefined scenario key or one of the caller's custom scenario ids.
    #[schema(required = true, nullable = false, min_length = 1)]
    scenario: Option<String>,
}

/// The scenario inbound calls use (`default` unless the caller chose one).
#[utoipa::path(get, path = "/twilio/inbound-scenario", tag = "phone-numbers",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The inbound scenario", body = InboundScenario),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
    ))]
pub async fn get_inbound_scenario(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<InboundScenario>> {
    let chosen = state.store.inbound_scenario(&user.tenant_id).await?;
    Ok(Json(InboundScenario {
        scenario: Some(chosen.unwrap_or_else(|| "default".into())),
    }))
}

/// Choose the scenario inbound calls use.
#[utoipa::path(put, path = "/twilio/inbound-scenario", tag = "phone-numbers",
    security(("bearer" = [])),
    request_body = InboundScenario,
    responses(
        (status = 200, description = "Saved", body = InboundScenario),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "No such scenario", body = shared::error::Problem),
        (status = 422, description = "Missing scenario", body = shared::error::Problem),
    ))]
pub async fn set_inbound_scenario(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<InboundScenario>,
) -> Result<Json<InboundScenario>> {
    let scenario = body
        .scenario
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::field("scenario", "is required"))?;
    shared::calling::ensure_scenario(&state, &user.tenant_id, &scenario).await?;
    state
        .store
        .set_inbound_scenario(&user.tenant_id, &scenario)
        .await?;
    Ok(Json(InboundScenario {
        scenario: Some(scenario),
    }))
}
