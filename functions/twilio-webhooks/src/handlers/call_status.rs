use axum::extract::State;
use axum::http::StatusCode;
use shared::http::TwilioForm;
use shared::store::calls::{StatusUpdate, status_rank};
use shared::{AppState, Error, Result};

/// Call status callback: moves the call record forward (queued, ringing, in-progress, then a
/// final status with the duration and recording). Repeated or late deliveries change nothing.
#[utoipa::path(post, path = "/twilio/call-status", tag = "twilio-webhooks",
    request_body(content_type = "application/x-www-form-urlencoded", description = "Twilio's status callback form (CallSid, CallStatus, CallDuration, ...)"),
    responses(
        (status = 204, description = "Recorded"),
        (status = 403, description = "Missing or invalid X-Twilio-Signature", body = shared::error::Problem),
        (status = 422, description = "Missing or unknown CallStatus", body = shared::error::Problem),
    ))]
pub async fn call_status(State(state): State<AppState>, form: TwilioForm) -> Result<StatusCode> {
    let call_sid = form.require("CallSid")?;
    let status = form.require("CallStatus")?;
    if status_rank(status).is_none() {
        return Err(Error::field("CallStatus", "is not a Twilio call status"));
    }
    let Some((tenant_id, call_id)) = state.store.call_by_sid(call_sid).await? else {
        // Not ours (or not recorded yet): acknowledge so Twilio does not keep trying.
        tracing::warn!("status callback for an unknown Call SID");
        return Ok(StatusCode::NO_CONTENT);
    };
    let update = StatusUpdate {
        status: status.to_string(),
        duration_seconds: form.get("CallDuration").and_then(|d| d.parse().ok()),
        recording_sid: form.get("RecordingSid").map(str::to_string),
    };
    state
        .store
        .apply_call_status(&tenant_id, &call_id, &update)
        .await?;
    tracing::info!(call_id = %call_id, status = %update.status, "call status");
    Ok(StatusCode::NO_CONTENT)
}
