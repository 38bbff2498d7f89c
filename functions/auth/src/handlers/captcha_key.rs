use axum::Json;
use axum::extract::State;
use serde::Serialize;
use shared::AppState;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct CaptchaKey {
    /// Whether registering needs a CAPTCHA token.
    enabled: bool,
    /// `recaptcha`, `hcaptcha`, `turnstile` (from the siteverify endpoint), or `custom`.
    #[schema(nullable = true)]
    provider: Option<&'static str>,
    /// The widget's public site key (`CAPTCHA_SITE_KEY`); null when off or not configured.
    #[schema(nullable = true)]
    site_key: Option<String>,
}

/// What a frontend needs to render the CAPTCHA widget at registration, or that there is none.
#[utoipa::path(get, path = "/auth/captcha-key", tag = "auth",
    responses(
        (status = 200, description = "The CAPTCHA set-up", body = CaptchaKey),
    ))]
pub async fn captcha_key(State(state): State<AppState>) -> Json<CaptchaKey> {
    let captcha = &state.config.captcha;
    let enabled = captcha.secret.is_some();
    Json(CaptchaKey {
        enabled,
        provider: enabled.then(|| captcha.provider()),
        site_key: captcha.site_key.clone().filter(|_| enabled),
    })
}
