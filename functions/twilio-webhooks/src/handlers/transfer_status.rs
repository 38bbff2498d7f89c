use axum::extract::State;
use axum::response::Response;
use shared::domain::receptionist::TransferStatus;
use shared::domain::usage::Tally;
use shared::http::TwilioForm;
use shared::store::usage::Metered;
use shared::transfer::NOBODY_ANSWERED;
use shared::twilio::twiml::{hangup, say_and_hangup};
use shared::{AppState, Result};

use super::twiml;
use crate::callbacks;

/// The action of a transfer's `<Dial>`: records how the transfer ended (the person talked to
/// the caller, or was busy, did not answer, could not be dialled), meters the time the person
/// talked, and ends the call, with an apology when nobody took it. A repeated delivery records
/// the same outcome again and meters nothing more.
#[utoipa::path(post, path = "/twilio/transfer-status", tag = "twilio-webhooks",
    params(
        ("tenant_id" = Option<String>, Query, description = "Set by the platform in the action URL it gives Twilio"),
        ("call_id" = Option<String>, Query, description = "Set by the platform in the action URL it gives Twilio"),
    ),
    request_body(content_type = "application/x-www-form-urlencoded", description = "Twilio's Dial action form (CallSid, DialCallStatus, DialCallDuration, ...)"),
    responses(
        (status = 200, description = "TwiML that ends the call", content_type = "text/xml"),
        (status = 403, description = "Missing or invalid X-Twilio-Signature", body = shared::error::Problem),
        (status = 422, description = "Missing or malformed CallSid, tenant_id or call_id", body = shared::error::Problem),
    ))]
pub async fn transfer_status(State(state): State<AppState>, form: TwilioForm) -> Result<Response> {
    let sid = callbacks::call_sid(&form)?;
    let outcome = form
        .get("DialCallStatus")
        .and_then(TransferStatus::of_dial)
        .unwrap_or(TransferStatus::Failed);
    let answer = match outcome {
        TransferStatus::Completed => hangup(),
        _ => say_and_hangup(NOBODY_ANSWERED),
    };
    let Some(call) = callbacks::named_call(&form)? else {
        tracing::warn!("a transfer outcome that names no call");
        return Ok(twiml(answer));
    };
    // Only the call this action was given for (the URL is signed, the SID must match too).
    if !callbacks::is_about(&state, &call, &sid).await? {
        return Ok(twiml(answer));
    }
    let duration = form.get("DialCallDuration").and_then(|d| d.parse().ok());
    let landed = state
        .store
        .finish_transfer(&call.tenant_id, &call.call_id, outcome, duration, None)
        .await?;
    if landed && outcome == TransferStatus::Completed {
        let talked = Tally::of_transfer(duration.unwrap_or(0).into());
        state
            .store
            .meter(&call.tenant_id, &call.call_id, Metered::Transfer, &talked)
            .await?;
    }
    tracing::info!(call_id = %call.call_id, outcome = outcome.as_str(), "transfer ended");
    Ok(twiml(answer))
}
