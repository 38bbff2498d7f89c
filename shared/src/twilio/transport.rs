//! How requests reach Twilio's REST APIs (2010-04-01 and Voice Intelligence v2 alike):
//! form-encoded requests with HTTP Basic auth, JSON answers, a per-attempt timeout, and retries
//! with backoff only on 429/5xx/transport failures and only for idempotent requests, so a call
//! is never placed twice because an answer got lost.

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A request, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: Method,
    /// Path below the base URL, e.g. `/2010-04-01/Accounts/AC.../Calls.json`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
    pub idempotent: bool,
}

/// A failure talking to Twilio, with Twilio's own error code and message when it sent one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("Twilio {}: {message} (HTTP {status}, code {})", if *.status == 0 { "unreachable" } else { "error" }, .code.map(|c| c.to_string()).unwrap_or_else(|| "none".into()))]
pub struct TwilioError {
    /// HTTP status, 0 when Twilio could not be reached or answered nonsense.
    pub status: u16,
    pub code: Option<i64>,
    pub message: String,
    pub more_info: Option<String>,
}

impl TwilioError {
    pub(crate) fn transport(message: impl Into<String>) -> Self {
        Self {
            status: 0,
            code: None,
            message: message.into(),
            more_info: None,
        }
    }

    fn retryable(&self) -> bool {
        self.status == 0 || self.status == 429 || self.status >= 500
    }

    /// Twilio answered and refused the request: nothing was done. Anything else (no answer,
    /// a 5xx) leaves unknown whether a non-idempotent request took effect.
    pub fn is_refusal(&self) -> bool {
        (400..500).contains(&self.status)
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<i64>,
    message: Option<String>,
    more_info: Option<String>,
}

/// Attempts of an idempotent request (one for any other).
pub const IDEMPOTENT_ATTEMPTS: u32 = 3;
/// The pause before the first retry; it doubles each time, plus up to a quarter of jitter.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// One Twilio API's base URL with the account's credentials.
#[derive(Clone)]
pub struct Transport {
    http: reqwest::Client,
    base_url: String,
    account_sid: String,
    auth_token: String,
    timeout: Duration,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("twilio::Transport")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// `timeout` bounds each HTTP attempt; [`Transport::worst_case`] is what a whole request
    /// can take, which every function's timeout must leave room for.
    pub fn new(base_url: &str, account_sid: &str, auth_token: &str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .unwrap_or_default();
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            account_sid: account_sid.to_string(),
            auth_token: auth_token.to_string(),
            timeout,
        }
    }

    /// The same account and connection pool, for another of Twilio's APIs.
    pub fn with_base_url(&self, base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            ..self.clone()
        }
    }

    /// The longest one request can take with its retries (`idempotent`) or without.
    pub fn worst_case(timeout: Duration, idempotent: bool) -> Duration {
        if !idempotent {
            return timeout;
        }
        let mut total = timeout * IDEMPOTENT_ATTEMPTS;
        let mut backoff = FIRST_BACKOFF;
        for _ in 1..IDEMPOTENT_ATTEMPTS {
            total += backoff + backoff / 4;
            backoff *= 2;
        }
        total
    }

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn account_sid(&self) -> &str {
        &self.account_sid
    }

    /// Sends `request` and decodes the JSON answer.
    pub async fn send<T: DeserializeOwned>(&self, request: &Request) -> Result<T, TwilioError> {
        let body = self.send_raw(request).await?;
        serde_json::from_slice(&body)
            .map_err(|e| TwilioError::transport(format!("unexpected response body: {e}")))
    }

    pub async fn send_raw(&self, request: &Request) -> Result<Vec<u8>, TwilioError> {
        let attempts = if request.idempotent {
            IDEMPOTENT_ATTEMPTS
        } else {
            1
        };
        let mut delay = FIRST_BACKOFF;
        let mut last = TwilioError::transport("not sent");
        for attempt in 1..=attempts {
            match self.once(request).await {
                Ok(body) => return Ok(body),
                Err(e) if e.retryable() && attempt < attempts => {
                    tracing::warn!(
                        status = e.status,
                        attempt,
                        "Twilio request failed; retrying"
                    );
                    tokio::time::sleep(delay + jitter(delay)).await;
                    delay *= 2;
                    last = e;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    async fn once(&self, request: &Request) -> Result<Vec<u8>, TwilioError> {
        let mut builder = self
            .http
            .request(
                request.method.clone(),
                format!("{}{}", self.base_url, request.path),
            )
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .header("accept", "application/json");
        if !request.query.is_empty() {
            builder = builder.query(&request.query);
        }
        if !request.form.is_empty() {
            builder = builder.form(&request.form);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| TwilioError::transport(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| TwilioError::transport(e.without_url().to_string()))?;
        if (200..300).contains(&status) {
            return Ok(body.to_vec());
        }
        let parsed: Option<ErrorBody> = serde_json::from_slice(&body).ok();
        Err(TwilioError {
            status,
            code: parsed.as_ref().and_then(|b| b.code),
            message: parsed
                .as_ref()
                .and_then(|b| b.message.clone())
                .unwrap_or_else(|| format!("HTTP {status}")),
            more_info: parsed.and_then(|b| b.more_info),
        })
    }
}

/// Up to a quarter of `d`, so retries from many instances spread out.
fn jitter(d: Duration) -> Duration {
    let mut b = [0u8; 2];
    let _ = aws_lc_rs::rand::fill(&mut b);
    d.mul_f64(f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX) / 4.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_case_counts_every_attempt_and_pause() {
        let t = Duration::from_secs(5);
        assert_eq!(Transport::worst_case(t, false), t);
        // 3 attempts, pauses of 200 and 400 ms, each with up to a quarter of jitter.
        assert_eq!(
            Transport::worst_case(t, true),
            Duration::from_millis(15_750)
        );
    }
}
