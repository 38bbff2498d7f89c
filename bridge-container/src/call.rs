//! One call: admission from the `start` message, the OpenAI Realtime session, and the relay
//! loop that carries audio both ways until the call ends, then the call record.
//!
//! The loop owns all per-call state and never awaits OpenAI: caller audio goes to a writer
//! task through a bounded channel (dropped, and counted, if OpenAI cannot keep up), so the
//! Twilio socket is always read promptly. Slow work (tools, a new OpenAI session) runs in
//! tasks whose results come back as events of the loop.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message as TwilioMessage, WebSocket};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use shared::auth::stream_token::StreamClaims;
use shared::domain::scenarios;
use shared::store::calls::BridgeSummary;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message as OpenAiMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::metrics::METRICS;
use crate::playout::{Out, Playout};
use crate::realtime::{self, Role, ServerEvent};
use crate::server::Bridge;
use crate::tools::{Effect, ToolContext, ToolOutput};
use crate::twilio::{self, Inbound};

type OpenAiSocket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type TwilioSink = SplitSink<WebSocket, TwilioMessage>;
type TwilioStream = SplitStream<WebSocket>;
/// A tool's result, keyed by the function call it answers.
type ToolResult = (String, ToolOutput);

/// Turns of the conversation kept to seed a new session (rotation or reconnect).
const HISTORY_TURNS: usize = 40;
/// Caller frames queued for the OpenAI writer before new ones are dropped.
const OPENAI_QUEUE: usize = 256;

/// Runs a call from the upgraded socket to the call record.
pub async fn run(bridge: Bridge, socket: WebSocket) {
    let (mut twilio_tx, mut twilio_rx) = socket.split();
    let admitted = match admit(&bridge, &mut twilio_rx).await {
        Ok(admitted) => admitted,
        Err(reason) => {
            METRICS.calls_refused.fetch_add(1, Relaxed);
            tracing::warn!(reason, "media stream refused");
            close_twilio(&mut twilio_tx, 1008, reason).await;
            return;
        }
    };
    METRICS.calls_total.fetch_add(1, Relaxed);
    METRICS.active_calls.fetch_add(1, Relaxed);
    let call_id = admitted.claims.call_id.clone();
    let tenant_id = admitted.claims.tid.clone();
    tracing::info!(call_id = %call_id, direction = ?admitted.claims.direction, "call connected");
    let summary = Call::new(&bridge, admitted, twilio_tx, twilio_rx)
        .run()
        .await;
    tracing::info!(call_id = %call_id, end_reason = %summary.end_reason, barge_ins = summary.barge_ins, "call ended");
    if let Err(e) = bridge
        .app
        .store
        .record_bridge_summary(&tenant_id, &call_id, &summary)
        .await
    {
        tracing::error!(call_id = %call_id, error = %e, "could not write the call record");
    }
    METRICS.active_calls.fetch_sub(1, Relaxed);
}

struct Admitted {
    claims: StreamClaims,
    stream_sid: String,
    instructions: String,
    voice: String,
}

/// Reads `connected`/`start`, verifies the stream token and claims the call (once per call,
/// only for the Call SID it was placed or answered with), and loads the scenario.
async fn admit(bridge: &Bridge, twilio_rx: &mut TwilioStream) -> Result<Admitted, &'static str> {
    let deadline = tokio::time::sleep(bridge.settings.start_timeout);
    tokio::pin!(deadline);
    let start = loop {
        tokio::select! {
            _ = &mut deadline => return Err("no start message"),
            message = twilio_rx.next() => match message {
                Some(Ok(TwilioMessage::Text(text))) => match twilio::parse(&text) {
                    Some(Inbound::Start { start }) => break start,
                    Some(Inbound::Connected) => continue,
                    _ => return Err("unexpected message before start"),
                },
                Some(Ok(TwilioMessage::Ping(_) | TwilioMessage::Pong(_))) => continue,
                _ => return Err("closed before start"),
            },
        }
    };
    let token = start
        .custom_parameters
        .get("token")
        .ok_or("no stream token")?;
    let claims = bridge
        .app
        .stream_tokens
        .verify(token)
        .map_err(|_| "invalid stream token")?;
    if let Some(twilio) = &bridge.app.config.telephony.twilio
        && twilio.account_sid != start.account_sid
    {
        return Err("stream from another Twilio account");
    }
    let claimed = bridge
        .app
        .store
        .claim_stream(&claims.tid, &claims.call_id, &start.call_sid)
        .await
        .map_err(|_| "call record unavailable")?;
    if !claimed {
        return Err("stream token already used or for another call");
    }
    let (persona, prompt, voice) = match scenarios::predefined(&claims.scenario) {
        Some(s) => (
            s.persona.to_string(),
            s.prompt.to_string(),
            s.voice_config.voice.to_string(),
        ),
        None => {
            let custom = bridge
                .app
                .store
                .scenario(&claims.tid, &claims.scenario)
                .await
                .map_err(|_| "scenario not found")?;
            let voice = scenarios::resolve_voice(&custom.fields.voice_type).unwrap_or("marin");
            (
                custom.fields.persona,
                custom.fields.prompt,
                voice.to_string(),
            )
        }
    };
    Ok(Admitted {
        instructions: scenarios::instructions(&persona, &prompt, claims.direction, None),
        voice,
        stream_sid: start.stream_sid,
        claims,
    })
}

async fn close_twilio(tx: &mut TwilioSink, code: u16, reason: &'static str) {
    let _ = tx
        .send(TwilioMessage::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

/// An open Realtime session: its writer (through the queue) and its event stream.
struct OpenAi {
    tx: mpsc::Sender<OpenAiMessage>,
    rx: SplitStream<OpenAiSocket>,
}

/// Opens a Realtime session configured for this call and waits until it is ready; `history`
/// seeds it with the conversation so far (rotation and reconnects).
async fn open_session(
    bridge: Bridge,
    instructions: String,
    voice: String,
    history: Vec<(Role, String)>,
) -> Result<OpenAi, String> {
    let openai = &bridge.app.config.openai;
    let key = openai
        .api_key
        .clone()
        .ok_or("OPENAI_API_KEY is not configured")?;
    let url = format!("{}?model={}", openai.realtime_url, openai.model);
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {key}")
            .parse()
            .map_err(|_| "bad API key header")?,
    );
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(2 * 1024);
    let connect = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    let (socket, _) = tokio::time::timeout(bridge.settings.openai_connect_timeout, connect)
        .await
        .map_err(|_| "OpenAI connect timed out")?
        .map_err(|e| format!("OpenAI connect failed: {e}"))?;
    let (mut sink, mut rx) = socket.split();
    let setup = async {
        wait_for(&mut rx, |e| matches!(e, ServerEvent::SessionCreated)).await?;
        let update = realtime::session_update(
            &instructions,
            &voice,
            &openai.transcription_model,
            bridge.tools.definitions(),
        );
        sink.send(OpenAiMessage::text(update))
            .await
            .map_err(|e| e.to_string())?;
        for (role, text) in &history {
            sink.send(OpenAiMessage::text(realtime::history_item(*role, text)))
                .await
                .map_err(|e| e.to_string())?;
        }
        wait_for(&mut rx, |e| matches!(e, ServerEvent::SessionUpdated)).await
    };
    tokio::time::timeout(bridge.settings.openai_connect_timeout, setup)
        .await
        .map_err(|_| "OpenAI session set-up timed out".to_string())??;
    let (tx, mut queue) = mpsc::channel::<OpenAiMessage>(OPENAI_QUEUE);
    tokio::spawn(async move {
        // Writes everything queued, flushing once per batch.
        while let Some(first) = queue.recv().await {
            if sink.feed(first).await.is_err() {
                return;
            }
            while let Ok(next) = queue.try_recv() {
                if sink.feed(next).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
        let _ = sink.close().await;
    });
    Ok(OpenAi { tx, rx })
}

async fn wait_for(
    rx: &mut SplitStream<OpenAiSocket>,
    wanted: impl Fn(&ServerEvent) -> bool,
) -> Result<(), String> {
    while let Some(message) = rx.next().await {
        let message = message.map_err(|e| e.to_string())?;
        if let OpenAiMessage::Text(text) = message {
            let event = realtime::parse(&text);
            if let ServerEvent::Error { error } = &event {
                return Err(format!(
                    "OpenAI error: {}",
                    error.code.as_deref().unwrap_or("unknown")
                ));
            }
            if wanted(&event) {
                return Ok(());
            }
        }
    }
    Err("OpenAI closed the session".into())
}

/// What ends the loop.
enum Next {
    Continue,
    End(&'static str),
}

struct Call {
    bridge: Bridge,
    claims: StreamClaims,
    stream_sid: String,
    instructions: String,
    voice: String,
    twilio_tx: TwilioSink,
    twilio_rx: TwilioStream,
    playout: Playout,
    started: Instant,
    /// Caller audio kept while no session is usable (start-up, reconnect).
    buffered: VecDeque<String>,
    history: VecDeque<(Role, String)>,
    pending_tools: HashMap<String, (String, String)>,
    ran_tools: HashSet<String>,
    tool_results: (mpsc::Sender<ToolResult>, mpsc::Receiver<ToolResult>),
    response_active: bool,
    hang_up_when_heard: bool,
    summary: BridgeSummary,
}

impl Call {
    fn new(
        bridge: &Bridge,
        admitted: Admitted,
        twilio_tx: TwilioSink,
        twilio_rx: TwilioStream,
    ) -> Self {
        let now = Instant::now();
        Call {
            playout: Playout::new(
                bridge.settings.playout_lead,
                bridge.settings.mark_every,
                now,
            ),
            bridge: bridge.clone(),
            claims: admitted.claims,
            stream_sid: admitted.stream_sid,
            instructions: admitted.instructions,
            voice: admitted.voice,
            twilio_tx,
            twilio_rx,
            started: now,
            buffered: VecDeque::new(),
            history: VecDeque::new(),
            pending_tools: HashMap::new(),
            ran_tools: HashSet::new(),
            tool_results: mpsc::channel(8),
            response_active: false,
            hang_up_when_heard: false,
            summary: BridgeSummary::default(),
        }
    }

    fn session_task(&self) -> oneshot::Receiver<Result<OpenAi, String>> {
        let (tx, rx) = oneshot::channel();
        let future = open_session(
            self.bridge.clone(),
            self.instructions.clone(),
            self.voice.clone(),
            self.history.iter().cloned().collect(),
        );
        tokio::spawn(async move {
            let _ = tx.send(future.await);
        });
        rx
    }

    async fn run(mut self) -> BridgeSummary {
        let reason = self.relay().await;
        if reason != "caller_hung_up" {
            // Closing the stream lets the TwiML's <Hangup/> end the call.
            close_twilio(&mut self.twilio_tx, 1000, "call ended").await;
        }
        self.summary.end_reason = reason.to_string();
        self.summary.stream_ms = self.started.elapsed().as_millis() as u64;
        self.summary.agent_audio_ms = self.playout.agent_audio_ms();
        self.summary
    }

    async fn relay(&mut self) -> &'static str {
        let max_duration = tokio::time::sleep(self.bridge.app.config.telephony.max_call_duration);
        tokio::pin!(max_duration);
        let rotate_at = tokio::time::sleep(self.bridge.settings.rotate_after);
        tokio::pin!(rotate_at);
        let mut rotate_due = false;
        let mut ending = self.bridge.ending();
        let mut openai: Option<OpenAi> = None;
        // The first session, then any replacement (rotation or reconnect).
        let mut connecting = Some(self.session_task());
        let mut greeted = false;
        let mut wake: Option<Instant> = None;
        let mut out = Vec::new();
        loop {
            let timer = async {
                match wake {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            let openai_next = async {
                match openai.as_mut() {
                    Some(o) => o.rx.next().await,
                    None => std::future::pending().await,
                }
            };
            let connected = async {
                match connecting.as_mut() {
                    Some(rx) => rx
                        .await
                        .unwrap_or_else(|_| Err("session task failed".into())),
                    None => std::future::pending().await,
                }
            };
            let step = tokio::select! {
                biased;
                message = self.twilio_rx.next() => self.on_twilio(message, openai.as_ref()),
                event = openai_next => match event {
                    Some(Ok(OpenAiMessage::Text(text))) => {
                        self.on_openai(realtime::parse(&text), openai.as_ref(), &mut out).await
                    }
                    Some(Ok(_)) => Next::Continue,
                    Some(Err(_)) | None => {
                        // Recover: a new session seeded with the conversation so far.
                        tracing::warn!(call_id = %self.claims.call_id, "OpenAI session lost; reconnecting");
                        openai = None;
                        self.response_active = false;
                        if connecting.is_none() {
                            connecting = Some(self.session_task());
                        }
                        Next::Continue
                    }
                },
                result = connected => {
                    connecting = None;
                    match result {
                        Ok(session) => {
                            // Every session after the first replaced one (rotation or reconnect).
                            if greeted {
                                self.summary.session_rotations += 1;
                            }
                            for payload in self.buffered.drain(..) {
                                let _ = session.tx.try_send(OpenAiMessage::text(realtime::append(&payload)));
                            }
                            if !greeted {
                                // The agent speaks first, as its instructions for the direction say.
                                greeted = true;
                                let _ = session.tx.try_send(OpenAiMessage::text(realtime::response_create(None)));
                            }
                            openai = Some(session);
                            Next::Continue
                        }
                        Err(e) if openai.is_some() => {
                            tracing::warn!(call_id = %self.claims.call_id, error = %e, "session rotation failed; keeping the current session");
                            Next::Continue
                        }
                        Err(e) => {
                            tracing::warn!(call_id = %self.claims.call_id, error = %e, "no OpenAI session");
                            Next::End("openai_unavailable")
                        }
                    }
                },
                Some((call_id, output)) = self.tool_results.1.recv() => self.on_tool_output(call_id, output, openai.as_ref()),
                _ = timer => Next::Continue,
                _ = &mut max_duration => Next::End("max_duration"),
                _ = &mut rotate_at, if !rotate_due => { rotate_due = true; Next::Continue }
                _ = ending.changed() => Next::End("shutdown"),
            };
            if let Next::End(reason) = step {
                if let Some(o) = openai.take() {
                    drop(o.tx);
                }
                return reason;
            }
            let now = Instant::now();
            wake = self.flush_playout(now, &mut out).await;
            if self.hang_up_when_heard && !self.playout.speaking(now) {
                return "agent_ended";
            }
            if self.hang_up_when_heard {
                wake = Some(wake.map_or(now + Duration::from_millis(20), |w| {
                    w.min(now + Duration::from_millis(20))
                }));
            }
            // Rotate between turns: nothing being said either way.
            if rotate_due
                && connecting.is_none()
                && openai.is_some()
                && !self.response_active
                && !self.playout.speaking(now)
            {
                rotate_due = false;
                rotate_at
                    .as_mut()
                    .reset(tokio::time::Instant::now() + self.bridge.settings.rotate_after);
                connecting = Some(self.session_task());
            }
        }
    }

    fn on_twilio(
        &mut self,
        message: Option<Result<TwilioMessage, axum::Error>>,
        openai: Option<&OpenAi>,
    ) -> Next {
        let text = match message {
            Some(Ok(TwilioMessage::Text(text))) => text,
            Some(Ok(TwilioMessage::Close(_))) | Some(Err(_)) | None => {
                return Next::End("caller_hung_up");
            }
            Some(Ok(_)) => return Next::Continue,
        };
        let received = Instant::now();
        // The hot path: caller audio, relayed without a full parse.
        if let Some(payload) = twilio::media_payload(&text) {
            self.relay_caller_audio(payload, received, openai);
            return Next::Continue;
        }
        match twilio::parse(&text) {
            Some(Inbound::Media { media })
                if media.track.as_deref().is_none_or(|t| t == "inbound") =>
            {
                self.relay_caller_audio(&media.payload, received, openai);
                Next::Continue
            }
            Some(Inbound::Mark { mark }) => {
                self.playout.ack(&mark.name, received);
                Next::Continue
            }
            Some(Inbound::Stop) => Next::End("caller_hung_up"),
            _ => Next::Continue,
        }
    }

    fn relay_caller_audio(&mut self, payload: &str, received: Instant, openai: Option<&OpenAi>) {
        match openai {
            Some(o) => match o
                .tx
                .try_send(OpenAiMessage::text(realtime::append(payload)))
            {
                Ok(()) => {
                    METRICS.frames_to_openai.fetch_add(1, Relaxed);
                    METRICS.inbound_relay.record(received.elapsed());
                }
                Err(_) => {
                    METRICS.frames_dropped.fetch_add(1, Relaxed);
                }
            },
            None => {
                if self.buffered.len() == self.bridge.settings.max_buffered_frames {
                    self.buffered.pop_front();
                }
                self.buffered.push_back(payload.to_string());
            }
        }
    }

    async fn on_openai(
        &mut self,
        event: ServerEvent,
        openai: Option<&OpenAi>,
        out: &mut Vec<Out>,
    ) -> Next {
        let now = Instant::now();
        match event {
            ServerEvent::AudioDelta { item_id, delta } => {
                if self.playout.is_muted(&item_id) {
                    return Next::Continue;
                }
                if let Ok(audio) = STANDARD.decode(delta.as_bytes()) {
                    let idle = !self.playout.speaking(now);
                    self.playout.push(&item_id, &audio);
                    self.flush_playout(now, out).await;
                    if idle {
                        METRICS.outbound_relay.record(now.elapsed());
                    }
                }
            }
            ServerEvent::AudioDone { item_id } => self.playout.finish(&item_id),
            ServerEvent::SpeechStarted => {
                if let Some((item_id, heard_ms)) = self.playout.interrupt(now) {
                    self.summary.barge_ins += 1;
                    METRICS.barge_ins.fetch_add(1, Relaxed);
                    self.send_twilio(twilio::clear(&self.stream_sid)).await;
                    if let Some(o) = openai {
                        let _ = o
                            .tx
                            .try_send(OpenAiMessage::text(realtime::truncate(&item_id, heard_ms)));
                    }
                }
            }
            ServerEvent::ResponseCreated => {
                self.response_active = true;
                self.summary.responses += 1;
            }
            ServerEvent::FunctionCallArgumentsDone {
                call_id,
                name,
                arguments,
            } => {
                // Also sent for interrupted responses: run only once the item completed.
                if !self.ran_tools.contains(&call_id) {
                    self.pending_tools.insert(call_id, (name, arguments));
                }
            }
            ServerEvent::OutputItemDone { item } => {
                if item.kind == "function_call"
                    && item.status.as_deref() == Some("completed")
                    && let Some(call_id) = item.call_id
                {
                    self.run_tool(&call_id);
                }
            }
            ServerEvent::ResponseDone { response } => {
                self.response_active = false;
                if let Some(usage) = &response.usage {
                    self.summary.input_text_tokens += usage.input_token_details.text_tokens;
                    self.summary.input_audio_tokens += usage.input_token_details.audio_tokens;
                    self.summary.output_text_tokens += usage.output_token_details.text_tokens;
                    self.summary.output_audio_tokens += usage.output_token_details.audio_tokens;
                }
                if response.status.as_deref() == Some("completed") {
                    for item in &response.output {
                        if item.kind == "function_call"
                            && let Some(call_id) = &item.call_id
                        {
                            self.run_tool(call_id);
                        }
                    }
                }
                // Calls of a cancelled or failed response never run.
                self.pending_tools.clear();
            }
            ServerEvent::InputTranscript { transcript } => self.remember(Role::User, transcript),
            ServerEvent::OutputTranscript { transcript } => {
                self.remember(Role::Assistant, transcript)
            }
            ServerEvent::Error { error } => {
                if error.is_fatal() {
                    tracing::warn!(call_id = %self.claims.call_id, code = ?error.code, "fatal OpenAI error");
                    return Next::End("openai_error");
                }
                tracing::debug!(call_id = %self.claims.call_id, code = ?error.code, "OpenAI error (recoverable)");
            }
            ServerEvent::SessionCreated | ServerEvent::SessionUpdated | ServerEvent::Other => {}
        }
        Next::Continue
    }

    fn remember(&mut self, role: Role, text: String) {
        if text.trim().is_empty() {
            return;
        }
        if self.history.len() == HISTORY_TURNS {
            self.history.pop_front();
        }
        self.history.push_back((role, text));
    }

    /// Runs a completed function call once per `call_id`, off the loop.
    fn run_tool(&mut self, call_id: &str) {
        let Some((name, arguments)) = self.pending_tools.remove(call_id) else {
            return;
        };
        if !self.ran_tools.insert(call_id.to_string()) {
            return;
        }
        let future = self.bridge.tools.run(
            &name,
            &arguments,
            ToolContext {
                tenant_id: self.claims.tid.clone(),
                call_id: self.claims.call_id.clone(),
            },
        );
        let results = self.tool_results.0.clone();
        let call_id = call_id.to_string();
        tracing::info!(call_id = %self.claims.call_id, tool = %name, "running tool");
        tokio::spawn(async move {
            let output = future.await;
            let _ = results.send((call_id, output)).await;
        });
    }

    fn on_tool_output(
        &mut self,
        call_id: String,
        output: ToolOutput,
        openai: Option<&OpenAi>,
    ) -> Next {
        if let Some(o) = openai {
            let _ =
                o.tx.try_send(OpenAiMessage::text(realtime::function_call_output(
                    &call_id,
                    &output.output,
                )));
            if output.respond {
                let _ =
                    o.tx.try_send(OpenAiMessage::text(realtime::response_create(None)));
            }
        }
        if output.effect == Effect::EndCall {
            self.hang_up_when_heard = true;
        }
        Next::Continue
    }

    /// Sends whatever playout allows now; returns when to come back.
    async fn flush_playout(&mut self, now: Instant, out: &mut Vec<Out>) -> Option<Instant> {
        let next = self.playout.poll(now, out);
        if out.is_empty() {
            return next;
        }
        for item in out.drain(..) {
            let text = match item {
                Out::Media(payload) => {
                    METRICS.frames_to_twilio.fetch_add(1, Relaxed);
                    twilio::media(&self.stream_sid, &payload)
                }
                Out::Mark(name) => twilio::mark(&self.stream_sid, &name),
            };
            let _ = self.twilio_tx.feed(TwilioMessage::Text(text.into())).await;
        }
        let _ = self.twilio_tx.flush().await;
        next
    }

    async fn send_twilio(&mut self, text: String) {
        let _ = self.twilio_tx.send(TwilioMessage::Text(text.into())).await;
    }
}
