use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shared::calling;
use shared::domain::phone::E164;
use shared::http::{AuthUser, JsonBody};
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

use crate::purchase;

#[derive(Deserialize, ToSchema)]
pub struct ProvisionRequest {
    /// The number to buy, in E.164 (from a search result).
    #[schema(required = true, nullable = false, min_length = 3)]
    phone_number: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Provisioned {
    phone_number: String,
    sid: String,
    friendly_name: Option<String>,
    message: String,
}

/// Buy a number for the caller. Its voice URL is the platform's inbound webhook, so calls to it
/// reach the caller's inbound scenario. At most `MAX_NUMBERS_PER_TENANT` per tenant. A purchase
/// whose outcome the phone service did not confirm is reconciled with it (by number).
#[utoipa::path(post, path = "/twilio/provision-number", tag = "phone-numbers",
    security(("bearer" = [])),
    request_body = ProvisionRequest,
    responses(
        (status = 201, description = "Bought", body = Provisioned),
        (status = 400, description = "Limit reached or Twilio refused the number", body = shared::error::Problem),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 409, description = "Number already provisioned", body = shared::error::Problem),
        (status = 422, description = "Invalid phone_number", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
        (status = 502, description = "Twilio unavailable", body = shared::error::Problem),
        (status = 503, description = "Telephony not configured", body = shared::error::Problem),
    ))]
pub async fn provision(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<ProvisionRequest>,
) -> Result<(StatusCode, Json<Provisioned>)> {
    calling::twilio(&state)?;
    state
        .store
        .rate_limit(
            "provision_number",
            &user.tenant_id,
            &state.config.rate_limits.numbers,
        )
        .await?;
    let raw = body
        .phone_number
        .ok_or_else(|| Error::field("phone_number", "is required"))?;
    let number = E164::parse(&raw, "phone_number")?;
    if !number.as_str().starts_with('+') {
        return Err(Error::field("phone_number", "must be a full E.164 number"));
    }
    let stored = purchase::buy(&state, &user.tenant_id, &number).await?;
    Ok((
        StatusCode::CREATED,
        Json(Provisioned {
            message: format!(
                "Phone number {} provisioned successfully",
                stored.phone_number
            ),
            sid: stored.twilio_sid.unwrap_or_default(),
            phone_number: stored.phone_number,
            friendly_name: stored.friendly_name,
        }),
    ))
}
