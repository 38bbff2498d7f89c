use axum::Json;
use axum::extract::{Path, State};
use shared::domain::ids::CallId;
use shared::http::AuthUser;
use shared::{AppState, Result};

use crate::view::CallView;

/// One of the caller's calls, with the appointments booked during it; 404 for anyone else's.
#[utoipa::path(get, path = "/calls/{call_id}", tag = "calls",
    security(("bearer" = [])),
    params(("call_id" = String, Path)),
    responses(
        (status = 200, description = "The call", body = CallView),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Call not found", body = shared::error::Problem),
        (status = 422, description = "Not a call id", body = shared::error::Problem),
    ))]
pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    Path(call_id): Path<String>,
) -> Result<Json<CallView>> {
    let call_id = CallId::parse(&call_id, "call_id")?;
    let (call, bookings) = tokio::try_join!(
        state.store.call(&user.tenant_id, call_id.as_str()),
        state.store.call_bookings(&user.tenant_id, call_id.as_str()),
    )?;
    let mut view = CallView::from(call);
    view.bookings = Some(bookings.into_iter().map(Into::into).collect());
    Ok(Json(view))
}
