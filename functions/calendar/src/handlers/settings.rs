use axum::Json;
use axum::extract::State;
use shared::calendar::TenantCalendar;
use shared::domain::calendar::SettingsInput;
use shared::domain::calendar::settings::SettingsView;
use shared::http::{AuthUser, JsonBody};
use shared::{AppState, Error, Result};

/// The calendar settings every availability computation uses (defaults until set).
#[utoipa::path(get, path = "/google-calendar/settings", tag = "calendar",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The settings", body = SettingsView),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
    ))]
pub async fn get(State(state): State<AppState>, user: AuthUser) -> Result<Json<SettingsView>> {
    let settings = state.store.calendar_settings(&user.tenant_id).await?;
    Ok(Json(SettingsView::from(&settings)))
}

/// Replace the calendar settings; fields left out take their defaults. With a calendar
/// connected, `calendar_id` must be one the account can write to.
#[utoipa::path(put, path = "/google-calendar/settings", tag = "calendar",
    security(("bearer" = [])),
    request_body = SettingsInput,
    responses(
        (status = 200, description = "The settings as stored", body = SettingsView),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 422, description = "Invalid fields (each named)", body = shared::error::Problem),
        (status = 429, description = "Too many calendar requests (checking calendar_id reads Google)", body = shared::error::Problem),
        (status = 502, description = "Google unavailable while checking calendar_id", body = shared::error::Problem),
    ))]
pub async fn put(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(input): JsonBody<SettingsInput>,
) -> Result<Json<SettingsView>> {
    let settings = input.validate().map_err(Error::Validation)?;
    if settings.calendar_id != "primary" {
        match TenantCalendar::open(&state, &user.tenant_id).await {
            Ok(calendar) => {
                super::rate_limit(&state, &user).await?;
                let writable = calendar.writable_calendars().await?;
                if !writable.iter().any(|c| c.id == settings.calendar_id) {
                    return Err(Error::field(
                        "calendar_id",
                        "is not a calendar the connected Google account can add events to",
                    ));
                }
            }
            // Not connected (yet): checked when it is used.
            Err(Error::Conflict(_) | Error::Unavailable(_)) => {}
            Err(e) => return Err(e),
        }
    }
    state
        .store
        .put_calendar_settings(&user.tenant_id, &settings)
        .await?;
    Ok(Json(SettingsView::from(&settings)))
}
