use axum::Json;
use axum::extract::{Path, State};
use shared::domain::ids::ScheduleId;
use shared::http::AuthUser;
use shared::{AppState, Error, Result};

use crate::schedule_name;
use crate::view::ScheduleView;

/// Cancel a pending scheduled call: it is marked canceled first (so even an event already in
/// flight places nothing), then its EventBridge schedule is deleted. 409 once it has fired.
#[utoipa::path(delete, path = "/scheduled-calls/{schedule_id}", tag = "schedules",
    security(("bearer" = [])),
    params(("schedule_id" = String, Path)),
    responses(
        (status = 200, description = "Canceled", body = ScheduleView),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Scheduled call not found", body = shared::error::Problem),
        (status = 409, description = "Already placed, failed or canceled", body = shared::error::Problem),
        (status = 422, description = "Not a scheduled call id", body = shared::error::Problem),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    user: AuthUser,
    Path(schedule_id): Path<String>,
) -> Result<Json<ScheduleView>> {
    let schedule_id = ScheduleId::parse(&schedule_id, "schedule_id")?.into_string();
    let moved = state
        .store
        .cancel_schedule(&user.tenant_id, &schedule_id)
        .await?;
    if !moved {
        return Err(Error::Conflict(
            "Only a pending scheduled call can be canceled".into(),
        ));
    }
    let deleted = state
        .scheduler
        .delete_schedule()
        .name(schedule_name(&schedule_id))
        .group_name(&state.config.telephony.scheduler.group)
        .send()
        .await;
    if let Err(e) = deleted
        && !e
            .as_service_error()
            .is_some_and(|se| se.is_resource_not_found_exception())
    {
        // The item is canceled, so the schedule firing later would place nothing.
        tracing::warn!(error = %aws_sdk_scheduler::error::DisplayErrorContext(&e), "could not delete a canceled schedule");
    }
    Ok(Json(
        state
            .store
            .schedule(&user.tenant_id, &schedule_id)
            .await?
            .into(),
    ))
}
