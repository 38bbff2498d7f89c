use axum::Json;
use axum::extract::{Path, State};
use shared::domain::ids::ScheduleId;
use shared::http::AuthUser;
use shared::{AppState, Result};

use crate::view::ScheduleView;

/// One of the caller's scheduled calls; 404 for anyone else's.
#[utoipa::path(get, path = "/scheduled-calls/{schedule_id}", tag = "schedules",
    security(("bearer" = [])),
    params(("schedule_id" = String, Path)),
    responses(
        (status = 200, description = "The scheduled call", body = ScheduleView),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Scheduled call not found", body = shared::error::Problem),
        (status = 422, description = "Not a scheduled call id", body = shared::error::Problem),
    ))]
pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    Path(schedule_id): Path<String>,
) -> Result<Json<ScheduleView>> {
    let schedule_id = ScheduleId::parse(&schedule_id, "schedule_id")?;
    Ok(Json(
        state
            .store
            .schedule(&user.tenant_id, schedule_id.as_str())
            .await?
            .into(),
    ))
}
