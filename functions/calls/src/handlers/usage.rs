use axum::Json;
use axum::extract::{Query, State};
use chrono::{Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shared::domain::usage::{Tally, UsageView, minutes, month_of};
use shared::http::AuthUser;
use shared::http::query::{Filters, non_empty};
use shared::{AppState, Error, FieldError, Result};
use utoipa::{IntoParams, ToSchema};

/// The longest range one request may ask for.
const MAX_DAYS: i64 = 366;

#[derive(Deserialize, IntoParams)]
pub struct UsageQuery {
    /// First UTC day, `YYYY-MM-DD`; default: the first day of this month.
    #[param(format = Date)]
    from: Option<String>,
    /// Last UTC day, `YYYY-MM-DD`, not before `from` and at most 366 days after it; default: today.
    #[param(format = Date)]
    to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UsageReport {
    #[schema(value_type = String, format = Date)]
    from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    to: NaiveDate,
    /// The days of the range that had any usage, oldest first.
    days: Vec<DayUsage>,
    /// The whole range.
    total: UsageView,
    /// This UTC month so far, against the tenant's monthly cap.
    month: MonthUsage,
}

#[derive(Serialize, ToSchema)]
pub struct DayUsage {
    #[schema(value_type = String, format = Date)]
    date: NaiveDate,
    usage: UsageView,
}

#[derive(Serialize, ToSchema)]
pub struct MonthUsage {
    /// `YYYY-MM`.
    month: String,
    call_minutes: f64,
    /// Call minutes the tenant may use this month; absent when there is no cap.
    minute_cap: Option<u32>,
    /// What is left of the cap (0 once used up); absent when there is no cap.
    minutes_left: Option<f64>,
}

/// The caller's usage per UTC day: call minutes by channel (phone inbound and outbound,
/// browser), Realtime tokens by kind, transcription minutes and an estimated cost. A call
/// counts on the day it ended, once.
#[utoipa::path(get, path = "/usage", tag = "calls",
    security(("bearer" = [])),
    params(UsageQuery),
    responses(
        (status = 200, description = "Usage of the range", body = UsageReport),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 422, description = "Invalid range", body = shared::error::Problem),
    ))]
pub async fn usage(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<UsageQuery>,
) -> Result<Json<UsageReport>> {
    let today = Utc::now().date_naive();
    let mut filters = Filters::default();
    let from: Option<NaiveDate> = filters.parse(
        non_empty(query.from).as_deref(),
        "from",
        "must be a date, YYYY-MM-DD",
    );
    let to: Option<NaiveDate> = filters.parse(
        non_empty(query.to).as_deref(),
        "to",
        "must be a date, YYYY-MM-DD",
    );
    filters.finish()?;
    let from = from.unwrap_or_else(|| today.with_day(1).unwrap_or(today));
    let to = to.unwrap_or(today);
    if to < from {
        return Err(range_error("must not be earlier than from"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(range_error("must be at most 366 days after from"));
    }
    let prices = &state.config.usage.prices;
    let tenant_id = &user.tenant_id;
    let month = month_of(today);
    let (days, this_month, standing) = tokio::try_join!(
        state.store.usage_days(tenant_id, from, to),
        state.store.month_usage(tenant_id, &month),
        state.store.standing(tenant_id),
    )?;
    let mut total = Tally::default();
    for (_, tally) in &days {
        total.add(tally);
    }
    let cap = standing
        .and_then(|s| s.monthly_minute_cap)
        .or(state.config.usage.monthly_minute_cap);
    let used = this_month.call_seconds();
    Ok(Json(UsageReport {
        from,
        to,
        days: days
            .iter()
            .map(|(date, tally)| DayUsage {
                date: *date,
                usage: UsageView::of(tally, prices),
            })
            .collect(),
        total: UsageView::of(&total, prices),
        month: MonthUsage {
            month,
            call_minutes: minutes(used),
            minute_cap: cap,
            minutes_left: cap.map(|cap| minutes((u64::from(cap) * 60).saturating_sub(used))),
        },
    }))
}

fn range_error(message: &str) -> Error {
    Error::Validation(vec![FieldError::new("to", message)])
}
