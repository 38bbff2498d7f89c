//! The relay loop of one call: Twilio and OpenAI events, tool outputs, session results and
//! timers, one at a time, each handled without awaiting OpenAI. After every event the agent's
//! audio is flushed as far as playout allows, and the loop decides whether to hang up (after
//! `end_call`, once the caller heard everything) or to rotate the session (between turns).

use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::{SinkExt, StreamExt};
use shared::allowance::CallLength;
use shared::auth::stream_token::StreamClaims;
use shared::domain::calls::Direction;
use shared::store::calls::BridgeSummary;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::{self, Message as OpenAiMessage, Message as TwilioMessage};

use super::TwilioSocket;
use super::admission::{Admitted, close_twilio};
use super::session::{self, OpenAi, SessionConfig};
use super::tool_calls::{self, ToolCalls};
use super::voicemail::{Verdict, Voicemail};
use super::wrap_up;
use crate::metrics::METRICS;
use crate::playout::{Out, Playout};
use crate::realtime::{self, Role, ServerEvent};
use crate::server::Bridge;
use crate::tools::{Effect, ToolContext};
use crate::twilio::{self, Inbound};

/// Turns of the conversation kept to seed a new session (rotation or reconnect).
const HISTORY_TURNS: usize = 40;

/// Why a call ended. [`EndReason::as_str`] is what the call record stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    CallerHungUp,
    /// The model called `end_call` and the caller heard its goodbye.
    AgentEnded,
    MaxDuration,
    /// The month's minutes ran out (the call was given what was left when it started).
    MinutesUsedUp,
    /// The drain timeout passed while the call was live.
    Shutdown,
    /// No session could be opened, at the start or after losing one.
    OpenAiUnavailable,
    /// OpenAI reported an error after which the session cannot go on.
    OpenAiError,
    /// The model called `transfer_call` and Twilio took the call to the person.
    Transferred,
    /// An answering machine took the call and heard the agent's message.
    VoicemailLeft,
    /// A fax machine answered: nobody to talk to.
    NotAPerson,
}

impl EndReason {
    /// Why a call that reached its end time ended: its length was the month's minutes left,
    /// or the longest call.
    pub fn time_up(length: CallLength) -> EndReason {
        if length.by_cap {
            EndReason::MinutesUsedUp
        } else {
            EndReason::MaxDuration
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::CallerHungUp => "caller_hung_up",
            EndReason::AgentEnded => "agent_ended",
            EndReason::MaxDuration => "max_duration",
            EndReason::MinutesUsedUp => "minutes_used_up",
            EndReason::Shutdown => "shutdown",
            EndReason::OpenAiUnavailable => "openai_unavailable",
            EndReason::OpenAiError => "openai_error",
            EndReason::Transferred => "transferred",
            EndReason::VoicemailLeft => "voicemail_left",
            EndReason::NotAPerson => "not_a_person",
        }
    }
}

/// What ends the loop.
enum Next {
    Continue,
    End(EndReason),
}

/// `transfer_call`'s ask, kept until the caller has heard the agent say it is transferring.
struct TransferAsk {
    reason: Option<String>,
}

pub(super) struct Call {
    bridge: Bridge,
    claims: StreamClaims,
    stream_sid: String,
    session: SessionConfig,
    twilio: Box<TwilioSocket>,
    playout: Playout,
    started: Instant,
    /// Caller audio kept while no session is usable (start-up, reconnect).
    buffered: VecDeque<String>,
    history: VecDeque<(Role, String)>,
    tool_calls: ToolCalls,
    response_active: bool,
    hang_up_when_heard: bool,
    /// The scenario's transfer number, and `transfer_call`'s ask for it with the model's reason
    /// (the call is redirected once the caller heard the agent say so).
    transfer_to: Option<String>,
    transfer_when_heard: Option<TransferAsk>,
    /// How long the call may run.
    length: CallLength,
    /// An outbound call's wait for who answered, and its message for a machine.
    voicemail: Option<Voicemail>,
    summary: BridgeSummary,
}

impl Call {
    /// The call, on the heap: the call's task and its loop then move and hold a pointer.
    pub(super) fn new(bridge: &Bridge, admitted: Admitted, twilio: Box<TwilioSocket>) -> Box<Self> {
        let now = Instant::now();
        let context = ToolContext {
            tenant_id: admitted.claims.tid.clone(),
            call_id: admitted.claims.call_id.clone(),
        };
        let voicemail = (admitted.claims.direction == Direction::Outbound
            && bridge.app.config.telephony.voicemail_detection)
            .then(|| {
                Voicemail::start(
                    bridge.app.store.clone(),
                    &admitted.claims.tid,
                    &admitted.claims.call_id,
                    admitted.voicemail_message.clone(),
                )
            });
        Box::new(Call {
            playout: Playout::new(
                bridge.settings.playout_lead,
                bridge.settings.mark_every,
                now,
            ),
            bridge: bridge.clone(),
            claims: admitted.claims,
            stream_sid: admitted.stream_sid,
            session: SessionConfig {
                instructions: bridge.session_texts.intern(admitted.instructions),
                voice: admitted.voice,
                tools: bridge
                    .session_texts
                    .intern(admitted.tools.definitions().to_string()),
            },
            twilio,
            started: now,
            buffered: VecDeque::new(),
            history: VecDeque::new(),
            tool_calls: ToolCalls::new(admitted.tools, context, bridge.settings.tool_timeout),
            response_active: false,
            hang_up_when_heard: false,
            transfer_to: admitted.transfer_to,
            length: admitted.length,
            transfer_when_heard: None,
            voicemail,
            summary: BridgeSummary::default(),
        })
    }

    fn session_task(&self) -> oneshot::Receiver<Result<OpenAi, session::Unavailable>> {
        session::spawn(
            &self.bridge,
            &self.session,
            self.history.iter().cloned().collect(),
        )
    }

    pub(super) async fn run(mut self: Box<Self>) -> BridgeSummary {
        let reason = self.relay().await;
        if reason != EndReason::CallerHungUp {
            // Closing the stream lets the TwiML's <Hangup/> end the call.
            close_twilio(&mut self.twilio, 1000, "call ended").await;
        }
        self.summary.end_reason = reason.as_str().to_string();
        self.summary.stream_ms = self.started.elapsed().as_millis() as u64;
        self.summary.agent_audio_ms = self.playout.agent_audio_ms();
        self.summary
    }

    async fn relay(&mut self) -> EndReason {
        let started = tokio::time::Instant::now();
        let end_at = started + self.length.limit;
        let mut wrap_up_at = wrap_up::moment(started, self.length.limit);
        // When the session is due for rotation; `None` once due, until a new one starts.
        let mut rotate_at = Some(started + self.bridge.settings.rotate_after);
        let mut ending = self.bridge.ending();
        let shutdown = ending.changed();
        tokio::pin!(shutdown);
        let mut openai: Option<OpenAi> = None;
        // The first session, then any replacement (rotation or reconnect).
        let mut connecting = Some(self.session_task());
        let mut greeted = false;
        // One timer for the whole call, set to the earliest of the call's deadlines (its end,
        // the next rotation, playout's next moment) and moved only when that changes: most
        // events leave it where it is.
        let timer = tokio::time::sleep_until(end_at);
        tokio::pin!(timer);
        let mut armed = end_at;
        let mut out = Vec::new();
        loop {
            let openai_next = async {
                match openai.as_mut() {
                    Some(o) => std::future::poll_fn(|cx| o.poll_next_event(cx)).await,
                    None => std::future::pending().await,
                }
            };
            let connected = async {
                match connecting.as_mut() {
                    Some(rx) => rx
                        .await
                        .unwrap_or_else(|_| Err(session::Unavailable::lost_task())),
                    None => std::future::pending().await,
                }
            };
            let step = tokio::select! {
                biased;
                message = self.twilio.next() => self.on_twilio(message, openai.as_mut()),
                event = openai_next => match event {
                    Some(Ok(OpenAiMessage::Text(text))) => match realtime::audio_delta(&text) {
                        // The hot path: the agent's audio, read without a full parse.
                        Some(audio) => {
                            self.on_audio(audio.item_id, audio.delta, &mut out).await;
                            Next::Continue
                        }
                        None => {
                            self.on_openai(realtime::parse(&text), openai.as_mut(), &mut out).await
                        }
                    },
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
                        Ok(mut session) => {
                            // Every session after the first replaced one (rotation or reconnect).
                            if greeted {
                                self.summary.session_rotations += 1;
                            }
                            if !self.holding() {
                                for payload in self.buffered.drain(..) {
                                    session.send(realtime::append(&payload));
                                }
                                // Up to seconds of audio were held: give that memory back.
                                self.buffered = VecDeque::new();
                            }
                            if let Some(message) =
                                self.voicemail.as_mut().and_then(Voicemail::take_deferred)
                            {
                                greeted = true;
                                session.send(realtime::response_create(Some(&message)));
                            } else if !greeted {
                                // The agent speaks first, as its instructions for the direction
                                // say (once it knows a person answered, when it asked).
                                greeted = true;
                                if !self.holding() {
                                    session.send(realtime::response_create(None));
                                }
                            }
                            openai = Some(session);
                            Next::Continue
                        }
                        Err(e) if openai.is_some() => {
                            tracing::warn!(call_id = %self.claims.call_id, error = %e.detail, "session rotation failed; keeping the current session");
                            Next::Continue
                        }
                        Err(e) => {
                            tracing::warn!(call_id = %self.claims.call_id, error = %e.detail, "no OpenAI session");
                            self.summary.end_detail = Some(if greeted {
                                format!("the OpenAI session was lost and none could replace it: {}", e.detail)
                            } else {
                                e.detail
                            });
                            Next::End(EndReason::OpenAiUnavailable)
                        }
                    }
                },
                verdict = next_verdict(&mut self.voicemail) => {
                    self.on_verdict(verdict, openai.as_mut()).await
                }
                Some((call_id, output)) = self.tool_calls.next_output() => {
                    match tool_calls::on_tool_output(&call_id, output, openai.as_mut()) {
                        Effect::EndCall => self.hang_up_when_heard = true,
                        Effect::Transfer { reason } => {
                            if self.transfer_to.is_some() {
                                self.transfer_when_heard = Some(TransferAsk { reason });
                            }
                        }
                        Effect::None => {}
                    }
                    Next::Continue
                }
                _ = &mut timer => {
                    let now = tokio::time::Instant::now();
                    if now >= end_at {
                        Next::End(EndReason::time_up(self.length))
                    } else {
                        if rotate_at.is_some_and(|at| now >= at) {
                            rotate_at = None;
                        }
                        Next::Continue
                    }
                }
                _ = &mut shutdown => Next::End(EndReason::Shutdown),
            };
            if let Next::End(reason) = step {
                // Dropping the session closes its socket.
                drop(openai.take());
                return reason;
            }
            // What the event queued for OpenAI goes out now, as far as the socket takes it.
            if let Some(o) = openai.as_mut() {
                o.write_now().await;
            }
            let now = Instant::now();
            let next_wake = self.flush_playout(now, &mut out).await;
            if self.hang_up_when_heard && !self.playout.speaking(now) {
                return if self.voicemail.as_ref().is_some_and(Voicemail::spoken) {
                    EndReason::VoicemailLeft
                } else {
                    EndReason::AgentEnded
                };
            }
            let hold_until = self.voicemail.as_ref().and_then(Voicemail::hold_deadline);
            if hold_until.is_some_and(|until| now >= until) {
                tracing::info!(call_id = %self.claims.call_id, "no answering-machine verdict yet; greeting");
                self.release_hold(openai.as_mut());
                if let Some(o) = openai.as_mut() {
                    o.write_now().await;
                }
            }
            if self.transfer_when_heard.is_some() && !self.playout.speaking(now) {
                let ask = self.transfer_when_heard.take();
                let reason = ask.and_then(|ask| ask.reason);
                if self.transfer(reason.as_deref(), openai.as_mut()).await {
                    return EndReason::Transferred;
                }
            }
            let next_wake = if self.hang_up_when_heard || self.transfer_when_heard.is_some() {
                let soon = now + Duration::from_millis(20);
                Some(next_wake.map_or(soon, |w| w.min(soon)))
            } else {
                next_wake
            };
            if wrap_up_at.is_some_and(|at| tokio::time::Instant::from_std(now) >= at) {
                wrap_up_at = None;
                self.wrap_up(end_at, openai.as_mut());
                if let Some(o) = openai.as_mut() {
                    o.write_now().await;
                }
            }
            let hold_until = self.voicemail.as_ref().and_then(Voicemail::hold_deadline);
            let deadline = [
                Some(end_at),
                wrap_up_at,
                rotate_at,
                next_wake.map(Into::into),
                hold_until.map(Into::into),
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(end_at);
            // (A timer that went off is re-armed even for the same moment, so it never spins.)
            if deadline != armed || timer.is_elapsed() {
                timer.as_mut().reset(deadline);
                armed = deadline;
            }
            // Rotate between turns: nothing being said either way.
            if rotate_at.is_none()
                && connecting.is_none()
                && openai.is_some()
                && !self.response_active
                && !self.playout.speaking(now)
            {
                rotate_at = Some(tokio::time::Instant::now() + self.bridge.settings.rotate_after);
                connecting = Some(self.session_task());
            }
        }
    }

    fn on_twilio(
        &mut self,
        message: Option<Result<TwilioMessage, tungstenite::Error>>,
        openai: Option<&mut OpenAi>,
    ) -> Next {
        let text = match message {
            Some(Ok(TwilioMessage::Text(text))) => text,
            Some(Ok(TwilioMessage::Close(_))) | Some(Err(_)) | None => {
                return Next::End(EndReason::CallerHungUp);
            }
            Some(Ok(_)) => return Next::Continue,
        };
        let received = Instant::now();
        // The hot paths: caller audio relayed and mark echoes read, without a full parse.
        if let Some(payload) = twilio::media_payload(&text) {
            self.relay_caller_audio(payload, received, openai);
            return Next::Continue;
        }
        if let Some(name) = twilio::mark_name(&text) {
            self.playout.ack(name, received);
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
            Some(Inbound::Dtmf { dtmf: Some(dtmf) }) => {
                if let Some(key) = dtmf.key() {
                    self.on_key(key, openai);
                }
                Next::Continue
            }
            Some(Inbound::Stop) => Next::End(EndReason::CallerHungUp),
            _ => Next::Continue,
        }
    }

    /// Whether the greeting and the caller's audio wait for who answered.
    fn holding(&self) -> bool {
        self.voicemail.as_ref().is_some_and(Voicemail::holding)
    }

    /// Acts on who answered: a person gets the greeting, a machine the message, a fax nothing.
    async fn on_verdict(&mut self, verdict: Verdict, openai: Option<&mut OpenAi>) -> Next {
        tracing::info!(call_id = %self.claims.call_id, ?verdict, "who answered");
        match verdict {
            Verdict::Person => self.release_hold(openai),
            Verdict::Fax => return Next::End(EndReason::NotAPerson),
            Verdict::Machine => self.leave_voicemail(openai).await,
        }
        Next::Continue
    }

    /// Ends the hold (once): the model hears what the person said meanwhile and, unless it
    /// already answered them, greets. Without a session yet, the session greets when it opens.
    fn release_hold(&mut self, openai: Option<&mut OpenAi>) {
        if !self.voicemail.as_mut().is_some_and(Voicemail::release) {
            return;
        }
        let Some(openai) = openai else {
            return;
        };
        for payload in self.buffered.drain(..) {
            openai.send(realtime::append(&payload));
        }
        self.buffered = VecDeque::new();
        if self.summary.responses == 0 && !self.response_active {
            openai.send(realtime::response_create(None));
        }
    }

    /// A machine's message ended: whatever the agent was saying stops (the machine records
    /// only from its beep), and the message is asked for.
    async fn leave_voicemail(&mut self, openai: Option<&mut OpenAi>) {
        // The machine's greeting was no part of a conversation.
        self.buffered = VecDeque::new();
        let Some(voicemail) = self.voicemail.as_mut() else {
            return;
        };
        let instructions = voicemail.leave(self.summary.responses, &self.session.instructions);
        let Some(openai) = openai else {
            voicemail.defer(instructions);
            return;
        };
        if self.response_active {
            openai.send(realtime::response_cancel());
        }
        if let Some((item_id, heard_ms)) = self.playout.interrupt(Instant::now()) {
            openai.send(realtime::truncate(&item_id, heard_ms));
            self.send_twilio(twilio::clear(&self.stream_sid)).await;
        }
        openai.send(realtime::response_create(Some(&instructions)));
    }

    /// Hands the call to the scenario's transfer number; `true` once Twilio has taken it. A
    /// transfer that fails leaves the call with the agent, which is told so and answers (the
    /// record says why it failed).
    async fn transfer(&mut self, reason: Option<&str>, openai: Option<&mut OpenAi>) -> bool {
        let Some(to) = self.transfer_to.clone() else {
            return false;
        };
        let (tenant_id, call_id) = (&self.claims.tid, &self.claims.call_id);
        let asked = shared::transfer::Transfer { to: &to, reason };
        let Err(e) = shared::transfer::transfer(&self.bridge.app, tenant_id, call_id, asked).await
        else {
            return true;
        };
        let text = format!(
            "[The transfer to a person did not go through ({}). Tell the caller, and offer to help them yourself or to take a message.]",
            e.problem().detail
        );
        if let Some(openai) = openai {
            openai.send(realtime::history_item(Role::User, &text));
            if !self.response_active {
                openai.send(realtime::response_create(None));
            }
            openai.write_now().await;
        }
        self.remember(Role::User, text);
        false
    }

    /// The call's time is nearly up: the model is told so, to say goodbye.
    fn wrap_up(&mut self, end_at: tokio::time::Instant, openai: Option<&mut OpenAi>) {
        let text = wrap_up::notice(end_at - tokio::time::Instant::now());
        self.tell_model(text, openai);
    }

    /// A keypad press reaches the model as a line from the caller, and the model answers it
    /// (so a scenario's "press 1 to confirm" works); the audio the model hears has no tones.
    fn on_key(&mut self, key: char, openai: Option<&mut OpenAi>) {
        self.tell_model(
            format!("[The caller pressed {key} on the phone's keypad.]"),
            openai,
        );
    }

    /// A line for the model from the call itself (a keypress, the time running out), which the
    /// model answers. While a response is playing, the line waits in the conversation for the
    /// next turn (OpenAI refuses a second response while one is active). Kept in the history
    /// too, so a session that replaces this one knows of it.
    fn tell_model(&mut self, text: String, openai: Option<&mut OpenAi>) {
        if let Some(openai) = openai {
            openai.send(realtime::history_item(Role::User, &text));
            if !self.response_active {
                openai.send(realtime::response_create(None));
            }
        }
        self.remember(Role::User, text);
    }

    fn relay_caller_audio(
        &mut self,
        payload: &str,
        received: Instant,
        openai: Option<&mut OpenAi>,
    ) {
        // Held back while it is not known whether a person answered.
        let holding = self.holding();
        match openai.filter(|_| !holding) {
            Some(o) => {
                if o.send(realtime::append(payload)) {
                    METRICS.frames_to_openai.fetch_add(1, Relaxed);
                    METRICS.inbound_relay.record(received.elapsed());
                } else {
                    METRICS.frames_dropped.fetch_add(1, Relaxed);
                }
            }
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
        openai: Option<&mut OpenAi>,
        out: &mut Vec<Out>,
    ) -> Next {
        let now = Instant::now();
        if let ServerEvent::ResponseDone { response } = &event
            && let Some(voicemail) = self.voicemail.as_mut()
            && voicemail.on_response_done(self.summary.responses, response.status.as_deref())
        {
            // The machine has the message once it has heard it all.
            self.hang_up_when_heard = true;
        }
        let Some(event) =
            self.tool_calls
                .on_response_event(event, &mut self.response_active, &mut self.summary)
        else {
            return Next::Continue;
        };
        match event {
            ServerEvent::AudioDelta { item_id, delta } => {
                self.on_audio(&item_id, &delta, out).await
            }
            ServerEvent::AudioDone { item_id } => self.playout.finish(&item_id),
            ServerEvent::SpeechStarted => {
                if let Some((item_id, heard_ms)) = self.playout.interrupt(now) {
                    self.summary.barge_ins += 1;
                    METRICS.barge_ins.fetch_add(1, Relaxed);
                    self.send_twilio(twilio::clear(&self.stream_sid)).await;
                    if let Some(o) = openai {
                        o.send(realtime::truncate(&item_id, heard_ms));
                    }
                }
            }
            ServerEvent::InputTranscript { transcript } => self.remember(Role::User, transcript),
            ServerEvent::OutputTranscript { transcript } => {
                self.remember(Role::Assistant, transcript)
            }
            ServerEvent::Error { error } => {
                if error.is_fatal() {
                    tracing::warn!(call_id = %self.claims.call_id, code = ?error.code, "fatal OpenAI error");
                    self.summary.end_detail = Some(error.describe());
                    return Next::End(EndReason::OpenAiError);
                }
                tracing::debug!(call_id = %self.claims.call_id, code = ?error.code, "OpenAI error (recoverable)");
            }
            // Handled by `on_response_event` above.
            ServerEvent::ResponseCreated
            | ServerEvent::FunctionCallArgumentsDone { .. }
            | ServerEvent::OutputItemDone { .. }
            | ServerEvent::ResponseDone { .. } => {}
            ServerEvent::SessionCreated
            | ServerEvent::SessionUpdated
            | ServerEvent::OutputAudioBufferStopped
            | ServerEvent::Other => {}
        }
        Next::Continue
    }

    /// The agent's audio: decoded into playout (a slice at a time, on the stack: no buffer per
    /// delta or per call) and sent as far as playout allows.
    async fn on_audio(&mut self, item_id: &str, delta_b64: &str, out: &mut Vec<Out>) {
        // A multiple of 4 base64 characters decodes on its own.
        const CHUNK_B64: usize = 640;
        let now = Instant::now();
        if self.playout.is_muted(item_id) {
            return;
        }
        let idle = !self.playout.speaking(now);
        let mut audio = [0u8; CHUNK_B64 / 4 * 3];
        for chunk in delta_b64.as_bytes().chunks(CHUNK_B64) {
            match STANDARD.decode_slice(chunk, &mut audio) {
                Ok(n) => self.playout.push(item_id, &audio[..n]),
                Err(_) => {
                    tracing::debug!(call_id = %self.claims.call_id, "audio delta that is not base64");
                    break;
                }
            }
        }
        self.flush_playout(now, out).await;
        if idle {
            METRICS.outbound_relay.record(now.elapsed());
        }
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

    /// Sends whatever playout allows now; returns when to come back.
    async fn flush_playout(&mut self, now: Instant, out: &mut Vec<Out>) -> Option<Instant> {
        let next = self.playout.poll(now, out);
        if out.is_empty() {
            return next;
        }
        for item in out.drain(..) {
            let text = match item {
                Out::Media(frame) => {
                    METRICS.frames_to_twilio.fetch_add(1, Relaxed);
                    twilio::media(&self.stream_sid, &frame)
                }
                Out::Mark(name) => twilio::mark(&self.stream_sid, &name),
            };
            let _ = self.twilio.feed(TwilioMessage::Text(text.into())).await;
        }
        let _ = self.twilio.flush().await;
        next
    }

    async fn send_twilio(&mut self, text: String) {
        let _ = self.twilio.send(TwilioMessage::Text(text.into())).await;
    }
}

/// The next verdict on who answered; pending for ever on calls that do not ask.
async fn next_verdict(voicemail: &mut Option<Voicemail>) -> Verdict {
    match voicemail {
        Some(voicemail) => voicemail.verdict().await,
        None => std::future::pending().await,
    }
}
