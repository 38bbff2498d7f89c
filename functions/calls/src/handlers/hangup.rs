use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use shared::calling;
use shared::http::AuthUser;
use shared::store::calls::is_final;
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct HungUp {
    message: &'static str,
}

/// End one of the caller's calls: hang up if answered, cancel if still ringing. The final
/// status arrives through Twilio's status callback.
#[utoipa::path(post, path = "/calls/{call_id}/hangup", tag = "calls",
    security(("bearer" = [])),
    params(("call_id" = String, Path)),
    responses(
        (status = 200, description = "Hang-up requested", body = HungUp),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Call not found", body = shared::error::Problem),
        (status = 409, description = "Call already ended", body = shared::error::Problem),
        (status = 502, description = "Twilio unavailable", body = shared::error::Problem),
    ))]
pub async fn hangup(
    State(state): State<AppState>,
    user: AuthUser,
    Path(call_id): Path<String>,
) -> Result<Json<HungUp>> {
    let call = state.store.call(&user.tenant_id, &call_id).await?;
    let sid = match (&call.call_sid, is_final(&call.status)) {
        (Some(sid), false) => sid,
        _ => return Err(Error::Conflict("The call has already ended".into())),
    };
    let status = if call.status == "in-progress" {
        "completed"
    } else {
        "canceled"
    };
    calling::twilio(&state)?
        .update_call_status(sid, status)
        .await
        .map_err(|e| calling::twilio_error(e, "call_id"))?;
    Ok(Json(HungUp {
        message: "Hang-up requested",
    }))
}
