//! Issuing a session: a short-lived access token plus the first (or next) refresh token.

use serde::Serialize;
use shared::store::refresh_tokens::Owner;
use shared::{AppState, Result};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Access token lifetime in seconds.
    pub expires_in: u64,
}

/// Starts a new refresh-token family for `owner`.
pub async fn start(state: &AppState, owner: &Owner) -> Result<TokenResponse> {
    let refresh = state
        .store
        .issue_refresh_token(owner, state.config.refresh_token_ttl.as_secs() as i64)
        .await?;
    respond(state, owner, refresh)
}

/// The response for `owner` with an already-issued refresh token.
pub fn respond(state: &AppState, owner: &Owner, refresh_token: String) -> Result<TokenResponse> {
    Ok(TokenResponse {
        access_token: state
            .keys
            .issue(&owner.user_id, &owner.tenant_id, &owner.email)?,
        refresh_token,
        token_type: "bearer",
        expires_in: state.keys.ttl().as_secs(),
    })
}

/// Checks e-mail and password; the same 401 for an unknown e-mail and a wrong password, with
/// the same timing.
pub async fn authenticate(
    state: &AppState,
    email: &str,
    password: &str,
    failure: &str,
) -> Result<Owner> {
    let refused = || shared::Error::Unauthorized(failure.to_string());
    let Ok(email) = shared::domain::email::normalize(email) else {
        shared::auth::password::verify_dummy(password);
        return Err(refused());
    };
    match state.store.user_by_email(&email).await? {
        Some(user)
            if user.is_active && shared::auth::password::verify(password, &user.password_hash) =>
        {
            Ok(Owner {
                user_id: user.id,
                tenant_id: user.tenant_id,
                email: user.email,
            })
        }
        Some(_) => Err(refused()),
        None => {
            shared::auth::password::verify_dummy(password);
            Err(refused())
        }
    }
}
