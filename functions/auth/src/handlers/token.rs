use axum::Json;
use axum::extract::State;
use shared::http::ClientIp;
use shared::http::extract::FormBody;
use shared::{AppState, Result};

use super::login::LoginRequest;
use crate::session::{self, TokenResponse};

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
    state
        .store
        .rate_limit("token", &ip, &state.config.rate_limits.token)
        .await?;
    let (email, password) = body.credentials()?;
    state
        .captcha
        .verify(body.captcha_token(), Some(&ip))
        .await?;
    let owner =
        session::authenticate(&state, email, password, "Incorrect email or password").await?;
    Ok(Json(session::start(&state, &owner).await?))
}
