//! Google's OAuth 2.0 web-server flow (with PKCE) and the Calendar v3 API, as plain HTTP:
//! request builders that are pure functions (so the contract tests can check every request
//! against the published discovery document) and a client that sends them.
//!
//! Every request Google is sent here is safe to repeat: reads, `freeBusy`, deletes (a repeat
//! answers 410, which callers treat as done) and inserts with an event id of ours (a repeat
//! answers 409). So each is tried twice when Google does not answer or answers 429/5xx.

pub mod calendar;
pub mod oauth;

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A failure talking to Google.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("Google {}: {message} (HTTP {status}{})", if *.status == 0 { "unreachable" } else { "error" }, .reason.as_deref().map(|r| format!(", {r}")).unwrap_or_default())]
pub struct GoogleError {
    /// HTTP status; 0 when Google could not be reached or answered nonsense.
    pub status: u16,
    /// Google's reason (`authError`, `duplicate`, `deleted`, ...) or OAuth error code
    /// (`invalid_grant`, ...).
    pub reason: Option<String>,
    pub message: String,
}

impl GoogleError {
    fn transport(message: impl Into<String>) -> Self {
        Self {
            status: 0,
            reason: None,
            message: message.into(),
        }
    }

    fn retryable(&self) -> bool {
        self.status == 0 || self.status == 429 || self.status >= 500
    }

    /// The grant behind a token is gone (revoked by the user, expired, or never valid).
    pub fn is_invalid_grant(&self) -> bool {
        self.reason.as_deref() == Some("invalid_grant")
    }

    pub fn is_unauthorized(&self) -> bool {
        self.status == 401
    }
}

/// Google's two error shapes: the APIs' `{"error": {"code", "message", "errors": [{reason}]}}`
/// and OAuth's `{"error": "invalid_grant", "error_description": ...}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorBody {
    Api {
        error: ApiError,
    },
    OAuth {
        error: String,
        error_description: Option<String>,
    },
}

#[derive(Deserialize)]
struct ApiError {
    message: Option<String>,
    #[serde(default)]
    errors: Vec<ApiErrorItem>,
}

#[derive(Deserialize)]
struct ApiErrorItem {
    reason: Option<String>,
}

fn error_from(status: u16, body: &[u8]) -> GoogleError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody::Api { error }) => GoogleError {
            status,
            reason: error.errors.into_iter().find_map(|e| e.reason),
            message: error.message.unwrap_or_else(|| format!("HTTP {status}")),
        },
        Ok(ErrorBody::OAuth {
            error,
            error_description,
        }) => GoogleError {
            status,
            message: error_description.unwrap_or_else(|| error.clone()),
            reason: Some(error),
        },
        Err(_) => GoogleError {
            status,
            reason: None,
            message: format!("HTTP {status}"),
        },
    }
}

/// Attempts of every request.
const ATTEMPTS: u32 = 2;
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// The longest one request can take with its retry, given the per-try `timeout`.
pub fn worst_case(timeout: Duration) -> Duration {
    timeout * ATTEMPTS + RETRY_PAUSE * (ATTEMPTS - 1)
}

/// The longest one calendar operation can take: a refresh, the request, and after a 401 a
/// forced refresh and the request again.
pub fn worst_case_with_refresh(timeout: Duration) -> Duration {
    worst_case(timeout) * 4
}

/// Sends `build()` (rebuilt per attempt) and reads the JSON answer; `None` for an empty one
/// (204).
async fn send<T: DeserializeOwned>(
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<Option<T>, GoogleError> {
    let mut attempt = 1;
    loop {
        let result = async {
            let response = build()
                .send()
                .await
                .map_err(|e| GoogleError::transport(without_url(e)))?;
            let status = response.status().as_u16();
            let body = response
                .bytes()
                .await
                .map_err(|e| GoogleError::transport(without_url(e)))?;
            if !(200..300).contains(&status) {
                return Err(error_from(status, &body));
            }
            if body.is_empty() {
                return Ok(None);
            }
            serde_json::from_slice(&body)
                .map(Some)
                .map_err(|e| GoogleError::transport(format!("unexpected answer: {e}")))
        }
        .await;
        match result {
            Err(e) if e.retryable() && attempt < ATTEMPTS => {
                tracing::warn!(status = e.status, "Google request failed; retrying");
                attempt += 1;
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            other => return other,
        }
    }
}

/// A reqwest error's text without its URL: query strings can hold codes and tokens.
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}

/// The HTTP client every Google request goes through.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_error_shapes_are_read() {
        let api = error_from(
            409,
            br#"{"error":{"code":409,"message":"The requested identifier already exists.","errors":[{"domain":"global","reason":"duplicate"}]}}"#,
        );
        assert_eq!(api.reason.as_deref(), Some("duplicate"));
        let oauth = error_from(
            400,
            br#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#,
        );
        assert!(oauth.is_invalid_grant());
        assert_eq!(oauth.message, "Token has been expired or revoked.");
        let html = error_from(502, b"<html>");
        assert!(html.retryable());
        assert_eq!(html.reason, None);
    }
}
