//! A stateful Google OAuth 2.0 + Calendar v3 simulator for the end-to-end tests.
//!
//! The platform connects a tenant's Google Calendar with the authorization-code flow (PKCE,
//! offline access) and then reads availability and books events. Neither can be tested against
//! Google itself, and a mock inside the platform would only repeat the platform's own
//! assumptions. So this is a real HTTP server the platform reaches through its configurable
//! base URLs ([`GoogleSim::auth_url`], [`GoogleSim::token_url`], [`GoogleSim::revoke_url`],
//! [`GoogleSim::calendar_url`]) and that behaves like Google where the platform could get it
//! wrong:
//!
//! - **OAuth** ([`oauth`]): the authorize endpoint refuses what Google refuses (unregistered
//!   client or redirect, unknown scopes, no PKCE or `plain` PKCE) and redirects with a single-use
//!   code; the token endpoint checks the verifier, hands out a refresh token only when Google
//!   would (offline access on the first consent, or with `prompt=consent`), and revocation ends
//!   the whole grant. Hooks play the user's part: denying consent, granting only some scopes.
//! - **Calendar** ([`calendar`]): every request is first checked against Google's discovery
//!   document ([`crate::google_discovery`]); a request that breaks it gets Google's 400 and is
//!   kept in [`GoogleSim::violations`], which tests assert stays empty. Then the bearer token and
//!   its scopes are checked, and events are stored, listed, cancelled, and turned into busy
//!   periods the way Google does ([`time`]: all-day events in the calendar's own time zone).
//! - **Faults**: one 5xx/429 or one slow answer on a Calendar path ([`GoogleSim::fail_next`],
//!   [`GoogleSim::delay_next`]), expired access tokens, revoked grants.
//!
//! Every request is recorded ([`GoogleSim::requests`]); the `Authorization` header is never
//! kept, and the secrets in forms (codes, verifiers, tokens, the client secret) are hidden from
//! `Debug` output so a failing assertion cannot print them.

mod calendar;
mod oauth;
#[cfg(test)]
mod tests;
mod time;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

/// The account that exists from the start (in `UTC`) and consents unless `login_hint` names
/// another.
pub const DEFAULT_ACCOUNT: &str = "owner@sim.test";

/// The OAuth client the simulator knows (one, as the platform registers one).
#[derive(Clone, Debug)]
pub struct GoogleSimConfig {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
}

/// A running simulator. The HTTP server stops when this is dropped.
pub struct GoogleSim {
    base_url: String,
    inner: Arc<Inner>,
    _server: ServerTask,
}

/// One request as the simulator received it. `Debug` hides secret form and query values.
#[derive(Clone)]
pub struct Recorded {
    pub method: String,
    /// The full path, e.g. `/calendar/v3/calendars/primary/events` or `/token`.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// A JSON body (Calendar requests).
    pub body: Option<Value>,
    /// A form body (`/token`, `/revoke`).
    pub form: Vec<(String, String)>,
}

/// Parameter names whose values are credentials.
const SECRET_PARAMS: [&str; 7] = [
    "client_secret",
    "code",
    "code_verifier",
    "refresh_token",
    "access_token",
    "oauth_token",
    "token",
];

impl std::fmt::Debug for Recorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorded")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &redacted(&self.query))
            .field("body", &self.body)
            .field("form", &redacted(&self.form))
            .finish()
    }
}

fn redacted(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs
        .iter()
        .map(|(k, v)| {
            let hidden = SECRET_PARAMS.contains(&k.as_str());
            (k.as_str(), if hidden { "[redacted]" } else { v.as_str() })
        })
        .collect()
}

impl GoogleSim {
    /// Binds 127.0.0.1 on a free port and serves the simulator on the current tokio runtime.
    pub async fn start(config: GoogleSimConfig) -> GoogleSim {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Google simulator");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        let inner = Arc::new(Inner {
            config,
            state: Mutex::new(State::new()),
        });
        inner.state().add_account(DEFAULT_ACCOUNT, "UTC");
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&inner));
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "Google simulator stopped");
            }
        });
        GoogleSim {
            base_url,
            inner,
            _server: ServerTask(server),
        }
    }

    /// Where the user is sent to consent (Google: `https://accounts.google.com/o/oauth2/v2/auth`).
    pub fn auth_url(&self) -> String {
        format!("{}/o/oauth2/v2/auth", self.base_url)
    }

    /// Google: `https://oauth2.googleapis.com/token`.
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base_url)
    }

    /// Google: `https://oauth2.googleapis.com/revoke`.
    pub fn revoke_url(&self) -> String {
        format!("{}/revoke", self.base_url)
    }

    /// The Calendar API base, no trailing slash (Google: `https://www.googleapis.com/calendar/v3`).
    pub fn calendar_url(&self) -> String {
        format!("{}/calendar/v3", self.base_url)
    }

    /// Adds a Google account whose primary calendar (id: the email) is in the IANA zone
    /// `time_zone`; for an existing account, moves its primary calendar to that zone.
    pub fn add_account(&self, email: &str, time_zone: &str) {
        self.inner.state().add_account(email, time_zone);
    }

    /// Adds a secondary calendar owned by the account `email`.
    pub fn add_calendar(&self, email: &str, calendar_id: &str, summary: &str, time_zone: &str) {
        let mut state = self.inner.state();
        assert!(
            state.calendars.iter().any(|c| c.owner == email),
            "no simulated account {email}"
        );
        let calendar = Calendar::new(calendar_id, email, summary, time_zone, false);
        state.calendars.push(calendar);
    }

    /// The next authorization is refused by the user (`error=access_denied`).
    pub fn deny_next_consent(&self) {
        self.inner.state().hooks.deny_next_consent = true;
    }

    /// The next authorization grants only these of the requested scopes (granular consent).
    pub fn grant_only_next(&self, scopes: &[&str]) {
        self.inner.state().hooks.grant_only_next =
            Some(scopes.iter().map(|s| s.to_string()).collect());
    }

    /// The next code exchange answers without a refresh token even where one was due, as
    /// Google does on some re-consents.
    pub fn omit_refresh_token_next(&self) {
        self.inner.state().hooks.omit_refresh_token_next = true;
    }

    /// How long access tokens issued from now on live (and the `expires_in` they report).
    pub fn set_access_token_lifetime(&self, lifetime: Duration) {
        self.inner.state().access_token_lifetime = lifetime;
    }

    /// Every access token issued so far stops working now (refresh tokens still work).
    pub fn expire_access_tokens(&self) {
        self.inner.state().access_tokens.clear();
    }

    /// The user removes the platform's access in their Google account: the grant's refresh and
    /// access tokens stop working.
    pub fn revoke_grant(&self, email: &str) {
        for grant in self.inner.state().grants.iter_mut() {
            if grant.email == email {
                grant.live = false;
            }
        }
    }

    /// Stores an event as if the user had created it (all-day, transparent, declined,
    /// cancelled, ...) and returns its id. Panics on an event `events.insert` would refuse.
    pub fn seed_event(&self, calendar_id: &str, event: Value) -> String {
        let mut state = self.inner.state();
        let calendar = state
            .calendars
            .iter_mut()
            .find(|c| c.id == calendar_id)
            .unwrap_or_else(|| panic!("no simulated calendar {calendar_id}"));
        match calendar.insert(event) {
            Ok(stored) => stored["id"].as_str().unwrap_or_default().to_string(),
            Err(e) => panic!("seed_event refused: {} {}", e.code, e.message),
        }
    }

    /// The calendar's stored events, cancelled ones included.
    pub fn events(&self, calendar_id: &str) -> Vec<Value> {
        self.inner
            .state()
            .calendars
            .iter()
            .find(|c| c.id == calendar_id)
            .map(|c| c.events.clone())
            .unwrap_or_default()
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.state().requests.clone()
    }

    /// Calendar requests that broke the discovery document, one line per problem.
    pub fn violations(&self) -> Vec<String> {
        self.inner.state().violations.clone()
    }

    /// The next Calendar request whose path (below [`GoogleSim::calendar_url`], decoded, e.g.
    /// `freeBusy` or `calendars/owner@sim.test/events`) starts with `path_prefix` is answered
    /// with `status` (500, 503, 429, ...) in Google's error shape.
    pub fn fail_next(&self, path_prefix: &str, status: u16) {
        self.inner
            .state()
            .hooks
            .failures
            .push((normalized(path_prefix), status));
    }

    /// The next Calendar request whose path starts with `path_prefix` is answered only after
    /// `delay`.
    pub fn delay_next(&self, path_prefix: &str, delay: Duration) {
        self.inner
            .state()
            .hooks
            .delays
            .push((normalized(path_prefix), delay));
    }
}

fn normalized(path_prefix: &str) -> String {
    path_prefix.trim_start_matches('/').to_string()
}

/// Stops the server task when the simulator goes away.
struct ServerTask(tokio::task::JoinHandle<()>);

impl Drop for ServerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Inner {
    config: GoogleSimConfig,
    state: Mutex<State>,
}

impl Inner {
    /// The state, even if a panicking test thread poisoned the lock.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct State {
    calendars: Vec<Calendar>,
    codes: HashMap<String, oauth::Code>,
    /// One per consent of an account to the client; revocation ends it.
    grants: Vec<oauth::Grant>,
    refresh_tokens: HashMap<String, oauth::Issued>,
    access_tokens: HashMap<String, oauth::AccessToken>,
    access_token_lifetime: Duration,
    hooks: Hooks,
    requests: Vec<Recorded>,
    violations: Vec<String>,
}

/// What tests arranged for the next requests.
#[derive(Default)]
struct Hooks {
    deny_next_consent: bool,
    grant_only_next: Option<Vec<String>>,
    omit_refresh_token_next: bool,
    failures: Vec<(String, u16)>,
    delays: Vec<(String, Duration)>,
}

impl Hooks {
    /// Takes the first injected fault for `path`.
    fn take<T>(faults: &mut Vec<(String, T)>, path: &str) -> Option<T> {
        let index = faults
            .iter()
            .position(|(prefix, _)| path.starts_with(prefix))?;
        Some(faults.remove(index).1)
    }
}

impl State {
    fn new() -> State {
        State {
            calendars: Vec::new(),
            codes: HashMap::new(),
            grants: Vec::new(),
            refresh_tokens: HashMap::new(),
            access_tokens: HashMap::new(),
            access_token_lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
            hooks: Hooks::default(),
            requests: Vec::new(),
            violations: Vec::new(),
        }
    }

    fn add_account(&mut self, email: &str, time_zone: &str) {
        let calendar = Calendar::new(email, email, email, time_zone, true);
        match self
            .calendars
            .iter_mut()
            .find(|c| c.primary && c.id == email)
        {
            Some(existing) => existing.zone = calendar.zone,
            None => self.calendars.push(calendar),
        }
    }
}

/// A calendar and its events (stored as Event resources).
struct Calendar {
    id: String,
    owner: String,
    summary: String,
    zone: Tz,
    primary: bool,
    events: Vec<Value>,
}

impl Calendar {
    fn new(id: &str, owner: &str, summary: &str, time_zone: &str, primary: bool) -> Calendar {
        Calendar {
            id: id.to_string(),
            owner: owner.to_string(),
            summary: summary.to_string(),
            zone: time_zone
                .parse()
                .unwrap_or_else(|_| panic!("{time_zone} is not an IANA time zone")),
            primary,
            events: Vec::new(),
        }
    }
}

/// An error in Google's API shape: `{"error": {"code", "message", "errors": [{"domain",
/// "reason", "message"}], "status"?}}`.
#[derive(Debug)]
struct ApiError {
    code: u16,
    reason: &'static str,
    message: String,
    domain: &'static str,
    /// The gRPC-style status Google adds to some errors (`UNAUTHENTICATED`, ...).
    status: Option<&'static str>,
    /// The item's own message where Google words it differently (`Invalid Credentials`).
    item_message: Option<&'static str>,
    /// The request header at fault (`Authorization`), named in the item.
    header: Option<&'static str>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            domain: "global",
            status: None,
            item_message: None,
            header: None,
        }
    }

    fn not_found() -> Self {
        Self::new(404, "notFound", "Not Found")
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "invalid", message)
    }

    fn body(&self) -> Value {
        let item_message = self.item_message.unwrap_or(&self.message);
        let mut item = serde_json::json!({"message": item_message, "domain": self.domain, "reason": self.reason});
        if let Some(header) = self.header {
            item["location"] = header.into();
            item["locationType"] = "header".into();
        }
        let mut error =
            serde_json::json!({"code": self.code, "message": self.message, "errors": [item]});
        if let Some(status) = self.status {
            error["status"] = status.into();
        }
        serde_json::json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::Json(self.body());
        if code == StatusCode::UNAUTHORIZED {
            let challenge =
                "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"";
            return (code, [(header::WWW_AUTHENTICATE, challenge)], body).into_response();
        }
        (code, body).into_response()
    }
}

/// The one handler: records the request, then dispatches by path.
async fn handle(
    AxumState(inner): AxumState<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = pairs(uri.query().unwrap_or_default().as_bytes());
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let form = if is_form { pairs(&body) } else { Vec::new() };
    let json = (!is_form && !body.is_empty()).then(|| serde_json::from_slice::<Value>(&body));
    inner.state().requests.push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        body: json
            .as_ref()
            .and_then(|parsed| parsed.as_ref().ok().cloned()),
        form: form.clone(),
    });
    match (method.as_str(), path.as_str()) {
        ("GET", "/o/oauth2/v2/auth") => oauth::authorize(&inner, &query),
        ("POST", "/token") => oauth::token(&inner, &headers, &form),
        ("POST", "/revoke") => oauth::revoke(&inner, &query, &form),
        (_, _) if path.starts_with("/calendar/v3/") => {
            let request = calendar::Request {
                method: method.as_str(),
                path: &path["/calendar/v3/".len()..],
                query: &query,
                body: json,
                headers: &headers,
            };
            calendar::handle(&inner, request).await
        }
        _ => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

/// Form or query pairs in order, repeated keys kept (empty when they don't decode).
fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(raw).unwrap_or_default()
}

/// The first value of a parameter.
fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// A random URL-safe secret with a Google-like prefix (`ya29.` access tokens, ...).
fn secret(prefix: &str) -> String {
    format!("{prefix}{}", shared::auth::random_token(32))
}

/// Google's timestamps: RFC 3339 in UTC with milliseconds.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// How long access tokens live by default (Google reports `expires_in: 3599`).
const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3599);
