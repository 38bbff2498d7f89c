use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use shared::domain::onboarding::Step;
use shared::http::AuthUser;
use shared::{AppState, Result};
use utoipa::{IntoParams, ToSchema};

use crate::detect;

#[derive(Deserialize, IntoParams)]
pub struct StepPath {
    /// `phone_setup`, `calendar`, `scenarios` or `welcome_call`.
    #[param(pattern = "^(phone_setup|calendar|scenarios|welcome_call)$")]
    step: String,
}

#[derive(Serialize, ToSchema)]
pub struct StepCheck {
    step: String,
    completed: bool,
}

/// Whether one step is done: live state for phone, calendar and scenarios; the stored flag
/// (or a placed call) for the welcome call.
#[utoipa::path(get, path = "/onboarding/check-step/{step}", tag = "onboarding",
    security(("bearer" = [])),
    params(StepPath),
    responses(
        (status = 200, description = "The step's state", body = StepCheck),
        (status = 400, description = "Invalid step", body = shared::error::Problem),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
    ))]
pub async fn check_step(
    State(state): State<AppState>,
    user: AuthUser,
    Path(StepPath { step: raw }): Path<StepPath>,
) -> Result<Json<StepCheck>> {
    let step = detect::parse_step(&raw)?;
    let completed = match step {
        Step::WelcomeCall => {
            let (onboarding, _) = detect::refresh(&state, &user.tenant_id).await?;
            onboarding.flags.welcome_call_completed
        }
        _ => state
            .store
            .onboarding_live_state(&user.tenant_id)
            .await?
            .has(step),
    };
    Ok(Json(StepCheck {
        step: step.as_str().to_string(),
        completed,
    }))
}
