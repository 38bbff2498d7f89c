use axum::Json;
use axum::extract::State;
use serde::Serialize;
use shared::calendar::TenantCalendar;
use shared::http::AuthUser;
use shared::{AppState, Result};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct CalendarView {
    /// What `calendar_id` in the settings takes.
    id: String,
    summary: Option<String>,
    /// The calendar's own IANA zone.
    time_zone: Option<String>,
    primary: bool,
}

/// The connected account's calendars that events can be added to (for `calendar_id`).
#[utoipa::path(get, path = "/google-calendar/calendars", tag = "calendar",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Writable calendars", body = [CalendarView]),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 409, description = "Not connected, or access revoked", body = shared::error::Problem),
        (status = 429, description = "Too many calendar requests", body = shared::error::Problem),
        (status = 502, description = "Google unavailable", body = shared::error::Problem),
        (status = 503, description = "Google Calendar not configured", body = shared::error::Problem),
    ))]
pub async fn calendars(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<CalendarView>>> {
    super::rate_limit(&state, &user).await?;
    let calendar = TenantCalendar::open(&state, &user.tenant_id).await?;
    let calendars = calendar.writable_calendars().await?;
    Ok(Json(
        calendars
            .into_iter()
            .map(|c| CalendarView {
                id: c.id,
                summary: c.summary,
                time_zone: c.time_zone,
                primary: c.primary,
            })
            .collect(),
    ))
}
