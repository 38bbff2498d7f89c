use axum::Json;
use axum::extract::State;
use shared::http::ClientIp;
use shared::http::extract::FormBody;
use shared::{AppState, Result};

use super::login::{LoginRequest, sign_in};
use crate::session::TokenResponse;

/// OAuth2 password grant (form `username`, `password`), as `OAuth2PasswordBearer` clients use.
/// Rate-limited and CAPTCHA-checked like `/auth/login`, so it is no way around them.
#[utoipa::path(post, path = "/token", tag = "auth",
    request_body(content = LoginRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "CAPTCHA missing or refused", body = shared::error::Problem),
        (status = 401, description = "Incorrect email or password", body = shared::error::Problem),
        (status = 422, description = "Missing fields", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
    ))]
pub async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    FormBody(body): FormBody<LoginRequest>,
) -> Result<Json<TokenResponse>> {
    let limit = &state.config.rate_limits.token;
    let tokens = sign_in(
        &state,
        &ip,
        &body,
        ("token", limit),
        "Incorrect email or password",
    )
    .await?;
    Ok(Json(tokens))
}
