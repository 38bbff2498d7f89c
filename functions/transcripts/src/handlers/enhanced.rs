use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use shared::domain::calls::Direction;
use shared::http::AuthUser;
use shared::http::query::{Filters, non_empty};
use shared::store::pages::TimeWindow;
use shared::store::transcripts::TranscriptFilter;
use shared::{AppState, Result};
use utoipa::IntoParams;

use crate::view::{EnhancedListItem, EnhancedTranscript};

pub const MAX_LIMIT: usize = 100;

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// `inbound` or `outbound`.
    #[param(pattern = "^(inbound|outbound)$")]
    call_direction: Option<String>,
    /// The call's scenario (a predefined key or a custom scenario id), exactly.
    #[param(max_length = 64)]
    scenario_name: Option<String>,
    /// Calls made at or after this RFC 3339 time.
    #[param(format = DateTime)]
    date_from: Option<String>,
    /// Calls made at or before this RFC 3339 time (not earlier than `date_from`).
    #[param(format = DateTime)]
    date_to: Option<String>,
    /// Transcripts to skip before the page (0 to 500; the reference frontend pages this way).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 500)]
    skip: Option<String>,
    /// 1 to 100; default 10.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// The `X-Next-Cursor` of the previous page, with the same filters.
    cursor: Option<String>,
}

/// Most transcripts `skip` may pass over.
const MAX_SKIP: usize = 500;

/// The caller's enhanced transcripts, newest call first; the next page's cursor comes in the
/// `X-Next-Cursor` header.
#[utoipa::path(get, path = "/api/enhanced-transcripts/", tag = "transcripts",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of transcripts", body = [EnhancedListItem],
            headers(("x-next-cursor" = String, description = "Cursor of the next page; absent on the last"))),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 422, description = "Invalid filter", body = shared::error::Problem),
    ))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<ListQuery>,
) -> Result<(HeaderMap, Json<Vec<EnhancedListItem>>)> {
    let mut filters = Filters::default();
    let direction: Option<Direction> = filters.parse(
        non_empty(query.call_direction).as_deref(),
        "call_direction",
        "must be inbound or outbound",
    );
    let scenario = non_empty(query.scenario_name);
    if scenario.as_ref().is_some_and(|s| s.len() > 64) {
        filters.extend(vec![shared::FieldError::new(
            "scenario_name",
            "is at most 64 characters",
        )]);
    }
    let from = filters.time_ms(non_empty(query.date_from).as_deref(), "date_from");
    let to = filters.time_ms(non_empty(query.date_to).as_deref(), "date_to");
    let limit = filters.limit(non_empty(query.limit).as_deref(), 10, MAX_LIMIT);
    let skip: usize = filters
        .parse::<usize>(
            non_empty(query.skip).as_deref(),
            "skip",
            "must be between 0 and 500",
        )
        .unwrap_or(0);
    if skip > MAX_SKIP {
        filters.extend(vec![shared::FieldError::new(
            "skip",
            "must be between 0 and 500",
        )]);
    }
    let window = TimeWindow::new(from, to, ("date_from", "date_to")).unwrap_or_else(|errors| {
        filters.extend(errors);
        TimeWindow::default()
    });
    filters.finish()?;
    let filter = TranscriptFilter {
        direction,
        scenario,
        window,
    };
    let (mut records, next) = state
        .store
        .list_transcripts(
            &user.tenant_id,
            &filter,
            skip + limit,
            non_empty(query.cursor).as_deref(),
        )
        .await?;
    records.drain(..skip.min(records.len()));
    Ok((
        super::page_headers(next),
        Json(records.into_iter().map(Into::into).collect()),
    ))
}

/// One of the caller's enhanced transcripts, with its whole conversation; 404 for anyone
/// else's.
#[utoipa::path(get, path = "/api/enhanced-transcripts/{transcript_sid}", tag = "transcripts",
    security(("bearer" = [])),
    params(("transcript_sid" = String, Path, description = "GT...")),
    responses(
        (status = 200, description = "The transcript", body = EnhancedTranscript),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Enhanced transcript not found", body = shared::error::Problem),
        (status = 422, description = "Not a transcript SID", body = shared::error::Problem),
    ))]
pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    Path(sid): Path<String>,
) -> Result<Json<EnhancedTranscript>> {
    Ok(Json(
        super::stored_transcript(&state, &user, &sid).await?.into(),
    ))
}
