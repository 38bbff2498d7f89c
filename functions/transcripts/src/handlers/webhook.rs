use axum::extract::State;
use axum::http::StatusCode;
use shared::domain::ids::Sid;
use shared::http::TwilioForm;
use shared::jobs::Job;
use shared::{AppState, Error, Result};

/// Voice Intelligence's webhook: a transcript is available. Verified by `X-Twilio-Signature`
/// (a form, or JSON signed by its `bodySHA256`), it hands the transcript to the worker as a
/// job and answers at once; repeated deliveries end in the same stored transcript.
#[utoipa::path(post, path = "/twilio-transcripts/webhook-callback", tag = "transcripts",
    request_body(content_type = "application/x-www-form-urlencoded", description = "account_sid, service_sid, transcript_sid, customer_key, event_type (form, or the same fields as JSON)"),
    responses(
        (status = 204, description = "Accepted"),
        (status = 403, description = "Missing or invalid X-Twilio-Signature", body = shared::error::Problem),
        (status = 422, description = "Missing or malformed transcript_sid", body = shared::error::Problem),
    ))]
pub async fn webhook(State(state): State<AppState>, form: TwilioForm) -> Result<StatusCode> {
    let raw = form
        .get("transcript_sid")
        .or_else(|| form.get("sid"))
        .ok_or_else(|| Error::field("transcript_sid", "is required"))?;
    let sid = Sid::parse(raw, "GT", "transcript_sid")?;
    let (Some(intelligence), Some(queue)) = (&state.intelligence, &state.jobs) else {
        tracing::warn!("Voice Intelligence webhook, but transcripts are not configured");
        return Ok(StatusCode::NO_CONTENT);
    };
    if form
        .get("service_sid")
        .is_some_and(|s| s != intelligence.service_sid())
    {
        tracing::warn!("Voice Intelligence webhook for another service; ignored");
        return Ok(StatusCode::NO_CONTENT);
    }
    let job = Job::FetchTranscript {
        transcript_sid: sid.as_str().to_string(),
        polls: 0,
    };
    queue.send(&job, std::time::Duration::ZERO).await?;
    Ok(StatusCode::NO_CONTENT)
}
