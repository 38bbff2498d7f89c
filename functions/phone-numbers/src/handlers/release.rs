use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use shared::calling;
use shared::domain::phone::E164;
use shared::http::AuthUser;
use shared::{AppState, Result};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Released {
    message: String,
}

/// Release one of the caller's numbers back to Twilio; 404 for a number that is not theirs.
/// A released number can be provisioned again later (by anyone).
#[utoipa::path(delete, path = "/twilio/release-number/{phone_number}", tag = "phone-numbers",
    security(("bearer" = [])),
    params(("phone_number" = String, Path, description = "E.164, with `+` URL-encoded as %2B")),
    responses(
        (status = 200, description = "Released", body = Released),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Not the caller's number", body = shared::error::Problem),
        (status = 502, description = "Twilio unavailable", body = shared::error::Problem),
    ))]
pub async fn release(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<Released>> {
    let number = E164::parse(&raw, "phone_number")?;
    let owned = state.store.number(&user.tenant_id, number.as_str()).await?;
    if let Some(sid) = &owned.twilio_sid {
        calling::twilio(&state)?
            .release_number(sid)
            .await
            .map_err(|e| calling::twilio_error(e, "phone_number"))?;
    }
    state
        .store
        .remove_number(&user.tenant_id, number.as_str())
        .await?;
    tracing::info!(tenant_id = %user.tenant_id, "phone number released");
    Ok(Json(Released {
        message: format!("Phone number {} released successfully", number),
    }))
}
