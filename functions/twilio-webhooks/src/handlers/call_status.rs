use axum::extract::State;
use axum::http::StatusCode;
use shared::domain::calls::CallStatus;
use shared::domain::ids::Sid;
use shared::http::TwilioForm;
use shared::store::calls::{RecordingUpdate, StatusUpdate};
use shared::{AppState, Error, Result};

use crate::callbacks::{self, Report};

/// Call status callback: moves the call record forward (queued, ringing, in-progress, then a
/// final status with the duration and recording), whether it arrives before or after the
/// platform stored the Call SID. Repeated or late deliveries change nothing.
#[utoipa::path(post, path = "/twilio/call-status", tag = "twilio-webhooks",
    params(
        ("tenant_id" = Option<String>, Query, description = "Set by the platform in the callback URLs it gives Twilio"),
        ("call_id" = Option<String>, Query, description = "Set by the platform in the callback URLs it gives Twilio"),
    ),
    request_body(content_type = "application/x-www-form-urlencoded", description = "Twilio's status callback form (CallSid, CallStatus, CallDuration, ...)"),
    responses(
        (status = 204, description = "Recorded"),
        (status = 403, description = "Missing or invalid X-Twilio-Signature", body = shared::error::Problem),
        (status = 422, description = "Missing or unknown CallStatus, malformed CallSid", body = shared::error::Problem),
    ))]
pub async fn call_status(State(state): State<AppState>, form: TwilioForm) -> Result<StatusCode> {
    let sid = callbacks::call_sid(&form)?;
    let status: CallStatus = form
        .require("CallStatus")?
        .parse()
        .map_err(|_| Error::field("CallStatus", "is not a Twilio call status"))?;
    let update = StatusUpdate {
        status,
        duration_seconds: form.get("CallDuration").and_then(|d| d.parse().ok()),
    };
    callbacks::deliver(&state, &form, &sid, Report::Status(update)).await?;
    // A final callback of a recorded call also carries the recording.
    if let Some(recording_sid) = form.get("RecordingSid") {
        let recording = RecordingUpdate {
            recording_sid: Sid::parse(recording_sid, "RE", "RecordingSid")?
                .as_str()
                .to_string(),
            url: form.get("RecordingUrl").map(str::to_string),
            duration_seconds: form.get("RecordingDuration").and_then(|d| d.parse().ok()),
        };
        callbacks::deliver(&state, &form, &sid, Report::Recording(recording)).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
