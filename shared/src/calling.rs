//! Placing calls and answering them: the one path every outbound call takes (on demand and
//! scheduled) and the TwiML every call gets.
//!
//! Order matters for an outbound call, and each refusal is a clear 4xx before any money is
//! spent: scenario exists, destination allowed, caller ID available, daily cap not reached;
//! then the call record is written (so no Twilio callback can arrive for an unknown call),
//! the account's calls-per-second budget is waited for, and only then is Twilio asked.

use crate::domain::phone::{self, E164};
use crate::domain::scenarios::{self, Direction};
use crate::error::{Error, FieldError, Result};
use crate::state::AppState;
use crate::store::calls::CallRecord;
use crate::twilio::{self, TwilioError, twiml};

/// Webhook paths, below `PUBLIC_URL`. Twilio signs the full public URL.
pub const INBOUND_WEBHOOK: &str = "/twilio/voice/inbound";
pub const STATUS_WEBHOOK: &str = "/twilio/call-status";
pub const RECORDING_WEBHOOK: &str = "/twilio/recording-status";

/// How long `pace_call` may wait for the calls-per-second budget.
const MAX_PACING_WAIT_SECS: u32 = 5;

pub fn twilio(state: &AppState) -> Result<&twilio::Client> {
    state
        .twilio
        .as_ref()
        .ok_or_else(|| Error::Unavailable("Telephony is not configured on this deployment".into()))
}

pub fn webhook_url(state: &AppState, path: &str) -> String {
    format!("{}{path}", state.config.telephony.public_url)
}

/// Checks that `scenario` names a predefined template or one of the tenant's custom
/// scenarios; 404 otherwise.
pub async fn ensure_scenario(state: &AppState, tenant_id: &str, scenario: &str) -> Result<()> {
    if scenarios::predefined(scenario).is_some() {
        return Ok(());
    }
    if scenario.starts_with("custom_") {
        return match state.store.scenario(tenant_id, scenario).await {
            Ok(_) => Ok(()),
            Err(Error::NotFound(_)) => Err(Error::NotFound("Scenario not found".into())),
            Err(e) => Err(e),
        };
    }
    Err(Error::NotFound("Scenario not found".into()))
}

/// Refuses emergency, short-code and premium-rate numbers and countries not allowed.
pub fn check_destination(state: &AppState, to: &E164, field: &str) -> Result<()> {
    phone::check_destination(to, &state.config.telephony.allowed_countries).map_err(|refusal| {
        Error::BadRequest {
            detail: refusal.message(),
            errors: vec![FieldError::new(field, refusal.message())],
        }
    })
}

/// The caller ID, as the reference README describes: in development mode the platform's own
/// number; in production the tenant's own (first provisioned) number, which is required.
pub async fn caller_id(state: &AppState, tenant_id: &str) -> Result<String> {
    if state.config.development_mode {
        return state.config.telephony.system_number.clone().ok_or_else(|| {
            Error::bad_request(
                "System phone number not configured for development mode. Please set TWILIO_PHONE_NUMBER.",
            )
        });
    }
    state
        .store
        .numbers(tenant_id)
        .await?
        .into_iter()
        .find(|n| n.status == "active" && n.voice)
        .map(|n| n.phone_number)
        .ok_or_else(|| {
            Error::bad_request("No phone number available. Please provision a phone number first.")
        })
}

/// The TwiML that connects a call to the media bridge with a fresh stream token.
pub fn stream_twiml(
    state: &AppState,
    tenant_id: &str,
    call: &CallRecord,
    direction: Direction,
    record_inbound: bool,
) -> Result<String> {
    let telephony = &state.config.telephony;
    let token = state
        .stream_tokens
        .issue(tenant_id, &call.call_id, &call.scenario, direction)?;
    let recording_callback = webhook_url(state, RECORDING_WEBHOOK);
    Ok(twiml::connect_stream(
        (record_inbound && telephony.record_calls).then_some(recording_callback.as_str()),
        telephony
            .record_calls
            .then_some(telephony.recording_notice.as_str()),
        &telephony.bridge_url,
        &[("token", &token), ("call_id", &call.call_id)],
    ))
}

/// An outbound call to place.
pub struct Outbound {
    pub to: E164,
    pub scenario: String,
    pub schedule_id: Option<String>,
}

/// Places an outbound call for the tenant and returns its record (status `queued`).
pub async fn place_outbound(
    state: &AppState,
    tenant_id: &str,
    outbound: Outbound,
) -> Result<CallRecord> {
    let client = twilio(state)?;
    ensure_scenario(state, tenant_id, &outbound.scenario).await?;
    check_destination(state, &outbound.to, "phone_number")?;
    let from = caller_id(state, tenant_id).await?;
    let telephony = &state.config.telephony;
    state
        .store
        .count_outbound_call(tenant_id, telephony.daily_outbound_cap)
        .await?;
    let mut call = CallRecord::new("outbound", &from, outbound.to.as_str(), &outbound.scenario);
    call.schedule_id = outbound.schedule_id;
    state.store.create_call(tenant_id, &call).await?;
    state
        .store
        .pace_call(
            client.account_sid(),
            telephony.calls_per_second,
            MAX_PACING_WAIT_SECS,
        )
        .await?;
    let request = twilio::client::NewCall {
        to: call.to.clone(),
        from: from.clone(),
        twiml: stream_twiml(state, tenant_id, &call, Direction::Outbound, false)?,
        status_callback: webhook_url(state, STATUS_WEBHOOK),
        recording_status_callback: telephony
            .record_calls
            .then(|| webhook_url(state, RECORDING_WEBHOOK)),
        time_limit: telephony.max_call_duration.as_secs() as u32,
        timeout: telephony.ring_timeout.as_secs() as u32,
    };
    match client.create_call(&request).await {
        Ok(created) => {
            state
                .store
                .attach_call_sid(tenant_id, &call.call_id, &created.sid)
                .await?;
            tracing::info!(call_id = %call.call_id, "outbound call placed");
            state.store.call(tenant_id, &call.call_id).await
        }
        Err(e) => {
            tracing::warn!(call_id = %call.call_id, status = e.status, code = ?e.code, "Twilio refused the call");
            state
                .store
                .fail_call(tenant_id, &call.call_id, &e.message)
                .await?;
            Err(twilio_error(e, "phone_number"))
        }
    }
}

/// Maps a Twilio failure to what the client can act on: Twilio's refusals of the request
/// become 400s with Twilio's message (naming `field` for number problems); Twilio being
/// down or refusing the platform's credentials becomes 502.
pub fn twilio_error(e: TwilioError, field: &str) -> Error {
    const NUMBER_CODES: [i64; 8] = [21211, 21212, 21214, 21215, 21216, 21217, 21421, 21422];
    match e.status {
        400 | 404 | 409 => {
            let detail = format!("The phone service refused the request: {}", e.message);
            let errors = match e.code {
                Some(code) if NUMBER_CODES.contains(&code) => {
                    vec![FieldError::new(field, e.message.clone())]
                }
                _ => Vec::new(),
            };
            Error::BadRequest { detail, errors }
        }
        401 | 403 => {
            tracing::error!(code = ?e.code, "Twilio rejected the platform's credentials");
            Error::Upstream("The phone service is misconfigured; please contact support".into())
        }
        _ => Error::Upstream("The phone service is unavailable; please retry shortly".into()),
    }
}
