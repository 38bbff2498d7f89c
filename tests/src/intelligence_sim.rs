//! A Voice Intelligence (v2) simulator: one service of the Twilio simulator's account that
//! transcribes the simulator's recordings.
//!
//! It answers in the published shapes (`twilio_intelligence_v2.json`): transcripts created
//! from a recording SID (`Channel.media_properties.source_sid`), read, listed by source,
//! deleted, and their sentences paged with `PageSize`/`Page`/`PageToken` and a
//! `meta.next_page_url`. Sentence times and confidences are strings, as the spec types them.
//!
//! What the transcript says comes from the recording: each line of the scripted conversation
//! is spoken by a party, and lands on the channel the Twilio simulator recorded that party on.
//! So a platform that declared its participants the wrong way round gives the caller's words
//! to the agent, and a test sees it.
//!
//! A transcript is `queued` when created and completes after a delay; then the simulator calls
//! the service's webhook (signed like Twilio's JSON webhooks: `bodySHA256` in the URL), unless
//! told not to.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use serde_json::{Value, json};
use shared::twilio::signature;

use crate::twilio_sim::{Party, RecordingLookup, TwilioSim};

/// What each party says, in order, unless a test scripts otherwise.
pub const DEFAULT_CONVERSATION: [(Party, &str); 4] = [
    (
        Party::Agent,
        "Hello, this is the clinic's assistant calling about your appointment.",
    ),
    (Party::Person, "Oh hi, yes, I was expecting your call."),
    (
        Party::Agent,
        "Your appointment is on Tuesday at ten. Does that still work?",
    ),
    (Party::Person, "Tuesday at ten is perfect, thank you."),
];

/// How the simulator delivers its webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookStyle {
    /// JSON body, `bodySHA256` in the signed URL.
    Json,
    /// A form body, signed with its parameters.
    Form,
    /// No webhook: the platform must look for itself.
    None,
}

/// One transcript the simulator made.
#[derive(Clone, Debug)]
pub struct SimTranscript {
    pub sid: String,
    pub source_sid: String,
    pub customer_key: Option<String>,
    /// The `Channel` parameter as sent.
    pub channel: Value,
    pub status: String,
    pub deleted: bool,
}

pub struct IntelligenceSim {
    pub base_url: String,
    pub service_sid: String,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

struct Inner {
    account_sid: String,
    auth_token: String,
    service_sid: String,
    recordings: RecordingLookup,
    http: reqwest::Client,
    state: Mutex<SimState>,
}

struct SimState {
    transcripts: Vec<SimTranscript>,
    conversation: Vec<(Party, String)>,
    webhook_url: Option<String>,
    webhook_style: WebhookStyle,
    completes_after: Duration,
    /// Creates answered so far (for counting duplicates).
    creates: usize,
    /// The next transcripts end `failed` instead of `completed`.
    fail_transcripts: bool,
    webhook_statuses: Vec<u16>,
}

impl IntelligenceSim {
    /// A service of `twilio`'s account, on a free port.
    pub async fn start(twilio: &TwilioSim) -> IntelligenceSim {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Voice Intelligence simulator");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        let service_sid = format!("GA{}", &shared::auth::sha256_hex(&base_url)[..32]);
        let inner = Arc::new(Inner {
            account_sid: twilio.account_sid.clone(),
            auth_token: twilio.auth_token.clone(),
            service_sid: service_sid.clone(),
            recordings: twilio.recording_lookup(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .resolve(crate::PUBLIC_HOST, ([127, 0, 0, 1], 0).into())
                .build()
                .expect("webhook client"),
            state: Mutex::new(SimState {
                transcripts: Vec::new(),
                conversation: DEFAULT_CONVERSATION
                    .iter()
                    .map(|(p, t)| (*p, t.to_string()))
                    .collect(),
                webhook_url: None,
                webhook_style: WebhookStyle::Json,
                completes_after: Duration::from_millis(100),
                creates: 0,
                fail_transcripts: false,
                webhook_statuses: Vec::new(),
            }),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&inner));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        IntelligenceSim {
            base_url,
            service_sid,
            inner,
            server,
        }
    }

    /// The service's webhook (where it says a transcript is available) and how it is sent.
    pub fn set_webhook(&self, url: &str, style: WebhookStyle) {
        let mut state = self.inner.state();
        state.webhook_url = Some(url.to_string());
        state.webhook_style = style;
    }

    /// How long transcripts take to complete.
    pub fn set_completion_delay(&self, delay: Duration) {
        self.inner.state().completes_after = delay;
    }

    /// What the parties say, in order (each line lands on its party's recorded channel).
    pub fn script(&self, lines: Vec<(Party, String)>) {
        self.inner.state().conversation = lines;
    }

    /// Transcripts created from now on fail instead of completing.
    pub fn fail_transcripts(&self) {
        self.inner.state().fail_transcripts = true;
    }

    pub fn transcripts(&self) -> Vec<SimTranscript> {
        self.inner.state().transcripts.clone()
    }

    /// How many transcripts were created.
    pub fn creates(&self) -> usize {
        self.inner.state().creates
    }

    /// Calls the webhook about `sid` again (Twilio repeats deliveries).
    pub async fn repeat_webhook(&self, sid: &str) {
        self.inner.send_webhook(sid).await;
    }

    /// The HTTP statuses the platform answered the webhook with.
    pub fn webhook_statuses(&self) -> Vec<u16> {
        self.inner.state().webhook_statuses.clone()
    }
}

impl Drop for IntelligenceSim {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let expected = format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", self.account_sid, self.auth_token))
        );
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == expected)
    }

    fn resource(&self, t: &SimTranscript) -> Value {
        let now = Utc::now().to_rfc3339();
        let duration = self
            .recordings
            .get(&t.source_sid)
            .map_or(0, |r| r.duration_secs);
        json!({
            "account_sid": self.account_sid,
            "service_sid": self.service_sid,
            "sid": t.sid,
            "date_created": now,
            "date_updated": now,
            "status": t.status,
            "channel": t.channel,
            "data_logging": false,
            "language_code": "en-US",
            "customer_key": t.customer_key,
            "media_start_time": null,
            "duration": duration,
            "url": format!("https://intelligence.twilio.com/v2/Transcripts/{}", t.sid),
            "redaction": false,
            "encryption_credential_sid": null,
            "links": {
                "sentences": format!("https://intelligence.twilio.com/v2/Transcripts/{}/Sentences", t.sid),
                "media": format!("https://intelligence.twilio.com/v2/Transcripts/{}/Media", t.sid),
                "operator_results": format!("https://intelligence.twilio.com/v2/Transcripts/{}/OperatorResults", t.sid),
            },
        })
    }

    /// The sentences of a transcript: the scripted lines on their parties' recorded channels,
    /// a few seconds each.
    fn sentences(&self, t: &SimTranscript) -> Vec<Value> {
        let Some(recording) = self.recordings.get(&t.source_sid) else {
            return Vec::new();
        };
        let conversation = self.state().conversation.clone();
        let mut start = 0.5;
        conversation
            .iter()
            .enumerate()
            .filter_map(|(i, (party, text))| {
                let channel = recording.channels.iter().position(|p| p == party)? + 1;
                let length = 0.4 * text.split_whitespace().count() as f64;
                let sentence = json!({
                    "media_channel": channel,
                    "sentence_index": i,
                    "start_time": format!("{start:.2}"),
                    "end_time": format!("{:.2}", start + length),
                    "transcript": text,
                    "sid": format!("GX{:032x}", i + 1),
                    // Twilio leaves some confidences out.
                    "confidence": if i % 3 == 2 { Value::Null } else { json!(format!("{:.2}", 0.9 - 0.01 * (i % 10) as f64)) },
                    "words": [],
                });
                start += length + 0.3;
                Some(sentence)
            })
            .collect()
    }

    /// Completes a transcript after the configured delay, then calls the webhook.
    async fn complete_later(self: Arc<Self>, sid: String) {
        let (delay, fail) = {
            let state = self.state();
            (state.completes_after, state.fail_transcripts)
        };
        tokio::time::sleep(delay).await;
        {
            let mut state = self.state();
            if let Some(t) = state.transcripts.iter_mut().find(|t| t.sid == sid) {
                t.status = if fail { "failed" } else { "completed" }.into();
            }
        }
        self.send_webhook(&sid).await;
    }

    async fn send_webhook(&self, sid: &str) {
        let (url, style, customer_key) = {
            let state = self.state();
            let key = state
                .transcripts
                .iter()
                .find(|t| t.sid == sid)
                .and_then(|t| t.customer_key.clone());
            (state.webhook_url.clone(), state.webhook_style, key)
        };
        let Some(url) = url else { return };
        let fields = [
            ("account_sid", self.account_sid.clone()),
            ("service_sid", self.service_sid.clone()),
            ("transcript_sid", sid.to_string()),
            ("customer_key", customer_key.unwrap_or_default()),
            (
                "event_type",
                "voice_intelligence_transcript_available".to_string(),
            ),
        ];
        let request = match style {
            WebhookStyle::None => return,
            WebhookStyle::Form => {
                let params: Vec<(String, String)> = fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect();
                let signed = signature::sign(&self.auth_token, &url, &params);
                self.http
                    .post(&url)
                    .header(signature::HEADER, signed)
                    .form(&params)
            }
            WebhookStyle::Json => {
                let body = Value::Object(
                    fields
                        .iter()
                        .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
                        .collect(),
                )
                .to_string();
                let hash = shared::auth::sha256_hex_bytes(body.as_bytes());
                let separator = if url.contains('?') { '&' } else { '?' };
                let full = format!("{url}{separator}bodySHA256={hash}");
                let signed = signature::sign(&self.auth_token, &full, &[]);
                self.http
                    .post(full)
                    .header(signature::HEADER, signed)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(body)
            }
        };
        let status = match request.send().await {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        };
        self.state().webhook_statuses.push(status);
    }
}

fn error(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        Json(json!({"code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status.as_u16()})),
    )
        .into_response()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

async fn handle(
    AxumState(inner): AxumState<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !inner.authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["v2", "Transcripts"]) => create(&inner, &form),
        ("GET", ["v2", "Transcripts"]) => list(&inner, &query),
        ("GET", ["v2", "Transcripts", sid]) => fetch(&inner, sid),
        ("DELETE", ["v2", "Transcripts", sid]) => delete(&inner, sid),
        ("GET", ["v2", "Transcripts", sid, "Sentences"]) => sentences(&inner, sid, &query),
        _ => error(
            StatusCode::NOT_FOUND,
            20404,
            "The requested resource was not found",
        ),
    }
}

fn create(inner: &Arc<Inner>, form: &[(String, String)]) -> Response {
    if param(form, "ServiceSid") != Some(inner.service_sid.as_str()) {
        return error(StatusCode::NOT_FOUND, 20404, "Service not found");
    }
    let Some(channel) = param(form, "Channel").and_then(|c| serde_json::from_str::<Value>(c).ok())
    else {
        return error(StatusCode::BAD_REQUEST, 20001, "Invalid parameter: Channel");
    };
    let Some(source_sid) = channel["media_properties"]["source_sid"].as_str() else {
        return error(StatusCode::BAD_REQUEST, 20001, "Channel needs a source_sid");
    };
    if inner.recordings.get(source_sid).is_none() {
        return error(StatusCode::BAD_REQUEST, 20001, "Recording not found");
    }
    let transcript = SimTranscript {
        sid: format!(
            "GT{}",
            &shared::auth::sha256_hex(&shared::auth::random_token(16))[..32]
        ),
        source_sid: source_sid.to_string(),
        customer_key: param(form, "CustomerKey").map(str::to_string),
        channel,
        status: "queued".into(),
        deleted: false,
    };
    let resource = inner.resource(&transcript);
    {
        let mut state = inner.state();
        state.creates += 1;
        state.transcripts.push(transcript.clone());
    }
    tokio::spawn(Arc::clone(inner).complete_later(transcript.sid));
    (StatusCode::ACCEPTED, Json(resource)).into_response()
}

fn live(inner: &Inner, sid: &str) -> Option<SimTranscript> {
    inner
        .state()
        .transcripts
        .iter()
        .find(|t| t.sid == sid && !t.deleted)
        .cloned()
}

fn fetch(inner: &Inner, sid: &str) -> Response {
    match live(inner, sid) {
        Some(t) => Json(inner.resource(&t)).into_response(),
        None => error(StatusCode::NOT_FOUND, 20404, "Transcript not found"),
    }
}

fn list(inner: &Inner, query: &[(String, String)]) -> Response {
    let source = param(query, "SourceSid");
    let found: Vec<Value> = inner
        .state()
        .transcripts
        .iter()
        .filter(|t| !t.deleted && source.is_none_or(|s| s == t.source_sid))
        .cloned()
        .collect::<Vec<_>>()
        .iter()
        .map(|t| inner.resource(t))
        .collect();
    Json(json!({
        "transcripts": found,
        "meta": {"key": "transcripts", "page": 0, "page_size": 20, "next_page_url": null,
                 "first_page_url": "https://intelligence.twilio.com/v2/Transcripts?PageSize=20&Page=0",
                 "previous_page_url": null, "url": "https://intelligence.twilio.com/v2/Transcripts?PageSize=20&Page=0"},
    }))
    .into_response()
}

fn delete(inner: &Inner, sid: &str) -> Response {
    let mut state = inner.state();
    match state
        .transcripts
        .iter_mut()
        .find(|t| t.sid == sid && !t.deleted)
    {
        Some(t) => {
            t.deleted = true;
            StatusCode::NO_CONTENT.into_response()
        }
        None => error(StatusCode::NOT_FOUND, 20404, "Transcript not found"),
    }
}

/// A page of sentences; the page token is the index of its first sentence.
fn sentences(inner: &Inner, sid: &str, query: &[(String, String)]) -> Response {
    let Some(t) = live(inner, sid) else {
        return error(StatusCode::NOT_FOUND, 20404, "Transcript not found");
    };
    let size: usize = param(query, "PageSize")
        .and_then(|p| p.parse().ok())
        .unwrap_or(50);
    if !(1..=5000).contains(&size) {
        return error(
            StatusCode::BAD_REQUEST,
            20001,
            "Invalid parameter: PageSize",
        );
    }
    let page: usize = param(query, "Page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let from: usize = param(query, "PageToken")
        .and_then(|t| t.strip_prefix("PT"))
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let all = if t.status == "completed" {
        inner.sentences(&t)
    } else {
        Vec::new()
    };
    let chunk: Vec<Value> = all.iter().skip(from).take(size).cloned().collect();
    let base = format!("https://intelligence.twilio.com/v2/Transcripts/{sid}/Sentences");
    let next = (from + size < all.len()).then(|| {
        format!(
            "{base}?PageSize={size}&Page={}&PageToken=PT{}",
            page + 1,
            from + size
        )
    });
    Json(json!({
        "sentences": chunk,
        "meta": {"key": "sentences", "page": page, "page_size": size,
                 "first_page_url": format!("{base}?PageSize={size}&Page=0"),
                 "previous_page_url": null, "url": format!("{base}?PageSize={size}&Page={page}"),
                 "next_page_url": next},
    }))
    .into_response()
}

/// Sets the scripted conversation to `n` alternating lines (for paging and benchmarks).
pub fn long_conversation(n: usize) -> Vec<(Party, String)> {
    (0..n)
        .map(|i| {
            let party = if i % 2 == 0 {
                Party::Agent
            } else {
                Party::Person
            };
            (
                party,
                format!("This is sentence number {i} of a long call."),
            )
        })
        .collect()
}
