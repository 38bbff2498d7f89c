use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shared::calling::{self, INBOUND_WEBHOOK, STATUS_WEBHOOK};
use shared::domain::onboarding::{Flags, Step};
use shared::domain::phone::E164;
use shared::http::{AuthUser, JsonBody};
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

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
/// reach the caller's inbound scenario. At most `MAX_NUMBERS_PER_TENANT` per tenant.
#[utoipa::path(post, path = "/twilio/provision-number", tag = "phone-numbers",
    security(("bearer" = [])),
    request_body = ProvisionRequest,
    responses(
        (status = 201, description = "Bought", body = Provisioned),
        (status = 400, description = "Limit reached or Twilio refused the number", body = shared::error::Problem),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 409, description = "Number already provisioned", body = shared::error::Problem),
        (status = 422, description = "Invalid phone_number", body = shared::error::Problem),
        (status = 502, description = "Twilio unavailable", body = shared::error::Problem),
        (status = 503, description = "Telephony not configured", body = shared::error::Problem),
    ))]
pub async fn provision(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<ProvisionRequest>,
) -> Result<(StatusCode, Json<Provisioned>)> {
    let client = calling::twilio(&state)?;
    let raw = body
        .phone_number
        .ok_or_else(|| Error::field("phone_number", "is required"))?;
    let number = E164::parse(&raw, "phone_number")?;
    if !number.as_str().starts_with('+') {
        return Err(Error::field("phone_number", "must be a full E.164 number"));
    }
    let tenant = &user.tenant_id;
    state
        .store
        .reserve_number(
            tenant,
            number.as_str(),
            state.config.telephony.max_numbers_per_tenant,
        )
        .await?;
    let bought = client
        .buy_number(
            number.as_str(),
            &calling::webhook_url(&state, INBOUND_WEBHOOK),
            &calling::webhook_url(&state, STATUS_WEBHOOK),
            &format!("AI agent {}", number.as_str()),
        )
        .await;
    let bought = match bought {
        Ok(b) => b,
        Err(e) => {
            // Give the reservation back: nothing was bought.
            state.store.remove_number(tenant, number.as_str()).await?;
            return Err(calling::twilio_error(e, "phone_number"));
        }
    };
    let capabilities = bought.capabilities.clone();
    let stored = state
        .store
        .activate_number(
            tenant,
            number.as_str(),
            &bought.sid,
            bought.friendly_name.as_deref(),
            capabilities.as_ref().is_none_or(|c| c.voice),
            capabilities.as_ref().is_some_and(|c| c.sms),
        )
        .await?;
    let mut done = Flags::default();
    done.set(Step::PhoneSetup);
    state.store.record_onboarding(tenant, done).await?;
    tracing::info!(tenant_id = %tenant, "phone number provisioned");
    Ok((
        StatusCode::CREATED,
        Json(Provisioned {
            message: format!(
                "Phone number {} provisioned successfully",
                stored.phone_number
            ),
            phone_number: stored.phone_number,
            sid: bought.sid,
            friendly_name: stored.friendly_name,
        }),
    ))
}
