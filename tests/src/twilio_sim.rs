//! A stateful Twilio REST simulator for the end-to-end tests.
//!
//! The platform talks to Twilio's 2010-04-01 REST API (search and buy numbers, place and hang up
//! calls, read the account) and Twilio talks back through signed webhooks (the voice URL of a
//! number, call-progress and recording status callbacks). Tests point the platform's Twilio base
//! URL at [`TwilioSim::base_url`] and give it [`TwilioSim::account_sid`] and
//! [`TwilioSim::auth_token`]; the simulator then:
//!
//! - answers the REST calls with Twilio's JSON shapes (snake_case, RFC 2822 dates, Twilio error
//!   bodies) and keeps state: owned numbers, placed calls;
//! - records every request it received, so tests can assert on exactly what was sent;
//! - plays each placed call out in a background "driver" task that fetches its TwiML and POSTs
//!   the status and recording callbacks, signed with `X-Twilio-Signature` like Twilio does, so the
//!   platform's signature checks run for real;
//! - can ring one of the owned numbers ([`TwilioSim::inbound_call`]) and inject failures
//!   ([`TwilioSim::fail_next_call`], [`TwilioSim::set_call_outcome`]);
//! - posts the answering-machine verdict of calls placed with asynchronous detection
//!   ([`TwilioSim::set_amd_verdict`]);
//! - dials the person of a transfer (a call redirected to a `<Dial>`) and posts the outcome
//!   to its action ([`TwilioSim::set_dial_outcome`]);
//! - can deliver every callback of a call before answering the request that created it (or,
//!   for an inbound call, the final status before the voice webhook), as Twilio does for a call
//!   that fails fast or under load ([`TwilioSim::callbacks_before_answers`]).
//!
//! Time is simulated: a call "talks" for its configured duration only on paper, so a test never
//! waits for it.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use shared::twilio::signature;

use crate::media_sim::{CallReport, CallScript, ConnectOptions, MediaCall};
use crate::outage::Outage;

mod amd;
mod dial;

pub use amd::AmdVerdict;
pub use dial::DialOutcome;

const API_VERSION: &str = "2010-04-01";
const DEFAULT_PAGE_SIZE: usize = 50;
/// Twilio's maximum `PageSize`.
const MAX_PAGE_SIZE: usize = 1000;
/// How long a placed call "dials" before its first callback: long enough for the platform to
/// have handled the 201 (and stored the call SID) before callbacks about that SID arrive.
const DIAL_DELAY: Duration = Duration::from_millis(100);
/// The gap between two callbacks of one call, so they arrive in order.
const CALLBACK_GAP: Duration = Duration::from_millis(5);
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);
const POLL_INTERVAL: Duration = Duration::from_millis(10);
/// The longest a simulated caller stays on a streamed call.
const STREAM_LIMIT: Duration = Duration::from_secs(600);

/// A running simulator. The HTTP server stops when this is dropped.
pub struct TwilioSim {
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    inner: Arc<Inner>,
    _server: ServerTask,
}

/// One REST request as the simulator received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
    /// Right credentials and the simulator's own account SID in the path.
    pub authorized: bool,
    /// When it arrived (for pacing checks).
    pub received_at: std::time::Instant,
}

/// A number the account owns; the `Option`s hold what the buy request sent.
#[derive(Clone, Debug)]
pub struct SimNumber {
    pub sid: String,
    pub phone_number: String,
    pub voice_url: Option<String>,
    pub voice_method: Option<String>,
    pub status_callback: Option<String>,
    pub friendly_name: Option<String>,
}

#[derive(Clone, Debug)]
pub struct SimCall {
    pub sid: String,
    /// `outbound-api` (placed through the REST API) or `inbound` ([`TwilioSim::inbound_call`]).
    pub direction: String,
    pub to: String,
    pub from: String,
    /// The `Twiml` parameter, the TwiML fetched from `Url`, or the inbound webhook's answer.
    pub twiml: Option<String>,
    /// The create request's form (for inbound calls: the voice webhook's form).
    pub form: Vec<(String, String)>,
    /// The call's last status, as the call resource reports it.
    pub status: String,
    pub callbacks: Vec<DeliveredCallback>,
    /// Every callback has been delivered.
    pub done: bool,
    /// `POST .../Calls/{Sid}.json` set a `Status`.
    pub hung_up_by_api: bool,
    /// What the action of a `<Dial>` (a transfer) answered: HTTP status and TwiML.
    pub dial_answer: Option<(u16, String)>,
    /// The answering-machine verdicts posted (calls placed with detection on).
    pub amd_callbacks: Vec<DeliveredCallback>,
}

/// A callback the simulator POSTed (or GOT), and how the receiver answered.
#[derive(Clone, Debug)]
pub struct DeliveredCallback {
    pub url: String,
    pub params: Vec<(String, String)>,
    /// The HTTP status answered, 0 when the receiver could not be reached.
    pub response_status: u16,
}

/// What the voice webhook answered to an inbound call.
#[derive(Clone, Debug)]
pub struct WebhookReply {
    /// The HTTP status, 0 when the webhook could not be reached (`body` then holds the error).
    pub status: u16,
    pub body: String,
    pub call_sid: String,
}

/// Who is heard on a channel of a recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    /// The person on the phone line (the callee of an outbound call, the caller of an
    /// inbound one): what Twilio receives.
    Person,
    /// What Twilio plays to them: the agent, through the media stream.
    Agent,
}

/// A finished recording of a call.
#[derive(Clone, Debug)]
pub struct SimRecording {
    pub sid: String,
    pub call_sid: String,
    pub duration_secs: u32,
    /// Who is on each channel, channel 1 first: Twilio's dual-channel recordings put the leg
    /// Twilio receives first and what it plays second. A mono recording has one channel.
    pub channels: Vec<Party>,
}

/// How a placed call ends.
#[derive(Clone, Copy, Debug)]
pub enum CallOutcome {
    Answered { duration_secs: u32 },
    Busy,
    NoAnswer,
    Failed,
}

impl Default for CallOutcome {
    fn default() -> Self {
        CallOutcome::Answered { duration_secs: 7 }
    }
}

impl TwilioSim {
    /// Binds 127.0.0.1 on a free port and serves the simulator on the current tokio runtime.
    pub async fn start() -> TwilioSim {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Twilio simulator");
        let addr = listener.local_addr().expect("simulator address");
        let inner = Arc::new(Inner {
            account_sid: new_sid("AC"),
            auth_token: shared::auth::random_token(24),
            base_url: format!("http://{addr}"),
            created: Utc::now(),
            http: reqwest::Client::builder()
                .timeout(WEBHOOK_TIMEOUT)
                // The stacks' public host name, as public DNS would resolve a real API's (the
                // port comes from the URL).
                .resolve(crate::PUBLIC_HOST, ([127, 0, 0, 1], 0).into())
                .build()
                .expect("webhook HTTP client"),
            state: Mutex::new(SimState::default()),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&inner));
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "Twilio simulator stopped");
            }
        });
        TwilioSim {
            base_url: inner.base_url.clone(),
            account_sid: inner.account_sid.clone(),
            auth_token: inner.auth_token.clone(),
            inner,
            _server: ServerTask(server),
        }
    }

    /// Every REST request received, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.state().requests.clone()
    }

    /// Calls created through the REST API (and inbound calls), in order of creation.
    pub fn calls(&self) -> Vec<SimCall> {
        self.inner
            .state()
            .calls
            .iter()
            .map(|entry| entry.call.clone())
            .collect()
    }

    /// One call by SID.
    pub fn call(&self, sid: &str) -> Option<SimCall> {
        self.inner
            .state()
            .calls
            .iter()
            .find(|entry| entry.call.sid == sid)
            .map(|entry| entry.call.clone())
    }

    /// Numbers currently owned (bought and not released).
    pub fn numbers(&self) -> Vec<SimNumber> {
        self.inner
            .state()
            .numbers
            .iter()
            .map(|owned| owned.number.clone())
            .collect()
    }

    /// The next `POST .../Calls.json` fails with this HTTP status, Twilio error code and
    /// message (once).
    /// Puts the REST API in an outage (`None` lifts it); requests are still recorded.
    pub fn set_outage(&self, outage: Option<Outage>) {
        self.inner.state().outage = outage;
    }

    pub fn fail_next_call(&self, status: u16, code: i64, message: &str) {
        self.inner.state().next_call_failure = Some(ApiError::new(status, code, message));
    }

    /// The next number purchase succeeds at "Twilio", but its answer is lost: a 500 comes back
    /// instead of the 201 (the platform cannot tell whether it bought the number).
    pub fn lose_next_buy_answer(&self) {
        self.inner.state().lose_next_buy_answer = true;
    }

    /// The next call is placed and played out as usual, but the create request is answered
    /// with a 500 (as when Twilio fails after accepting it): the platform cannot tell whether
    /// it rings until the callbacks come.
    pub fn lose_next_call_answer(&self) {
        self.inner.state().lose_next_call_answer = true;
    }

    /// From now on, no call's status callbacks reach the platform (as when every delivery
    /// fails): only its recording callback does.
    pub fn lose_status_callbacks(&self) {
        self.inner.state().lose_status_callbacks = true;
    }

    /// How the calls created from now on end.
    pub fn set_call_outcome(&self, outcome: CallOutcome) {
        self.inner.state().outcome = outcome;
    }

    /// From now on, a placed call is played out in full (every status callback, `completed`
    /// and the recording included, no media) before `POST .../Calls.json` is answered; an
    /// inbound call's final status callback goes to the number's status callback before its
    /// voice webhook is even sent, and its recording callback before [`TwilioSim::inbound_call`]
    /// returns. The platform then learns every SID from a callback first.
    pub fn callbacks_before_answers(&self) {
        self.inner.state().early_callbacks = true;
    }

    /// Who answers the calls placed from now on with answering-machine detection, and when
    /// Twilio's verdict comes.
    pub fn set_amd_verdict(&self, verdict: AmdVerdict) {
        self.inner.state().amd = verdict;
    }

    /// How the person's phone answers a transfer (`<Dial>`) from now on.
    pub fn set_dial_outcome(&self, outcome: DialOutcome) {
        self.inner.state().dial_outcome = outcome;
    }

    /// Simulates a caller dialling one of the owned numbers: sends the signed voice webhook
    /// (the number's voice URL and method) with the form Twilio sends for an incoming call,
    /// records the call with the TwiML it got back, and returns the webhook's answer.
    ///
    /// Panics if `to` is not owned or has no voice URL: that is a mistake in the test.
    pub async fn inbound_call(&self, from: &str, to: &str) -> WebhookReply {
        let (voice, status_callback, number_sid) = {
            let state = self.inner.state();
            let owned = state
                .numbers
                .iter()
                .find(|owned| owned.number.phone_number == to)
                .unwrap_or_else(|| panic!("inbound_call: {to} is not an owned number"));
            let url = owned
                .number
                .voice_url
                .clone()
                .unwrap_or_else(|| panic!("inbound_call: {to} has no voice URL"));
            let method = owned
                .number
                .voice_method
                .clone()
                .unwrap_or_else(|| "POST".into());
            let status_callback = owned.number.status_callback.clone().map(|url| Target {
                url,
                method: owned
                    .status_callback_method
                    .clone()
                    .unwrap_or_else(|| "POST".into()),
            });
            (
                Target { url, method },
                status_callback,
                owned.number.sid.clone(),
            )
        };
        let sid = new_sid("CA");
        let form = pairs(&[
            ("AccountSid", &self.account_sid),
            ("CallSid", &sid),
            ("From", from),
            ("To", to),
            ("Called", to),
            ("Caller", from),
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
            ("ApiVersion", API_VERSION),
        ]);
        let early = self.inner.state().early_callbacks;
        // Recorded before the webhook runs: the platform may act on the call (e.g. update it)
        // while it answers.
        self.inner.state().calls.push(CallEntry {
            call: SimCall {
                sid: sid.clone(),
                direction: "inbound".into(),
                to: to.into(),
                from: from.into(),
                twiml: None,
                form: form.clone(),
                status: "ringing".into(),
                callbacks: Vec::new(),
                done: false,
                hung_up_by_api: false,
                dial_answer: None,
                amd_callbacks: Vec::new(),
            },
            created: Utc::now(),
            phone_number_sid: Some(number_sid),
            answered_secs: None,
        });
        let inbound = InboundPlan {
            sid: sid.clone(),
            form,
            status_callback,
            duration_secs: self.inner.state().outcome.answered_secs().unwrap_or(0),
        };
        if early && let Some(target) = &inbound.status_callback {
            // The caller hung up at once: the final status races (here: beats) the webhook.
            self.inner
                .deliver(&sid, target, inbound.final_status_params())
                .await;
        }
        let (status, body) = match self
            .inner
            .send_signed(&voice.method, &voice.url, &inbound.form)
            .await
        {
            Ok(answer) => answer,
            Err(error) => (0, error),
        };
        let answered = (200..300).contains(&status);
        self.inner.update_call(&sid, |call| {
            call.twiml = answered.then(|| body.clone());
            call.status = if answered { "in-progress" } else { "failed" }.into();
        });
        if !answered {
            self.inner.update_call(&sid, |call| call.done = true);
        } else if early {
            self.inner.finish_inbound(&inbound, &body, true).await;
        } else {
            let inner = Arc::clone(&self.inner);
            let xml = body.clone();
            tokio::spawn(async move {
                inner.stream_media(&inbound.sid, &xml).await;
                inner.finish_inbound(&inbound, &xml, false).await;
            });
        }
        WebhookReply {
            status,
            body,
            call_sid: sid,
        }
    }

    /// From now on, answered calls whose TwiML says `<Connect><Stream>` open that Media Stream
    /// (signed like Twilio's upgrade, with the TwiML's `<Parameter>`s) and stream this caller,
    /// as Twilio does; the call completes when the stream ends.
    pub fn stream_calls(&self, caller: CallScript) {
        self.inner.state().caller = Some(caller);
    }

    /// The recordings made so far.
    pub fn recordings(&self) -> Vec<SimRecording> {
        self.inner.state().recordings.clone()
    }

    /// A handle to look recordings up from elsewhere (the Voice Intelligence simulator).
    pub fn recording_lookup(&self) -> RecordingLookup {
        RecordingLookup(Arc::clone(&self.inner))
    }

    /// What the caller of a streamed call heard, once its stream ended.
    pub fn media_report(&self, sid: &str) -> Option<CallReport> {
        self.inner
            .state()
            .media_reports
            .iter()
            .find(|(s, _)| s == sid)
            .map(|(_, r)| r.clone())
    }

    /// Waits until the call's driver delivered every callback, and returns the call.
    ///
    /// Panics if the call is unknown or not done within `timeout`.
    pub async fn wait_for_call_done(&self, sid: &str, timeout: Duration) -> SimCall {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let call = self.call(sid);
            if let Some(call) = &call
                && call.done
            {
                return call.clone();
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("call {sid} not done after {timeout:?}: {call:?}");
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

/// Finds the simulator's recordings by SID.
#[derive(Clone)]
pub struct RecordingLookup(Arc<Inner>);

impl RecordingLookup {
    pub fn get(&self, sid: &str) -> Option<SimRecording> {
        self.0
            .state()
            .recordings
            .iter()
            .find(|r| r.sid == sid)
            .cloned()
    }
}

/// Stops the server task when the simulator goes away (drivers of calls finish on their own).
struct ServerTask(tokio::task::JoinHandle<()>);

impl Drop for ServerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the server and the call drivers share.
struct Inner {
    account_sid: String,
    auth_token: String,
    base_url: String,
    created: DateTime<Utc>,
    http: reqwest::Client,
    state: Mutex<SimState>,
}

#[derive(Default)]
struct SimState {
    requests: Vec<RecordedRequest>,
    numbers: Vec<OwnedNumber>,
    calls: Vec<CallEntry>,
    next_call_failure: Option<ApiError>,
    /// Every REST request meets this outage, until it is lifted.
    outage: Option<Outage>,
    outcome: CallOutcome,
    /// When set, answered calls open the Media Stream their TwiML names, with this caller.
    caller: Option<CallScript>,
    /// Every callback of a call goes out before the request that created it is answered.
    early_callbacks: bool,
    lose_next_buy_answer: bool,
    lose_next_call_answer: bool,
    /// Status callbacks are never delivered.
    lose_status_callbacks: bool,
    media_reports: Vec<(String, CallReport)>,
    recordings: Vec<SimRecording>,
    /// How a transfer's `<Dial>` ends.
    dial_outcome: DialOutcome,
    /// Who answers calls placed with answering-machine detection.
    amd: AmdVerdict,
}

struct OwnedNumber {
    number: SimNumber,
    status_callback_method: Option<String>,
    created: DateTime<Utc>,
}

struct CallEntry {
    call: SimCall,
    created: DateTime<Utc>,
    phone_number_sid: Option<String>,
    /// Set when an answered call has ended: its (simulated) length.
    answered_secs: Option<u32>,
}

impl Inner {
    /// The state, even if a panicking test thread poisoned the lock: the data stays usable.
    fn state(&self) -> MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update_call(&self, sid: &str, change: impl FnOnce(&mut SimCall)) {
        if let Some(entry) = self.state().calls.iter_mut().find(|e| e.call.sid == sid) {
            change(&mut entry.call);
        }
    }

    fn account_uri(&self, rest: &str) -> String {
        format!("/{API_VERSION}/Accounts/{}{rest}", self.account_sid)
    }

    /// Sends a webhook the way Twilio does: POST with the form, or GET with the parameters in
    /// the query, signed over the URL requested (plus the sorted form for POST).
    async fn send_signed(
        &self,
        method: &str,
        url: &str,
        params: &[(String, String)],
    ) -> Result<(u16, String), String> {
        let request = if method.eq_ignore_ascii_case("GET") {
            let query = serde_urlencoded::to_string(params).map_err(|e| e.to_string())?;
            let separator = if url.contains('?') { '&' } else { '?' };
            let full = format!("{url}{separator}{query}");
            let signed = signature::sign(&self.auth_token, &full, &[]);
            self.http.get(full).header(signature::HEADER, signed)
        } else {
            let signed = signature::sign(&self.auth_token, url, params);
            self.http
                .post(url)
                .header(signature::HEADER, signed)
                .form(params)
        };
        let response = request
            .header(header::USER_AGENT, "TwilioProxy/1.1")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|e| e.to_string())?;
        Ok((status, body))
    }
}

// ---------------------------------------------------------------------------------------------
// REST surface
// ---------------------------------------------------------------------------------------------

/// A Twilio error answer: `{"code", "message", "more_info", "status"}`.
#[derive(Clone, Debug)]
struct ApiError {
    status: u16,
    code: i64,
    message: String,
}

impl ApiError {
    fn new(status: u16, code: i64, message: &str) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn unauthorized() -> Self {
        Self::new(401, 20003, "Authenticate")
    }

    fn not_found(path: &str) -> Self {
        Self::new(
            404,
            20404,
            &format!("The requested resource {path} was not found"),
        )
    }

    /// A parameter that does not parse. Twilio has many specific codes for these; tests only
    /// need a 400 that names the parameter.
    fn invalid(name: &str) -> Self {
        Self::new(400, 20001, &format!("Invalid parameter: {name}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = Json(json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
            "status": self.status,
        }));
        if status == StatusCode::UNAUTHORIZED {
            let challenge = [(header::WWW_AUTHENTICATE, "Basic realm=\"Twilio API\"")];
            return (status, challenge, body).into_response();
        }
        (status, body).into_response()
    }
}

type Reply = Result<Response, ApiError>;

fn reply(status: StatusCode, body: Value) -> Reply {
    Ok((status, Json(body)).into_response())
}

/// The resources the simulator serves, below `/2010-04-01/Accounts/{AccountSid}`.
enum Route<'a> {
    Account,
    Balance,
    AvailableLocal { country: &'a str },
    IncomingNumbers,
    IncomingNumber { sid: &'a str },
    Calls,
    Call { sid: &'a str },
}

/// The account SID in a `/2010-04-01/Accounts/{Sid}...` path.
fn path_account(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/2010-04-01/Accounts/")?;
    Some(match rest.split_once('/') {
        Some((account, _)) => account,
        None => rest.strip_suffix(".json").unwrap_or(rest),
    })
}

fn route(path: &str) -> Option<Route<'_>> {
    let rest = path.strip_prefix("/2010-04-01/Accounts/")?;
    let Some((_, tail)) = rest.split_once('/') else {
        return rest.ends_with(".json").then_some(Route::Account);
    };
    let segments: Vec<&str> = tail.split('/').collect();
    Some(match segments.as_slice() {
        ["Balance.json"] => Route::Balance,
        ["AvailablePhoneNumbers", country, "Local.json"] => Route::AvailableLocal { country },
        ["IncomingPhoneNumbers.json"] => Route::IncomingNumbers,
        ["IncomingPhoneNumbers", file] => Route::IncomingNumber {
            sid: file.strip_suffix(".json")?,
        },
        ["Calls.json"] => Route::Calls,
        ["Calls", file] => Route::Call {
            sid: file.strip_suffix(".json")?,
        },
        _ => return None,
    })
}

/// The one handler: records the request, checks credentials, then dispatches by hand (Twilio's
/// `{Sid}.json` segments don't fit a router's path parameters well).
async fn handle(
    AxumState(inner): AxumState<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let query = parse_pairs(uri.query().unwrap_or_default().as_bytes());
    let form = parse_pairs(&body);
    let authorized = inner.credentials_match(&headers)
        && path_account(path).is_none_or(|account| account == inner.account_sid);
    inner.state().requests.push(RecordedRequest {
        method: method.to_string(),
        path: path.to_string(),
        query: query.clone().unwrap_or_default(),
        form: form.clone().unwrap_or_default(),
        authorized,
        received_at: std::time::Instant::now(),
    });
    if !authorized {
        return ApiError::unauthorized().into_response();
    }
    let outage = inner.state().outage;
    if let Some(response) = outage.and_then(|o| o.intercept(outage_error)) {
        return response;
    }
    let (Some(query), Some(form)) = (query, form) else {
        return ApiError::new(400, 20001, "The request is not form-urlencoded").into_response();
    };
    let result = match (method.as_str(), route(path)) {
        ("GET", Some(Route::Account)) => inner.account(),
        ("GET", Some(Route::Balance)) => inner.balance(),
        ("GET", Some(Route::AvailableLocal { country })) => {
            inner.search_local(country, &query, &uri)
        }
        ("GET", Some(Route::IncomingNumbers)) => inner.list_numbers(&query, &uri),
        ("POST", Some(Route::IncomingNumbers)) => inner.buy_number(&form),
        ("DELETE", Some(Route::IncomingNumber { sid })) => inner.release_number(sid, path),
        ("POST", Some(Route::Calls)) => create_call(&inner, &form).await,
        ("GET", Some(Route::Call { sid })) => inner.fetch_call(sid, path),
        ("POST", Some(Route::Call { sid })) => update_call(&inner, sid, &form, path),
        _ => Err(ApiError::not_found(path)),
    };
    if let Some(outage) = outage {
        outage.hold_answer().await;
    }
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Twilio's answer during an outage: its error body with the code Twilio uses for the status.
fn outage_error(status: StatusCode) -> Response {
    let (code, message) = match status.as_u16() {
        429 => (20429, "Too Many Requests"),
        503 => (20503, "Service Unavailable"),
        _ => (20500, "Internal Server Error"),
    };
    ApiError::new(status.as_u16(), code, message).into_response()
}

/// Form or query pairs in order, repeated keys kept; `None` if they don't decode.
fn parse_pairs(raw: &[u8]) -> Option<Vec<(String, String)>> {
    serde_urlencoded::from_bytes(raw).ok()
}

/// The first value of a parameter, empty values counting as absent.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, value)| key == name && !value.is_empty())
        .map(|(_, value)| value.as_str())
}

fn parse_param<T: std::str::FromStr>(
    params: &[(String, String)],
    name: &str,
) -> Result<Option<T>, ApiError> {
    param(params, name)
        .map(|raw| raw.trim().parse().map_err(|_| ApiError::invalid(name)))
        .transpose()
}

/// An HTTP method parameter (`VoiceMethod`, `StatusCallbackMethod`...): GET or POST.
fn method_param<'a>(
    params: &'a [(String, String)],
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    match param(params, name) {
        Some(m) if !(m.eq_ignore_ascii_case("GET") || m.eq_ignore_ascii_case("POST")) => {
            Err(ApiError::invalid(name))
        }
        other => Ok(other),
    }
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Inner {
    fn credentials_match(&self, headers: &HeaderMap) -> bool {
        let Some((scheme, encoded)) = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
        else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let Some(decoded) = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
        else {
            return false;
        };
        decoded.split_once(':') == Some((self.account_sid.as_str(), self.auth_token.as_str()))
    }

    fn account(&self) -> Reply {
        let created = rfc2822(self.created);
        reply(
            StatusCode::OK,
            json!({
                "sid": self.account_sid,
                "friendly_name": "Twilio simulator",
                "status": "active",
                "type": "Full",
                // Twilio does return the token here; the platform must not log it.
                "auth_token": self.auth_token,
                "owner_account_sid": self.account_sid,
                "date_created": created,
                "date_updated": created,
                "uri": self.account_uri(".json"),
                "subresource_uris": {
                    "available_phone_numbers": self.account_uri("/AvailablePhoneNumbers.json"),
                    "calls": self.account_uri("/Calls.json"),
                    "incoming_phone_numbers": self.account_uri("/IncomingPhoneNumbers.json"),
                    "recordings": self.account_uri("/Recordings.json"),
                    "balance": self.account_uri("/Balance.json"),
                },
            }),
        )
    }

    fn balance(&self) -> Reply {
        reply(
            StatusCode::OK,
            json!({"account_sid": self.account_sid, "balance": "42.17", "currency": "USD"}),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Phone numbers
// ---------------------------------------------------------------------------------------------

/// The digits after `+1` of a North American E.164 number.
fn nanp_digits(e164: &str) -> Option<&str> {
    let digits = e164.strip_prefix("+1")?;
    (digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// `+14155550123` → `(415) 555-0123`; anything else unchanged.
fn format_number(e164: &str) -> String {
    match nanp_digits(e164) {
        Some(d) => format!("({}) {}-{}", &d[..3], &d[3..6], &d[6..]),
        None => e164.to_string(),
    }
}

fn capabilities() -> Value {
    json!({"voice": true, "SMS": true, "MMS": true, "fax": false})
}

/// Where the numbers of an area code are, for the fields Twilio fills in for US/CA numbers.
struct Place {
    area_code: &'static str,
    locality: &'static str,
    region: &'static str,
    postal_code: &'static str,
    lata: &'static str,
    rate_center: &'static str,
    latitude: f64,
    longitude: f64,
}

/// A few well-known area codes; others get null location fields (Twilio's "unknown").
#[rustfmt::skip]
const PLACES: &[Place] = &[
    Place { area_code: "415", locality: "San Francisco", region: "CA", postal_code: "94103", lata: "722", rate_center: "SNFC CNTRL", latitude: 37.7749, longitude: -122.4194 },
    Place { area_code: "212", locality: "New York", region: "NY", postal_code: "10001", lata: "132", rate_center: "NWYRCYZN01", latitude: 40.7506, longitude: -73.9972 },
    Place { area_code: "312", locality: "Chicago", region: "IL", postal_code: "60601", lata: "358", rate_center: "CHICAGO", latitude: 41.8858, longitude: -87.6181 },
    Place { area_code: "416", locality: "Toronto", region: "ON", postal_code: "M5H 2N2", lata: "888", rate_center: "TORONTO", latitude: 43.6511, longitude: -79.3832 },
    Place { area_code: "604", locality: "Vancouver", region: "BC", postal_code: "V6B 1A1", lata: "888", rate_center: "VANCOUVER", latitude: 49.2827, longitude: -123.1207 },
];

fn place(area_code: &str) -> Option<&'static Place> {
    PLACES.iter().find(|place| place.area_code == area_code)
}

/// A `Contains` pattern, one entry per digit: `None` is the `*` wildcard, letters stand for
/// their keypad digit (as on Twilio). `None` overall if a character is not allowed.
fn parse_contains(raw: &str) -> Option<Vec<Option<u8>>> {
    raw.chars()
        .map(|c| match c {
            '*' => Some(None),
            '0'..='9' => Some(Some(c as u8)),
            _ => keypad_digit(c).map(Some),
        })
        .collect()
}

fn keypad_digit(letter: char) -> Option<u8> {
    Some(match letter.to_ascii_lowercase() {
        'a'..='c' => b'2',
        'd'..='f' => b'3',
        'g'..='i' => b'4',
        'j'..='l' => b'5',
        'm'..='o' => b'6',
        'p'..='s' => b'7',
        't'..='v' => b'8',
        'w'..='z' => b'9',
        _ => return None,
    })
}

/// The pattern matches anywhere in the national number.
fn matches_contains(national: &str, pattern: &[Option<u8>]) -> bool {
    pattern.is_empty()
        || national.as_bytes().windows(pattern.len()).any(|window| {
            window
                .iter()
                .zip(pattern)
                .all(|(digit, wanted)| wanted.is_none_or(|w| w == *digit))
        })
}

fn page_size(query: &[(String, String)]) -> Result<usize, ApiError> {
    match parse_param::<usize>(query, "PageSize")? {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(size) if (1..=MAX_PAGE_SIZE).contains(&size) => Ok(size),
        Some(_) => Err(ApiError::invalid("PageSize")),
    }
}

/// The paging fields of a one-page list answer.
fn single_page(uri: &Uri, page_size: usize, len: usize) -> Value {
    let uri = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    json!({
        "uri": uri,
        "first_page_uri": uri,
        "next_page_uri": null,
        "previous_page_uri": null,
        "page": 0,
        "page_size": page_size,
        "start": 0,
        "end": len.saturating_sub(1),
    })
}

fn with_list(mut page: Value, key: &str, items: Vec<Value>) -> Value {
    if let Value::Object(map) = &mut page {
        map.insert(key.into(), Value::Array(items));
    }
    page
}

impl Inner {
    /// Deterministic candidates: `+1{area}5550100` to `+1{area}5550199`, minus owned numbers.
    fn search_local(&self, country: &str, query: &[(String, String)], uri: &Uri) -> Reply {
        let default_area = match country {
            "US" => "415",
            "CA" => "416",
            _ => return Err(ApiError::not_found(uri.path())),
        };
        let area = param(query, "AreaCode").unwrap_or(default_area);
        if area.len() != 3 || !area.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::invalid("AreaCode"));
        }
        let pattern = match param(query, "Contains") {
            Some(raw) => parse_contains(raw).ok_or_else(|| ApiError::invalid("Contains"))?,
            None => Vec::new(),
        };
        let page_size = page_size(query)?;
        let owned: Vec<String> = self
            .state()
            .numbers
            .iter()
            .map(|owned| owned.number.phone_number.clone())
            .collect();
        let place = place(area);
        let items: Vec<Value> = (100..200)
            .map(|line| format!("{area}555{line:04}"))
            .filter(|national| matches_contains(national, &pattern))
            .map(|national| format!("+1{national}"))
            .filter(|e164| !owned.contains(e164))
            .take(page_size)
            .map(|e164| available_number(&e164, country, place))
            .collect();
        let page = single_page(uri, page_size, items.len());
        reply(
            StatusCode::OK,
            with_list(page, "available_phone_numbers", items),
        )
    }

    fn list_numbers(&self, query: &[(String, String)], uri: &Uri) -> Reply {
        let page_size = page_size(query)?;
        let wanted = param(query, "PhoneNumber");
        let items: Vec<Value> = self
            .state()
            .numbers
            .iter()
            .filter(|owned| wanted.is_none_or(|w| w == owned.number.phone_number))
            .take(page_size)
            .map(|owned| self.number_resource(owned))
            .collect();
        let page = single_page(uri, page_size, items.len());
        reply(
            StatusCode::OK,
            with_list(page, "incoming_phone_numbers", items),
        )
    }

    fn buy_number(&self, form: &[(String, String)]) -> Reply {
        let Some(phone_number) = param(form, "PhoneNumber") else {
            return Err(ApiError::new(400, 21421, "PhoneNumber is required"));
        };
        let voice_method = method_param(form, "VoiceMethod")?;
        let status_callback_method = method_param(form, "StatusCallbackMethod")?;
        let owned = OwnedNumber {
            number: SimNumber {
                sid: new_sid("PN"),
                phone_number: phone_number.into(),
                voice_url: param(form, "VoiceUrl").map(Into::into),
                voice_method: voice_method.map(Into::into),
                status_callback: param(form, "StatusCallback").map(Into::into),
                friendly_name: param(form, "FriendlyName").map(Into::into),
            },
            status_callback_method: status_callback_method.map(Into::into),
            created: Utc::now(),
        };
        let resource = self.number_resource(&owned);
        {
            let mut state = self.state();
            let taken = state
                .numbers
                .iter()
                .any(|n| n.number.phone_number == phone_number);
            if taken || nanp_digits(phone_number).is_none() {
                return Err(ApiError::new(
                    400,
                    21422,
                    "PhoneNumber requested is not available",
                ));
            }
            state.numbers.push(owned);
            if std::mem::take(&mut state.lose_next_buy_answer) {
                return Err(ApiError::new(500, 20500, "Internal Server Error"));
            }
        }
        reply(StatusCode::CREATED, resource)
    }

    fn release_number(&self, sid: &str, path: &str) -> Reply {
        let mut state = self.state();
        let before = state.numbers.len();
        state.numbers.retain(|owned| owned.number.sid != sid);
        if state.numbers.len() == before {
            return Err(ApiError::not_found(path));
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    }

    fn number_resource(&self, owned: &OwnedNumber) -> Value {
        let number = &owned.number;
        let created = rfc2822(owned.created);
        json!({
            "sid": number.sid,
            "account_sid": self.account_sid,
            "phone_number": number.phone_number,
            "friendly_name": number
                .friendly_name
                .clone()
                .unwrap_or_else(|| format_number(&number.phone_number)),
            // Twilio reports unset URLs as empty strings and unset methods as POST.
            "voice_url": number.voice_url.clone().unwrap_or_default(),
            "voice_method": number.voice_method.as_deref().unwrap_or("POST"),
            "voice_fallback_url": "",
            "voice_fallback_method": "POST",
            "voice_caller_id_lookup": false,
            "voice_application_sid": null,
            "voice_receive_mode": "voice",
            "status_callback": number.status_callback.clone().unwrap_or_default(),
            "status_callback_method": owned.status_callback_method.as_deref().unwrap_or("POST"),
            "sms_url": "",
            "sms_method": "POST",
            "sms_fallback_url": "",
            "sms_fallback_method": "POST",
            "sms_application_sid": null,
            "capabilities": capabilities(),
            "address_requirements": "none",
            "address_sid": null,
            "identity_sid": null,
            "bundle_sid": null,
            "trunk_sid": null,
            "emergency_status": "Inactive",
            "emergency_address_sid": null,
            "emergency_address_status": "unregistered",
            "api_version": API_VERSION,
            "beta": false,
            "origin": "twilio",
            "type": "local",
            "status": "in-use",
            "date_created": created,
            "date_updated": created,
            "uri": self.account_uri(&format!("/IncomingPhoneNumbers/{}.json", number.sid)),
        })
    }
}

fn available_number(e164: &str, country: &str, place: Option<&Place>) -> Value {
    json!({
        "friendly_name": format_number(e164),
        "phone_number": e164,
        "lata": place.map(|p| p.lata),
        "locality": place.map(|p| p.locality),
        "rate_center": place.map(|p| p.rate_center),
        "latitude": place.map(|p| p.latitude),
        "longitude": place.map(|p| p.longitude),
        "region": place.map(|p| p.region),
        "postal_code": place.map(|p| p.postal_code),
        "iso_country": country,
        "address_requirements": "none",
        "beta": false,
        "capabilities": capabilities(),
    })
}

// ---------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------

/// Where and how to send a webhook.
#[derive(Clone)]
struct Target {
    url: String,
    method: String,
}

impl Target {
    fn from_form(
        form: &[(String, String)],
        url_name: &str,
        method_name: &str,
    ) -> Result<Option<Target>, ApiError> {
        let method = method_param(form, method_name)?.unwrap_or("POST");
        Ok(param(form, url_name).map(|url| Target {
            url: url.into(),
            method: method.into(),
        }))
    }
}

struct RecordingPlan {
    sid: String,
    /// 1 for `mono` (Twilio's default), 2 for `dual`.
    channels: u8,
    callback: Option<Target>,
    /// `RecordingStatusCallbackEvent` asked for the `completed` event (the default).
    wants_completed: bool,
}

/// Everything a call's driver needs, decided when the call is created.
struct CallPlan {
    sid: String,
    to: String,
    from: String,
    /// When set, fetched for the TwiML once the call is answered (`Twiml` wins over it).
    twiml_url: Option<Target>,
    status_callback: Option<Target>,
    events: Vec<String>,
    recording: Option<RecordingPlan>,
    outcome: CallOutcome,
    /// Where the answering-machine verdict goes, when detection was asked for.
    amd_callback: Option<Target>,
}

/// The steps a call goes through before it ends.
#[derive(Clone, Copy, PartialEq)]
enum Stage {
    Initiated,
    Ringing,
    Answered,
}

impl Stage {
    /// Its `StatusCallbackEvent` name.
    fn event(self) -> &'static str {
        match self {
            Stage::Initiated => "initiated",
            Stage::Ringing => "ringing",
            Stage::Answered => "answered",
        }
    }

    /// `CallStatus` in its callback.
    fn callback_status(self) -> &'static str {
        match self {
            Stage::Initiated => "initiated",
            Stage::Ringing => "ringing",
            Stage::Answered => "in-progress",
        }
    }

    /// The call resource's status during it.
    fn resource_status(self) -> &'static str {
        match self {
            Stage::Initiated => "queued",
            Stage::Ringing => "ringing",
            Stage::Answered => "in-progress",
        }
    }
}

impl CallOutcome {
    fn stages(self) -> &'static [Stage] {
        match self {
            CallOutcome::Answered { .. } => &[Stage::Initiated, Stage::Ringing, Stage::Answered],
            CallOutcome::NoAnswer => &[Stage::Initiated, Stage::Ringing],
            CallOutcome::Busy | CallOutcome::Failed => &[Stage::Initiated],
        }
    }

    fn final_status(self) -> &'static str {
        match self {
            CallOutcome::Answered { .. } => "completed",
            CallOutcome::Busy => "busy",
            CallOutcome::NoAnswer => "no-answer",
            CallOutcome::Failed => "failed",
        }
    }

    fn answered_secs(self) -> Option<u32> {
        match self {
            CallOutcome::Answered { duration_secs } => Some(duration_secs),
            _ => None,
        }
    }

    /// `TimeLimit` hangs up an answered call that talks longer.
    fn capped(self, time_limit: Option<u32>) -> CallOutcome {
        match (self, time_limit) {
            (CallOutcome::Answered { duration_secs }, Some(limit)) if limit > 0 => {
                CallOutcome::Answered {
                    duration_secs: duration_secs.min(limit),
                }
            }
            (outcome, _) => outcome,
        }
    }
}

/// `StatusCallbackEvent` values (repeated keys; space-separated values accepted too), plus
/// `completed`, which Twilio always sends.
fn status_events(form: &[(String, String)]) -> Vec<String> {
    let mut events: Vec<String> = form
        .iter()
        .filter(|(key, _)| key == "StatusCallbackEvent")
        .flat_map(|(_, value)| value.split_whitespace())
        .map(str::to_ascii_lowercase)
        .collect();
    events.push("completed".into());
    events
}

fn recording_plan(form: &[(String, String)]) -> Result<Option<RecordingPlan>, ApiError> {
    let record = parse_param::<bool>(form, "Record")?.unwrap_or(false);
    if !record {
        return Ok(None);
    }
    let channels = match param(form, "RecordingChannels") {
        None | Some("mono") => 1,
        Some("dual") => 2,
        Some(_) => return Err(ApiError::invalid("RecordingChannels")),
    };
    // Space-separated values (Twilio's convention for this one), repeated keys accepted too.
    let mut events = form
        .iter()
        .filter(|(key, _)| key == "RecordingStatusCallbackEvent")
        .flat_map(|(_, value)| value.split_whitespace())
        .peekable();
    let wants_completed = events.peek().is_none() || events.any(|event| event == "completed");
    Ok(Some(RecordingPlan {
        sid: new_sid("RE"),
        channels,
        callback: Target::from_form(
            form,
            "RecordingStatusCallback",
            "RecordingStatusCallbackMethod",
        )?,
        wants_completed,
    }))
}

/// `POST .../Calls.json`: answers 201 at once and plays the call out in a driver task (or, with
/// [`TwilioSim::callbacks_before_answers`], plays it out first and answers after).
async fn create_call(inner: &Arc<Inner>, form: &[(String, String)]) -> Reply {
    if let Some(failure) = inner.state().next_call_failure.take() {
        return Err(failure);
    }
    let to = param(form, "To")
        .ok_or_else(|| ApiError::new(400, 21201, "No 'To' number is specified"))?;
    let from = param(form, "From")
        .ok_or_else(|| ApiError::new(400, 21213, "No 'From' number is specified"))?;
    let twiml = param(form, "Twiml");
    let twiml_url = Target::from_form(form, "Url", "Method")?;
    if twiml.is_none() && twiml_url.is_none() {
        return Err(ApiError::new(400, 21205, "Url parameter is required"));
    }
    let time_limit = parse_param::<u32>(form, "TimeLimit")?;
    parse_param::<u32>(form, "Timeout")?;
    let plan = CallPlan {
        sid: new_sid("CA"),
        to: to.into(),
        from: from.into(),
        twiml_url: if twiml.is_some() { None } else { twiml_url },
        status_callback: Target::from_form(form, "StatusCallback", "StatusCallbackMethod")?,
        events: status_events(form),
        recording: recording_plan(form)?,
        outcome: inner.state().outcome.capped(time_limit),
        amd_callback: amd::callback(form),
    };
    let resource = {
        let mut state = inner.state();
        let phone_number_sid = state
            .numbers
            .iter()
            .find(|owned| owned.number.phone_number == from)
            .map(|owned| owned.number.sid.clone());
        let entry = CallEntry {
            call: SimCall {
                sid: plan.sid.clone(),
                direction: "outbound-api".into(),
                to: to.into(),
                from: from.into(),
                twiml: twiml.map(Into::into),
                form: form.to_vec(),
                status: "queued".into(),
                callbacks: Vec::new(),
                done: false,
                hung_up_by_api: false,
                dial_answer: None,
                amd_callbacks: Vec::new(),
            },
            created: Utc::now(),
            phone_number_sid,
            answered_secs: None,
        };
        let resource = inner.call_resource(&entry);
        state.calls.push(entry);
        resource
    };
    if inner.state().early_callbacks {
        let sid = plan.sid.clone();
        drive_call(Arc::clone(inner), plan, true).await;
        let state = inner.state();
        let entry = state.calls.iter().find(|entry| entry.call.sid == sid);
        return reply(
            StatusCode::CREATED,
            entry.map_or(resource, |entry| inner.call_resource(entry)),
        );
    }
    tokio::spawn(drive_call(Arc::clone(inner), plan, false));
    if std::mem::take(&mut inner.state().lose_next_call_answer) {
        return Err(ApiError::new(500, 20500, "Internal Server Error"));
    }
    reply(StatusCode::CREATED, resource)
}

/// `POST .../Calls/{Sid}.json`: hang up (`Status`) and/or redirect (`Twiml`, `Url`).
fn update_call(inner: &Arc<Inner>, sid: &str, form: &[(String, String)], path: &str) -> Reply {
    let status = param(form, "Status");
    if status.is_some_and(|s| s != "completed" && s != "canceled") {
        return Err(ApiError::invalid("Status"));
    }
    let twiml = param(form, "Twiml");
    let redirect = Target::from_form(form, "Url", "Method")?;
    let (resource, to, from) = {
        let mut state = inner.state();
        let entry = state
            .calls
            .iter_mut()
            .find(|entry| entry.call.sid == sid)
            .ok_or_else(|| ApiError::not_found(path))?;
        if let Some(status) = status {
            entry.call.status = status.into();
            entry.call.hung_up_by_api = true;
        }
        if let Some(twiml) = twiml {
            entry.call.twiml = Some(twiml.into());
        }
        let call = &entry.call;
        (
            inner.call_resource(entry),
            call.to.clone(),
            call.from.clone(),
        )
    };
    // A transfer: the person is dialled after Twilio answered the update.
    if let Some(xml) = twiml.filter(|xml| xml.contains("<Dial")) {
        tokio::spawn(Arc::clone(inner).dial(sid.to_string(), xml.to_string()));
    }
    // Twilio answers first and fetches the new TwiML afterwards.
    if let (None, Some(target)) = (twiml, redirect) {
        let inner = Arc::clone(inner);
        let sid = sid.to_string();
        tokio::spawn(async move {
            let twiml = inner.fetch_twiml(&sid, &to, &from, &target).await;
            inner.update_call(&sid, |call| call.twiml = twiml);
        });
    }
    reply(StatusCode::OK, resource)
}

impl Inner {
    fn fetch_call(&self, sid: &str, path: &str) -> Reply {
        let state = self.state();
        let entry = state
            .calls
            .iter()
            .find(|entry| entry.call.sid == sid)
            .ok_or_else(|| ApiError::not_found(path))?;
        reply(StatusCode::OK, self.call_resource(entry))
    }

    fn call_resource(&self, entry: &CallEntry) -> Value {
        let call = &entry.call;
        let created = rfc2822(entry.created);
        let ended = entry
            .answered_secs
            .map(|secs| rfc2822(entry.created + chrono::Duration::seconds(secs.into())));
        let uri = self.account_uri(&format!("/Calls/{}.json", call.sid));
        let sub = |name: &str| self.account_uri(&format!("/Calls/{}/{name}.json", call.sid));
        json!({
            "sid": call.sid,
            "account_sid": self.account_sid,
            "parent_call_sid": null,
            "to": call.to,
            "to_formatted": format_number(&call.to),
            "from": call.from,
            "from_formatted": format_number(&call.from),
            "phone_number_sid": entry.phone_number_sid,
            "status": call.status,
            "direction": call.direction,
            "date_created": created,
            "date_updated": created,
            "start_time": entry.answered_secs.map(|_| created.clone()),
            "end_time": ended,
            "duration": entry.answered_secs.map(|secs| secs.to_string()),
            "price": null,
            "price_unit": "USD",
            "answered_by": null,
            "api_version": API_VERSION,
            "forwarded_from": null,
            "group_sid": null,
            "caller_name": null,
            "queue_time": "0",
            "trunk_sid": null,
            "uri": uri,
            "subresource_uris": {
                "notifications": sub("Notifications"),
                "recordings": sub("Recordings"),
                "events": sub("Events"),
                "streams": sub("Streams"),
            },
        })
    }

    /// Fetches TwiML from a call's `Url`; `None` if it could not be had.
    async fn fetch_twiml(
        &self,
        sid: &str,
        to: &str,
        from: &str,
        target: &Target,
    ) -> Option<String> {
        let params = pairs(&[
            ("AccountSid", &self.account_sid),
            ("CallSid", sid),
            ("From", from),
            ("To", to),
            ("Called", to),
            ("Caller", from),
            ("CallStatus", "in-progress"),
            ("Direction", "outbound-api"),
            ("ApiVersion", API_VERSION),
        ]);
        match self.send_signed(&target.method, &target.url, &params).await {
            Ok((status, body)) if (200..300).contains(&status) => Some(body),
            _ => None,
        }
    }

    /// Sends one callback, records it on the call, and leaves a gap before the next one.
    /// Opens the Media Stream of `xml` (if the sim streams calls and the TwiML connects one)
    /// and waits until it ends.
    async fn stream_media(&self, sid: &str, xml: &str) {
        let Some(caller) = self.state().caller.clone() else {
            return;
        };
        let Some(url) = crate::twiml::attribute(xml, "Stream", "url") else {
            return;
        };
        let options = ConnectOptions {
            url,
            auth_token: Some(self.auth_token.clone()),
            custom_parameters: crate::twiml::parameters(xml),
            account_sid: self.account_sid.clone(),
            call_sid: sid.to_string(),
            stream_sid: new_sid("MZ"),
            stamp_frames: false,
        };
        match MediaCall::connect(options, caller).await {
            Ok(call) => {
                call.wait_closed(STREAM_LIMIT).await;
                self.state()
                    .media_reports
                    .push((sid.to_string(), call.report()));
            }
            Err(e) => tracing::warn!(error = ?e, "the media stream was refused"),
        }
    }

    async fn deliver(&self, sid: &str, target: &Target, params: Vec<(String, String)>) {
        let response_status = match self.send_signed(&target.method, &target.url, &params).await {
            Ok((status, _)) => status,
            Err(_) => 0,
        };
        self.update_call(sid, |call| {
            call.callbacks.push(DeliveredCallback {
                url: target.url.clone(),
                params,
                response_status,
            });
        });
        tokio::time::sleep(CALLBACK_GAP).await;
    }
}

/// An inbound call, as its driver needs it once answered.
struct InboundPlan {
    sid: String,
    /// The voice webhook's form (the base of its callbacks).
    form: Vec<(String, String)>,
    /// The number's status callback.
    status_callback: Option<Target>,
    duration_secs: u32,
}

impl InboundPlan {
    /// The `completed` status callback of the number.
    fn final_status_params(&self) -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> = self
            .form
            .iter()
            .filter(|(k, _)| k != "CallStatus")
            .cloned()
            .collect();
        params.extend(pairs(&[
            ("CallStatus", "completed"),
            ("CallDuration", &self.duration_secs.to_string()),
            ("Timestamp", &rfc2822(Utc::now())),
        ]));
        params
    }
}

impl Inner {
    /// Ends an answered inbound call: its final status (unless already sent, `early`) and, if
    /// its TwiML started a recording, the recording callback.
    async fn finish_inbound(&self, plan: &InboundPlan, xml: &str, early: bool) {
        if !early && let Some(target) = &plan.status_callback {
            self.deliver(&plan.sid, target, plan.final_status_params())
                .await;
        }
        let recording_callback =
            crate::twiml::attribute(xml, "Recording", "recordingStatusCallback");
        if let Some(url) = recording_callback {
            let method = crate::twiml::attribute(xml, "Recording", "recordingStatusCallbackMethod")
                .unwrap_or_else(|| "POST".into());
            let recording_sid = new_sid("RE");
            let channels = match crate::twiml::attribute(xml, "Recording", "channels").as_deref() {
                Some("dual") => vec![Party::Person, Party::Agent],
                _ => vec![Party::Person],
            };
            self.state().recordings.push(SimRecording {
                sid: recording_sid.clone(),
                call_sid: plan.sid.clone(),
                duration_secs: plan.duration_secs,
                channels: channels.clone(),
            });
            let params = pairs(&[
                ("AccountSid", &self.account_sid),
                ("CallSid", &plan.sid),
                ("RecordingSid", &recording_sid),
                ("RecordingUrl", &recording_url(self, &recording_sid)),
                ("RecordingStatus", "completed"),
                ("RecordingDuration", &plan.duration_secs.to_string()),
                ("RecordingChannels", &channels.len().to_string()),
                ("RecordingSource", "StartCallRecordingTwiML"),
                ("RecordingStartTime", &rfc2822(Utc::now())),
            ]);
            self.deliver(&plan.sid, &Target { url, method }, params)
                .await;
        }
        let answered_secs = Some(plan.duration_secs);
        if let Some(entry) = self
            .state()
            .calls
            .iter_mut()
            .find(|e| e.call.sid == plan.sid)
        {
            entry.call.status = "completed".into();
            entry.call.done = true;
            entry.answered_secs = answered_secs;
        }
    }
}

/// The call-progress callback form, before the fields only `completed` carries.
fn progress_params(
    account_sid: &str,
    plan: &CallPlan,
    call_status: &str,
    sequence: u32,
) -> Vec<(String, String)> {
    pairs(&[
        ("AccountSid", account_sid),
        ("CallSid", &plan.sid),
        ("From", &plan.from),
        ("To", &plan.to),
        ("Called", &plan.to),
        ("Caller", &plan.from),
        ("CallStatus", call_status),
        ("Direction", "outbound-api"),
        ("ApiVersion", API_VERSION),
        ("CallbackSource", "call-progress-events"),
        ("SequenceNumber", &sequence.to_string()),
        ("Timestamp", &rfc2822(Utc::now())),
    ])
}

fn recording_url(inner: &Inner, recording_sid: &str) -> String {
    format!(
        "{}{}",
        inner.base_url,
        inner.account_uri(&format!("/Recordings/{recording_sid}"))
    )
}

/// Plays a placed call out: status callbacks for the stages the outcome reaches, the TwiML
/// fetch on answer, the media stream (unless `early`: then no time passes at all), the final
/// `completed` callback, then the recording callback.
async fn drive_call(inner: Arc<Inner>, plan: CallPlan, early: bool) {
    if !early {
        tokio::time::sleep(DIAL_DELAY).await;
    }
    let mut sequence = 0;
    for &stage in plan.outcome.stages() {
        inner.update_call(&plan.sid, |call| {
            call.status = stage.resource_status().into()
        });
        if stage == Stage::Answered
            && let Some(target) = &plan.twiml_url
        {
            let twiml = inner
                .fetch_twiml(&plan.sid, &plan.to, &plan.from, target)
                .await;
            inner.update_call(&plan.sid, |call| call.twiml = twiml);
        }
        if stage == Stage::Answered
            && let Some(target) = &plan.amd_callback
        {
            let post = Arc::clone(&inner).post_amd_verdict(plan.sid.clone(), target.clone());
            if early {
                post.await;
            } else {
                tokio::spawn(post);
            }
        }
        if let Some(target) = &plan.status_callback
            && plan.events.iter().any(|event| event == stage.event())
            && !inner.state().lose_status_callbacks
        {
            let params =
                progress_params(&inner.account_sid, &plan, stage.callback_status(), sequence);
            inner.deliver(&plan.sid, target, params).await;
            sequence += 1;
        }
    }

    if plan.outcome.answered_secs().is_some() && !early {
        let twiml = inner
            .state()
            .calls
            .iter()
            .find(|entry| entry.call.sid == plan.sid)
            .and_then(|entry| entry.call.twiml.clone());
        if let Some(xml) = twiml {
            inner.stream_media(&plan.sid, &xml).await;
        }
    }
    let answered_secs = plan.outcome.answered_secs();
    let final_status = plan.outcome.final_status();
    if let Some(entry) = inner
        .state()
        .calls
        .iter_mut()
        .find(|entry| entry.call.sid == plan.sid)
    {
        entry.call.status = final_status.into();
        entry.answered_secs = answered_secs;
    }
    // Only an answered call has anything recorded.
    let recording = plan.recording.as_ref().zip(answered_secs);

    let status_callback = plan
        .status_callback
        .as_ref()
        .filter(|_| !inner.state().lose_status_callbacks);
    if let Some(target) = status_callback {
        let mut params = progress_params(&inner.account_sid, &plan, final_status, sequence);
        params.push((
            "CallDuration".into(),
            answered_secs.unwrap_or(0).to_string(),
        ));
        if let Some((recording, secs)) = recording {
            params.extend(pairs(&[
                ("RecordingSid", &recording.sid),
                ("RecordingUrl", &recording_url(&inner, &recording.sid)),
                ("RecordingDuration", &secs.to_string()),
            ]));
        }
        inner.deliver(&plan.sid, target, params).await;
    }

    if let Some((recording, secs)) = recording {
        let channels = if recording.channels == 2 {
            vec![Party::Person, Party::Agent]
        } else {
            vec![Party::Person]
        };
        inner.state().recordings.push(SimRecording {
            sid: recording.sid.clone(),
            call_sid: plan.sid.clone(),
            duration_secs: secs,
            channels,
        });
    }

    if let Some((recording, secs)) = recording
        && recording.wants_completed
        && let Some(target) = &recording.callback
    {
        let params = pairs(&[
            ("AccountSid", &inner.account_sid),
            ("CallSid", &plan.sid),
            ("RecordingSid", &recording.sid),
            ("RecordingUrl", &recording_url(&inner, &recording.sid)),
            ("RecordingStatus", "completed"),
            ("RecordingDuration", &secs.to_string()),
            ("RecordingChannels", &recording.channels.to_string()),
            ("RecordingSource", "OutboundAPI"),
            ("RecordingStartTime", &rfc2822(Utc::now())),
        ]);
        inner.deliver(&plan.sid, target, params).await;
    }

    inner.update_call(&plan.sid, |call| call.done = true);
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/// A Twilio-style SID: two letters and 32 hex digits. Only uniqueness and shape matter, so the
/// digits come from hashing a fresh random token.
fn new_sid(prefix: &str) -> String {
    let digest = shared::auth::sha256_hex(&shared::auth::random_token(16));
    format!("{prefix}{}", &digest[..32])
}

/// Twilio's date format: `Tue, 01 Jul 2025 10:52:37 +0000`.
fn rfc2822(time: DateTime<Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S %z").to_string()
}
