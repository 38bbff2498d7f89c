//! Server-side CAPTCHA verification. reCAPTCHA, hCaptcha and Turnstile share one protocol:
//! POST form `secret`, `response` (and optionally `remoteip`) to the siteverify URL and read the
//! JSON `success`. The URL comes from configuration, so any of the three (or a local fake) works.

use std::time::Duration;

use serde::Deserialize;

use crate::config::CaptchaConfig;
use crate::error::{Error, FieldError, Result};

#[derive(Clone)]
pub struct Verifier {
    config: CaptchaConfig,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct SiteVerify {
    success: bool,
}

impl Verifier {
    pub fn new(config: CaptchaConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self { config, http }
    }

    pub fn enabled(&self) -> bool {
        self.config.secret.is_some()
    }

    /// Verifies `token` for a request from `remote_ip`. 400 when missing or refused; 502 when
    /// the verifier cannot be reached (the request is refused, never let through).
    pub async fn verify(&self, token: Option<&str>, remote_ip: Option<&str>) -> Result<()> {
        let Some(secret) = &self.config.secret else {
            return Ok(());
        };
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::BadRequest {
                detail: "CAPTCHA verification required".into(),
                errors: vec![FieldError::new("captcha_token", "is required")],
            })?;
        let mut form = vec![("secret", secret.as_str()), ("response", token)];
        if let Some(ip) = remote_ip {
            form.push(("remoteip", ip));
        }
        let response = self
            .http
            .post(&self.config.verify_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| unavailable(e.without_url()))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("status {}", response.status())));
        }
        let body: SiteVerify = response
            .json()
            .await
            .map_err(|e| unavailable(e.without_url()))?;
        if body.success {
            Ok(())
        } else {
            Err(Error::BadRequest {
                detail: "CAPTCHA verification failed".into(),
                errors: vec![FieldError::new("captcha_token", "was not accepted")],
            })
        }
    }
}

/// The verifier is down: refuse (fail closed) with a 502 the client can retry; the cause is
/// logged, not returned.
fn unavailable(cause: impl std::fmt::Display) -> Error {
    tracing::warn!(error = %cause, "CAPTCHA verifier unreachable");
    Error::Upstream("CAPTCHA verification is temporarily unavailable; please retry".into())
}
