//! An OpenAI HTTP API simulator: `POST /v1/responses` (summaries), `POST
//! /v1/audio/transcriptions` (Whisper uploads), and the WebRTC side of Realtime: `POST
//! /v1/realtime/calls` (the server-side SDP exchange, answered by [`crate::sdp`]) and
//! `POST /v1/realtime/calls/{call_id}/hangup`.
//!
//! Every request is checked against the published spec (`openai_openapi.yaml`, with the same
//! closed-object rule as the Realtime checks: the live API refuses unknown parameters), and
//! what the simulator answers is in the spec's shapes. Violations are collected for the test
//! to assert on.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Json;
use axum::extract::Path;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::outage::Outage;
use crate::realtime_schema::validate_against;
use crate::rtc_calls::{RtcCall, RtcCalls};

/// A request the simulator received: its path and body (JSON, or the multipart fields as an
/// object with the file's size in place of its bytes).
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub body: Value,
    /// Bytes of the uploaded file, for transcriptions.
    pub file_bytes: usize,
}

pub struct OpenAiHttpSim {
    /// Ends in `/v1`, like `OPENAI_API_BASE_URL`.
    pub base_url: String,
    pub api_key: String,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

struct Inner {
    api_key: String,
    state: Mutex<SimState>,
    calls: RtcCalls,
}

struct SimState {
    received: Vec<Received>,
    violations: Vec<String>,
    summary: String,
    transcription: String,
    fail_next: Option<u16>,
    outage: Option<Outage>,
}

impl OpenAiHttpSim {
    /// A simulator of its own (its own key, WebRTC calls without sidebands).
    pub async fn start() -> OpenAiHttpSim {
        let api_key = format!("sk-sim-{}", shared::auth::random_token(12));
        Self::start_with(api_key, RtcCalls::default()).await
    }

    /// The HTTP half of the same OpenAI as `realtime`: one key, and the WebRTC calls it
    /// creates get their sideband sockets there.
    pub async fn start_beside(realtime: &crate::realtime_sim::RealtimeSim) -> OpenAiHttpSim {
        Self::start_with(realtime.api_key.clone(), realtime.rtc_calls()).await
    }

    async fn start_with(api_key: String, calls: RtcCalls) -> OpenAiHttpSim {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the OpenAI HTTP simulator");
        let base_url = format!("http://{}/v1", listener.local_addr().expect("address"));
        let inner = Arc::new(Inner {
            calls,
            api_key: api_key.clone(),
            state: Mutex::new(SimState {
                received: Vec::new(),
                violations: Vec::new(),
                summary: "The clinic confirmed the appointment for Tuesday at ten.".into(),
                transcription: "Hello, I would like to book an appointment.".into(),
                fail_next: None,
                outage: None,
            }),
        });
        let app = axum::Router::new()
            .route("/v1/responses", post(responses))
            .route("/v1/audio/transcriptions", post(transcriptions))
            .route("/v1/realtime/calls", post(create_call))
            .route("/v1/realtime/calls/{call_id}/hangup", post(hang_up))
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&inner),
                during_outage,
            ))
            .with_state(Arc::clone(&inner));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        OpenAiHttpSim {
            base_url,
            api_key,
            inner,
            server,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.state().received.clone()
    }

    /// Requests that broke the spec, each naming what was wrong.
    pub fn violations(&self) -> Vec<String> {
        self.inner.state().violations.clone()
    }

    /// The next request is answered with this HTTP status and an error body.
    pub fn fail_next(&self, status: u16) {
        self.inner.state().fail_next = Some(status);
    }

    /// Puts the API in an outage (`None` lifts it); requests in it are not recorded.
    pub fn set_outage(&self, outage: Option<Outage>) {
        self.inner.state().outage = outage;
    }

    /// The WebRTC calls answered so far, oldest first.
    pub fn rtc_calls(&self) -> Vec<RtcCall> {
        self.inner.calls.all()
    }

    pub fn set_transcription(&self, text: &str) {
        self.inner.state().transcription = text.into();
    }
}

impl Drop for OpenAiHttpSim {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn authorized(&self, request: &Request) -> bool {
        request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {}", self.api_key))
    }

    /// An error answer, if one is due (unauthorised, or injected).
    fn refusal(&self, authorized: bool) -> Option<Response> {
        if !authorized {
            return Some(error(
                StatusCode::UNAUTHORIZED,
                "Incorrect API key provided",
            ));
        }
        let status = self.state().fail_next.take()?;
        Some(error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "The server had an error while processing your request",
        ))
    }

    fn record(&self, path: &str, body: Value, file_bytes: usize, schema: &str) {
        let mut state = self.state();
        if let Err(problems) = validate_against(schema, &body) {
            state
                .violations
                .extend(problems.into_iter().map(|p| format!("{path}: {p}")));
        }
        state.received.push(Received {
            path: path.into(),
            body,
            file_bytes,
        });
    }
}

/// Answers every request for the outage, if there is one.
async fn during_outage(
    State(inner): State<Arc<Inner>>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let outage = inner.state().outage;
    let refusal = |status| error(status, "The server is overloaded or not ready yet.");
    if let Some(response) = outage.and_then(|o| o.intercept(refusal)) {
        return response;
    }
    let response = next.run(request).await;
    if let Some(outage) = outage {
        outage.hold_answer().await;
    }
    response
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}})),
    )
        .into_response()
}

/// A `Response` object holding `text` as the assistant's message.
pub fn response_object(request: &Value, text: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "id": format!("resp_{}", shared::auth::random_token(12)),
        "object": "response",
        "created_at": now,
        "status": "completed",
        "error": null,
        "incomplete_details": null,
        "instructions": request["instructions"],
        "max_output_tokens": request["max_output_tokens"],
        "model": request["model"],
        "output": [{
            "type": "message",
            "id": format!("msg_{}", shared::auth::random_token(12)),
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
        }],
        "parallel_tool_calls": true,
        "previous_response_id": null,
        "temperature": 1.0,
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "usage": {
            "input_tokens": 120,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": 24,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 144,
        },
        "metadata": {},
    })
}

async fn responses(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let authorized = inner.authorized(&request);
    let body = match axum::body::to_bytes(request.into_body(), 1 << 20).await {
        Ok(bytes) => serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    inner.record("/v1/responses", body.clone(), 0, "CreateResponse");
    if let Some(refusal) = inner.refusal(authorized) {
        return refusal;
    }
    let text = inner.state().summary.clone();
    Json(response_object(&body, &text)).into_response()
}

/// One part of a multipart body.
struct Part {
    name: String,
    content_type: Option<String>,
    bytes: axum::body::Bytes,
}

/// The parts of a multipart body. A body that is not multipart is a violation of `path`.
async fn form_parts(inner: &Inner, path: &str, request: Request) -> Vec<Part> {
    let mut parts = Vec::new();
    match Multipart::from_request(request, &()).await {
        Ok(mut form) => {
            while let Ok(Some(field)) = form.next_field().await {
                let name = field.name().unwrap_or_default().to_string();
                let content_type = field.content_type().map(str::to_string);
                let bytes = field.bytes().await.unwrap_or_default();
                parts.push(Part {
                    name,
                    content_type,
                    bytes,
                });
            }
        }
        Err(_) => inner
            .state()
            .violations
            .push(format!("{path}: not a multipart body")),
    }
    parts
}

async fn transcriptions(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    const PATH: &str = "/v1/audio/transcriptions";
    let authorized = inner.authorized(&request);
    let mut fields = serde_json::Map::new();
    let mut file_bytes = 0;
    for part in form_parts(&inner, PATH, request).await {
        let value = if part.name == "file" {
            file_bytes = part.bytes.len();
            // The spec types the file as a (binary) string.
            format!("<{} bytes>", part.bytes.len())
        } else {
            String::from_utf8_lossy(&part.bytes).into_owned()
        };
        fields.insert(part.name, Value::String(value));
    }
    inner.record(
        PATH,
        Value::Object(fields),
        file_bytes,
        "CreateTranscriptionRequest",
    );
    if let Some(refusal) = inner.refusal(authorized) {
        return refusal;
    }
    let text = inner.state().transcription.clone();
    Json(json!({"text": text})).into_response()
}

/// The server-side SDP exchange: a multipart `sdp` (the browser's offer) and `session` (the
/// GA session configuration), with the API key. Answered 201 with the SDP answer and the
/// call's id in `Location`, as the spec's example shows.
async fn create_call(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    const PATH: &str = "/v1/realtime/calls";
    let authorized = inner.authorized(&request);
    let mut fields = serde_json::Map::new();
    for part in form_parts(&inner, PATH, request).await {
        let text = String::from_utf8_lossy(&part.bytes).into_owned();
        let (expected, value) = match part.name.as_str() {
            "sdp" => ("application/sdp", Value::String(text)),
            "session" => (
                "application/json",
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            ),
            _ => {
                fields.insert(part.name, Value::String(text));
                continue;
            }
        };
        if part.content_type.as_deref() != Some(expected) {
            inner.state().violations.push(format!(
                "{PATH}: part {} sent as {:?}, not {expected}",
                part.name, part.content_type
            ));
        }
        fields.insert(part.name, value);
    }
    let body = Value::Object(fields);
    inner.record(PATH, body.clone(), 0, "RealtimeCallCreateRequest");
    if let Some(refusal) = inner.refusal(authorized) {
        return refusal;
    }
    let token = shared::auth::random_token(16);
    let sdp = match crate::sdp::answer(body["sdp"].as_str().unwrap_or_default(), &token) {
        Ok(sdp) => sdp,
        Err(problem) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("Invalid SDP offer: {problem:?}"),
            );
        }
    };
    let call_id = inner.calls.create(body["session"].clone());
    (
        StatusCode::CREATED,
        [
            (header::CONTENT_TYPE, "application/sdp".to_string()),
            (header::LOCATION, format!("/v1/realtime/calls/{call_id}")),
        ],
        sdp,
    )
        .into_response()
}

async fn hang_up(
    State(inner): State<Arc<Inner>>,
    Path(call_id): Path<String>,
    request: Request,
) -> Response {
    let authorized = inner.authorized(&request);
    inner.state().received.push(Received {
        path: format!("/v1/realtime/calls/{call_id}/hangup"),
        body: Value::Null,
        file_bytes: 0,
    });
    if let Some(refusal) = inner.refusal(authorized) {
        return refusal;
    }
    if inner.calls.hang_up(&call_id) {
        StatusCode::OK.into_response()
    } else {
        error(StatusCode::NOT_FOUND, "Call not found")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transcription_form_matches_the_published_request() {
        let mut form: serde_json::Map<String, Value> =
            shared::openai::transcription_fields("whisper-1", Some("en"))
                .into_iter()
                .map(|(k, v)| (k.to_string(), Value::String(v)))
                .collect();
        form.insert("file".into(), Value::String("<bytes>".into()));
        assert_eq!(
            validate_against("CreateTranscriptionRequest", &Value::Object(form.clone())),
            Ok(())
        );
        form.insert("diarize".into(), Value::Bool(true));
        assert!(validate_against("CreateTranscriptionRequest", &Value::Object(form)).is_err());
    }

    #[test]
    fn the_simulated_response_has_the_published_shape() {
        let request = shared::openai::summary_request("gpt-4o-mini", "Customer: hi");
        assert_eq!(validate_against("CreateResponse", &request), Ok(()));
        let answer = response_object(&request, "A summary.");
        assert_eq!(validate_against("Response", &answer), Ok(()));
        assert_eq!(
            shared::openai::response_text(&answer).as_deref(),
            Some("A summary.")
        );
    }

    #[tokio::test]
    async fn a_webrtc_offer_gets_an_sdp_answer_and_a_call_that_can_be_hung_up() {
        let sim = OpenAiHttpSim::start().await;
        let offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n";
        let session = json!({"type": "realtime", "model": "gpt-realtime"});
        let form = || {
            reqwest::multipart::Form::new()
                .part(
                    "sdp",
                    reqwest::multipart::Part::text(offer)
                        .mime_str("application/sdp")
                        .unwrap(),
                )
                .part(
                    "session",
                    reqwest::multipart::Part::text(session.to_string())
                        .mime_str("application/json")
                        .unwrap(),
                )
        };
        let http = reqwest::Client::new();
        let url = format!("{}/realtime/calls", sim.base_url);
        let unauthorised = http.post(&url).multipart(form()).send().await.unwrap();
        assert_eq!(unauthorised.status(), 401);
        let created = http
            .post(&url)
            .bearer_auth(&sim.api_key)
            .multipart(form())
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let location = created.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        let answer = created.text().await.unwrap();
        assert!(
            answer.contains("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"),
            "{answer}"
        );
        let calls = sim.rtc_calls();
        assert_eq!(location, format!("/v1/realtime/calls/{}", calls[0].call_id));
        assert_eq!(calls[0].session, session);
        assert!(sim.violations().is_empty(), "{:?}", sim.violations());

        let hang_up = |id: String| {
            http.post(format!("{}/realtime/calls/{id}/hangup", sim.base_url))
                .bearer_auth(&sim.api_key)
                .send()
        };
        assert_eq!(
            hang_up(calls[0].call_id.clone()).await.unwrap().status(),
            200
        );
        assert!(sim.rtc_calls()[0].hung_up);
        assert_eq!(hang_up("rtc_unknown".into()).await.unwrap().status(), 404);
    }
}
