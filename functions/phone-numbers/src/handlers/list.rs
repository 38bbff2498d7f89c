use axum::Json;
use axum::extract::State;
use shared::http::AuthUser;
use shared::{AppState, Result};

use crate::purchase;
use crate::view::NumberView;

/// The caller's numbers, oldest first (interrupted purchases reconciled with Twilio first).
#[utoipa::path(get, path = "/twilio/user-numbers", tag = "phone-numbers",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's numbers", body = [NumberView]),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
    ))]
pub async fn list(State(state): State<AppState>, user: AuthUser) -> Result<Json<Vec<NumberView>>> {
    let numbers = purchase::numbers(&state, &user.tenant_id).await?;
    Ok(Json(numbers.into_iter().map(Into::into).collect()))
}
