use axum::Json;
use axum::extract::State;
use serde::Serialize;
use shared::http::AuthUser;
use shared::twilio::platform_account::{PlatformAccount, platform_account};
use shared::{AppState, Result};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// Whether calls can be placed on this deployment.
    telephony_configured: bool,
    numbers_owned: usize,
    max_numbers: u32,
    daily_outbound_call_cap: u32,
    allowed_destination_countries: Vec<String>,
    /// Present for administrators only; never the platform's balance for a tenant.
    platform_account: Option<PlatformAccount>,
}

/// The caller's telephony account: their numbers and limits (administrators also see the
/// platform's Twilio account and balance).
#[utoipa::path(get, path = "/twilio/account", tag = "phone-numbers",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's telephony account", body = AccountView),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 502, description = "Twilio unavailable", body = shared::error::Problem),
    ))]
pub async fn account(State(state): State<AppState>, user: AuthUser) -> Result<Json<AccountView>> {
    let telephony = &state.config.telephony;
    let numbers = state.store.numbers(&user.tenant_id).await?;
    let is_admin = state
        .store
        .user(&user.tenant_id)
        .await?
        .is_some_and(|u| u.is_admin);
    let platform_account = match (&state.twilio, is_admin) {
        (Some(client), true) => Some(
            platform_account(client)
                .await
                .map_err(|e| shared::calling::twilio_error(e, "account"))?,
        ),
        _ => None,
    };
    Ok(Json(AccountView {
        telephony_configured: state.twilio.is_some(),
        numbers_owned: numbers.len(),
        max_numbers: telephony.max_numbers_per_tenant,
        daily_outbound_call_cap: telephony.daily_outbound_cap,
        allowed_destination_countries: telephony.allowed_countries.clone(),
        platform_account,
    }))
}
