use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use shared::domain::ids::CallId;
use shared::hang_up::hang_up;
use shared::http::AuthUser;
use shared::{AppState, Result};
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
    hang_up(&state, &user.tenant_id, &call).await?;
    Ok(Json(HungUp {
        message: "Hang-up requested",
    }))
}
