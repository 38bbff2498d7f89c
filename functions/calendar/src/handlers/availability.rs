use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use shared::calendar::TenantCalendar;
use shared::domain::calendar::settings::{SLOT_MINUTES, parse_hour};
use shared::domain::calendar::speech::{local_rfc3339, parse_time, say_slot};
use shared::domain::calendar::{Slot, SlotQuery};
use shared::http::AuthUser;
use shared::http::query::Filters;
use shared::{AppState, Error, FieldError, Result};
use utoipa::{IntoParams, ToSchema};

/// The widest window searched at once (Google's free/busy range is bounded too).
const MAX_RANGE_DAYS: i64 = 60;
const MAX_SLOTS: u32 = 50;

/// A time range in the tenant's zone.
#[derive(Serialize, ToSchema)]
pub struct Range {
    #[schema(example = "2026-11-02T09:00:00-05:00")]
    start: String,
    end: String,
    /// As the agent says it: `Monday, November 2 at 9:00 AM to 9:30 AM`.
    spoken: String,
}

fn range(slot: &Slot, zone: Tz) -> Range {
    Range {
        start: local_rfc3339(slot.start, zone),
        end: local_rfc3339(slot.end, zone),
        spoken: say_slot(slot, zone),
    }
}

const TIME_HINT: &str =
    "must be an RFC 3339 time, or a local time in the calendar's zone such as 2026-11-02T09:00";

/// A required or optional time parameter, read in the tenant's zone.
fn time(filters: &mut Filters, raw: Option<&str>, field: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let parsed = parse_time(raw?, zone);
    if parsed.is_none() {
        filters.extend(vec![FieldError::new(field, TIME_HINT)]);
    }
    parsed
}

#[derive(Deserialize, IntoParams)]
pub struct AvailabilityQuery {
    /// RFC 3339, or local in the calendar's zone (`2026-11-02T09:00`).
    start_time: Option<String>,
    /// Default: `start_time` plus the slot length.
    end_time: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Availability {
    is_available: bool,
    start: String,
    end: String,
    /// Busy periods (with the buffer) that overlap; their details stay private.
    conflicts: Vec<Range>,
}

/// Whether the calendar is free for a meeting, counting the buffer around it (Google's
/// free/busy: transparent and declined events are free, all-day events busy).
#[utoipa::path(get, path = "/google-calendar/check-availability", tag = "calendar",
    security(("bearer" = [])),
    params(AvailabilityQuery),
    responses(
        (status = 200, description = "Availability", body = Availability),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 409, description = "Not connected, or access revoked", body = shared::error::Problem),
        (status = 422, description = "Invalid parameter", body = shared::error::Problem),
        (status = 429, description = "Too many calendar requests", body = shared::error::Problem),
        (status = 502, description = "Google unavailable", body = shared::error::Problem),
        (status = 503, description = "Google Calendar not configured", body = shared::error::Problem),
    ))]
pub async fn check_availability(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<AvailabilityQuery>,
) -> Result<Json<Availability>> {
    let calendar = TenantCalendar::open(&state, &user.tenant_id).await?;
    let zone = calendar.settings.time_zone;
    let mut filters = Filters::default();
    if query.start_time.is_none() {
        filters.extend(vec![FieldError::new("start_time", "is required")]);
    }
    let start = time(
        &mut filters,
        query.start_time.as_deref(),
        "start_time",
        zone,
    );
    let end = time(&mut filters, query.end_time.as_deref(), "end_time", zone);
    filters.finish()?;
    let start = start.ok_or_else(|| Error::field("start_time", "is required"))?;
    let end = end.unwrap_or(start + calendar.settings.slot_length());
    if end <= start || end - start > Duration::days(MAX_RANGE_DAYS) {
        return Err(Error::field(
            "end_time",
            format!("must be after start_time and within {MAX_RANGE_DAYS} days of it"),
        ));
    }
    super::rate_limit(&state, &user).await?;
    let conflicts = calendar.conflicts(start, end).await?;
    Ok(Json(Availability {
        is_available: conflicts.is_empty(),
        start: local_rfc3339(start, zone),
        end: local_rfc3339(end, zone),
        conflicts: conflicts
            .iter()
            .map(|p| {
                range(
                    &Slot {
                        start: p.start,
                        end: p.end,
                    },
                    zone,
                )
            })
            .collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct SlotsQuery {
    /// A date (`2026-11-02`, from its local midnight) or a time; default now.
    start_date: Option<String>,
    /// A date (through the end of that day) or a time; default `start_date` plus 7 days.
    end_date: Option<String>,
    /// Meeting length in minutes (5 to 480); default the settings' slot length.
    #[param(value_type = Option<u32>)]
    min_duration: Option<String>,
    /// 1 to 50; default 5.
    #[param(value_type = Option<u32>)]
    max_results: Option<String>,
    /// Override the working hours for this search: whole hours 0 to 24.
    #[param(value_type = Option<u32>)]
    start_hour: Option<String>,
    #[param(value_type = Option<u32>)]
    end_hour: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct FreeSlots {
    /// The zone the slots are given in (the calendar settings').
    time_zone: String,
    free_slots: Vec<Range>,
}

/// The local midnight starting `day`, or the earliest instant of that day.
fn midnight(day: NaiveDate, zone: Tz) -> Option<DateTime<Utc>> {
    day.and_hms_opt(0, 0, 0)?
        .and_local_timezone(zone)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// A `start_date`/`end_date`: a date (its start, or for an end the next midnight) or a time.
fn date_or_time(
    filters: &mut Filters,
    raw: Option<&str>,
    field: &str,
    zone: Tz,
    is_end: bool,
) -> Option<DateTime<Utc>> {
    let raw = raw?;
    if let Ok(day) = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
        let day = if is_end { day.succ_opt()? } else { day };
        return midnight(day, zone);
    }
    time(filters, Some(raw), field, zone)
}

/// Fixed-length meeting slots inside the working hours of working days, in the tenant's
/// zone, clear of busy times by the buffer; the first `max_results` from `start_date`.
#[utoipa::path(get, path = "/google-calendar/find-slots", tag = "calendar",
    security(("bearer" = [])),
    params(SlotsQuery),
    responses(
        (status = 200, description = "Free slots", body = FreeSlots),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 409, description = "Not connected, or access revoked", body = shared::error::Problem),
        (status = 422, description = "Invalid parameter", body = shared::error::Problem),
        (status = 429, description = "Too many calendar requests", body = shared::error::Problem),
        (status = 502, description = "Google unavailable", body = shared::error::Problem),
        (status = 503, description = "Google Calendar not configured", body = shared::error::Problem),
    ))]
pub async fn find_slots(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<SlotsQuery>,
) -> Result<Json<FreeSlots>> {
    let calendar = TenantCalendar::open(&state, &user.tenant_id).await?;
    let zone = calendar.settings.time_zone;
    let mut filters = Filters::default();
    let from = date_or_time(
        &mut filters,
        query.start_date.as_deref(),
        "start_date",
        zone,
        false,
    );
    let to = date_or_time(
        &mut filters,
        query.end_date.as_deref(),
        "end_date",
        zone,
        true,
    );
    let minutes = super::bounded(
        &mut filters,
        query.min_duration.as_deref(),
        "min_duration",
        calendar.settings.slot_minutes,
        *SLOT_MINUTES.end(),
    );
    if minutes < *SLOT_MINUTES.start() {
        filters.extend(vec![FieldError::new(
            "min_duration",
            "must be at least 5 minutes",
        )]);
    }
    let max_results = super::bounded(
        &mut filters,
        query.max_results.as_deref(),
        "max_results",
        5,
        MAX_SLOTS,
    );
    let hour = |filters: &mut Filters, raw: Option<&str>, field: &str| -> Option<u32> {
        let value = raw?;
        let parsed = value.trim().parse::<u32>().ok().filter(|h| *h <= 24);
        if parsed.is_none() {
            filters.extend(vec![FieldError::new(
                field,
                "must be a whole hour from 0 to 24",
            )]);
        }
        parsed.and_then(|h| parse_hour(&format!("{h:02}:00")))
    };
    let day_start = hour(&mut filters, query.start_hour.as_deref(), "start_hour");
    let day_end = hour(&mut filters, query.end_hour.as_deref(), "end_hour");
    filters.finish()?;
    let now = Utc::now();
    let from = from.unwrap_or(now);
    let to = to.unwrap_or(from + Duration::days(7));
    if to <= from || to - from > Duration::days(MAX_RANGE_DAYS) {
        return Err(Error::field(
            "end_date",
            format!("must be after start_date and within {MAX_RANGE_DAYS} days of it"),
        ));
    }
    let (open, close) = (
        day_start.unwrap_or(calendar.settings.day_start),
        day_end.unwrap_or(calendar.settings.day_end),
    );
    if close <= open || close - open < minutes {
        return Err(Error::field(
            "end_hour",
            "must leave room for a meeting after start_hour",
        ));
    }
    super::rate_limit(&state, &user).await?;
    let slots = calendar
        .free_slots(SlotQuery {
            from,
            to,
            not_before: now,
            length: Some(Duration::minutes(i64::from(minutes))),
            day_start,
            day_end,
            max_results: max_results as usize,
        })
        .await?;
    Ok(Json(FreeSlots {
        time_zone: zone.name().to_string(),
        free_slots: slots.iter().map(|s| range(s, zone)).collect(),
    }))
}
