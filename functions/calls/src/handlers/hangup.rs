use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use shared::calling;
use shared::domain::calls::Direction;
use shared::domain::ids::CallId;
use shared::http::AuthUser;
use shared::store::calls::CallRecord;
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct HungUp {
    message: &'static str,
}

/// End one of the caller's calls: hang up if answered, cancel if still ringing. The final
/// status arrives through Twilio's status callback (for a browser session, from the media
/// bridge once OpenAI ended it).
#[utoipa::path(post, path = "/calls/{call_id}/hangup", tag = "calls",
    security(("bearer" = [])),
    params(("call_id" = String, Path)),
    responses(
        (status = 200, description = "Hang-up requested", body = HungUp),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Call not found", body = shared::error::Problem),
        (status = 409, description = "Call already ended", body = shared::error::Problem),
        (status = 422, description = "Not a call id", body = shared::error::Problem),
        (status = 502, description = "Twilio (or, for a browser session, OpenAI) unavailable", body = shared::error::Problem),
        (status = 503, description = "Telephony (or browser sessions) not configured", body = shared::error::Problem),
    ))]
pub async fn hangup(
    State(state): State<AppState>,
    user: AuthUser,
    Path(call_id): Path<String>,
) -> Result<Json<HungUp>> {
    let call_id = CallId::parse(&call_id, "call_id")?;
    let call = state.store.call(&user.tenant_id, call_id.as_str()).await?;
    if call.direction == Direction::Browser {
        return hang_up_browser_call(&state, &user.tenant_id, &call).await;
    }
    let sid = match (&call.call_sid, call.status.is_final()) {
        (Some(sid), false) => sid,
        _ => return Err(Error::Conflict("The call has already ended".into())),
    };
    calling::end_at_twilio(calling::twilio(&state)?, sid, call.status)
        .await
        .map_err(|e| calling::twilio_error(e, "call_id"))?;
    Ok(Json(HungUp {
        message: "Hang-up requested",
    }))
}

/// A browser session ends at OpenAI; the media bridge then sees its sideband close and
/// completes the record.
async fn hang_up_browser_call(
    state: &AppState,
    tenant_id: &str,
    call: &CallRecord,
) -> Result<Json<HungUp>> {
    let rtc_call_id = match state.store.rtc_call_id(tenant_id, &call.call_id).await? {
        Some(id) if !call.status.is_final() => id,
        _ => return Err(Error::Conflict("The call has already ended".into())),
    };
    let openai = state.openai.as_ref().ok_or_else(|| {
        Error::Unavailable("Browser sessions are not configured on this deployment".into())
    })?;
    openai
        .hang_up_realtime_call(&rtc_call_id)
        .await
        .map_err(|e| {
            tracing::warn!(call_id = %call.call_id, status = e.status, "OpenAI did not end a browser call");
            Error::Upstream("The voice service is unavailable; please retry shortly".into())
        })?;
    Ok(Json(HungUp {
        message: "Hang-up requested",
    }))
}
