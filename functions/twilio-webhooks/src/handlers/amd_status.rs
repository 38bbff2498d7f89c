use axum::extract::State;
use axum::http::StatusCode;
use shared::domain::receptionist::AnsweredBy;
use shared::http::TwilioForm;
use shared::{AppState, Result};

use crate::callbacks;

/// Asynchronous answering-machine detection's verdict on an outbound call (`AnsweredBy`): put
/// on the call record, where the media bridge looks for it (a person: the agent greets; a
/// machine whose message ended: the agent leaves its message). A repeat writes it again.
#[utoipa::path(post, path = "/twilio/amd-status", tag = "twilio-webhooks",
    params(
        ("tenant_id" = Option<String>, Query, description = "Set by the platform in the callback URL it gives Twilio"),
        ("call_id" = Option<String>, Query, description = "Set by the platform in the callback URL it gives Twilio"),
    ),
    request_body(content_type = "application/x-www-form-urlencoded", description = "Twilio's AMD status callback form (CallSid, AnsweredBy, MachineDetectionDuration)"),
    responses(
        (status = 204, description = "Recorded"),
        (status = 403, description = "Missing or invalid X-Twilio-Signature", body = shared::error::Problem),
        (status = 422, description = "Missing or malformed CallSid, AnsweredBy, tenant_id or call_id", body = shared::error::Problem),
    ))]
pub async fn amd_status(State(state): State<AppState>, form: TwilioForm) -> Result<StatusCode> {
    let sid = callbacks::call_sid(&form)?;
    let raw = form.require("AnsweredBy")?;
    let answered_by = raw.parse().unwrap_or_else(|_| {
        tracing::warn!(
            answered_by = raw,
            "an AnsweredBy value the platform does not know"
        );
        AnsweredBy::Unknown
    });
    let Some(call) = callbacks::named_call(&form)? else {
        tracing::warn!("an AMD verdict that names no call");
        return Ok(StatusCode::NO_CONTENT);
    };
    if !callbacks::is_about(&state, &call, &sid).await? {
        return Ok(StatusCode::NO_CONTENT);
    }
    state
        .store
        .set_answered_by(&call.tenant_id, &call.call_id, answered_by)
        .await?;
    tracing::info!(call_id = %call.call_id, answered_by = answered_by.as_str(), "answering-machine detection");
    Ok(StatusCode::NO_CONTENT)
}
