use axum::Json;
use axum::extract::State;
use serde::Serialize;
use shared::http::{ClientIp, JsonBody};
use shared::{AppState, Result};
use utoipa::ToSchema;

use super::refresh::RefreshRequest;

#[derive(Serialize, ToSchema)]
pub struct Message {
    detail: &'static str,
}

/// End the session: the refresh token and every token rotated from it stop working.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "Logged out", body = Message),
        (status = 422, description = "Missing refresh_token", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> Result<Json<Message>> {
    state
        .store
        .rate_limit("refresh", &ip, &state.config.rate_limits.refresh)
        .await?;
    state.store.revoke_refresh_token(body.token()?).await?;
    Ok(Json(Message {
        detail: "Logged out successfully",
    }))
}
