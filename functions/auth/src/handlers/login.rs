use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shared::config::RateLimit;
use shared::http::{ClientIp, JsonOrForm};
use shared::{AppState, Error, FieldError, Result};
use utoipa::ToSchema;

use crate::session::{self, TokenResponse};

/// JSON `{email, password}` or the OAuth2 password form (`username`, `password`).
#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    /// The e-mail (or `username`).
    #[schema(nullable = false)]
    email: Option<String>,
    /// OAuth2 form name for the e-mail.
    #[schema(nullable = false)]
    username: Option<String>,
    #[schema(required = true, nullable = false, min_length = 1)]
    password: Option<String>,
    #[serde(alias = "captcha_response")]
    #[schema(nullable = false)]
    captcha_token: Option<String>,
}

impl LoginRequest {
    /// The e-mail and password, or 422 naming what is missing.
    fn credentials(&self) -> Result<(&str, &str)> {
        let email = self
            .email
            .as_deref()
            .or(self.username.as_deref())
            .unwrap_or("");
        let password = self.password.as_deref().unwrap_or("");
        let mut errors = Vec::new();
        if email.trim().is_empty() {
            errors.push(FieldError::new(
                if self.username.is_some() {
                    "username"
                } else {
                    "email"
                },
                "is required",
            ));
        }
        if password.is_empty() {
            errors.push(FieldError::new("password", "is required"));
        }
        if errors.is_empty() {
            Ok((email, password))
        } else {
            Err(Error::Validation(errors))
        }
    }
}

/// Sign in with e-mail and password.
#[utoipa::path(post, path = "/auth/login", tag = "auth",
    request_body(content(
        (LoginRequest = "application/json"),
        (LoginRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "CAPTCHA missing or refused", body = shared::error::Problem),
        (status = 401, description = "Incorrect username or password", body = shared::error::Problem),
        (status = 422, description = "Missing fields", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonOrForm(body): JsonOrForm<LoginRequest>,
) -> Result<Json<TokenResponse>> {
    let limit = &state.config.rate_limits.login;
    let tokens = sign_in(
        &state,
        &ip,
        &body,
        ("login", limit),
        "Incorrect username or password",
    )
    .await?;
    Ok(Json(tokens))
}

/// The password sign-in both `/auth/login` and `/token` perform: rate limit by client IP,
/// required fields, CAPTCHA, then the credentials (`failure` is the 401's detail).
pub async fn sign_in(
    state: &AppState,
    ip: &str,
    body: &LoginRequest,
    (bucket, limit): (&str, &RateLimit),
    failure: &str,
) -> Result<TokenResponse> {
    state.store.rate_limit(bucket, ip, limit).await?;
    let (email, password) = body.credentials()?;
    state
        .captcha
        .verify(body.captcha_token.as_deref(), Some(ip))
        .await?;
    let owner = session::authenticate(state, email, password, failure).await?;
    session::start(state, &owner).await
}
