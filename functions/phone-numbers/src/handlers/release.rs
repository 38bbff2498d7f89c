use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use shared::domain::phone::E164;
use shared::http::AuthUser;
use shared::{AppState, Result};
use utoipa::ToSchema;

use crate::purchase;

#[derive(Serialize, ToSchema)]
pub struct Released {
    message: String,
}

/// Release one of the caller's numbers back to Twilio; 404 for a number that is not theirs.
/// A released number can be provisioned again later (by anyone). A number whose purchase was
/// interrupted is found at Twilio by its number and released there too.
#[utoipa::path(delete, path = "/twilio/release-number/{phone_number}", tag = "phone-numbers",
    security(("bearer" = [])),
    params(("phone_number" = String, Path, description = "E.164, with `+` URL-encoded as %2B")),
    responses(
        (status = 200, description = "Released", body = Released),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Not the caller's number", body = shared::error::Problem),
        (status = 409, description = "Its purchase is still in progress", body = shared::error::Problem),
        (status = 422, description = "Invalid phone_number", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
        (status = 502, description = "Twilio unavailable", body = shared::error::Problem),
    ))]
pub async fn release(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<Released>> {
    state
        .store
        .rate_limit(
            "release_number",
            &user.tenant_id,
            &state.config.rate_limits.numbers,
        )
        .await?;
    let number = E164::parse(&raw, "phone_number")?;
    purchase::release(&state, &user.tenant_id, &number).await?;
    Ok(Json(Released {
        message: format!("Phone number {} released successfully", number),
    }))
}
