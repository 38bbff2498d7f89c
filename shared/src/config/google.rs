//! Google OAuth 2.0 and Calendar v3: the web-server flow's client, its endpoints and the key
//! that seals the tokens it yields.
//!
//! Unset `GOOGLE_CLIENT_ID` means the calendar is not offered on this deployment: its endpoints
//! answer 503 and calendar calls are refused, while everything else runs.

use std::time::Duration;

use super::{Source, endpoint, parse_u32};
use crate::error::{Error, Result};

#[derive(Clone)]
pub struct Google {
    pub client_id: String,
    pub client_secret: String,
    /// Where Google sends the browser back: this API's `/google-calendar/callback`, exactly as
    /// registered in the Google Cloud console.
    pub redirect_uri: String,
    pub auth_url: String,
    pub token_url: String,
    pub revoke_url: String,
    /// `https://www.googleapis.com/calendar/v3`, no trailing slash.
    pub calendar_url: String,
    /// Each HTTP attempt to Google.
    pub timeout: Duration,
    /// How long a `state` from `/google-calendar/auth` may wait for its callback.
    pub state_ttl: Duration,
    /// Seals the tenants' Google tokens at rest (`CALENDAR_TOKEN_KEY`, from the secret);
    /// derived from the signing key when unset.
    pub token_key: String,
}

impl std::fmt::Debug for Google {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Google")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Reads the Google settings; `None` when no client is configured.
pub(super) fn google(
    source: &dyn Source,
    jwt_secret: &str,
    development_mode: bool,
) -> Result<Option<Google>> {
    let (client_id, client_secret) = match (
        source.get("GOOGLE_CLIENT_ID"),
        source.get("GOOGLE_CLIENT_SECRET"),
    ) {
        (Some(id), Some(secret)) => (id, secret),
        (None, None) => return Ok(None),
        _ => {
            return Err(Error::Config(
                "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET must be set together".into(),
            ));
        }
    };
    // Google's endpoints, overridable like every provider's (the simulators in tests).
    let url = |key: &str, default: &str| -> Result<String> {
        let value = source.get(key).unwrap_or_else(|| default.to_string());
        match reqwest::Url::parse(&value) {
            Ok(u) if matches!(u.scheme(), "https" | "http") => {
                Ok(value.trim_end_matches('/').to_string())
            }
            _ => Err(Error::Config(format!(
                "{key} must be an absolute http(s) URL"
            ))),
        }
    };
    let token_key = match source.get("CALENDAR_TOKEN_KEY") {
        Some(key) if key.len() >= 32 => key,
        Some(_) => {
            return Err(Error::Config(
                "CALENDAR_TOKEN_KEY must be at least 32 bytes".into(),
            ));
        }
        None => {
            // A key of its own, derived from the signing key, so nothing sealed for one use
            // opens for another.
            let key =
                aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, jwt_secret.as_bytes());
            crate::auth::hex(aws_lc_rs::hmac::sign(&key, b"calendar-token-key").as_ref())
        }
    };
    let timeout = match parse_u32(source, "GOOGLE_TIMEOUT_SECONDS")?.unwrap_or(5) {
        secs @ 1..=20 => Duration::from_secs(u64::from(secs)),
        _ => {
            return Err(Error::Config(
                "GOOGLE_TIMEOUT_SECONDS must be between 1 and 20".into(),
            ));
        }
    };
    let state_ttl = match parse_u32(source, "GOOGLE_OAUTH_STATE_TTL_SECONDS")?.unwrap_or(600) {
        secs @ 60..=3600 => Duration::from_secs(u64::from(secs)),
        _ => {
            return Err(Error::Config(
                "GOOGLE_OAUTH_STATE_TTL_SECONDS must be between 60 and 3600".into(),
            ));
        }
    };
    Ok(Some(Google {
        client_id,
        client_secret,
        redirect_uri: endpoint(
            source,
            "GOOGLE_REDIRECT_URI",
            &["https", "http"],
            "http://localhost:5050/google-calendar/callback",
            development_mode,
        )?,
        auth_url: url(
            "GOOGLE_AUTH_URL",
            "https://accounts.google.com/o/oauth2/v2/auth",
        )?,
        token_url: url("GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token")?,
        revoke_url: url("GOOGLE_REVOKE_URL", "https://oauth2.googleapis.com/revoke")?,
        calendar_url: url(
            "GOOGLE_CALENDAR_API_URL",
            "https://www.googleapis.com/calendar/v3",
        )?,
        timeout,
        state_ttl,
        token_key,
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn source(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn absent_client_means_no_calendar() {
        assert!(google(&source(&[]), "k", false).unwrap().is_none());
        let half = google(&source(&[("GOOGLE_CLIENT_ID", "id")]), "k", true).unwrap_err();
        assert!(half.to_string().contains("together"));
    }

    #[test]
    fn production_needs_a_public_redirect_and_real_endpoints() {
        let base = [
            ("GOOGLE_CLIENT_ID", "id"),
            ("GOOGLE_CLIENT_SECRET", "secret"),
        ];
        let err = google(&source(&base), "k", false).unwrap_err();
        assert!(err.to_string().contains("GOOGLE_REDIRECT_URI"));
        let mut pairs = base.to_vec();
        pairs.push((
            "GOOGLE_REDIRECT_URI",
            "https://api.acme.io/google-calendar/callback",
        ));
        let ok = google(&source(&pairs), "k", false).unwrap().unwrap();
        assert_eq!(ok.calendar_url, "https://www.googleapis.com/calendar/v3");
        assert!(ok.token_key.len() >= 32);
        pairs.push(("GOOGLE_TOKEN_URL", "not a url"));
        assert!(google(&source(&pairs), "k", false).is_err());
    }
}
