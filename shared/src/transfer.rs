//! Transferring a live phone call to a person: the call gets new TwiML (REST call update) that
//! dials the scenario's transfer number with the platform's number as caller ID. That ends the
//! call's Media Stream (the agent is done) but not the call or its recording: a call recorded
//! with `Record=true` or `<Start><Recording>` goes on being recorded until it ends. The
//! `<Dial>`'s action callback (named with our ids, signed by Twilio) brings the outcome.

use crate::calling::{self, call_webhook_url};
use crate::domain::calls::Direction;
use crate::domain::receptionist::TransferStatus;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::twilio::twiml;

/// The `<Dial>`'s action URL, below `PUBLIC_URL`.
pub const TRANSFER_WEBHOOK: &str = "/twilio/transfer-status";

/// How long the person's phone rings before the transfer counts as unanswered.
pub const DIAL_TIMEOUT_SECS: u32 = 30;

/// What a caller hears when nobody took the transfer.
pub const NOBODY_ANSWERED: &str =
    "Sorry, nobody was able to take your call right now. Please try again later. Goodbye.";

/// A transfer the agent asked for.
#[derive(Debug, Clone, Copy)]
pub struct Transfer<'a> {
    /// The scenario's transfer number.
    pub to: &'a str,
    /// Why the caller needs a person, as the agent put it.
    pub reason: Option<&'a str>,
}

/// Redirects the call to the transfer's number. On failure the record says why (`failed`) and
/// the error says what the agent can tell the caller.
pub async fn transfer(
    state: &AppState,
    tenant_id: &str,
    call_id: &str,
    asked: Transfer<'_>,
) -> Result<()> {
    let client = calling::twilio(state)?;
    let call = state.store.call(tenant_id, call_id).await?;
    let (Some(sid), Some(caller_id)) = (call.call_sid.as_deref(), platform_number(&call)) else {
        return Err(Error::bad_request("Only a phone call can be transferred"));
    };
    state
        .store
        .begin_transfer(tenant_id, call_id, asked.to, asked.reason)
        .await?;
    let action = call_webhook_url(state, TRANSFER_WEBHOOK, tenant_id, call_id);
    let document = twiml::dial(asked.to, caller_id, DIAL_TIMEOUT_SECS, &action);
    match client.redirect_call(sid, &document).await {
        Ok(_) => {
            tracing::info!(call_id, "call transferred to a person");
            Ok(())
        }
        Err(e) => {
            tracing::warn!(call_id, status = e.status, code = ?e.code, "Twilio did not transfer the call");
            let error = calling::twilio_error(e, "transfer_number");
            let reason = error.problem().detail;
            state
                .store
                .finish_transfer(
                    tenant_id,
                    call_id,
                    TransferStatus::Failed,
                    None,
                    Some(&reason),
                )
                .await?;
            Err(error)
        }
    }
}

/// The platform's end of a phone call: what a transfer shows the person as caller ID.
fn platform_number(call: &crate::store::calls::CallRecord) -> Option<&str> {
    match call.direction {
        Direction::Outbound => Some(&call.from),
        Direction::Inbound => Some(&call.to),
        Direction::Browser => None,
    }
}
