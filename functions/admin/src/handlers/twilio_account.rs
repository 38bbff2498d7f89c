use axum::Json;
use axum::extract::State;
use shared::calling::{twilio, twilio_error};
use shared::store::audit::AuditAction;
use shared::twilio::platform_account::{PlatformAccount, platform_account};
use shared::{AppState, Result};

use crate::Administrator;

/// The platform's Twilio account: its status and balance (administrators only).
#[utoipa::path(get, path = "/admin/twilio-account", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The platform's Twilio account", body = PlatformAccount),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 403, description = "Not a platform administrator", body = shared::error::Problem),
        (status = 502, description = "Twilio unavailable", body = shared::error::Problem),
        (status = 503, description = "Telephony not configured", body = shared::error::Problem),
    ))]
pub async fn twilio_account(
    State(state): State<AppState>,
    admin: Administrator,
) -> Result<Json<PlatformAccount>> {
    let client = twilio(&state)?;
    state
        .store
        .record_audit(&admin.audit(AuditAction::ViewPlatformAccount))
        .await?;
    let account = platform_account(client)
        .await
        .map_err(|e| twilio_error(e, "account"))?;
    Ok(Json(account))
}
