//! A simulated OpenAI Realtime **GA** WebSocket server, for the bridge's tests and load benchmark.
//!
//! The bridge connects to [`RealtimeSim::url`] (`ws://127.0.0.1:PORT/v1/realtime?model=…`) with
//! `Authorization: Bearer` [`RealtimeSim::api_key`], exactly as it would to
//! `wss://api.openai.com/v1/realtime`. Per connection the simulator:
//!
//! - answers the upgrade with 401 without the right key, and closes with 4000
//!   `beta_api_shape_disabled` when an `OpenAI-Beta` header asks for the removed beta protocol;
//! - sends `session.created`, answers `session.update` with `session.updated` (the merged session);
//! - checks every client event against the shared OpenAPI spec ([`crate::realtime_schema`]);
//!   failures are answered with an `error` event and collected in [`RealtimeSim::violations`];
//! - runs an energy VAD over the appended μ-law audio (audio time, not wall time: a test may send
//!   audio faster than real time): `speech_started`, then after enough silence `speech_stopped`,
//!   `committed`, the user item, its transcript, and a response;
//! - streams a response as bursty `response.output_audio.delta`s of random sizes, faster than real
//!   time, and cancels it (`turn_detected`) a few deltas after the caller barges in;
//! - plays scripted function calls ([`FunctionCallScript`]) and injected [`Fault`]s;
//! - serves the sideband of WebRTC calls (`?call_id=rtc_…`, created by
//!   [`crate::openai_http_sim::OpenAiHttpSim::start_beside`]): the call's session, events only
//!   (the audio goes over WebRTC: no audio deltas, appends are a violation), a caller turn when
//!   the test plays one ([`crate::rtc_calls::RtcCalls::caller_turn`]), closed when the call
//!   ends;
//! - answers `conversation.item.truncate` (error past the item's end) and the benign races
//!   (`conversation_already_has_active_response`, `response_cancel_not_active`).
//!
//! Everything a test may want to assert on is in [`RealtimeSim::sessions`]. Per-session state is
//! small (no audio is kept, at most [`MAX_LOGGED_EVENTS`] events are logged) so the load benchmark
//! can run about a thousand sessions, with `validate` off.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::rtc_calls::{RtcCalls, SidebandCommand};
use crate::{mulaw, realtime_schema, stamp};

/// The only path the simulator upgrades.
pub const REALTIME_PATH: &str = "/v1/realtime";
/// At most this many client events are kept per session (appends are never kept).
pub const MAX_LOGGED_EVENTS: usize = 200;
/// G.711 at 8 kHz: one byte per sample, eight per millisecond.
const BYTES_PER_MS: usize = 8;
/// The VAD looks at 20 ms chunks.
const VAD_CHUNK: usize = 160;
const VAD_CHUNK_MS: u32 = 20;
/// The assistant "voice": a 400 Hz tone (20 samples a period) at a quiet amplitude.
const TONE_PERIOD: usize = 20;
const TONE_AMPLITUDE: f64 = 600.0;
/// How long a closing session waits for the client's close frame.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

/// How the simulated model behaves.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Energy VAD on the μ-law input: mean absolute linear amplitude of a 20 ms (160 B) chunk
    /// above this is speech.
    pub vad_threshold: i32,
    /// Speech lasting this long → `input_audio_buffer.speech_started`.
    pub speech_start_ms: u32,
    /// Silence this long after speech → `speech_stopped` + `committed` + a response.
    pub silence_end_ms: u32,
    /// Audio per response.
    pub response_audio_ms: u32,
    /// Random delta sizes in bytes, both ends included.
    pub delta_bytes: (usize, usize),
    /// Gap between two deltas (much faster than real time by default).
    pub delta_interval_ms: u64,
    /// Deltas of the interrupted item still sent after `speech_started`.
    pub late_deltas_after_barge_in: usize,
    /// Validate every client event against the spec (the load benchmark turns it off).
    pub validate: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            vad_threshold: 500,
            speech_start_ms: 60,
            silence_end_ms: 300,
            response_audio_ms: 1000,
            delta_bytes: (400, 4800),
            delta_interval_ms: 5,
            late_deltas_after_barge_in: 2,
            validate: true,
        }
    }
}

/// A failure injected into sessions opened after [`RealtimeSim::set_faults`]; times count from
/// the connection's upgrade.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Resets the TCP connection (no close frame).
    DisconnectAfterMs(u64),
    /// Sends an `error` event with this code and message; the session stays open.
    ErrorAfterMs {
        ms: u64,
        code: String,
        message: String,
    },
    /// Sends `error` with code `session_expired`, then a close frame.
    SessionExpiredAfterMs(u64),
}

/// How the simulator answers one coming upgrade (see [`RealtimeSim::fail_next_upgrades`]),
/// whatever the request says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UpgradeFault {
    /// Refuses it with this HTTP status and an OpenAI error body (429 `rate_limit_exceeded`,
    /// 5xx `server_error`, 401 `invalid_api_key`, else `invalid_request_error`).
    Refuse(u16),
    /// Accepts it, then never says a word (no `session.created`): a set-up that times out.
    Silent,
}

/// A function call the model makes instead of answering one user turn.
#[derive(Clone, Debug)]
pub struct FunctionCallScript {
    /// The 1-based user turn (committed caller utterance) that triggers it.
    pub on_user_turn: usize,
    pub name: String,
    /// The JSON arguments, as the string the model streams.
    pub arguments: String,
    /// Send `response.function_call_arguments.done` twice (a duplicate the bridge must tolerate).
    pub repeat_done: bool,
    /// The response is interrupted after the arguments are done: the item ends `incomplete`
    /// and the response `cancelled`, so the call must not be run (the spec sends `done` for
    /// interrupted responses too).
    pub interrupted: bool,
}

/// What one WebSocket connection did.
#[derive(Clone, Debug, Default)]
pub struct SessionLog {
    pub id: String,
    /// The `?model=` of the upgrade.
    pub model: Option<String>,
    /// The `?call_id=` of a sideband upgrade.
    pub rtc_call_id: Option<String>,
    pub authorized: bool,
    /// The status the upgrade was refused with, if it was.
    pub refused: Option<u16>,
    /// Client events received, except `input_audio_buffer.append` (at most [`MAX_LOGGED_EVENTS`]).
    pub events: Vec<Value>,
    pub appended_bytes: usize,
    pub append_count: usize,
    pub first_append_at: Option<Instant>,
    pub truncates: Vec<Truncate>,
    /// `(call_id, output)` of each `function_call_output` item received.
    pub function_outputs: Vec<(String, String)>,
    /// `response.create` events received.
    pub responses_created: usize,
    /// The `usage` of each `response.done` sent.
    pub usage_sent: Vec<Value>,
    /// The connection is over.
    pub closed: bool,
}

/// One `conversation.item.truncate` received.
#[derive(Clone, Debug)]
pub struct Truncate {
    pub item_id: String,
    pub audio_end_ms: u64,
    /// The audio the model generated for the item (0 for an unknown or non-audio item).
    pub item_audio_ms: u64,
    pub at: Instant,
    /// Answered with `conversation.item.truncated` (not an `error`).
    pub accepted: bool,
}

/// Called with each decoded `input_audio_buffer.append` chunk.
pub type AppendHook = Arc<dyn Fn(&[u8]) + Send + Sync>;
/// Called right before each audio delta is sent: `(item_id, offset in bytes, length)`.
pub type DeltaHook = Arc<dyn Fn(&str, usize, usize) + Send + Sync>;

/// A running simulator. It stops (and drops its connections) when this is dropped.
pub struct RealtimeSim {
    /// `ws://127.0.0.1:PORT/v1/realtime`; add `?model=…`.
    pub url: String,
    /// The key the upgrade must carry as `Authorization: Bearer …`.
    pub api_key: String,
    shared: Arc<Shared>,
    _server: ServerTask,
}

impl RealtimeSim {
    /// Binds 127.0.0.1 on a free port and serves on the current runtime.
    pub async fn start(config: SimConfig) -> RealtimeSim {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Realtime simulator");
        let addr = listener.local_addr().expect("local address");
        let api_key = format!("sk-sim-{}", shared::auth::random_token(24));
        let shared = Arc::new(Shared {
            config,
            api_key: api_key.clone(),
            faults: Mutex::new(Vec::new()),
            upgrade_faults: Mutex::new(VecDeque::new()),
            function_calls: Mutex::new(Vec::new()),
            sessions: Mutex::new(Vec::new()),
            violations: Mutex::new(Vec::new()),
            on_append: RwLock::new(None),
            on_delta: RwLock::new(None),
            stamp_first_deltas: AtomicBool::new(false),
            rtc_calls: RtcCalls::default(),
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let accept = tokio::spawn(accept_loop(listener, shared.clone(), shutdown_rx));
        RealtimeSim {
            url: format!("ws://{addr}{REALTIME_PATH}"),
            api_key,
            shared,
            _server: ServerTask { accept, shutdown },
        }
    }

    /// Faults for the sessions opened from now on.
    pub fn set_faults(&self, faults: Vec<Fault>) {
        *lock(&self.shared.faults) = faults;
    }

    /// The next upgrades, one fault each, in order; those after them are served as usual.
    pub fn fail_next_upgrades(&self, faults: &[UpgradeFault]) {
        lock(&self.shared.upgrade_faults).extend(faults.iter().copied());
    }

    /// Function-call scripts for the sessions opened from now on.
    pub fn set_function_calls(&self, calls: Vec<FunctionCallScript>) {
        *lock(&self.shared.function_calls) = calls;
    }

    /// One log per WebSocket connection (including refused upgrades), in order of connection.
    pub fn sessions(&self) -> Vec<SessionLog> {
        lock(&self.shared.sessions)
            .iter()
            .map(|log| lock(log).clone())
            .collect()
    }

    /// Every spec-validation failure and protocol misuse seen, across sessions, each prefixed
    /// with its session id.
    pub fn violations(&self) -> Vec<String> {
        lock(&self.shared.violations).clone()
    }

    /// Calls `f` with each decoded appended audio chunk (all sessions).
    pub fn on_append(&self, f: AppendHook) {
        *self
            .shared
            .on_append
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(f);
    }

    /// Calls `f(item_id, offset, len)` right before each audio delta is sent (all sessions).
    pub fn on_delta(&self, f: DeltaHook) {
        *self
            .shared
            .on_delta
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(f);
    }

    /// The WebRTC calls whose sidebands this simulator serves.
    pub fn rtc_calls(&self) -> RtcCalls {
        self.shared.rtc_calls.clone()
    }

    /// Writes a [`crate::stamp`] timestamp over the start of the first delta of every response,
    /// so the load benchmark can time a delta's way through the bridge.
    pub fn stamp_first_deltas(&self, on: bool) {
        self.shared.stamp_first_deltas.store(on, Ordering::Relaxed);
    }
}

/// Stops the accept loop and every session when the simulator is dropped.
struct ServerTask {
    accept: tokio::task::JoinHandle<()>,
    shutdown: watch::Sender<bool>,
}

impl Drop for ServerTask {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.accept.abort();
    }
}

/// What the accept loop and the sessions share.
struct Shared {
    config: SimConfig,
    api_key: String,
    faults: Mutex<Vec<Fault>>,
    upgrade_faults: Mutex<VecDeque<UpgradeFault>>,
    function_calls: Mutex<Vec<FunctionCallScript>>,
    sessions: Mutex<Vec<Arc<Mutex<SessionLog>>>>,
    violations: Mutex<Vec<String>>,
    on_append: RwLock<Option<AppendHook>>,
    on_delta: RwLock<Option<DeltaHook>>,
    stamp_first_deltas: AtomicBool,
    rtc_calls: RtcCalls,
}

impl Shared {
    fn violation(&self, session_id: &str, message: String) {
        lock(&self.violations).push(format!("{session_id}: {message}"));
    }

    fn append_hook(&self) -> Option<AppendHook> {
        self.on_append
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn delta_hook(&self) -> Option<DeltaHook> {
        self.on_delta
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, shared.clone(), shutdown.clone()));
            }
            // Out of file descriptors under load: back off instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The upgrade
// ---------------------------------------------------------------------------------------------

/// What the upgrade request said.
#[derive(Default)]
struct Upgrade {
    seen: bool,
    path_ok: bool,
    path: String,
    model: Option<String>,
    /// `?call_id=`: a sideband, and whether the call is live.
    rtc_call_id: Option<String>,
    call_live: bool,
    authorized: bool,
    beta_header: Option<String>,
}

impl Upgrade {
    fn read(request: &Request, api_key: &str, calls: &RtcCalls) -> Upgrade {
        let uri = request.uri();
        let query: Vec<(String, String)> =
            serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let expected = format!("Bearer {api_key}");
        let param = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let rtc_call_id = param("call_id");
        Upgrade {
            call_live: rtc_call_id.as_deref().is_some_and(|id| calls.is_live(id)),
            rtc_call_id,
            seen: true,
            path_ok: uri.path() == REALTIME_PATH,
            path: uri.path().to_string(),
            model: param("model"),
            authorized: header("authorization").as_deref() == Some(expected.as_str()),
            beta_header: header("openai-beta"),
        }
    }

    /// The HTTP error that refuses the upgrade, if any: `fault`'s, else what the request earns.
    fn refusal(&self, fault: Option<UpgradeFault>) -> Option<ErrorResponse> {
        let injected;
        let (status, code, message) = if let Some(UpgradeFault::Refuse(status)) = fault {
            let status = StatusCode::from_u16(status).expect("an HTTP status");
            let code = match status.as_u16() {
                429 => "rate_limit_exceeded",
                401 => "invalid_api_key",
                s if s >= 500 => "server_error",
                _ => "invalid_request_error",
            };
            injected = format!("Simulated refusal ({})", status.as_u16());
            (status, code, injected.as_str())
        } else if !self.path_ok {
            (StatusCode::NOT_FOUND, "not_found", "Invalid URL")
        } else if !self.authorized {
            (
                StatusCode::UNAUTHORIZED,
                "invalid_api_key",
                "Incorrect API key provided.",
            )
        } else if self.rtc_call_id.is_some() && !self.call_live {
            (
                StatusCode::NOT_FOUND,
                "call_not_found",
                "No active call with this call_id.",
            )
        } else {
            return None;
        };
        let body = json!({"error": {
            "message": message, "type": "invalid_request_error", "code": code, "param": null
        }});
        let mut response = ErrorResponse::new(Some(body.to_string()));
        *response.status_mut() = status;
        Some(response)
    }
}

// tungstenite's handshake callback returns its (large) `ErrorResponse` by value.
#[allow(clippy::result_large_err)]
async fn serve_connection(stream: TcpStream, shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    let mut upgrade = Upgrade::default();
    let mut fault = None;
    let mut refused = None;
    let handshake =
        tokio_tungstenite::accept_hdr_async(stream, |request: &Request, response: Response| {
            upgrade = Upgrade::read(request, &shared.api_key, &shared.rtc_calls);
            fault = lock(&shared.upgrade_faults).pop_front();
            match upgrade.refusal(fault) {
                Some(refusal) => {
                    refused = Some(refusal.status().as_u16());
                    Err(refusal)
                }
                None => Ok::<Response, ErrorResponse>(response),
            }
        })
        .await;
    if !upgrade.seen {
        return; // not an HTTP upgrade at all
    }
    let log = Arc::new(Mutex::new(SessionLog {
        id: random_id("sess"),
        model: upgrade.model.clone(),
        rtc_call_id: upgrade.rtc_call_id.clone(),
        authorized: upgrade.authorized,
        refused,
        ..SessionLog::default()
    }));
    lock(&shared.sessions).push(log.clone());
    let session_id = lock(&log).id.clone();
    if !upgrade.path_ok {
        shared.violation(
            &session_id,
            format!("upgrade on {} instead of {REALTIME_PATH}", upgrade.path),
        );
    }
    match handshake {
        Ok(ws) if upgrade.beta_header.is_some() => {
            let header = upgrade.beta_header.unwrap_or_default();
            shared.violation(
                &session_id,
                format!("OpenAI-Beta header sent ({header}); GA only"),
            );
            close_with(ws, 4000, "beta_api_shape_disabled").await;
        }
        Ok(mut ws) if fault == Some(UpgradeFault::Silent) => {
            // Reads until the client gives up; says nothing.
            while let Some(Ok(_)) = ws.next().await {}
        }
        Ok(ws) => {
            let sideband = upgrade
                .rtc_call_id
                .as_deref()
                .and_then(|id| shared.rtc_calls.open_sideband(id));
            if upgrade.model.is_none() && sideband.is_none() {
                shared.violation(&session_id, "upgrade without ?model=".to_string());
            }
            let mut session = Session::new(shared, log.clone(), upgrade.model);
            let commands = sideband.map(|(call_session, commands)| {
                session.become_sideband(&call_session);
                commands
            });
            session.run(ws, shutdown, commands).await;
        }
        Err(_) => {}
    }
    lock(&log).closed = true;
}

/// Sends a close frame and waits briefly for the client's.
async fn close_with(mut ws: WebSocketStream<TcpStream>, code: u16, reason: &str) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_string().into(),
    };
    let _ = ws.close(Some(frame)).await;
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// One session
// ---------------------------------------------------------------------------------------------

/// How a session ends besides the client leaving.
enum End {
    /// Reset the TCP connection: no close frame.
    Drop,
    /// Send this close frame.
    Close(u16, &'static str),
}

/// The response currently streaming audio.
struct Streaming {
    response_id: String,
    item_id: String,
    turn: usize,
    total_bytes: usize,
    sent_bytes: usize,
    next_at: Instant,
    /// Deltas still to send after a barge-in (then the response is cancelled).
    late_left: Option<usize>,
}

/// Energy VAD state, in audio time.
#[derive(Default)]
struct Vad {
    /// Bytes of a partial 20 ms chunk carried over to the next append.
    carry: Vec<u8>,
    /// Audio the VAD has looked at (whole chunks), in bytes.
    processed: u64,
    speaking: bool,
    /// Speech so far while silent, or silence so far while speaking.
    run_ms: u32,
}

/// What the simulator knows about a conversation item.
enum ItemKind {
    /// An assistant audio message and the audio the model generated for it.
    AssistantAudio {
        audio_ms: u64,
    },
    Other,
}

struct Session {
    config: SimConfig,
    shared: Arc<Shared>,
    log: Arc<Mutex<SessionLog>>,
    id: String,
    conversation_id: String,
    /// The session as `session.updated` shows it.
    session: Value,
    session_updated: bool,
    warned_format: bool,
    vad: Vad,
    appended_bytes: u64,
    uncommitted_bytes: u64,
    user_turns: usize,
    assistant_turns: usize,
    /// The user item of the speech in progress.
    speech_item: Option<String>,
    last_item_id: Option<String>,
    items: HashMap<String, ItemKind>,
    scripts: Vec<FunctionCallScript>,
    open_calls: HashSet<String>,
    streaming: Option<Streaming>,
    /// Pending faults, soonest first.
    faults: Vec<(Instant, Fault)>,
    last_input_tokens: u64,
    /// The `event_id` of the client event being handled (echoed in `error`s).
    client_event_id: Option<String>,
    out: Vec<Value>,
    end: Option<End>,
    /// The sideband of a WebRTC call: events only, the audio goes over WebRTC.
    sideband: bool,
}

impl Session {
    fn new(shared: Arc<Shared>, log: Arc<Mutex<SessionLog>>, model: Option<String>) -> Session {
        let now = Instant::now();
        let mut faults: Vec<(Instant, Fault)> = lock(&shared.faults)
            .iter()
            .map(|f| (now + Duration::from_millis(fault_ms(f)), f.clone()))
            .collect();
        faults.sort_by_key(|(at, _)| *at);
        let scripts = lock(&shared.function_calls).clone();
        let id = lock(&log).id.clone();
        let session = default_session(&id, model.as_deref().unwrap_or("gpt-realtime"));
        Session {
            config: shared.config.clone(),
            shared,
            log,
            id,
            conversation_id: random_id("conv"),
            session,
            session_updated: false,
            warned_format: false,
            vad: Vad::default(),
            appended_bytes: 0,
            uncommitted_bytes: 0,
            user_turns: 0,
            assistant_turns: 0,
            speech_item: None,
            last_item_id: None,
            items: HashMap::new(),
            scripts,
            open_calls: HashSet::new(),
            streaming: None,
            faults,
            last_input_tokens: 0,
            client_event_id: None,
            out: Vec::new(),
            end: None,
            sideband: false,
        }
    }

    /// A WebRTC call's sideband: the session is the call's (as created), and it is live.
    fn become_sideband(&mut self, call_session: &Value) {
        merge_session(&mut self.session, call_session);
        self.session_updated = true;
        self.sideband = true;
    }

    /// A command about the call from the test or `/hangup`.
    fn on_command(&mut self, command: Option<SidebandCommand>) {
        match command {
            Some(SidebandCommand::CallerTurn) => {
                // One second of speech, as the VAD would have heard it over WebRTC.
                let start_ms = self.appended_bytes / BYTES_PER_MS as u64;
                self.uncommitted_bytes += 1000 * BYTES_PER_MS as u64;
                self.appended_bytes += 1000 * BYTES_PER_MS as u64;
                self.speech_started(start_ms);
                self.speech_stopped(start_ms + 1000);
            }
            Some(SidebandCommand::End) | None => self.end = Some(End::Close(1000, "call ended")),
        }
    }

    async fn run(
        mut self,
        mut ws: WebSocketStream<TcpStream>,
        mut shutdown: watch::Receiver<bool>,
        mut commands: Option<tokio::sync::mpsc::UnboundedReceiver<SidebandCommand>>,
    ) {
        let created = json!({"type": "session.created", "session": self.session.clone()});
        self.emit(created);
        loop {
            if self.flush(&mut ws).await.is_err() {
                return;
            }
            match self.end.take() {
                Some(End::Drop) => {
                    let _ = ws.get_ref().set_zero_linger();
                    return;
                }
                Some(End::Close(code, reason)) => return close_with(ws, code, reason).await,
                None => {}
            }
            let deadline = self.next_deadline();
            let command = async {
                match commands.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                message = ws.next() => match message {
                    Some(Ok(message)) => self.on_message(message),
                    _ => return,
                },
                () = sleep_until(deadline) => self.on_timer(Instant::now()),
                command = command => self.on_command(command),
                _ = shutdown.changed() => return,
            }
        }
    }

    async fn flush(&mut self, ws: &mut WebSocketStream<TcpStream>) -> Result<(), ()> {
        if self.out.is_empty() {
            return Ok(());
        }
        for event in self.out.drain(..) {
            ws.feed(Message::text(event.to_string()))
                .await
                .map_err(drop)?;
        }
        ws.flush().await.map_err(drop)
    }

    fn next_deadline(&self) -> Option<Instant> {
        let delta = self.streaming.as_ref().map(|s| s.next_at);
        let fault = self.faults.first().map(|(at, _)| *at);
        match (delta, fault) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // --- output helpers ------------------------------------------------------------------

    /// Queues a server event, adding its `event_id`.
    fn emit(&mut self, mut event: Value) {
        if let Value::Object(map) = &mut event {
            map.insert("event_id".into(), Value::String(random_id("event")));
        }
        self.out.push(event);
    }

    fn error(&mut self, kind: &str, code: &str, message: &str, param: Option<&str>) {
        let event = json!({"type": "error", "error": {
            "type": kind,
            "code": code,
            "message": message,
            "param": param,
            "event_id": self.client_event_id,
        }});
        self.emit(event);
    }

    fn violation(&self, message: String) {
        self.shared.violation(&self.id, message);
    }

    // --- input ---------------------------------------------------------------------------

    fn on_message(&mut self, message: Message) {
        match message {
            Message::Text(text) => self.on_text(text.as_str()),
            Message::Binary(_) => {
                self.violation("binary frame (the Realtime API speaks JSON text)".into());
                self.error(
                    "invalid_request_error",
                    "invalid_json",
                    "Binary frames are not supported.",
                    None,
                );
            }
            _ => {} // ping/pong are answered by tungstenite; close ends the stream
        }
    }

    fn on_text(&mut self, text: &str) {
        // Load mode: appends are most of the traffic; skip building a JSON tree for them.
        if !self.config.validate
            && let Some(audio) = text
                .strip_prefix(r#"{"type":"input_audio_buffer.append","audio":""#)
                .and_then(|rest| rest.strip_suffix(r#""}"#))
            && let Ok(audio) = STANDARD.decode(audio)
        {
            self.append_audio(audio);
            return;
        }
        let event: Value = match serde_json::from_str(text) {
            Ok(event) => event,
            Err(e) => {
                self.violation(format!("non-JSON text frame: {e}"));
                self.client_event_id = None;
                let message = format!("We could not parse the JSON body of your request: {e}");
                self.error("invalid_request_error", "invalid_json", &message, None);
                return;
            }
        };
        self.client_event_id = event
            .get("event_id")
            .and_then(Value::as_str)
            .map(str::to_string);
        let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != "input_audio_buffer.append" {
            let mut log = lock(&self.log);
            if log.events.len() < MAX_LOGGED_EVENTS {
                log.events.push(event.clone());
            }
        }
        if self.config.validate
            && let Err(errors) = realtime_schema::validate_client_event(&event)
        {
            let summary = errors.join("; ");
            self.violation(format!("invalid {kind:?} event: {summary}"));
            self.error("invalid_request_error", "invalid_event", &summary, None);
            return;
        }
        self.dispatch(&event);
    }

    fn dispatch(&mut self, event: &Value) {
        match event.get("type").and_then(Value::as_str).unwrap_or("") {
            "session.update" => self.on_session_update(event),
            "input_audio_buffer.append" => self.on_append(event),
            "input_audio_buffer.commit" => self.on_commit(),
            "input_audio_buffer.clear" => self.on_clear(),
            "output_audio_buffer.clear" => {
                self.violation("output_audio_buffer.clear is WebRTC/SIP only".into());
                let message = "output_audio_buffer.clear is only supported for WebRTC and SIP.";
                self.error("invalid_request_error", "invalid_event", message, None);
            }
            "conversation.item.create" => self.on_item_create(event),
            "conversation.item.retrieve" => self.on_item_retrieve(event),
            "conversation.item.delete" => self.on_item_delete(event),
            "conversation.item.truncate" => self.on_truncate(event),
            "response.create" => self.on_response_create(),
            "response.cancel" => self.on_response_cancel(),
            other => {
                let message =
                    format!("Invalid value: '{other}'. Supported values are client event types.");
                self.error(
                    "invalid_request_error",
                    "invalid_value",
                    &message,
                    Some("type"),
                );
            }
        }
    }

    fn on_session_update(&mut self, event: &Value) {
        if let Some(patch) = event.get("session") {
            merge_session(&mut self.session, patch);
        }
        self.session_updated = true;
        let updated = json!({"type": "session.updated", "session": self.session.clone()});
        self.emit(updated);
    }

    fn on_append(&mut self, event: &Value) {
        let audio = match event
            .get("audio")
            .and_then(Value::as_str)
            .map(|a| STANDARD.decode(a))
        {
            Some(Ok(audio)) => audio,
            _ => {
                self.violation("input_audio_buffer.append without base64 audio".into());
                let message = "Invalid 'audio'. Expected base64-encoded audio bytes.";
                self.error(
                    "invalid_request_error",
                    "invalid_value",
                    message,
                    Some("audio"),
                );
                return;
            }
        };
        self.append_audio(audio);
    }

    fn append_audio(&mut self, audio: Vec<u8>) {
        self.check_append_allowed();
        {
            let mut log = lock(&self.log);
            log.appended_bytes += audio.len();
            log.append_count += 1;
            log.first_append_at.get_or_insert_with(Instant::now);
        }
        if let Some(hook) = self.shared.append_hook() {
            hook(&audio);
        }
        self.appended_bytes += audio.len() as u64;
        self.uncommitted_bytes += audio.len() as u64;
        if self.turn_detection().is_some() {
            self.feed_vad(&audio);
        }
    }

    /// Audio before any `session.update` is taken as the default 24 kHz PCM: a bridge bug.
    fn check_append_allowed(&mut self) {
        if self.warned_format {
            return;
        }
        if self.sideband {
            self.warned_format = true;
            self.violation("input_audio_buffer.append on a WebRTC call's sideband".into());
            return;
        }
        let format = self
            .session
            .pointer("/audio/input/format/type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !self.session_updated {
            self.warned_format = true;
            self.violation("input_audio_buffer.append before any session.update".into());
        } else if format != "audio/pcmu" {
            self.warned_format = true;
            self.violation(format!(
                "appending μ-law audio while the input format is {format:?}"
            ));
        }
    }

    fn on_commit(&mut self) {
        if self.uncommitted_bytes == 0 {
            let message = "Error committing input audio buffer: buffer too small.";
            self.error(
                "invalid_request_error",
                "input_audio_buffer_commit_empty",
                message,
                None,
            );
            return;
        }
        let item_id = self.speech_item.take().unwrap_or_else(|| random_id("item"));
        self.vad.speaking = false;
        self.vad.run_ms = 0;
        self.commit_turn(item_id, false);
    }

    fn on_clear(&mut self) {
        self.uncommitted_bytes = 0;
        self.speech_item = None;
        self.vad.speaking = false;
        self.vad.run_ms = 0;
        self.emit(json!({"type": "input_audio_buffer.cleared"}));
    }

    fn on_item_create(&mut self, event: &Value) {
        let mut item = event.get("item").cloned().unwrap_or_else(|| json!({}));
        let item_id = item
            .get("id")
            .and_then(Value::as_str)
            .map_or_else(|| random_id("item"), str::to_string);
        if item.get("type").and_then(Value::as_str) == Some("function_call_output") {
            self.record_function_output(&item);
        }
        if let Value::Object(map) = &mut item {
            map.insert("id".into(), json!(item_id));
            map.insert("object".into(), json!("realtime.item"));
            map.insert("status".into(), json!("completed"));
        }
        let previous = self.last_item_id.replace(item_id.clone());
        self.items.insert(item_id, ItemKind::Other);
        for kind in ["conversation.item.added", "conversation.item.done"] {
            self.emit(json!({"type": kind, "previous_item_id": previous, "item": item}));
        }
    }

    fn record_function_output(&mut self, item: &Value) {
        let field = |name: &str| {
            item.get(name)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let (call_id, output) = (field("call_id"), field("output"));
        if !self.open_calls.remove(&call_id) {
            self.violation(format!(
                "function_call_output for unknown or answered call_id {call_id:?}"
            ));
        }
        lock(&self.log).function_outputs.push((call_id, output));
    }

    fn on_item_retrieve(&mut self, event: &Value) {
        let item_id = str_field(event, "item_id");
        if self.items.contains_key(&item_id) {
            let item = json!({"id": item_id, "object": "realtime.item", "type": "message",
                "status": "completed", "role": "assistant", "content": []});
            self.emit(json!({"type": "conversation.item.retrieved", "item": item}));
        } else {
            self.item_not_found(&item_id);
        }
    }

    fn on_item_delete(&mut self, event: &Value) {
        let item_id = str_field(event, "item_id");
        if self.items.remove(&item_id).is_some() {
            self.emit(json!({"type": "conversation.item.deleted", "item_id": item_id}));
        } else {
            self.item_not_found(&item_id);
        }
    }

    fn item_not_found(&mut self, item_id: &str) {
        let message = format!("Item with item_id '{item_id}' not found.");
        self.error(
            "invalid_request_error",
            "item_not_found",
            &message,
            Some("item_id"),
        );
    }

    fn on_truncate(&mut self, event: &Value) {
        let item_id = str_field(event, "item_id");
        let content_index = event
            .get("content_index")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let audio_end_ms = event.get("audio_end_ms").and_then(Value::as_u64);
        let item_audio_ms = match self.items.get(&item_id) {
            Some(ItemKind::AssistantAudio { audio_ms }) => Some(*audio_ms),
            Some(ItemKind::Other) => None,
            None => {
                self.record_truncate(&item_id, audio_end_ms.unwrap_or(0), 0, false);
                self.item_not_found(&item_id);
                return;
            }
        };
        let accepted = match (item_audio_ms, audio_end_ms) {
            (None, _) => {
                let message = "Only assistant messages with audio can be truncated.";
                self.error(
                    "invalid_request_error",
                    "invalid_value",
                    message,
                    Some("item_id"),
                );
                false
            }
            (Some(_), None) => {
                let message = "Invalid 'audio_end_ms': expected a non-negative integer.";
                self.error(
                    "invalid_request_error",
                    "invalid_value",
                    message,
                    Some("audio_end_ms"),
                );
                false
            }
            (Some(have), Some(end)) if end > have => {
                let message = format!("Audio content of {have}ms is already shorter than {end}ms");
                self.error(
                    "invalid_request_error",
                    "invalid_value",
                    &message,
                    Some("audio_end_ms"),
                );
                false
            }
            (Some(_), Some(end)) => {
                self.emit(
                    json!({"type": "conversation.item.truncated", "item_id": item_id,
                    "content_index": content_index, "audio_end_ms": end}),
                );
                true
            }
        };
        let end = audio_end_ms.unwrap_or(0);
        self.record_truncate(&item_id, end, item_audio_ms.unwrap_or(0), accepted);
    }

    fn record_truncate(
        &self,
        item_id: &str,
        audio_end_ms: u64,
        item_audio_ms: u64,
        accepted: bool,
    ) {
        lock(&self.log).truncates.push(Truncate {
            item_id: item_id.to_string(),
            audio_end_ms,
            item_audio_ms,
            at: Instant::now(),
            accepted,
        });
    }

    fn on_response_create(&mut self) {
        lock(&self.log).responses_created += 1;
        if let Some(active) = &self.streaming {
            let message = format!(
                "Conversation already has an active response in progress: {}. Wait until the \
                 response is finished before creating a new one.",
                active.response_id
            );
            let code = "conversation_already_has_active_response";
            self.error("invalid_request_error", code, &message, None);
            return;
        }
        self.start_audio_response();
    }

    fn on_response_cancel(&mut self) {
        if self.streaming.is_some() {
            self.finish_cancelled("client_cancelled");
        } else {
            let message = "Cancellation failed: no active response found";
            self.error(
                "invalid_request_error",
                "response_cancel_not_active",
                message,
                None,
            );
        }
    }

    // --- VAD and turns -------------------------------------------------------------------

    /// The session's `turn_detection`, if any (null means manual commits).
    fn turn_detection(&self) -> Option<&Value> {
        self.session
            .pointer("/audio/input/turn_detection")
            .filter(|t| t.is_object())
    }

    fn turn_flag(&self, name: &str) -> bool {
        self.turn_detection()
            .and_then(|t| t.get(name))
            .and_then(Value::as_bool)
            .unwrap_or(true)
    }

    /// Runs the VAD over whole 20 ms chunks; a partial chunk waits for the next append.
    fn feed_vad(&mut self, mut audio: &[u8]) {
        if !self.vad.carry.is_empty() {
            let take = (VAD_CHUNK - self.vad.carry.len()).min(audio.len());
            self.vad.carry.extend_from_slice(&audio[..take]);
            audio = &audio[take..];
            if self.vad.carry.len() < VAD_CHUNK {
                return;
            }
            let chunk = std::mem::take(&mut self.vad.carry);
            self.vad_chunk(&chunk);
        }
        let mut chunks = audio.chunks_exact(VAD_CHUNK);
        for chunk in &mut chunks {
            self.vad_chunk(chunk);
        }
        self.vad.carry.extend_from_slice(chunks.remainder());
    }

    fn vad_chunk(&mut self, chunk: &[u8]) {
        self.vad.processed += chunk.len() as u64;
        let end_ms = self.vad.processed / BYTES_PER_MS as u64;
        let speech = mulaw::mean_abs(chunk) > self.config.vad_threshold;
        if self.vad.speaking == speech {
            self.vad.run_ms = 0;
            return;
        }
        self.vad.run_ms += VAD_CHUNK_MS;
        if !self.vad.speaking && self.vad.run_ms >= self.config.speech_start_ms {
            let start_ms = end_ms.saturating_sub(u64::from(self.vad.run_ms));
            self.vad.speaking = true;
            self.vad.run_ms = 0;
            self.speech_started(start_ms);
        } else if self.vad.speaking && self.vad.run_ms >= self.config.silence_end_ms {
            let stop_ms = end_ms.saturating_sub(u64::from(self.vad.run_ms));
            self.vad.speaking = false;
            self.vad.run_ms = 0;
            self.speech_stopped(stop_ms);
        }
    }

    fn speech_started(&mut self, audio_start_ms: u64) {
        let item_id = random_id("item");
        self.speech_item = Some(item_id.clone());
        self.emit(json!({"type": "input_audio_buffer.speech_started",
            "audio_start_ms": audio_start_ms, "item_id": item_id}));
        if !self.turn_flag("interrupt_response") {
            return;
        }
        let late = self.config.late_deltas_after_barge_in;
        match &mut self.streaming {
            Some(streaming) if streaming.late_left.is_none() => {
                if late == 0 {
                    self.finish_cancelled("turn_detected");
                } else {
                    streaming.late_left = Some(late);
                }
            }
            _ => {}
        }
    }

    fn speech_stopped(&mut self, audio_end_ms: u64) {
        let item_id = self.speech_item.take().unwrap_or_else(|| random_id("item"));
        self.emit(json!({"type": "input_audio_buffer.speech_stopped",
            "audio_end_ms": audio_end_ms, "item_id": item_id}));
        let respond = self.turn_flag("create_response");
        self.commit_turn(item_id, respond);
    }

    /// Commits the caller's turn: the buffer, the user item, its transcript, then (with
    /// `respond`) the model's answer: a scripted function call or audio.
    fn commit_turn(&mut self, item_id: String, respond: bool) {
        self.user_turns += 1;
        let turn = self.user_turns;
        let seconds = self.uncommitted_bytes as f64 / (BYTES_PER_MS as f64 * 1000.0);
        self.uncommitted_bytes = 0;
        let previous = self.last_item_id.replace(item_id.clone());
        self.items.insert(item_id.clone(), ItemKind::Other);
        self.emit(json!({"type": "input_audio_buffer.committed",
            "previous_item_id": previous, "item_id": item_id}));
        let item = json!({"id": item_id, "object": "realtime.item", "type": "message",
            "status": "completed", "role": "user", "content": [{"type": "input_audio"}]});
        self.emit(
            json!({"type": "conversation.item.added", "previous_item_id": previous,
            "item": item}),
        );
        self.emit(
            json!({"type": "conversation.item.input_audio_transcription.completed",
            "item_id": item_id, "content_index": 0, "transcript": format!("caller turn {turn}"),
            "usage": {"type": "duration", "seconds": seconds}}),
        );
        if !respond {
            return;
        }
        if self.streaming.is_some() {
            self.finish_cancelled("turn_detected");
        }
        match self
            .scripts
            .iter()
            .find(|s| s.on_user_turn == turn)
            .cloned()
        {
            Some(script) => self.function_call_response(&script),
            None => self.start_audio_response(),
        }
    }

    // --- responses -----------------------------------------------------------------------

    fn response_object(&self, id: &str, status: &str, output: Vec<Value>) -> Value {
        let format = self
            .session
            .pointer("/audio/output/format")
            .cloned()
            .unwrap_or_else(|| json!({"type": "audio/pcmu"}));
        let voice = self
            .session
            .pointer("/audio/output/voice")
            .filter(|v| v.is_string())
            .cloned()
            .unwrap_or_else(|| json!("alloy"));
        json!({
            "id": id,
            "object": "realtime.response",
            "status": status,
            "output": output,
            "conversation_id": self.conversation_id,
            "output_modalities": ["audio"],
            "audio": {"output": {"format": format, "voice": voice}},
            "max_output_tokens": "inf",
        })
    }

    fn start_audio_response(&mut self) {
        self.assistant_turns += 1;
        let response_id = random_id("resp");
        let item_id = random_id("item");
        let total_bytes = self.config.response_audio_ms as usize * BYTES_PER_MS;
        let response = self.response_object(&response_id, "in_progress", vec![]);
        self.emit(json!({"type": "response.created", "response": response}));
        let item = json!({"id": item_id, "object": "realtime.item", "type": "message",
            "status": "in_progress", "role": "assistant", "content": []});
        self.emit(
            json!({"type": "response.output_item.added", "response_id": response_id,
            "output_index": 0, "item": item}),
        );
        self.emit(
            json!({"type": "response.content_part.added", "response_id": response_id,
            "item_id": item_id, "output_index": 0, "content_index": 0,
            "part": {"type": "audio", "transcript": ""}}),
        );
        self.last_item_id = Some(item_id.clone());
        let audio_ms = u64::from(self.config.response_audio_ms);
        self.items
            .insert(item_id.clone(), ItemKind::AssistantAudio { audio_ms });
        self.streaming = Some(Streaming {
            response_id,
            item_id,
            turn: self.assistant_turns,
            total_bytes,
            sent_bytes: 0,
            next_at: Instant::now(),
            late_left: None,
        });
        if total_bytes == 0 {
            self.finish_completed();
        }
    }

    fn on_timer(&mut self, now: Instant) {
        while self.faults.first().is_some_and(|(at, _)| *at <= now) {
            let (_, fault) = self.faults.remove(0);
            self.apply_fault(fault);
            if self.end.is_some() {
                return;
            }
        }
        if self.streaming.as_ref().is_some_and(|s| s.next_at <= now) {
            self.send_delta(now);
        }
    }

    fn send_delta(&mut self, now: Instant) {
        let (lo, hi) = self.config.delta_bytes;
        let size = random_between(lo.min(hi).max(1), hi.max(lo).max(1));
        let interval = Duration::from_millis(self.config.delta_interval_ms);
        let hook = self.shared.delta_hook();
        let Some(streaming) = self.streaming.as_mut() else {
            return;
        };
        let offset = streaming.sent_bytes;
        let len = size.min(streaming.total_bytes - offset);
        if let Some(hook) = hook {
            hook(&streaming.item_id, offset, len);
        }
        let mut audio = tone(offset, len);
        if offset == 0 && self.shared.stamp_first_deltas.load(Ordering::Relaxed) {
            stamp::write(&mut audio);
        }
        let event = json!({"type": "response.output_audio.delta",
            "response_id": streaming.response_id, "item_id": streaming.item_id,
            "output_index": 0, "content_index": 0,
            "delta": STANDARD.encode(audio)});
        streaming.sent_bytes += len;
        streaming.next_at = now + interval;
        let sideband = self.sideband;
        let done = streaming.sent_bytes >= streaming.total_bytes;
        let cancel = match &mut streaming.late_left {
            Some(left) => {
                *left = left.saturating_sub(1);
                *left == 0
            }
            None => false,
        };
        // On a WebRTC call the audio goes to the browser, not over this socket.
        if !sideband {
            self.emit(event);
        }
        if done {
            self.finish_completed();
        } else if cancel {
            self.finish_cancelled("turn_detected");
        }
    }

    fn finish_completed(&mut self) {
        let Some(streaming) = self.streaming.take() else {
            return;
        };
        let Streaming {
            response_id,
            item_id,
            turn,
            total_bytes,
            ..
        } = streaming;
        let transcript = format!("assistant turn {turn}");
        let ids = json!({"response_id": response_id, "item_id": item_id,
            "output_index": 0, "content_index": 0});
        self.emit(with_type("response.output_audio.done", &ids, json!({})));
        let transcript_done = json!({"transcript": transcript});
        self.emit(with_type(
            "response.output_audio_transcript.done",
            &ids,
            transcript_done,
        ));
        let part = json!({"part": {"type": "audio", "transcript": transcript}});
        self.emit(with_type("response.content_part.done", &ids, part));
        let item = assistant_item(&item_id, "completed", &transcript);
        self.emit(
            json!({"type": "response.output_item.done", "response_id": response_id,
            "output_index": 0, "item": item}),
        );
        let audio_ms = (total_bytes / BYTES_PER_MS) as u64;
        self.response_done(&response_id, "completed", None, vec![item], audio_ms, 4);
        if self.sideband {
            // The browser played it all (WebRTC's own event).
            self.emit(json!({"type": "output_audio_buffer.stopped", "response_id": response_id}));
        }
    }

    /// Ends the streaming response with `status: cancelled` (`turn_detected` on barge-in,
    /// `client_cancelled` on `response.cancel`).
    fn finish_cancelled(&mut self, reason: &str) {
        let Some(streaming) = self.streaming.take() else {
            return;
        };
        let item = assistant_item(&streaming.item_id, "incomplete", "");
        let details = json!({"type": "cancelled", "reason": reason});
        let audio_ms = (streaming.total_bytes / BYTES_PER_MS) as u64;
        self.response_done(
            &streaming.response_id,
            "cancelled",
            Some(details),
            vec![item],
            audio_ms,
            2,
        );
    }

    /// A scripted function call: the whole response at once, then the call waits for the
    /// client's `function_call_output`.
    fn function_call_response(&mut self, script: &FunctionCallScript) {
        let response_id = random_id("resp");
        let item_id = random_id("item");
        let call_id = random_id("call");
        let response = self.response_object(&response_id, "in_progress", vec![]);
        self.emit(json!({"type": "response.created", "response": response}));
        let item = |status: &str, arguments: &str| {
            json!({"id": item_id, "object": "realtime.item", "type": "function_call",
                "status": status, "call_id": call_id, "name": script.name, "arguments": arguments})
        };
        let added = item("in_progress", "");
        let done_item = item("completed", &script.arguments);
        self.emit(
            json!({"type": "response.output_item.added", "response_id": response_id,
            "output_index": 0, "item": added}),
        );
        let ids = json!({"response_id": response_id, "item_id": item_id, "output_index": 0,
            "call_id": call_id});
        let delta = json!({"delta": script.arguments});
        self.emit(with_type(
            "response.function_call_arguments.delta",
            &ids,
            delta,
        ));
        let done = json!({"name": script.name, "arguments": script.arguments});
        let repeats = if script.repeat_done { 2 } else { 1 };
        for _ in 0..repeats {
            self.emit(with_type(
                "response.function_call_arguments.done",
                &ids,
                done.clone(),
            ));
        }
        if script.interrupted {
            let cut = item("incomplete", &script.arguments);
            self.emit(
                json!({"type": "response.output_item.done", "response_id": response_id,
                "output_index": 0, "item": cut}),
            );
            self.items.insert(item_id, ItemKind::Other);
            let details = json!({"type": "cancelled", "reason": "turn_detected"});
            self.response_done(&response_id, "cancelled", Some(details), vec![cut], 0, 1);
            return;
        }
        self.emit(
            json!({"type": "response.output_item.done", "response_id": response_id,
            "output_index": 0, "item": done_item}),
        );
        self.last_item_id = Some(item_id.clone());
        self.items.insert(item_id, ItemKind::Other);
        self.open_calls.insert(call_id);
        let text_tokens = (script.arguments.len() / 4 + 1) as u64;
        self.response_done(
            &response_id,
            "completed",
            None,
            vec![done_item],
            0,
            text_tokens,
        );
    }

    fn response_done(
        &mut self,
        response_id: &str,
        status: &str,
        details: Option<Value>,
        output: Vec<Value>,
        output_audio_ms: u64,
        output_text_tokens: u64,
    ) {
        let usage = self.usage(output_audio_ms, output_text_tokens);
        lock(&self.log).usage_sent.push(usage.clone());
        let mut response = self.response_object(response_id, status, output);
        response["usage"] = usage;
        if let Some(details) = details {
            response["status_details"] = details;
        }
        self.emit(json!({"type": "response.done", "response": response}));
    }

    /// Plausible token counts: caller audio at 1 token per 100 ms (all audio so far, as every
    /// response re-reads the conversation), model audio at 1 per 50 ms.
    fn usage(&mut self, output_audio_ms: u64, output_text_tokens: u64) -> Value {
        let input_audio = self.appended_bytes / BYTES_PER_MS as u64 / 100;
        let instructions = self
            .session
            .get("instructions")
            .and_then(Value::as_str)
            .map_or(0, str::len) as u64;
        let input_text = 20 + instructions / 4 + 8 * self.user_turns as u64;
        let input = input_audio + input_text;
        let cached = (self.last_input_tokens / 64 * 64).min(input);
        self.last_input_tokens = input;
        let output_audio = output_audio_ms / 50;
        let output = output_audio + output_text_tokens;
        json!({
            "total_tokens": input + output,
            "input_tokens": input,
            "output_tokens": output,
            "input_token_details": {
                "text_tokens": input_text,
                "audio_tokens": input_audio,
                "cached_tokens": cached,
            },
            "output_token_details": {"text_tokens": output_text_tokens, "audio_tokens": output_audio},
        })
    }

    // --- faults --------------------------------------------------------------------------

    fn apply_fault(&mut self, fault: Fault) {
        match fault {
            Fault::DisconnectAfterMs(_) => self.end = Some(End::Drop),
            Fault::ErrorAfterMs { code, message, .. } => {
                let kind = if code.contains("server") {
                    "server_error"
                } else {
                    "invalid_request_error"
                };
                self.client_event_id = None;
                self.error(kind, &code, &message, None);
            }
            Fault::SessionExpiredAfterMs(_) => {
                self.client_event_id = None;
                let message = "Your session hit the maximum duration of 60 minutes.";
                self.error("invalid_request_error", "session_expired", message, None);
                self.end = Some(End::Close(1000, "session_expired"));
            }
        }
    }
}

fn fault_ms(fault: &Fault) -> u64 {
    match fault {
        Fault::DisconnectAfterMs(ms) | Fault::SessionExpiredAfterMs(ms) => *ms,
        Fault::ErrorAfterMs { ms, .. } => *ms,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

// ---------------------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------------------

/// The session as OpenAI creates it: 24 kHz PCM both ways until the client says otherwise.
fn default_session(id: &str, model: &str) -> Value {
    let expires_at = chrono::Utc::now().timestamp() + 3600;
    json!({
        "type": "realtime",
        "object": "realtime.session",
        "id": id,
        "model": model,
        "output_modalities": ["audio"],
        "instructions": "",
        "expires_at": expires_at,
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 200,
                    "idle_timeout_ms": null,
                    "create_response": true,
                    "interrupt_response": true
                }
            },
            "output": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "voice": "alloy",
                "speed": 1.0
            }
        },
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "truncation": "auto",
        "tracing": null
    })
}

/// Merges a `session.update` into the session: objects merge key by key, anything else
/// (including `null`) replaces. The identity fields stay.
fn merge_session(session: &mut Value, patch: &Value) {
    let Some(patch) = patch.as_object() else {
        return;
    };
    for (key, value) in patch {
        if matches!(key.as_str(), "id" | "object" | "type" | "expires_at") {
            continue;
        }
        merge_value(&mut session[key.as_str()], value);
    }
}

fn merge_value(target: &mut Value, patch: &Value) {
    match (target, patch) {
        // A tagged object (`format`, `turn_detection`, ...) whose tag changes is replaced whole:
        // `{"type":"audio/pcmu"}` must not keep the `rate` of `audio/pcm`.
        (Value::Object(target), Value::Object(patch))
            if patch
                .get("type")
                .is_none_or(|tag| target.get("type") == Some(tag)) =>
        {
            for (key, value) in patch {
                merge_value(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

fn assistant_item(item_id: &str, status: &str, transcript: &str) -> Value {
    json!({"id": item_id, "object": "realtime.item", "type": "message", "status": status,
        "role": "assistant", "content": [{"type": "output_audio", "transcript": transcript}]})
}

/// `{"type": kind}` plus the fields of `ids` and `extra`.
fn with_type(kind: &str, ids: &Value, extra: Value) -> Value {
    let mut event = json!({"type": kind});
    for source in [ids, &extra] {
        if let Some(fields) = source.as_object() {
            for (key, value) in fields {
                event[key.as_str()] = value.clone();
            }
        }
    }
    event
}

fn str_field(event: &Value, name: &str) -> String {
    event
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Audio and randomness
// ---------------------------------------------------------------------------------------------

/// `len` bytes of the assistant tone starting at `offset` (continuous across deltas).
fn tone(offset: usize, len: usize) -> Vec<u8> {
    static PERIOD: OnceLock<[u8; TONE_PERIOD]> = OnceLock::new();
    let period = PERIOD.get_or_init(|| {
        std::array::from_fn(|i| {
            // Half a sample off zero phase: no sample is 0, so no byte is μ-law silence (0xFF).
            let phase = 2.0 * std::f64::consts::PI * (i as f64 + 0.5) / TONE_PERIOD as f64;
            mulaw::encode((TONE_AMPLITUDE * phase.sin()).round() as i16)
        })
    });
    (offset..offset + len)
        .map(|i| period[i % TONE_PERIOD])
        .collect()
}

/// A process-wide splitmix64 stream: ids and delta sizes, not cryptography.
fn next_random() -> u64 {
    static STATE: OnceLock<AtomicU64> = OnceLock::new();
    let state = STATE.get_or_init(|| {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        AtomicU64::new(seed ^ u64::from(std::process::id()).rotate_left(32))
    });
    let mut z = state
        .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform in `lo..=hi` (`lo <= hi`).
fn random_between(lo: usize, hi: usize) -> usize {
    let span = (hi - lo) as u64 + 1;
    lo + (next_random() % span) as usize
}

/// `prefix_` plus 20 random alphanumerics, like OpenAI's ids.
fn random_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut id = String::with_capacity(prefix.len() + 21);
    id.push_str(prefix);
    id.push('_');
    let mut bits = 0u64;
    for i in 0..20 {
        if i % 10 == 0 {
            bits = next_random();
        }
        id.push(char::from(
            ALPHABET[(bits % ALPHABET.len() as u64) as usize],
        ));
        bits /= ALPHABET.len() as u64;
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    type Client = WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

    const WAIT: Duration = Duration::from_secs(10);

    async fn connect(sim: &RealtimeSim) -> Client {
        let url = format!("{}?model=gpt-realtime", sim.url);
        let mut request = url.into_client_request().expect("request");
        let auth = format!("Bearer {}", sim.api_key).parse().expect("header");
        request.headers_mut().insert("authorization", auth);
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("connect");
        ws
    }

    async fn send(ws: &mut Client, event: Value) {
        ws.send(Message::text(event.to_string()))
            .await
            .expect("send");
    }

    /// The next server event, checked against the spec.
    async fn next_event(ws: &mut Client) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, ws.next())
                .await
                .expect("an event in time")
                .expect("open")
                .expect("a frame");
            if let Message::Text(text) = message {
                let event: Value = serde_json::from_str(text.as_str()).expect("JSON");
                if let Err(errors) = realtime_schema::validate_server_event(&event) {
                    panic!("the simulator sent an invalid event {event}: {errors:?}");
                }
                return event;
            }
        }
    }

    /// Events up to and including the first of type `kind`.
    async fn until(ws: &mut Client, kind: &str) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let event = next_event(ws).await;
            let done = event["type"] == kind;
            events.push(event);
            if done {
                return events;
            }
        }
    }

    fn types(events: &[Value]) -> Vec<&str> {
        events.iter().filter_map(|e| e["type"].as_str()).collect()
    }

    fn ga_session_update() -> Value {
        json!({"type": "session.update", "session": {
            "type": "realtime",
            "model": "gpt-realtime",
            "output_modalities": ["audio"],
            "instructions": "You are a test receptionist.",
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
                    "transcription": {"model": "gpt-4o-mini-transcribe"}
                },
                "output": {"format": {"type": "audio/pcmu"}, "voice": "marin"}
            },
            "tools": [{"type": "function", "name": "check_availability",
                "description": "Free slots", "parameters": {"type": "object", "properties": {}}}],
            "tool_choice": "auto"
        }})
    }

    async fn ready(sim: &RealtimeSim) -> Client {
        let mut ws = connect(sim).await;
        assert_eq!(next_event(&mut ws).await["type"], "session.created");
        send(&mut ws, ga_session_update()).await;
        assert_eq!(next_event(&mut ws).await["type"], "session.updated");
        ws
    }

    /// `ms` of audio at `amplitude` (0 = μ-law silence 0xFF), as 20 ms appends.
    async fn append_audio(ws: &mut Client, amplitude: f64, ms: usize) {
        for frame in 0..ms / 20 {
            let audio: Vec<u8> = (0..VAD_CHUNK)
                .map(|i| {
                    let t = (frame * VAD_CHUNK + i) as f64 / 8000.0;
                    let sample = amplitude * (2.0 * std::f64::consts::PI * 300.0 * t).sin();
                    mulaw::encode(sample.round() as i16)
                })
                .collect();
            let event =
                json!({"type": "input_audio_buffer.append", "audio": STANDARD.encode(audio)});
            send(ws, event).await;
        }
    }

    fn delta_sizes(events: &[Value]) -> Vec<usize> {
        events
            .iter()
            .filter(|e| e["type"] == "response.output_audio.delta")
            .map(|e| STANDARD.decode(e["delta"].as_str().unwrap()).unwrap().len())
            .collect()
    }

    #[test]
    fn the_assistant_tone_is_quiet_but_not_silence() {
        let audio = tone(0, 160);
        assert!(audio.iter().all(|&b| b != mulaw::SILENCE));
        let loudness = mulaw::mean_abs(&audio);
        assert!(
            loudness > 100 && loudness < SimConfig::default().vad_threshold,
            "{loudness}"
        );
        assert_eq!(tone(7, 13), tone(0, 20)[7..20]);
    }

    #[tokio::test]
    async fn session_update_is_answered_with_the_merged_session() {
        let sim = RealtimeSim::start(SimConfig::default()).await;
        let mut ws = connect(&sim).await;
        let created = next_event(&mut ws).await;
        assert_eq!(created["type"], "session.created");
        assert_eq!(created["session"]["object"], "realtime.session");
        assert_eq!(created["session"]["model"], "gpt-realtime");
        send(&mut ws, ga_session_update()).await;
        let updated = next_event(&mut ws).await;
        assert_eq!(updated["type"], "session.updated");
        let session = &updated["session"];
        assert_eq!(session["id"], created["session"]["id"]);
        assert_eq!(session["audio"]["input"]["format"]["type"], "audio/pcmu");
        assert_eq!(session["audio"]["output"]["voice"], "marin");
        assert_eq!(
            session["audio"]["input"]["turn_detection"]["silence_duration_ms"],
            500
        );
        assert_eq!(
            session["audio"]["input"]["turn_detection"]["create_response"],
            true
        );
        assert!(sim.violations().is_empty(), "{:?}", sim.violations());
        let log = &sim.sessions()[0];
        assert!(log.authorized);
        assert_eq!(log.model.as_deref(), Some("gpt-realtime"));
        assert_eq!(log.events.len(), 1);
    }

    #[tokio::test]
    async fn speech_then_silence_gets_a_bursty_audio_response() {
        let sim = RealtimeSim::start(SimConfig::default()).await;
        let offsets = Arc::new(Mutex::new(Vec::new()));
        let seen = offsets.clone();
        sim.on_delta(Arc::new(move |_item: &str, offset, len| {
            lock(&seen).push((offset, len));
        }));
        let mut ws = ready(&sim).await;
        append_audio(&mut ws, 0.0, 200).await;
        append_audio(&mut ws, 8000.0, 1000).await;
        append_audio(&mut ws, 0.0, 400).await;
        let events = until(&mut ws, "response.done").await;
        let kinds = types(&events);
        let started = &events[0];
        assert_eq!(started["type"], "input_audio_buffer.speech_started");
        assert_eq!(started["audio_start_ms"], 200);
        let first_delta = kinds
            .iter()
            .position(|k| *k == "response.output_audio.delta")
            .unwrap();
        assert_eq!(
            kinds[1..first_delta],
            [
                "input_audio_buffer.speech_stopped",
                "input_audio_buffer.committed",
                "conversation.item.added",
                "conversation.item.input_audio_transcription.completed",
                "response.created",
                "response.output_item.added",
                "response.content_part.added",
            ]
        );
        assert_eq!(events[1]["audio_end_ms"], 1200);
        assert_eq!(events[4]["transcript"], "caller turn 1");
        assert_eq!(
            kinds[kinds.len() - 5..],
            [
                "response.output_audio.done",
                "response.output_audio_transcript.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.done",
            ]
        );
        let sizes = delta_sizes(&events);
        assert_eq!(sizes.iter().sum::<usize>(), 8000, "{sizes:?}");
        assert!(sizes.iter().all(|&s| (1..=4800).contains(&s)), "{sizes:?}");
        assert!(
            sizes.windows(2).any(|w| w[0] != w[1]),
            "sizes vary: {sizes:?}"
        );
        assert_eq!(lock(&offsets).len(), sizes.len());
        let done = events.last().unwrap();
        assert_eq!(done["response"]["status"], "completed");
        assert_eq!(
            done["response"]["usage"]["output_token_details"]["audio_tokens"],
            20
        );
        assert_eq!(
            done["response"]["usage"]["input_token_details"]["audio_tokens"],
            16
        );
        let log = &sim.sessions()[0];
        assert_eq!(log.appended_bytes, 1600 * 8);
        assert_eq!(log.append_count, 80);
        assert_eq!(log.usage_sent.len(), 1);
        assert!(sim.violations().is_empty(), "{:?}", sim.violations());
    }

    #[tokio::test]
    async fn barge_in_cancels_after_late_deltas() {
        let config = SimConfig {
            response_audio_ms: 20_000,
            delta_bytes: (400, 400),
            delta_interval_ms: 20,
            ..SimConfig::default()
        };
        let sim = RealtimeSim::start(config).await;
        let mut ws = ready(&sim).await;
        send(&mut ws, json!({"type": "response.create"})).await;
        let first = until(&mut ws, "response.output_audio.delta").await;
        let item_id = first.last().unwrap()["item_id"]
            .as_str()
            .unwrap()
            .to_string();
        send(&mut ws, json!({"type": "response.create"})).await;
        let refused = until(&mut ws, "error").await;
        let code = &refused.last().unwrap()["error"]["code"];
        assert_eq!(code, "conversation_already_has_active_response");
        append_audio(&mut ws, 8000.0, 100).await;
        let events = until(&mut ws, "response.done").await;
        let kinds = types(&events);
        let started = kinds
            .iter()
            .position(|k| *k == "input_audio_buffer.speech_started")
            .unwrap();
        let late = kinds[started..]
            .iter()
            .filter(|k| **k == "response.output_audio.delta")
            .count();
        assert_eq!(late, 2, "{kinds:?}");
        let done = &events.last().unwrap()["response"];
        assert_eq!(done["status"], "cancelled");
        assert_eq!(done["status_details"]["reason"], "turn_detected");
        send(
            &mut ws,
            json!({"type": "conversation.item.truncate", "item_id": item_id,
            "content_index": 0, "audio_end_ms": 150}),
        )
        .await;
        assert_eq!(until(&mut ws, "conversation.item.truncated").await.len(), 1);
        send(&mut ws, json!({"type": "response.cancel"})).await;
        let error = until(&mut ws, "error").await;
        assert_eq!(error[0]["error"]["code"], "response_cancel_not_active");
        let truncate = &sim.sessions()[0].truncates[0];
        assert!(truncate.accepted);
        assert_eq!(truncate.item_audio_ms, 20_000);
        assert!(sim.violations().is_empty(), "{:?}", sim.violations());
    }

    #[tokio::test]
    async fn truncate_past_the_end_is_an_error() {
        let sim = RealtimeSim::start(SimConfig::default()).await;
        let mut ws = ready(&sim).await;
        send(
            &mut ws,
            json!({"type": "response.create", "event_id": "evt_1"}),
        )
        .await;
        let events = until(&mut ws, "response.done").await;
        let item_id = events
            .iter()
            .find(|e| e["type"] == "response.output_item.added")
            .and_then(|e| e["item"]["id"].as_str())
            .unwrap()
            .to_string();
        send(
            &mut ws,
            json!({"type": "conversation.item.truncate", "event_id": "evt_2",
            "item_id": item_id, "content_index": 0, "audio_end_ms": 1500}),
        )
        .await;
        let error = next_event(&mut ws).await;
        assert_eq!(error["type"], "error");
        assert_eq!(error["error"]["code"], "invalid_value");
        assert_eq!(error["error"]["event_id"], "evt_2");
        send(
            &mut ws,
            json!({"type": "conversation.item.truncate", "item_id": "item_nope",
            "content_index": 0, "audio_end_ms": 10}),
        )
        .await;
        assert_eq!(next_event(&mut ws).await["error"]["code"], "item_not_found");
        let log = &sim.sessions()[0];
        assert_eq!(log.responses_created, 1);
        let truncate = &log.truncates[0];
        assert_eq!(
            (truncate.audio_end_ms, truncate.item_audio_ms),
            (1500, 1000)
        );
        assert!(!truncate.accepted);
        assert!(!log.truncates[1].accepted);
        assert!(sim.violations().is_empty(), "{:?}", sim.violations());
    }

    #[tokio::test]
    async fn a_beta_session_update_is_a_violation() {
        let sim = RealtimeSim::start(SimConfig::default()).await;
        let mut ws = connect(&sim).await;
        next_event(&mut ws).await;
        send(
            &mut ws,
            json!({"type": "session.update", "session": {
                "modalities": ["text", "audio"],
                "input_audio_format": "g711_ulaw",
                "output_audio_format": "g711_ulaw"
            }}),
        )
        .await;
        let error = next_event(&mut ws).await;
        assert_eq!(error["type"], "error");
        assert_eq!(error["error"]["code"], "invalid_event");
        let violations = sim.violations();
        assert_eq!(violations.len(), 1);
        assert!(
            violations[0].contains("input_audio_format"),
            "{violations:?}"
        );
        send(&mut ws, json!("not an event")).await;
        ws.send(Message::text("{oops")).await.unwrap();
        assert_eq!(next_event(&mut ws).await["error"]["code"], "invalid_event");
        assert_eq!(next_event(&mut ws).await["error"]["code"], "invalid_json");
        assert_eq!(sim.violations().len(), 3);
    }

    #[tokio::test]
    async fn scripted_function_call_waits_for_the_output() {
        let sim = RealtimeSim::start(SimConfig::default()).await;
        sim.set_function_calls(vec![FunctionCallScript {
            on_user_turn: 1,
            name: "check_availability".into(),
            arguments: r#"{"day":"monday"}"#.into(),
            repeat_done: true,
            interrupted: false,
        }]);
        let mut ws = ready(&sim).await;
        append_audio(&mut ws, 8000.0, 200).await;
        append_audio(&mut ws, 0.0, 400).await;
        let events = until(&mut ws, "response.done").await;
        let dones: Vec<&Value> = events
            .iter()
            .filter(|e| e["type"] == "response.function_call_arguments.done")
            .collect();
        assert_eq!(dones.len(), 2);
        assert_eq!(dones[0]["arguments"], r#"{"day":"monday"}"#);
        let call_id = dones[0]["call_id"].as_str().unwrap().to_string();
        assert!(delta_sizes(&events).is_empty());
        send(
            &mut ws,
            json!({"type": "conversation.item.create", "item": {
            "type": "function_call_output", "call_id": call_id, "output": "{\"slots\":[]}"}}),
        )
        .await;
        send(&mut ws, json!({"type": "response.create"})).await;
        let events = until(&mut ws, "response.done").await;
        assert_eq!(delta_sizes(&events).iter().sum::<usize>(), 8000);
        let log = &sim.sessions()[0];
        assert_eq!(
            log.function_outputs,
            vec![(call_id, "{\"slots\":[]}".to_string())]
        );
        assert!(sim.violations().is_empty(), "{:?}", sim.violations());
    }

    #[tokio::test]
    async fn refuses_bad_keys_and_the_beta_header() {
        let sim = RealtimeSim::start(SimConfig::default()).await;
        let url = format!("{}?model=gpt-realtime", sim.url);
        let mut request = url.as_str().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", "Bearer wrong".parse().unwrap());
        let refused = tokio_tungstenite::connect_async(request).await;
        match refused {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            }
            other => panic!("expected a 401, got {other:?}"),
        }
        let mut request = url.as_str().into_client_request().unwrap();
        let auth = format!("Bearer {}", sim.api_key).parse().unwrap();
        request.headers_mut().insert("authorization", auth);
        request
            .headers_mut()
            .insert("openai-beta", "realtime=v1".parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let close = loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => break frame.expect("a close frame"),
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        };
        assert_eq!(u16::from(close.code), 4000);
        assert_eq!(close.reason.as_str(), "beta_api_shape_disabled");
        let sessions = sim.sessions();
        assert!(!sessions[0].authorized);
        assert!(sessions[1].authorized);
        assert_eq!(sim.violations().len(), 1);
    }

    #[tokio::test]
    async fn faults_fire_on_time() {
        let sim = RealtimeSim::start(SimConfig::default()).await;
        sim.set_faults(vec![
            Fault::ErrorAfterMs {
                ms: 10,
                code: "rate_limit_exceeded".into(),
                message: "slow down".into(),
            },
            Fault::SessionExpiredAfterMs(50),
        ]);
        let mut ws = connect(&sim).await;
        let events = until(&mut ws, "error").await;
        assert_eq!(
            events.last().unwrap()["error"]["code"],
            "rate_limit_exceeded"
        );
        let expired = next_event(&mut ws).await;
        assert_eq!(expired["error"]["code"], "session_expired");
        let closed = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
        assert!(
            matches!(closed, Some(Ok(Message::Close(Some(_))))),
            "{closed:?}"
        );
        sim.set_faults(vec![Fault::DisconnectAfterMs(20)]);
        let mut ws = connect(&sim).await;
        next_event(&mut ws).await;
        let dropped = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
        assert!(
            !matches!(dropped, Some(Ok(Message::Close(_)))),
            "{dropped:?}"
        );
        drop(ws);
        let deadline = Instant::now() + WAIT;
        while !sim.sessions().iter().all(|s| s.closed) {
            assert!(Instant::now() < deadline, "sessions still open");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
