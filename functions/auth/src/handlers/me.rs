use axum::Json;
use axum::extract::State;
use serde::Serialize;
use shared::http::AuthUser;
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct UserView {
    id: String,
    email: String,
    is_active: bool,
    is_admin: bool,
    created_at: String,
}

/// The signed-in user.
#[utoipa::path(get, path = "/users/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserView),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
    ))]
pub async fn me(State(state): State<AppState>, user: AuthUser) -> Result<Json<UserView>> {
    // A token for a user that no longer exists is no longer a valid credential.
    let found = state
        .store
        .user(&user.tenant_id)
        .await?
        .ok_or_else(shared::auth::jwt::invalid)?;
    if !found.is_active {
        return Err(Error::Unauthorized("Could not validate credentials".into()));
    }
    Ok(Json(UserView {
        id: found.id,
        email: found.email,
        is_active: found.is_active,
        is_admin: found.is_admin,
        created_at: found.created_at,
    }))
}
