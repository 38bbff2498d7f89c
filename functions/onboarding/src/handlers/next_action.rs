use axum::Json;
use axum::extract::State;
use shared::domain::onboarding::{self, NextAction};
use shared::http::AuthUser;
use shared::{AppState, Result};

use crate::detect;

/// What the caller should do next.
#[utoipa::path(get, path = "/onboarding/next-action", tag = "onboarding",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The next action", body = NextAction),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
    ))]
pub async fn next_action(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<NextAction>> {
    let (onboarding, _) = detect::refresh(&state, &user.tenant_id).await?;
    Ok(Json(onboarding::next_action(
        onboarding.flags.current_step(),
    )))
}
