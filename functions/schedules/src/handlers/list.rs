use axum::Json;
use axum::extract::State;
use shared::http::AuthUser;
use shared::{AppState, Result};

use crate::view::ScheduleView;

/// The caller's scheduled calls (every status), by scheduled time.
#[utoipa::path(get, path = "/scheduled-calls", tag = "schedules",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Scheduled calls", body = [ScheduleView]),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
    ))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<ScheduleView>>> {
    let all = state.store.schedules(&user.tenant_id).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}
