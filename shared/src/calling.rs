//! Placing calls and answering them: the one path every outbound call takes (on demand and
//! scheduled) and the TwiML every call gets.
//!
//! Order matters for an outbound call, and each refusal is a clear 4xx before any money is
//! spent: scenario exists, destination allowed, caller ID available, the tenant neither suspended
//! nor out of monthly minutes, daily cap not reached;
//! then the call record is written (so no Twilio callback can arrive for an unknown call),
//! the account's calls-per-second budget is waited for, and only then is Twilio asked.
//!
//! Every callback URL given to Twilio names the tenant and the call (Twilio signs the whole
//! URL), so a callback that arrives before the create request has answered still finds its
//! call. Once Twilio has accepted a call, its SID must be stored (the bridge and the hang-up
//! need it): the write is retried, and if it still fails the call is ended at Twilio and the
//! reason recorded, rather than leaving a phone ringing for a call the platform lost.

use std::time::Duration;

use crate::domain::calls::{CallStatus, Direction};
use crate::domain::ids::{CallId, ScenarioId};
use crate::domain::phone::{self, E164, NumberStatus};
use crate::domain::scenarios;
use crate::error::{Error, FieldError, Result};
use crate::state::AppState;
use crate::store::calls::{CallRecord, SidLink, StatusUpdate};
use crate::twilio::{self, TwilioError, twiml};

/// Webhook paths, below `PUBLIC_URL`. Twilio signs the full public URL.
pub const INBOUND_WEBHOOK: &str = "/twilio/voice/inbound";
pub const STATUS_WEBHOOK: &str = "/twilio/call-status";
pub const RECORDING_WEBHOOK: &str = "/twilio/recording-status";
/// Who answered an outbound call (asynchronous answering-machine detection).
pub const AMD_WEBHOOK: &str = "/twilio/amd-status";

/// How long `pace_call` may wait for the calls-per-second budget.
pub const MAX_PACING_WAIT: Duration = Duration::from_secs(5);

/// Pauses between attempts to store a new call's SID (then the call is ended).
pub const SID_WRITE_BACKOFF: [Duration; 2] =
    [Duration::from_millis(100), Duration::from_millis(400)];

pub fn twilio(state: &AppState) -> Result<&twilio::Client> {
    state
        .twilio
        .as_ref()
        .ok_or_else(|| Error::Unavailable("Telephony is not configured on this deployment".into()))
}

pub fn webhook_url(state: &AppState, path: &str) -> String {
    format!("{}{path}", state.config.telephony.public_url)
}

/// A callback URL about one call: it names the tenant and the call, so the callback finds the
/// call whether or not its SID is stored yet. Twilio signs the URL with its query, so neither
/// can be altered.
pub fn call_webhook_url(state: &AppState, path: &str, tenant_id: &str, call_id: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair(CALLBACK_TENANT, tenant_id)
        .append_pair(CALLBACK_CALL, call_id)
        .finish();
    format!("{}?{query}", webhook_url(state, path))
}

/// The query parameters of [`call_webhook_url`].
pub const CALLBACK_TENANT: &str = "tenant_id";
pub const CALLBACK_CALL: &str = "call_id";

/// Checks that `scenario` names a predefined template or one of the tenant's custom
/// scenarios; 404 otherwise. The calendar scenario also needs a live calendar connection
/// (409 otherwise), so no calendar call starts without the calendar it is about.
pub async fn ensure_scenario(state: &AppState, tenant_id: &str, scenario: &str) -> Result<()> {
    if scenarios::is_calendar(scenario) {
        crate::calendar::TenantCalendar::open(state, tenant_id).await?;
        return Ok(());
    }
    if scenarios::predefined(scenario).is_some() {
        return Ok(());
    }
    // Only a well-formed custom scenario id is looked up (no oversized key reaches the store).
    if let Ok(id) = ScenarioId::parse(scenario, "scenario") {
        return match state.store.scenario(tenant_id, id.as_str()).await {
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
        .find(|n| n.status == NumberStatus::Active && n.voice)
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
    length: crate::allowance::CallLength,
) -> Result<String> {
    let telephony = &state.config.telephony;
    let token =
        state
            .stream_tokens
            .issue(tenant_id, &call.call_id, &call.scenario, direction, length)?;
    let recording_callback = call_webhook_url(state, RECORDING_WEBHOOK, tenant_id, &call.call_id);
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
    /// The scheduled call it is placed for, with the call id its claim fixed.
    pub scheduled: Option<(String, CallId)>,
}

/// Places an outbound call for the tenant and returns its record (status `queued` or
/// later).
pub async fn place_outbound(
    state: &AppState,
    tenant_id: &str,
    outbound: Outbound,
) -> Result<CallRecord> {
    let client = twilio(state)?;
    ensure_scenario(state, tenant_id, &outbound.scenario).await?;
    check_destination(state, &outbound.to, "phone_number")?;
    let from = caller_id(state, tenant_id).await?;
    let length = crate::allowance::ensure_may_call(state, tenant_id).await?;
    let telephony = &state.config.telephony;
    state
        .store
        .count_outbound_call(tenant_id, telephony.daily_outbound_cap)
        .await?;
    let (schedule_id, call_id) = match outbound.scheduled {
        Some((schedule_id, call_id)) => (Some(schedule_id), call_id),
        None => (None, CallId::generate()),
    };
    let mut call = CallRecord::with_id(
        call_id,
        Direction::Outbound,
        &from,
        outbound.to.as_str(),
        &outbound.scenario,
    );
    call.schedule_id = schedule_id;
    state.store.create_call(tenant_id, &call).await?;
    let request = match prepare_request(state, client, tenant_id, &call, &from, length).await {
        Ok(request) => request,
        Err(e) => {
            // Twilio was never asked: the record says why instead of staying `initiating`.
            record_failure(state, tenant_id, &call.call_id, &e.problem().detail).await;
            return Err(e);
        }
    };
    match client.create_call(&request).await {
        Ok(created) => {
            store_sid(state, client, tenant_id, &call.call_id, &created.sid).await?;
            tracing::info!(call_id = %call.call_id, "outbound call placed");
            state.store.call(tenant_id, &call.call_id).await
        }
        Err(e) if e.is_refusal() => {
            tracing::warn!(call_id = %call.call_id, status = e.status, code = ?e.code, "Twilio refused the call");
            state
                .store
                .fail_call(tenant_id, &call.call_id, &e.message)
                .await?;
            Err(twilio_error(e, "phone_number"))
        }
        Err(e) => {
            // No answer, or a 5xx: Twilio may have placed the call all the same. The record
            // says so, and the callbacks (which name this call) correct it if it did.
            tracing::warn!(call_id = %call.call_id, status = e.status, "Twilio did not confirm the call");
            record_failure(state, tenant_id, &call.call_id, UNCONFIRMED).await;
            Err(Error::Upstream(format!(
                "{UNCONFIRMED}; check the call before retrying"
            )))
        }
    }
}

/// Why a call whose create request got no usable answer is not simply retried.
const UNCONFIRMED: &str = "The phone service did not confirm the call, which may still ring";

/// Waits for the account's calls-per-second slot, notes that Twilio is being asked, and builds
/// the request.
async fn prepare_request(
    state: &AppState,
    client: &twilio::Client,
    tenant_id: &str,
    call: &CallRecord,
    from: &str,
    length: crate::allowance::CallLength,
) -> Result<twilio::client::NewCall> {
    let telephony = &state.config.telephony;
    state
        .store
        .pace_call(
            client.account_sid(),
            telephony.calls_per_second,
            MAX_PACING_WAIT,
        )
        .await?;
    let request = twilio::client::NewCall {
        to: call.to.clone(),
        from: from.to_string(),
        twiml: stream_twiml(state, tenant_id, call, Direction::Outbound, false, length)?,
        status_callback: call_webhook_url(state, STATUS_WEBHOOK, tenant_id, &call.call_id),
        recording_status_callback: telephony
            .record_calls
            .then(|| call_webhook_url(state, RECORDING_WEBHOOK, tenant_id, &call.call_id)),
        amd_status_callback: telephony
            .voicemail_detection
            .then(|| call_webhook_url(state, AMD_WEBHOOK, tenant_id, &call.call_id)),
        // At most the month's minutes left (the bridge ends the agent's part there too; this
        // also bounds a transfer's time with a person).
        time_limit: length.limit.as_secs() as u32,
        timeout: telephony.ring_timeout.as_secs() as u32,
    };
    state.store.mark_dialing(tenant_id, &call.call_id).await?;
    Ok(request)
}

/// Stores the SID Twilio gave a new call. A callback may already have stored it (that is
/// fine); a store that keeps failing ends the call at Twilio and records why, since a call
/// the platform cannot track must not go on.
async fn store_sid(
    state: &AppState,
    client: &twilio::Client,
    tenant_id: &str,
    call_id: &str,
    sid: &str,
) -> Result<()> {
    let mut pauses = SID_WRITE_BACKOFF.iter();
    let cause = loop {
        match state.store.link_call_sid(tenant_id, call_id, sid).await {
            Ok(SidLink::Linked) => {
                // Callbacks may already have reported more; `queued` only applies if none did,
                // and if it cannot be written the callbacks will move the call on anyway.
                let queued = StatusUpdate {
                    status: CallStatus::Queued,
                    duration_seconds: None,
                };
                if let Err(e) = state
                    .store
                    .apply_call_status(tenant_id, call_id, &queued)
                    .await
                {
                    tracing::warn!(call_id, error = %e, "could not mark a placed call queued");
                }
                return Ok(());
            }
            Ok(SidLink::Conflict) => {
                break "its Call SID is already linked to another call".to_string();
            }
            Err(e) => match pauses.next() {
                Some(pause) => {
                    tracing::warn!(call_id, error = %e, "storing the Call SID failed; retrying");
                    tokio::time::sleep(*pause).await;
                }
                None => break e.to_string(),
            },
        }
    };
    tracing::error!(call_id, cause = %cause, "the Call SID could not be stored; ending the call");
    if let Err(e) = end_at_twilio(client, sid, CallStatus::Queued).await {
        tracing::error!(call_id, error = %e, "could not end an untracked call at Twilio");
    }
    record_failure(
        state,
        tenant_id,
        call_id,
        "Ended by the platform: the call could not be recorded after Twilio accepted it",
    )
    .await;
    Err(Error::Unavailable(
        "The call could not be recorded, so it was ended; please retry".into(),
    ))
}

/// Ends a call at Twilio whatever its state: `completed` hangs up one answered, `canceled`
/// stops one still queued or ringing. `known` is the last status the platform heard of; if
/// the call was answered since, Twilio's answer to the cancel says so and it is hung up.
pub async fn end_at_twilio(
    client: &twilio::Client,
    sid: &str,
    known: CallStatus,
) -> std::result::Result<(), TwilioError> {
    if known != CallStatus::InProgress {
        let call = client.update_call_status(sid, "canceled").await?;
        if call.status.as_deref() != Some(CallStatus::InProgress.as_str()) {
            return Ok(());
        }
    }
    client.update_call_status(sid, "completed").await?;
    Ok(())
}

/// Records why the platform gave up on a call; a failure to record it is logged, not raised
/// (the caller is already reporting the original error).
async fn record_failure(state: &AppState, tenant_id: &str, call_id: &str, reason: &str) {
    if let Err(e) = state.store.fail_call(tenant_id, call_id, reason).await {
        tracing::error!(call_id, error = %e, "could not record why a call failed");
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
