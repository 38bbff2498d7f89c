use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use shared::auth::password;
use shared::domain::email;
use shared::http::{ClientIp, JsonBody};
use shared::store::refresh_tokens::Owner;
use shared::store::users::User;
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

use crate::session::{self, TokenResponse};

#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(required = true, nullable = false, format = Email, max_length = 254)]
    email: Option<String>,
    /// 10 to 128 characters with a letter and a digit or symbol.
    #[schema(required = true, nullable = false, min_length = 10, max_length = 128)]
    password: Option<String>,
    /// The CAPTCHA widget's response token (required unless CAPTCHA is off in development).
    #[serde(alias = "captcha_response")]
    #[schema(nullable = false)]
    captcha_token: Option<String>,
}

/// Create an account (a new tenant) and start a session.
#[utoipa::path(post, path = "/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and signed in", body = TokenResponse),
        (status = 400, description = "CAPTCHA missing or refused", body = shared::error::Problem),
        (status = 409, description = "Email already registered", body = shared::error::Problem),
        (status = 422, description = "Invalid fields", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
    ))]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<RegisterRequest>,
) -> Result<(StatusCode, Json<TokenResponse>)> {
    state
        .store
        .rate_limit("register", &ip, &state.config.rate_limits.register)
        .await?;
    let mut errors = Vec::new();
    let email = match body.email.as_deref().map(email::normalize) {
        Some(Ok(e)) => e,
        Some(Err(e)) => {
            errors.push(e);
            String::new()
        }
        None => {
            errors.push(shared::FieldError::new("email", "is required"));
            String::new()
        }
    };
    let password = body.password.unwrap_or_default();
    if password.is_empty() {
        errors.push(shared::FieldError::new("password", "is required"));
    } else {
        errors.extend(password::check_policy(&password, &email));
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    state
        .captcha
        .verify(body.captcha_token.as_deref(), Some(&ip))
        .await?;
    let user = User::new(email, password::hash(&password)?);
    state.store.create_user(&user).await?;
    tracing::info!(user_id = %user.id, "user registered");
    let owner = Owner {
        user_id: user.id,
        tenant_id: user.tenant_id,
        email: user.email,
    };
    Ok((
        StatusCode::CREATED,
        Json(session::start(&state, &owner).await?),
    ))
}
