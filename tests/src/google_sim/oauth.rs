//! Google's OAuth 2.0 endpoints: consent (`/o/oauth2/v2/auth`), code exchange and refresh
//! (`/token`), revocation (`/revoke`).
//!
//! The platform keeps a tenant's refresh token for months, so what matters is what Google does
//! around it, not the happy path: a refresh token comes only with offline access on the
//! account's first consent to the client (or when consent is forced with `prompt=consent`); the
//! user may grant fewer scopes than asked; a code works once, for ten minutes, and only with the
//! PKCE verifier of its challenge; revoking any token of a grant (or the user removing access)
//! ends every token of that grant. Errors use Google's bodies so the platform's error handling
//! is exercised against the real strings.
//!
//! One client is registered ([`super::GoogleSimConfig`]), so a code is bound to it implicitly.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;

use super::{DEFAULT_ACCOUNT, GoogleSimConfig, Inner, State, param, secret};
use crate::google_discovery;

/// How long an authorization code can be exchanged.
const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// The parameters the authorize endpoint takes; Google refuses any other.
const AUTHORIZE_PARAMS: [&str; 11] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "access_type",
    "prompt",
    "include_granted_scopes",
    "login_hint",
];

/// What the user consented to, waiting to be exchanged.
pub(super) struct Code {
    grant: usize,
    redirect_uri: String,
    challenge: String,
    scope: String,
    /// Offline access on a first (or forced) consent: the exchange returns a refresh token.
    refresh_due: bool,
    issued: Instant,
    used: bool,
}

/// An account's authorization of the client: every scope it ever granted, until revoked.
pub(super) struct Grant {
    pub(super) email: String,
    scopes: BTreeSet<String>,
    pub(super) live: bool,
}

/// A refresh token: its grant and the scopes of the access tokens it mints.
pub(super) struct Issued {
    grant: usize,
    scope: String,
}

pub(super) struct AccessToken {
    grant: usize,
    scope: String,
    expires: Instant,
}

/// An authorize request that passed Google's checks.
struct Consent<'q> {
    account: &'q str,
    state: &'q str,
    scopes: Vec<&'q str>,
    challenge: &'q str,
    offline: bool,
    force_consent: bool,
    include_granted_scopes: bool,
}

/// `GET /o/oauth2/v2/auth`: checks the request, then consents as the user (unless a hook says
/// otherwise) and redirects back with a code. A bad request gets Google's error page (a 400):
/// the browser never returns to the platform.
pub(super) fn authorize(inner: &Inner, query: &[(String, String)]) -> Response {
    let mut state = inner.state();
    let consent = match parse_authorize(&inner.config, &state, query) {
        Ok(consent) => consent,
        Err(problem) => {
            return (StatusCode::BAD_REQUEST, format!("Error 400: {problem}")).into_response();
        }
    };
    let redirect_uri = &inner.config.redirect_uri;
    if std::mem::take(&mut state.hooks.deny_next_consent) {
        return redirect(
            redirect_uri,
            &[("error", "access_denied"), ("state", consent.state)],
        );
    }
    let granted: Vec<String> = match state.hooks.grant_only_next.take() {
        Some(only) => consent
            .scopes
            .iter()
            .filter(|s| only.iter().any(|o| o == *s))
            .map(|s| s.to_string())
            .collect(),
        None => consent.scopes.iter().map(|s| s.to_string()).collect(),
    };
    let (grant, first) = state.consent(consent.account, &granted);
    let scope = if consent.include_granted_scopes {
        join(&state.grants[grant].scopes)
    } else {
        granted.join(" ")
    };
    let code = secret("4/0A");
    state.codes.insert(
        code.clone(),
        Code {
            grant,
            redirect_uri: redirect_uri.clone(),
            challenge: consent.challenge.to_string(),
            scope: scope.clone(),
            refresh_due: consent.offline && (first || consent.force_consent),
            issued: Instant::now(),
            used: false,
        },
    );
    redirect(
        redirect_uri,
        &[("state", consent.state), ("code", &code), ("scope", &scope)],
    )
}

fn parse_authorize<'q>(
    config: &GoogleSimConfig,
    state: &State,
    query: &'q [(String, String)],
) -> Result<Consent<'q>, String> {
    for (i, (name, _)) in query.iter().enumerate() {
        if !AUTHORIZE_PARAMS.contains(&name.as_str()) {
            return Err(format!(
                "invalid_request: Parameter not allowed for this message type: {name}"
            ));
        }
        if query[..i].iter().any(|(earlier, _)| earlier == name) {
            return Err(format!("invalid_request: Parameter given twice: {name}"));
        }
    }
    let required = |name: &str| {
        param(query, name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("invalid_request: Required parameter is missing: {name}"))
    };
    if required("client_id")? != config.client_id {
        return Err("invalid_client: The OAuth client was not found.".into());
    }
    if required("redirect_uri")? != config.redirect_uri {
        return Err("redirect_uri_mismatch: The redirect URI is not registered.".into());
    }
    if required("response_type")? != "code" {
        return Err("unsupported_response_type: Only `code` is supported.".into());
    }
    let scopes: Vec<&str> = required("scope")?
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    let unknown: Vec<&str> = scopes
        .iter()
        .copied()
        .filter(|s| !google_discovery::is_scope(s))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "invalid_scope: Some requested scopes were invalid. {{invalid=[{}]}}",
            unknown.join(", ")
        ));
    }
    let consent_state = required("state")?;
    let challenge = required("code_challenge")?;
    if !is_code_challenge(challenge) {
        return Err("invalid_request: code_challenge is not 43-128 base64url characters".into());
    }
    if param(query, "code_challenge_method") != Some("S256") {
        return Err("invalid_request: code_challenge_method must be S256".into());
    }
    let offline = match param(query, "access_type") {
        None | Some("online") => false,
        Some("offline") => true,
        Some(other) => return Err(format!("invalid_request: Invalid access_type: {other}")),
    };
    let prompts: Vec<&str> = param(query, "prompt")
        .unwrap_or_default()
        .split(' ')
        .collect();
    if let Some(bad) = prompts
        .iter()
        .find(|p| !["", "none", "consent", "select_account"].contains(p))
    {
        return Err(format!("invalid_request: Invalid prompt: {bad}"));
    }
    let include_granted_scopes = match param(query, "include_granted_scopes") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(format!(
                "invalid_request: Invalid include_granted_scopes: {other}"
            ));
        }
    };
    let account = param(query, "login_hint").unwrap_or(DEFAULT_ACCOUNT);
    if !state
        .calendars
        .iter()
        .any(|c| c.primary && c.owner == account)
    {
        return Err(format!("invalid_request: no simulated account {account}"));
    }
    Ok(Consent {
        account,
        state: consent_state,
        scopes,
        challenge,
        offline,
        force_consent: prompts.contains(&"consent"),
        include_granted_scopes,
    })
}

fn is_code_challenge(challenge: &str) -> bool {
    (43..=128).contains(&challenge.len())
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn redirect(uri: &str, params: &[(&str, &str)]) -> Response {
    let query = serde_urlencoded::to_string(params).expect("pairs encode");
    let separator = if uri.contains('?') { '&' } else { '?' };
    let location = format!("{uri}{separator}{query}");
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

fn join(scopes: &BTreeSet<String>) -> String {
    scopes.iter().cloned().collect::<Vec<_>>().join(" ")
}

/// `POST /token`: the client authenticates (form fields or HTTP Basic), then exchanges a code
/// or a refresh token.
pub(super) fn token(inner: &Inner, headers: &HeaderMap, form: &[(String, String)]) -> Response {
    if !client_authenticated(&inner.config, headers, form) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Unauthorized");
    }
    let mut state = inner.state();
    match param(form, "grant_type") {
        Some("authorization_code") => exchange_code(&mut state, form),
        Some("refresh_token") => refresh(&mut state, form),
        other => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {}", other.unwrap_or_default()),
        ),
    }
}

fn client_authenticated(
    config: &GoogleSimConfig,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> bool {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok());
    let (id, secret) = match &basic {
        Some(pair) => match pair.split_once(':') {
            Some((id, secret)) => (Some(id), Some(secret)),
            None => (None, None),
        },
        None => (param(form, "client_id"), param(form, "client_secret")),
    };
    id == Some(config.client_id.as_str()) && secret == Some(config.client_secret.as_str())
}

fn exchange_code(state: &mut State, form: &[(String, String)]) -> Response {
    let (Some(code), Some(redirect_uri)) = (param(form, "code"), param(form, "redirect_uri"))
    else {
        return invalid_request("Missing required parameter: code or redirect_uri");
    };
    let Some(entry) = state
        .codes
        .get(code)
        .filter(|c| !c.used && c.issued.elapsed() < CODE_LIFETIME && state.grants[c.grant].live)
    else {
        return invalid_grant("Bad Request");
    };
    if entry.redirect_uri != redirect_uri {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            "Bad Request",
        );
    }
    match param(form, "code_verifier") {
        None => return invalid_grant("Missing code verifier."),
        Some(verifier) if s256(verifier) != entry.challenge => {
            return invalid_grant("Invalid code verifier.");
        }
        Some(_) => {}
    }
    let (grant, scope, refresh_due) = (entry.grant, entry.scope.clone(), entry.refresh_due);
    if let Some(entry) = state.codes.get_mut(code) {
        entry.used = true;
    }
    let omit_refresh = std::mem::take(&mut state.hooks.omit_refresh_token_next);
    let mut body = state.access_token_body(grant, &scope);
    if refresh_due && !omit_refresh {
        let refresh_token = secret("1//0g");
        state.refresh_tokens.insert(
            refresh_token.clone(),
            Issued {
                grant,
                scope: scope.clone(),
            },
        );
        body["refresh_token"] = refresh_token.into();
    }
    Json(body).into_response()
}

fn refresh(state: &mut State, form: &[(String, String)]) -> Response {
    let Some(token) = param(form, "refresh_token") else {
        return invalid_request("Missing required parameter: refresh_token");
    };
    let Some(issued) = state
        .refresh_tokens
        .get(token)
        .filter(|issued| state.grants[issued.grant].live)
    else {
        return invalid_grant("Token has been expired or revoked.");
    };
    let (grant, scope) = (issued.grant, issued.scope.clone());
    Json(state.access_token_body(grant, &scope)).into_response()
}

/// BASE64URL-NOPAD(SHA256(verifier)): the S256 code challenge of a verifier.
fn s256(verifier: &str) -> String {
    let hex = shared::auth::sha256_hex(verifier);
    let digest: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digest"))
        .collect();
    URL_SAFE_NO_PAD.encode(digest)
}

/// `POST /revoke` with `token=` (form or query), an access or a refresh token: ends its grant.
pub(super) fn revoke(
    inner: &Inner,
    query: &[(String, String)],
    form: &[(String, String)],
) -> Response {
    let token = param(form, "token").or_else(|| param(query, "token"));
    let mut state = inner.state();
    match token.and_then(|t| state.live_grant_of(t)) {
        Some(grant) => {
            state.grants[grant].live = false;
            Json(json!({})).into_response()
        }
        None => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            "Token expired or revoked",
        ),
    }
}

/// The account and granted scopes (space-separated) of a request's live bearer token.
pub(super) fn bearer(state: &State, headers: &HeaderMap) -> Option<(String, String)> {
    let token = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    let access = state
        .access_tokens
        .get(token)
        .filter(|a| a.expires > Instant::now())?;
    let grant = state.grants.get(access.grant).filter(|g| g.live)?;
    Some((grant.email.clone(), access.scope.clone()))
}

impl State {
    /// Records the account's consent to `scopes`: its live grant grows, or a new grant starts
    /// (the first consent, which is when a refresh token is due).
    fn consent(&mut self, email: &str, scopes: &[String]) -> (usize, bool) {
        let existing = self.grants.iter().position(|g| g.live && g.email == email);
        let (index, first) = match existing {
            Some(index) => (index, false),
            None => {
                self.grants.push(Grant {
                    email: email.to_string(),
                    scopes: BTreeSet::new(),
                    live: true,
                });
                (self.grants.len() - 1, true)
            }
        };
        self.grants[index].scopes.extend(scopes.iter().cloned());
        (index, first)
    }

    /// Mints an access token and answers the way `/token` does (without a refresh token).
    fn access_token_body(&mut self, grant: usize, scope: &str) -> serde_json::Value {
        let token = secret("ya29.");
        let lifetime = self.access_token_lifetime;
        self.access_tokens.insert(
            token.clone(),
            AccessToken {
                grant,
                scope: scope.to_string(),
                expires: Instant::now() + lifetime,
            },
        );
        json!({
            "access_token": token,
            "expires_in": lifetime.as_secs(),
            "scope": scope,
            "token_type": "Bearer",
        })
    }

    fn live_grant_of(&self, token: &str) -> Option<usize> {
        let grant = match self.refresh_tokens.get(token) {
            Some(issued) => issued.grant,
            None => {
                self.access_tokens
                    .get(token)
                    .filter(|a| a.expires > Instant::now())?
                    .grant
            }
        };
        self.grants[grant].live.then_some(grant)
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({"error": error, "error_description": description});
    (status, Json(body)).into_response()
}

fn invalid_grant(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

fn invalid_request(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description)
}
