//! The OAuth 2.0 web-server flow with PKCE (RFC 7636, S256): the authorization URL, the code
//! exchange, refreshing an access token, and revoking a grant.
//!
//! Token values never reach `Debug` output or a log line: the types that hold them print
//! redacted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::{GoogleError, send};
use crate::config::Google;

/// What the platform asks for: events (read, book, cancel), free/busy, and the list of
/// calendars (so a tenant can choose which one to book into). Nothing broader.
pub const SCOPES: [&str; 3] = [
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.freebusy",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
];

/// Without this scope nothing works: a grant lacking it (granular consent) is refused.
pub const REQUIRED_SCOPE: &str = SCOPES[0];

/// A PKCE verifier and its S256 challenge.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    /// 64 random bytes as base64url: an 86-character verifier (RFC 7636 allows 43-128).
    pub fn generate() -> Self {
        let verifier = crate::auth::random_token(64);
        let challenge = challenge(&verifier);
        Pkce {
            verifier,
            challenge,
        }
    }
}

/// `BASE64URL(SHA256(verifier))`, unpadded.
pub fn challenge(verifier: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// Where the browser goes to consent. `offline` + `consent` so Google returns a refresh token
/// even to a tenant reconnecting.
pub fn authorization_url(google: &Google, state: &str, challenge: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &google.client_id)
        .append_pair("redirect_uri", &google.redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", &SCOPES.join(" "))
        .append_pair("state", state)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("access_type", "offline")
        .append_pair("prompt", "consent")
        .append_pair("include_granted_scopes", "true")
        .finish();
    format!("{}?{query}", google.auth_url)
}

/// A token endpoint answer.
#[derive(Deserialize)]
pub struct Grant {
    pub access_token: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// Only on a first consent or with `prompt=consent`; absent on refreshes.
    pub refresh_token: Option<String>,
    /// The scopes actually granted, space-separated (the user may grant fewer).
    #[serde(default)]
    pub scope: String,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("expires_in", &self.expires_in)
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl Grant {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split_whitespace().any(|s| s == scope)
    }
}

/// The OAuth endpoints with the platform's client credentials.
#[derive(Clone)]
pub struct OAuth {
    http: reqwest::Client,
    google: Google,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("google::OAuth")
    }
}

impl OAuth {
    pub fn new(google: &Google) -> Self {
        OAuth {
            http: super::http_client(google.timeout),
            google: google.clone(),
        }
    }

    /// Trades the callback's `code` for tokens, proving with the verifier that this is the
    /// party that started the flow.
    pub async fn exchange_code(&self, code: &str, verifier: &str) -> Result<Grant, GoogleError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.google.redirect_uri.as_str()),
            ("client_id", self.google.client_id.as_str()),
            ("client_secret", self.google.client_secret.as_str()),
            ("code_verifier", verifier),
        ];
        self.token(&form).await
    }

    /// A fresh access token for a stored refresh token.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Grant, GoogleError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", self.google.client_id.as_str()),
            ("client_secret", self.google.client_secret.as_str()),
        ];
        self.token(&form).await
    }

    async fn token(&self, form: &[(&str, &str)]) -> Result<Grant, GoogleError> {
        send(|| self.http.post(&self.google.token_url).form(form))
            .await?
            .ok_or_else(|| GoogleError::transport("the token endpoint answered nothing"))
    }

    /// Revokes the grant behind `token` (a refresh token revokes everything). A token Google
    /// no longer knows is already revoked, which is what was wanted.
    pub async fn revoke(&self, token: &str) -> Result<(), GoogleError> {
        let form = [("token", token)];
        match send::<serde_json::Value>(|| self.http.post(&self.google.revoke_url).form(&form))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.status == 400 => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_is_rfc7636_s256() {
        // RFC 7636 appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let pkce = Pkce::generate();
        assert!((43..=128).contains(&pkce.verifier.len()));
        assert!(
            pkce.verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }

    #[test]
    fn grants_never_print_their_tokens() {
        let grant: Grant = serde_json::from_str(
            r#"{"access_token":"ya29.secret","expires_in":3599,"refresh_token":"1//secret","scope":"a b","token_type":"Bearer"}"#,
        )
        .unwrap();
        let printed = format!("{grant:?}");
        assert!(!printed.contains("secret"));
        assert!(grant.has_scope("b") && !grant.has_scope("c"));
    }
}
