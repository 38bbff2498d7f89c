use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shared::domain::onboarding::{Flags, StatusView, Step};
use shared::http::{AuthUser, JsonBody};
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

use crate::detect;

#[derive(Deserialize, ToSchema)]
pub struct CompleteStep {
    /// `phone_setup`, `calendar`, `scenarios` or `welcome_call`.
    #[schema(
        required = true,
        nullable = false,
        pattern = "^(phone_setup|calendar|scenarios|welcome_call)$"
    )]
    step: Option<String>,
}

/// Mark a step complete. `calendar` (optional) and `welcome_call` may be self-reported;
/// `phone_setup` and `scenarios` are only complete when the caller really owns a number or a
/// scenario (409 otherwise), so a client cannot skip what calling depends on.
#[utoipa::path(post, path = "/onboarding/complete-step", tag = "onboarding",
    security(("bearer" = [])),
    request_body = CompleteStep,
    responses(
        (status = 200, description = "Progress", body = StatusView),
        (status = 400, description = "Invalid step", body = shared::error::Problem),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 409, description = "Requirements of the step not met", body = shared::error::Problem),
    ))]
pub async fn complete_step(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<CompleteStep>,
) -> Result<Json<StatusView>> {
    let raw = body
        .step
        .ok_or_else(|| Error::field("step", "is required"))?;
    let step = detect::parse_step(&raw)?;
    let live = state.store.onboarding_live_state(&user.tenant_id).await?;
    let verifiable = matches!(step, Step::PhoneSetup | Step::Scenarios);
    if verifiable && !live.has(step) {
        return Err(Error::Conflict(match step {
            Step::PhoneSetup => "Provision a phone number first".into(),
            _ => "Create a custom scenario first".into(),
        }));
    }
    let mut extra = Flags::default();
    extra.set(step);
    let (onboarding, live) = detect::refresh_with(&state, &user.tenant_id, extra).await?;
    Ok(Json(onboarding.view(live.has_scenarios)))
}
