use axum::Json;
use axum::extract::State;
use serde::Serialize;
use shared::http::AuthUser;
use shared::{AppState, Result};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Greeting {
    /// "Hello, <email>".
    message: String,
}

/// A route that only a signed-in user reaches (the reference app's token check), rate limited
/// per user like the auth routes.
#[utoipa::path(get, path = "/protected", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The token is valid", body = Greeting),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
    ))]
pub async fn protected(State(state): State<AppState>, user: AuthUser) -> Result<Json<Greeting>> {
    state
        .store
        .rate_limit("protected", &user.user_id, &state.config.rate_limits.login)
        .await?;
    Ok(Json(Greeting {
        message: format!("Hello, {}", user.email),
    }))
}
