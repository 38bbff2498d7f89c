use axum::extract::State;
use axum::http::StatusCode;
use shared::domain::ids::Sid;
use shared::http::TwilioForm;
use shared::store::calls::RecordingUpdate;
use shared::{AppState, Result};

use crate::callbacks::{self, Report};

/// Recording status callback: attaches the finished recording to its call, whether it
/// arrives before or after the platform stored the Call SID, and asks for its transcript (a
/// job on the queue) when calls are transcribed.
#[utoipa::path(post, path = "/twilio/recording-status", tag = "twilio-webhooks",
    params(
        ("tenant_id" = Option<String>, Query, description = "Set by the platform in the callback URLs it gives Twilio"),
        ("call_id" = Option<String>, Query, description = "Set by the platform in the callback URLs it gives Twilio"),
    ),
    request_body(content_type = "application/x-www-form-urlencoded", description = "Twilio's recording status callback form (CallSid, RecordingSid, RecordingStatus, ...)"),
    responses(
        (status = 204, description = "Recorded"),
        (status = 403, description = "Missing or invalid X-Twilio-Signature", body = shared::error::Problem),
        (status = 422, description = "Missing or malformed CallSid or RecordingSid", body = shared::error::Problem),
    ))]
pub async fn recording_status(
    State(state): State<AppState>,
    form: TwilioForm,
) -> Result<StatusCode> {
    let sid = callbacks::call_sid(&form)?;
    let recording_sid = Sid::parse(form.require("RecordingSid")?, "RE", "RecordingSid")?;
    if form
        .get("RecordingStatus")
        .is_some_and(|s| s != "completed")
    {
        return Ok(StatusCode::NO_CONTENT);
    }
    let recording = RecordingUpdate {
        recording_sid: recording_sid.as_str().to_string(),
        url: form.get("RecordingUrl").map(str::to_string),
        duration_seconds: form.get("RecordingDuration").and_then(|d| d.parse().ok()),
    };
    let recording_sid = recording.recording_sid.clone();
    if let Some(call) =
        callbacks::deliver(&state, &form, &sid, Report::Recording(recording)).await?
    {
        // Voice Intelligence is asked by the worker, never inline: Twilio gets its answer now.
        shared::jobs::request_transcript(&state, &call.tenant_id, &call.call_id, &recording_sid)
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
