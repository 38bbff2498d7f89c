//! Admission: nothing of a call exists (no OpenAI session, no live call counted) until its
//! `start` message carries a valid stream token for this Twilio account and the call record
//! accepts the claim. The server already checked Twilio's signature on the upgrade; the token
//! proves which call of which tenant this stream is, and the claim makes it usable once, only
//! with the Call SID the call was placed or answered with.
//!
//! What the call is made of is decided here too: the scenario's instructions and voice, and
//! the tools its model may call.

use futures_util::{SinkExt, StreamExt};
use shared::auth::stream_token::StreamClaims;
use shared::domain::scenarios;
use tokio_tungstenite::tungstenite::Message as TwilioMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use super::TwilioSocket;
use crate::server::Bridge;
use crate::tools::Registry;
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
                .map_err(|_| Refusal::ScenarioNotFound)?;
            let voice = scenarios::resolve_voice(&custom.fields.voice_type).unwrap_or("marin");
            (
                custom.fields.persona,
                custom.fields.prompt,
                voice.to_string(),
            )
        }
    };
    let mut instructions = scenarios::instructions(&persona, &prompt, claims.direction, None);
    let mut tools = bridge.tools.clone();
    if scenarios::is_calendar(&claims.scenario) {
        // Only this call's tenant's calendar, ever: the tenant comes from the verified token.
        let (block, calendar) = crate::tools::calendar::prepare(
            &bridge.app,
            &claims.tid,
            &claims.call_id,
            claims.direction,
            bridge.settings.calendar_read_budget,
        )
        .await;
        instructions.push_str("\n\n");
        instructions.push_str(&block);
        if let Some(calendar) = calendar {
            crate::tools::calendar::register(&mut tools, calendar);
        }
    }
    Ok(Admitted {
        instructions,
        voice,
        stream_sid: start.stream_sid,
        claims,
        tools,
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
