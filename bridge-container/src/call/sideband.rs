//! A browser call: the person's browser and OpenAI talk WebRTC to each other, and the bridge
//! watches the call through its sideband WebSocket (`?call_id=rtc_…`). No audio passes through
//! here; what the bridge adds is what it adds to phone calls: the call's tools (run once per
//! `call_id`, only for completed items), the maximum duration, hanging up after `end_call`,
//! and the call record. A sideband that breaks while the call goes on is opened again (the
//! call keeps its session at OpenAI); one that closes means the call ended.

use std::time::Instant;

use shared::allowance::CallLength;
use shared::store::calls::BridgeSummary;
use tokio_tungstenite::tungstenite::Message as OpenAiMessage;

use super::relay::EndReason;
use super::session::{self, OpenAi};
use super::tool_calls::{self, ToolCalls};
use super::wrap_up;
use crate::realtime::{self, Role, ServerEvent};
use crate::server::Bridge;
use crate::tools::{Effect, Registry, ToolContext};

/// What the watch does next.
enum Next {
    Continue,
    /// The sideband broke: open it again.
    Reattach,
    End(EndReason),
}

pub(super) struct BrowserCall {
    bridge: Bridge,
    call_id: String,
    rtc_call_id: String,
    tool_calls: ToolCalls,
    response_active: bool,
    /// Set by `end_call`: hang up when the person's device has played the goodbye, or at
    /// this moment at the latest.
    hang_up_at: Option<tokio::time::Instant>,
    /// How long the call may run.
    length: CallLength,
    summary: BridgeSummary,
}

impl BrowserCall {
    pub(super) fn new(
        bridge: &Bridge,
        tenant_id: &str,
        call_id: &str,
        rtc_call_id: &str,
        tools: Registry,
        length: CallLength,
    ) -> Self {
        let context = ToolContext {
            tenant_id: tenant_id.to_string(),
            call_id: call_id.to_string(),
        };
        BrowserCall {
            bridge: bridge.clone(),
            call_id: call_id.to_string(),
            rtc_call_id: rtc_call_id.to_string(),
            tool_calls: ToolCalls::new(tools, context, bridge.settings.tool_timeout),
            response_active: false,
            hang_up_at: None,
            length,
            summary: BridgeSummary::default(),
        }
    }

    /// Watches the call until it ends; the summary says why and what the model used.
    pub(super) async fn run(mut self, mut openai: OpenAi, started: Instant) -> BridgeSummary {
        let reason = self.watch(&mut openai).await;
        drop(openai);
        self.summary.end_reason = reason.as_str().to_string();
        self.summary.stream_ms = started.elapsed().as_millis() as u64;
        self.summary
    }

    async fn watch(&mut self, openai: &mut OpenAi) -> EndReason {
        let started = tokio::time::Instant::now();
        let end_at = started + self.length.limit;
        let mut wrap_up_at = wrap_up::moment(started, self.length.limit);
        let mut ending = self.bridge.ending();
        let shutdown = ending.changed();
        tokio::pin!(shutdown);
        loop {
            let goodbye = async {
                match self.hang_up_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let wrap_up = async {
                match wrap_up_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let step = tokio::select! {
                event = std::future::poll_fn(|cx| openai.poll_next_event(cx)) => match event {
                    Some(Ok(OpenAiMessage::Text(text))) => self.on_event(realtime::parse(&text)),
                    Some(Ok(_)) => Next::Continue,
                    // The socket broke (no close): the call may well go on without us.
                    Some(Err(_)) => Next::Reattach,
                    // Closed: the call is over (the person left, or OpenAI ended it).
                    None => Next::End(EndReason::CallerHungUp),
                },
                Some((call_id, output)) = self.tool_calls.next_output() => {
                    if tool_calls::on_tool_output(&call_id, output, Some(openai)) == Effect::EndCall {
                        self.hang_up_at = Some(tokio::time::Instant::now() + self.bridge.settings.goodbye_grace);
                    }
                    Next::Continue
                }
                _ = wrap_up => {
                    wrap_up_at = None;
                    self.wrap_up(end_at, openai);
                    Next::Continue
                }
                _ = tokio::time::sleep_until(end_at) => Next::End(EndReason::time_up(self.length)),
                _ = goodbye => Next::End(EndReason::AgentEnded),
                _ = &mut shutdown => Next::End(EndReason::Shutdown),
            };
            match step {
                Next::End(reason) => return reason,
                Next::Reattach => {
                    if let Some(reason) = self.reattach(openai).await {
                        return reason;
                    }
                }
                Next::Continue => {}
            }
            openai.write_now().await;
        }
    }

    /// The call's time is nearly up: the model is told so, to say goodbye (at its next turn
    /// when it is speaking).
    fn wrap_up(&mut self, end_at: tokio::time::Instant, openai: &mut OpenAi) {
        let text = wrap_up::notice(end_at - tokio::time::Instant::now());
        openai.send(realtime::history_item(Role::User, &text));
        if !self.response_active {
            openai.send(realtime::response_create(None));
        }
    }

    /// Opens the broken sideband again (nothing is sent: the call's session lives on at OpenAI);
    /// the reason to end the watch instead, if OpenAI no longer knows the call (it ended) or
    /// cannot be reached (the call is then hung up: nothing would run its tools or limit).
    async fn reattach(&mut self, openai: &mut OpenAi) -> Option<EndReason> {
        tracing::warn!(call_id = %self.call_id, "browser call sideband lost; reattaching");
        let url = session::sideband_url(&self.bridge, &self.rtc_call_id);
        match session::retrying(|| session::connect(&self.bridge, url.clone())).await {
            Ok(socket) => {
                *openai = OpenAi::new(socket);
                self.summary.session_rotations += 1;
                None
            }
            Err(e) if e.refused_with == Some(404) => Some(EndReason::CallerHungUp),
            Err(e) => {
                tracing::warn!(call_id = %self.call_id, error = %e.detail, "browser call sideband lost for good");
                self.summary.end_detail = Some(format!(
                    "the sideband was lost and could not be reopened: {}",
                    e.detail
                ));
                Some(EndReason::OpenAiUnavailable)
            }
        }
    }

    fn on_event(&mut self, event: ServerEvent) -> Next {
        let Some(event) =
            self.tool_calls
                .on_response_event(event, &mut self.response_active, &mut self.summary)
        else {
            return Next::Continue;
        };
        match event {
            // The person spoke over the agent (OpenAI cuts the response on WebRTC itself).
            ServerEvent::SpeechStarted if self.response_active => self.summary.barge_ins += 1,
            ServerEvent::OutputAudioBufferStopped
                if self.hang_up_at.is_some() && !self.response_active =>
            {
                return Next::End(EndReason::AgentEnded);
            }
            ServerEvent::Error { error } if error.is_fatal() => {
                tracing::warn!(call_id = %self.call_id, code = ?error.code, "fatal OpenAI error on a browser call");
                self.summary.end_detail = Some(error.describe());
                return Next::End(EndReason::OpenAiError);
            }
            _ => {}
        }
        Next::Continue
    }
}
