use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use shared::domain::calls::{CallStatus, Direction};
use shared::http::AuthUser;
use shared::http::query::{Filters, non_empty};
use shared::store::calls::CallFilter;
use shared::{AppState, Error, Result};
use utoipa::{IntoParams, ToSchema};

use crate::view::CallView;

pub const MAX_LIMIT: usize = 100;

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only calls in this status.
    #[param(
        pattern = "^(initiating|queued|initiated|ringing|in-progress|completed|busy|no-answer|failed|canceled)$"
    )]
    status: Option<String>,
    /// `inbound` or `outbound`.
    #[param(pattern = "^(inbound|outbound)$")]
    direction: Option<String>,
    /// Created at or after this RFC 3339 time.
    #[param(format = DateTime)]
    from: Option<String>,
    /// Created at or before this RFC 3339 time (not earlier than `from`).
    #[param(format = DateTime)]
    to: Option<String>,
    /// 1 to 100; default 20.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` of the previous page, with the same filters.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CallPage {
    calls: Vec<CallView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// The caller's calls, newest first, with filters and an opaque cursor.
#[utoipa::path(get, path = "/calls", tag = "calls",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of calls", body = CallPage),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 422, description = "Invalid filter", body = shared::error::Problem),
    ))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<CallPage>> {
    let mut filters = Filters::default();
    let status: Option<CallStatus> = filters.parse(
        non_empty(query.status).as_deref(),
        "status",
        "is not a call status",
    );
    let direction: Option<Direction> = filters.parse(
        non_empty(query.direction).as_deref(),
        "direction",
        "must be inbound or outbound",
    );
    let from_ms = filters.time_ms(non_empty(query.from).as_deref(), "from");
    let to_ms = filters.time_ms(non_empty(query.to).as_deref(), "to");
    let limit = filters.limit(non_empty(query.limit).as_deref(), 20, MAX_LIMIT);
    filters.finish()?;
    let filter = CallFilter::new(status, direction, from_ms, to_ms).map_err(Error::Validation)?;
    let cursor = non_empty(query.cursor);
    let (calls, next_cursor) = state
        .store
        .list_calls(&user.tenant_id, &filter, limit, cursor.as_deref())
        .await?;
    Ok(Json(CallPage {
        calls: calls.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}
