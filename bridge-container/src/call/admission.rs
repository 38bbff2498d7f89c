//! Admission: nothing of a call exists (no OpenAI session, no live call counted) until its
//! `start` message carries a valid stream token for this Twilio account and the call record
//! accepts the claim. The server already checked Twilio's signature on the upgrade; the token
//! proves which call of which tenant this stream is, and the claim makes it usable once, only
//! with the Call SID the call was placed or answered with.
//!
//! What the call is made of is decided here too: the scenario's instructions and voice, and
//! the tools its model may call.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use shared::allowance::CallLength;
use shared::auth::stream_token::StreamClaims;
use shared::domain::calls::Direction;
use shared::domain::scenarios;
use tokio_tungstenite::tungstenite::Message as TwilioMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use super::TwilioSocket;
use crate::server::Bridge;
use crate::tools::{Registry, TransferCall};
use crate::twilio::{self, Inbound};

/// Why a stream was refused. [`Refusal::as_str`] is logged and sent as the close reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NoStart,
    UnexpectedMessage,
    ClosedBeforeStart,
    NoToken,
    InvalidToken,
    OtherAccount,
    RecordUnavailable,
    AlreadyClaimed,
    ScenarioNotFound,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NoStart => "no start message",
            Refusal::UnexpectedMessage => "unexpected message before start",
            Refusal::ClosedBeforeStart => "closed before start",
            Refusal::NoToken => "no stream token",
            Refusal::InvalidToken => "invalid stream token",
            Refusal::OtherAccount => "stream from another Twilio account",
            Refusal::RecordUnavailable => "call record unavailable",
            Refusal::AlreadyClaimed => "stream token already used or for another call",
            Refusal::ScenarioNotFound => "scenario not found",
        }
    }
}

/// An admitted call: who it is, and what its sessions are configured with.
pub(super) struct Admitted {
    pub(super) claims: StreamClaims,
    pub(super) stream_sid: String,
    pub(super) instructions: String,
    pub(super) voice: String,
    /// The tools this call's model may call: offered in `session.update` and the only ones
    /// run, so a call never runs a tool its scenario was not given.
    pub(super) tools: Registry,
    /// Where `transfer_call` sends the call (the scenario's transfer number).
    pub(super) transfer_to: Option<String>,
    /// What an answering machine is told (the scenario's message).
    pub(super) voicemail_message: Option<String>,
    /// How long the call may run: the longest call, or the month's minutes left.
    pub(super) length: CallLength,
}

/// What a call of a scenario is made of.
pub(super) struct Configuration {
    pub(super) instructions: String,
    pub(super) voice: String,
    pub(super) tools: Registry,
    pub(super) transfer_to: Option<String>,
    pub(super) voicemail_message: Option<String>,
    pub(super) length: CallLength,
}

/// Reads `connected`/`start`, verifies the stream token and claims the call (once per call,
/// only for the Call SID it was placed or answered with), and loads the scenario.
pub(super) async fn admit(bridge: &Bridge, twilio: &mut TwilioSocket) -> Result<Admitted, Refusal> {
    let deadline = tokio::time::sleep(bridge.settings.start_timeout);
    tokio::pin!(deadline);
    let start = loop {
        tokio::select! {
            _ = &mut deadline => return Err(Refusal::NoStart),
            message = twilio.next() => match message {
                Some(Ok(TwilioMessage::Text(text))) => match twilio::parse(&text) {
                    Some(Inbound::Start { start }) => break start,
                    Some(Inbound::Connected) => continue,
                    _ => return Err(Refusal::UnexpectedMessage),
                },
                Some(Ok(TwilioMessage::Ping(_) | TwilioMessage::Pong(_))) => continue,
                _ => return Err(Refusal::ClosedBeforeStart),
            },
        }
    };
    let token = start
        .custom_parameters
        .get("token")
        .ok_or(Refusal::NoToken)?;
    let claims = bridge
        .app
        .stream_tokens
        .verify(token)
        .map_err(|_| Refusal::InvalidToken)?;
    if let Some(twilio) = &bridge.app.config.telephony.twilio
        && twilio.account_sid != start.account_sid
    {
        return Err(Refusal::OtherAccount);
    }
    let claimed = bridge
        .app
        .store
        .claim_stream(&claims.tid, &claims.call_id, &start.call_sid)
        .await
        .map_err(|_| Refusal::RecordUnavailable)?;
    if !claimed {
        return Err(Refusal::AlreadyClaimed);
    }
    let configuration = configure(
        bridge,
        &claims.tid,
        &claims.call_id,
        &claims.scenario,
        claims.direction,
        claims.length(),
    )
    .await?;
    Ok(Admitted {
        instructions: configuration.instructions,
        voice: configuration.voice,
        stream_sid: start.stream_sid,
        claims,
        tools: configuration.tools,
        transfer_to: configuration.transfer_to,
        voicemail_message: configuration.voicemail_message,
        length: configuration.length,
    })
}

/// What a call of `scenario` is made of: its instructions for the direction (with the
/// calendar block on calendar calls), its voice, and its tools (`transfer_call` when the
/// scenario names a transfer number). Only this tenant's scenario and calendar, ever: the
/// tenant comes from a verified token or a claimed call record.
pub(super) async fn configure(
    bridge: &Bridge,
    tenant_id: &str,
    call_id: &str,
    scenario: &str,
    direction: Direction,
    length: Option<CallLength>,
) -> Result<Configuration, Refusal> {
    // Independent reads, side by side: the greeting waits for the slowest, not their sum.
    let (agent, callee, length) = tokio::join!(
        shared::agent::resolve(&bridge.app.store, tenant_id, scenario),
        async {
            match direction {
                Direction::Outbound => user_name(bridge, tenant_id).await,
                _ => None,
            }
        },
        async {
            // A phone call's token says it (the API worked it out as it let the call start).
            match length {
                Some(length) => length,
                None => shared::allowance::call_length(&bridge.app, tenant_id).await,
            }
        },
    );
    let agent = agent.map_err(|_| Refusal::ScenarioNotFound)?;
    let mut instructions =
        scenarios::instructions(&agent.persona, &agent.prompt, direction, callee.as_deref());
    let mut tools = bridge.tools.clone();
    if scenarios::is_calendar(scenario) {
        let (block, calendar) = crate::tools::calendar::prepare(
            &bridge.app,
            tenant_id,
            call_id,
            direction,
            bridge.settings.calendar_read_budget,
        )
        .await;
        instructions.push_str("\n\n");
        instructions.push_str(&block);
        if let Some(calendar) = calendar {
            crate::tools::calendar::register(&mut tools, calendar);
        }
    }
    if agent.transfer_number.is_some() {
        tools.register(Arc::new(TransferCall {
            phone_line: direction != Direction::Browser,
        }));
    }
    Ok(Configuration {
        instructions,
        voice: agent.voice,
        tools,
        transfer_to: agent.transfer_number,
        voicemail_message: agent.voicemail_message,
        length,
    })
}

pub(super) async fn close_twilio(tx: &mut TwilioSocket, code: u16, reason: &'static str) {
    let _ = tx
        .send(TwilioMessage::Close(Some(CloseFrame {
            code: code.into(),
            reason: reason.into(),
        })))
        .await;
}

/// The name the tenant's user set for the agent to address them by on outbound calls; a call
/// goes on without it if it cannot be read.
async fn user_name(bridge: &Bridge, tenant_id: &str) -> Option<String> {
    match bridge.app.store.user(tenant_id).await {
        Ok(user) => user.and_then(|u| u.name),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the user's name; calling without it");
            None
        }
    }
}
