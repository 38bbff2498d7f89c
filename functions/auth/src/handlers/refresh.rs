use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shared::http::{ClientIp, JsonBody};
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

use crate::session::{self, TokenResponse};

#[derive(Deserialize, ToSchema)]
pub struct RefreshRequest {
    #[schema(required = true, nullable = false, min_length = 1)]
    refresh_token: Option<String>,
}

impl RefreshRequest {
    pub fn token(&self) -> Result<&str> {
        self.refresh_token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::field("refresh_token", "is required"))
    }
}

/// Exchange a refresh token for a new access token and the next refresh token. Each refresh
/// token works once; presenting a used one revokes every token of its session.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "Invalid refresh token", body = shared::error::Problem),
        (status = 422, description = "Missing refresh_token", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> Result<Json<TokenResponse>> {
    state
        .store
        .rate_limit("refresh", &ip, &state.config.rate_limits.refresh)
        .await?;
    let (owner, next) = state.store.rotate_refresh_token(body.token()?).await?;
    Ok(Json(session::respond(&state, &owner, next)?))
}
