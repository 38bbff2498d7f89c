use aws_sdk_scheduler::types::{ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::domain::phone::E164;
use shared::domain::scenarios;
use shared::http::{AuthUser, JsonBody};
use shared::store::schedules::ScheduledCall;
use shared::{AppState, Error, FieldError, Result};
use shared::{allowance, calling};
use utoipa::ToSchema;

use crate::runner::ScheduledCallEvent;
use crate::view::ScheduleView;
use crate::{schedule_name, schedule_target};

/// How far ahead a call may be scheduled.
const MAX_DAYS_AHEAD: i64 = 365;

#[derive(Deserialize, ToSchema)]
pub struct ScheduleRequest {
    /// E.164, or a 10-digit US/Canada number.
    #[schema(required = true, nullable = false, min_length = 3)]
    phone_number: Option<String>,
    /// A predefined scenario key or one of the caller's custom scenario ids.
    #[schema(required = true, nullable = false, min_length = 1)]
    scenario: Option<String>,
    /// RFC 3339 with an offset, in the future, e.g. `2026-12-01T09:30:00-05:00`.
    #[schema(required = true, nullable = false, format = DateTime)]
    scheduled_time: Option<String>,
}

struct Valid {
    to: E164,
    scenario: String,
    at: DateTime<Utc>,
}

fn validate(body: ScheduleRequest) -> Result<Valid> {
    let mut errors = Vec::new();
    let to = match body
        .phone_number
        .as_deref()
        .map(|p| E164::parse(p, "phone_number"))
    {
        Some(Ok(to)) => Some(to),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
        None => {
            errors.push(FieldError::new("phone_number", "is required"));
            None
        }
    };
    let scenario = body
        .scenario
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if scenario.is_none() {
        errors.push(FieldError::new("scenario", "is required"));
    }
    let now = Utc::now();
    let at = match body
        .scheduled_time
        .as_deref()
        .map(DateTime::parse_from_rfc3339)
    {
        None => {
            errors.push(FieldError::new("scheduled_time", "is required"));
            None
        }
        Some(Err(_)) => {
            errors.push(FieldError::new(
                "scheduled_time",
                "must be an RFC 3339 time with an offset, e.g. 2026-12-01T09:30:00-05:00",
            ));
            None
        }
        Some(Ok(t)) if t.with_timezone(&Utc) <= now => {
            errors.push(FieldError::new(
                "scheduled_time",
                "Cannot schedule calls in the past",
            ));
            None
        }
        Some(Ok(t)) if t.with_timezone(&Utc) > now + chrono::Duration::days(MAX_DAYS_AHEAD) => {
            errors.push(FieldError::new(
                "scheduled_time",
                format!("must be within {MAX_DAYS_AHEAD} days"),
            ));
            None
        }
        Some(Ok(t)) => Some(t.with_timezone(&Utc)),
    };
    match (to, scenario, at) {
        (Some(to), Some(scenario), Some(at)) if errors.is_empty() => Ok(Valid { to, scenario, at }),
        _ => Err(Error::Validation(errors)),
    }
}

/// Schedule a call. The time is stored in UTC; EventBridge Scheduler invokes the runner at
/// that second (flexible window off) and deletes the schedule afterwards.
#[utoipa::path(post, path = "/schedule-call", tag = "schedules",
    security(("bearer" = [])),
    request_body = ScheduleRequest,
    responses(
        (status = 201, description = "Scheduled", body = ScheduleView),
        (status = 400, description = "Destination refused", body = shared::error::Problem),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 403, description = "The account is suspended", body = shared::error::Problem),
        (status = 404, description = "Unknown scenario", body = shared::error::Problem),
        (status = 422, description = "Invalid fields", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
    ))]
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<ScheduleRequest>,
) -> Result<(StatusCode, Json<ScheduleView>)> {
    state
        .store
        .rate_limit(
            "schedule",
            &user.tenant_id,
            &state.config.rate_limits.schedule,
        )
        .await?;
    let valid = validate(body)?;
    schedule(&state, &user, valid).await
}

#[derive(Deserialize, ToSchema)]
pub struct CalendarScheduleRequest {
    /// E.164, or a 10-digit US/Canada number.
    #[schema(required = true, nullable = false, min_length = 3)]
    phone_number: Option<String>,
    /// RFC 3339 with an offset, in the future.
    #[schema(required = true, nullable = false, format = DateTime)]
    scheduled_time: Option<String>,
    /// Optional; if given it must be `calendar` (the reference clients send one).
    scenario: Option<String>,
}

/// Schedule a calendar call: the same scheduled-call path as `/schedule-call`, with the
/// calendar assistant, which books into the tenant's Google Calendar during the call.
#[utoipa::path(post, path = "/google-calendar/schedule", tag = "calendar",
    security(("bearer" = [])),
    request_body = CalendarScheduleRequest,
    responses(
        (status = 201, description = "Scheduled", body = ScheduleView),
        (status = 400, description = "Destination refused", body = shared::error::Problem),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 403, description = "The account is suspended", body = shared::error::Problem),
        (status = 409, description = "Google Calendar not connected, or access revoked", body = shared::error::Problem),
        (status = 422, description = "Invalid fields", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
    ))]
pub async fn create_calendar(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<CalendarScheduleRequest>,
) -> Result<(StatusCode, Json<ScheduleView>)> {
    state
        .store
        .rate_limit(
            "schedule",
            &user.tenant_id,
            &state.config.rate_limits.schedule,
        )
        .await?;
    if body
        .scenario
        .as_deref()
        .is_some_and(|s| !scenarios::is_calendar(s.trim()))
    {
        return Err(Error::field(
            "scenario",
            "must be calendar (or left out) for a calendar call",
        ));
    }
    let valid = validate(ScheduleRequest {
        phone_number: body.phone_number,
        scenario: Some(scenarios::CALENDAR.to_string()),
        scheduled_time: body.scheduled_time,
    })?;
    schedule(&state, &user, valid).await
}

/// Checks the scenario, the destination and that the tenant is not suspended, stores the schedule and creates its one-time
/// EventBridge schedule.
async fn schedule(
    state: &AppState,
    user: &AuthUser,
    valid: Valid,
) -> Result<(StatusCode, Json<ScheduleView>)> {
    calling::ensure_scenario(state, &user.tenant_id, &valid.scenario).await?;
    calling::check_destination(state, &valid.to, "phone_number")?;
    // Minutes used up now may be there again when the call is due; a suspension is not.
    if let Err(refusal @ allowance::Refusal::Suspended { .. }) =
        allowance::check(state, &user.tenant_id).await?
    {
        return Err(refusal.into());
    }
    let scheduled_time = valid.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let call = ScheduledCall::new(valid.to.as_str(), &valid.scenario, &scheduled_time);
    state.store.create_schedule(&user.tenant_id, &call).await?;
    let settings = &state.config.telephony.scheduler;
    let target = settings.target().map_err(|e| {
        tracing::error!(error = %e, "scheduling is not configured");
        Error::Unavailable("Scheduling calls is not configured on this deployment".into())
    })?;
    let input = serde_json::to_string(&ScheduledCallEvent {
        tenant_id: user.tenant_id.clone(),
        schedule_id: call.schedule_id.clone(),
    })
    .map_err(Error::internal)?;
    let created = state
        .scheduler
        .create_schedule()
        .name(schedule_name(&call.schedule_id))
        .group_name(&settings.group)
        .schedule_expression(format!("at({})", valid.at.format("%Y-%m-%dT%H:%M:%S")))
        .schedule_expression_timezone("UTC")
        .flexible_time_window(
            FlexibleTimeWindow::builder()
                .mode(FlexibleTimeWindowMode::Off)
                .build()
                .map_err(Error::internal)?,
        )
        .action_after_completion(ActionAfterCompletion::Delete)
        .target(schedule_target(target, input)?)
        .send()
        .await;
    if let Err(e) = created {
        // Without its schedule the item would wait forever: withdraw it, and say whether
        // trying again may work (503) or not (500).
        state
            .store
            .withdraw_schedule(&user.tenant_id, &call.schedule_id)
            .await?;
        return Err(e.into());
    }
    tracing::info!(schedule_id = %call.schedule_id, "call scheduled");
    Ok((StatusCode::CREATED, Json(call.into())))
}
