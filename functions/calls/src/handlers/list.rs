use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use shared::domain::calls::{CallStatus, Direction};
use shared::http::AuthUser;
use shared::store::calls::CallFilter;
use shared::{AppState, Error, FieldError, Result};
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

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// The parsed value of an optional filter, or a note in `errors` naming `field`.
fn parse_or_note<T: std::str::FromStr>(
    raw: Option<&str>,
    field: &str,
    message: &str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let parsed = raw?.parse().ok();
    if parsed.is_none() {
        errors.push(FieldError::new(field, message));
    }
    parsed
}

fn time_ms(field: &str, raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<u64> {
    let raw = raw?;
    match chrono::DateTime::parse_from_rfc3339(raw) {
        Ok(t) if t.timestamp_millis() >= 0 => Some(t.timestamp_millis() as u64),
        _ => {
            errors.push(FieldError::new(
                field,
                "must be an RFC 3339 time, e.g. 2026-11-25T09:00:00Z",
            ));
            None
        }
    }
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
    // `?direction=` means no filter, as if it were absent.
    let query = ListQuery {
        status: non_empty(query.status),
        direction: non_empty(query.direction),
        from: non_empty(query.from),
        to: non_empty(query.to),
        limit: non_empty(query.limit),
        cursor: non_empty(query.cursor),
    };
    let mut errors = Vec::new();
    let status: Option<CallStatus> = parse_or_note(
        query.status.as_deref(),
        "status",
        "is not a call status",
        &mut errors,
    );
    let direction: Option<Direction> = parse_or_note(
        query.direction.as_deref(),
        "direction",
        "must be inbound or outbound",
        &mut errors,
    );
    let from_ms = time_ms("from", query.from.as_deref(), &mut errors);
    let to_ms = time_ms("to", query.to.as_deref(), &mut errors);
    let limit = match query.limit.as_deref().map(str::parse::<usize>) {
        None => 20,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            errors.push(FieldError::new(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
            20
        }
    };
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let filter = CallFilter::new(status, direction, from_ms, to_ms).map_err(Error::Validation)?;
    let (calls, next_cursor) = state
        .store
        .list_calls(&user.tenant_id, &filter, limit, query.cursor.as_deref())
        .await?;
    Ok(Json(CallPage {
        calls: calls.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}
