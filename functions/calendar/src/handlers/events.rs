use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use shared::calendar::TenantCalendar;
use shared::calendar::availability::{EventView, MAX_EVENTS};
use shared::http::AuthUser;
use shared::http::query::Filters;
use shared::{AppState, Result};
use utoipa::IntoParams;

/// How far ahead events can be listed.
const MAX_DAYS_AHEAD: u32 = 366;

#[derive(Deserialize, IntoParams)]
pub struct EventsQuery {
    /// 1 to 250; default 10.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 250)]
    max_results: Option<String>,
    /// 1 to 366; default 7.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 366)]
    days_ahead: Option<String>,
}

/// Upcoming events from now, earliest first, with times in the tenant's zone; all-day events
/// have dates (`all_day: true`).
#[utoipa::path(get, path = "/google-calendar/events", tag = "calendar",
    security(("bearer" = [])),
    params(EventsQuery),
    responses(
        (status = 200, description = "Upcoming events", body = [EventView]),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 409, description = "Not connected, or access revoked", body = shared::error::Problem),
        (status = 422, description = "Invalid parameter", body = shared::error::Problem),
        (status = 429, description = "Too many calendar requests", body = shared::error::Problem),
        (status = 502, description = "Google unavailable", body = shared::error::Problem),
        (status = 503, description = "Google Calendar not configured", body = shared::error::Problem),
    ))]
pub async fn events(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<EventsQuery>,
) -> Result<Json<Vec<EventView>>> {
    let mut filters = Filters::default();
    let max_results = super::bounded(
        &mut filters,
        query.max_results.as_deref(),
        "max_results",
        10,
        MAX_EVENTS,
    );
    let days_ahead = super::bounded(
        &mut filters,
        query.days_ahead.as_deref(),
        "days_ahead",
        7,
        MAX_DAYS_AHEAD,
    );
    filters.finish()?;
    super::rate_limit(&state, &user).await?;
    let calendar = TenantCalendar::open(&state, &user.tenant_id).await?;
    Ok(Json(
        calendar.upcoming_events(max_results, days_ahead).await?,
    ))
}
