use axum::extract::State;
use axum::http::StatusCode;
use shared::http::TwilioForm;
use shared::{AppState, Result};

/// Recording status callback: attaches the finished recording to its call.
#[utoipa::path(post, path = "/twilio/recording-status", tag = "twilio-webhooks",
    request_body(content_type = "application/x-www-form-urlencoded", description = "Twilio's recording status callback form (CallSid, RecordingSid, RecordingStatus, ...)"),
    responses(
        (status = 204, description = "Recorded"),
        (status = 403, description = "Missing or invalid X-Twilio-Signature", body = shared::error::Problem),
        (status = 422, description = "Missing CallSid or RecordingSid", body = shared::error::Problem),
    ))]
pub async fn recording_status(
    State(state): State<AppState>,
    form: TwilioForm,
) -> Result<StatusCode> {
    let call_sid = form.require("CallSid")?;
    let recording_sid = form.require("RecordingSid")?;
    if form
        .get("RecordingStatus")
        .is_some_and(|s| s != "completed")
    {
        return Ok(StatusCode::NO_CONTENT);
    }
    let Some((tenant_id, call_id)) = state.store.call_by_sid(call_sid).await? else {
        tracing::warn!("recording callback for an unknown Call SID");
        return Ok(StatusCode::NO_CONTENT);
    };
    state
        .store
        .apply_recording(
            &tenant_id,
            &call_id,
            recording_sid,
            form.get("RecordingUrl"),
            form.get("RecordingDuration").and_then(|d| d.parse().ok()),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
