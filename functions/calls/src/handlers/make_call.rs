use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use shared::calling::{self, Outbound};
use shared::domain::phone::E164;
use shared::http::AuthUser;
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct CallPlaced {
    /// Always `success`.
    status: &'static str,
    call_id: String,
    call_sid: Option<String>,
    from_number: String,
    message: &'static str,
}

async fn place(
    state: &AppState,
    user: &AuthUser,
    raw_number: &str,
    scenario: String,
) -> Result<Json<CallPlaced>> {
    state
        .store
        .rate_limit(
            "make_call",
            &user.tenant_id,
            &state.config.rate_limits.calls,
        )
        .await?;
    let to = E164::parse(raw_number, "phone_number")?;
    let call = calling::place_outbound(
        state,
        &user.tenant_id,
        Outbound {
            to,
            scenario,
            scheduled: None,
        },
    )
    .await?;
    Ok(Json(CallPlaced {
        status: "success",
        message: if state.config.development_mode {
            "Call initiated successfully (development mode)"
        } else {
            "Call initiated successfully (using your provisioned number)"
        },
        call_id: call.call_id,
        call_sid: call.call_sid,
        from_number: call.from,
    }))
}

/// Call `phone_number` with a predefined scenario (`default`, `appointment_reminder`, ...).
#[utoipa::path(get, path = "/make-call/{phone_number}/{scenario}", tag = "calls",
    security(("bearer" = [])),
    params(
        ("phone_number" = String, Path, description = "E.164 (URL-encode `+` as %2B) or a 10-digit US/Canada number"),
        ("scenario" = String, Path, description = "Predefined scenario key"),
    ),
    responses(
        (status = 200, description = "Call placed", body = CallPlaced),
        (status = 400, description = "Destination refused, no caller ID, or Twilio refused", body = shared::error::Problem),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 403, description = "The account is suspended", body = shared::error::Problem),
        (status = 404, description = "Unknown scenario", body = shared::error::Problem),
        (status = 422, description = "Invalid phone number", body = shared::error::Problem),
        (status = 429, description = "Rate, daily or monthly minute limit reached", body = shared::error::Problem),
        (status = 502, description = "Twilio unavailable", body = shared::error::Problem),
        (status = 503, description = "Telephony not configured", body = shared::error::Problem),
    ))]
pub async fn make_call(
    State(state): State<AppState>,
    user: AuthUser,
    Path((phone_number, scenario)): Path<(String, String)>,
) -> Result<Json<CallPlaced>> {
    if shared::domain::scenarios::predefined(&scenario).is_none() {
        return Err(Error::NotFound("Scenario not found".into()));
    }
    place(&state, &user, &phone_number, scenario).await
}

/// Call `phone_number` with one of the caller's custom scenarios.
#[utoipa::path(get, path = "/make-custom-call/{phone_number}/{scenario_id}", tag = "calls",
    security(("bearer" = [])),
    params(
        ("phone_number" = String, Path, description = "E.164 (URL-encode `+` as %2B) or a 10-digit US/Canada number"),
        ("scenario_id" = String, Path, description = "Custom scenario id"),
    ),
    responses(
        (status = 200, description = "Call placed", body = CallPlaced),
        (status = 400, description = "Destination refused, no caller ID, or Twilio refused", body = shared::error::Problem),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 403, description = "The account is suspended", body = shared::error::Problem),
        (status = 404, description = "Unknown custom scenario", body = shared::error::Problem),
        (status = 422, description = "Invalid phone number", body = shared::error::Problem),
        (status = 429, description = "Rate, daily or monthly minute limit reached", body = shared::error::Problem),
        (status = 502, description = "Twilio unavailable", body = shared::error::Problem),
        (status = 503, description = "Telephony not configured", body = shared::error::Problem),
    ))]
pub async fn make_custom_call(
    State(state): State<AppState>,
    user: AuthUser,
    Path((phone_number, scenario_id)): Path<(String, String)>,
) -> Result<Json<CallPlaced>> {
    if !scenario_id.starts_with("custom_") {
        return Err(Error::NotFound("Custom scenario not found".into()));
    }
    place(&state, &user, &phone_number, scenario_id).await
}

/// Call `phone_number` with the calendar assistant: the agent knows the tenant's busy times
/// and free slots and can book and cancel appointments in the tenant's Google Calendar.
#[utoipa::path(get, path = "/google-calendar/make-calendar-call/{phone_number}", tag = "calendar",
    security(("bearer" = [])),
    params(
        ("phone_number" = String, Path, description = "E.164 (URL-encode `+` as %2B) or a 10-digit US/Canada number"),
    ),
    responses(
        (status = 200, description = "Call placed", body = CallPlaced),
        (status = 400, description = "Destination refused, no caller ID, or Twilio refused", body = shared::error::Problem),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 403, description = "The account is suspended", body = shared::error::Problem),
        (status = 409, description = "Google Calendar not connected, or access revoked", body = shared::error::Problem),
        (status = 422, description = "Invalid phone number", body = shared::error::Problem),
        (status = 429, description = "Rate, daily or monthly minute limit reached", body = shared::error::Problem),
        (status = 502, description = "Twilio unavailable", body = shared::error::Problem),
        (status = 503, description = "Telephony or Google Calendar not configured", body = shared::error::Problem),
    ))]
pub async fn make_calendar_call(
    State(state): State<AppState>,
    user: AuthUser,
    Path(phone_number): Path<String>,
) -> Result<Json<CallPlaced>> {
    place(
        &state,
        &user,
        &phone_number,
        shared::domain::scenarios::CALENDAR.to_string(),
    )
    .await
}
