use axum::Json;
use axum::extract::State;
use serde::Serialize;
use shared::http::AuthUser;
use shared::{AppState, Result};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct UserView {
    id: String,
    email: String,
    is_active: bool,
    is_admin: bool,
    created_at: String,
    /// Set with `POST /update-user-name`; null until then.
    name: Option<String>,
}

/// The signed-in user.
#[utoipa::path(get, path = "/users/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserView),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
    ))]
pub async fn me(State(state): State<AppState>, user: AuthUser) -> Result<Json<UserView>> {
    // The extractor already refused tokens of deactivated or deleted users; a user deleted
    // since is refused the same way.
    let found = state
        .store
        .user(&user.tenant_id)
        .await?
        .ok_or_else(shared::auth::jwt::invalid)?;
    Ok(Json(UserView {
        id: found.id,
        email: found.email,
        is_active: found.is_active,
        is_admin: found.is_admin,
        created_at: found.created_at,
        name: found.name,
    }))
}
