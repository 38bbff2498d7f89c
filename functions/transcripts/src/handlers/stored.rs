//! Reading stored transcripts in the reference app's other shapes: Voice Intelligence's own
//! (what its frontend's transcript list and detail read), the plain stored shape, and the
//! plain transcript with its sentences.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use shared::http::AuthUser;
use shared::http::query::{Filters, non_empty};
use shared::store::transcripts::{TranscriptFilter, TranscriptRecord};
use shared::{AppState, Result};
use utoipa::IntoParams;

use crate::view::{PlainReply, Stored, TwilioShaped, TwilioShapedPage};

/// Whole transcripts are read per item, so pages of them are smaller.
const MAX_PAGE: usize = 50;

/// Each listed transcript with its whole flow.
async fn whole(
    state: &AppState,
    tenant_id: &str,
    listed: Vec<TranscriptRecord>,
) -> Result<Vec<TranscriptRecord>> {
    let mut records = Vec::with_capacity(listed.len());
    for record in listed {
        if let Some(full) = state.store.transcript(tenant_id, &record.call_id).await? {
            records.push(full);
        }
    }
    Ok(records)
}

#[derive(Deserialize, IntoParams)]
pub struct TwilioPageQuery {
    /// 1 to 50; default 10.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 50)]
    page_size: Option<String>,
    /// `next_page_token` of the previous page.
    page_token: Option<String>,
}

/// The caller's stored transcripts with their sentences, in Voice Intelligence's shape, newest
/// call first.
#[utoipa::path(get, path = "/stored-twilio-transcripts", tag = "transcripts",
    security(("bearer" = [])),
    params(TwilioPageQuery),
    responses(
        (status = 200, description = "A page of transcripts", body = TwilioShapedPage),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 422, description = "Invalid page_size or page_token", body = shared::error::Problem),
    ))]
pub async fn twilio_list(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<TwilioPageQuery>,
) -> Result<Json<TwilioShapedPage>> {
    let mut filters = Filters::default();
    let size = filters.limit(non_empty(query.page_size).as_deref(), 10, MAX_PAGE);
    filters.finish()?;
    let (listed, next) = state
        .store
        .list_transcripts(
            &user.tenant_id,
            &TranscriptFilter::default(),
            size,
            non_empty(query.page_token).as_deref(),
        )
        .await
        .map_err(rename_cursor("page_token"))?;
    let records = whole(&state, &user.tenant_id, listed).await?;
    Ok(Json(TwilioShapedPage {
        transcripts: records.into_iter().map(Into::into).collect(),
        next_page_token: next,
    }))
}

/// A listing's cursor errors name the parameter the endpoint calls it.
fn rename_cursor(name: &'static str) -> impl Fn(shared::Error) -> shared::Error {
    move |e| match e {
        shared::Error::Validation(mut errors) => {
            for error in errors.iter_mut().filter(|e| e.field == "cursor") {
                error.field = name.into();
            }
            shared::Error::Validation(errors)
        }
        other => other,
    }
}

/// One of the caller's stored transcripts in Voice Intelligence's shape; 404 for anyone
/// else's.
#[utoipa::path(get, path = "/stored-twilio-transcripts/{transcript_sid}", tag = "transcripts",
    security(("bearer" = [])),
    params(("transcript_sid" = String, Path, description = "GT...")),
    responses(
        (status = 200, description = "The transcript", body = TwilioShaped),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Transcript not found", body = shared::error::Problem),
        (status = 422, description = "Not a transcript SID", body = shared::error::Problem),
    ))]
pub async fn twilio_get(
    State(state): State<AppState>,
    user: AuthUser,
    Path(sid): Path<String>,
) -> Result<Json<TwilioShaped>> {
    Ok(Json(
        super::stored_transcript(&state, &user, &sid).await?.into(),
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct StoredQuery {
    /// 1 to 50; default 10.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 50)]
    limit: Option<String>,
    /// The `X-Next-Cursor` of the previous page.
    cursor: Option<String>,
}

/// The caller's stored transcripts (full text, no sentences), newest call first; the next
/// page's cursor comes in the `X-Next-Cursor` header.
#[utoipa::path(get, path = "/stored-transcripts/", tag = "transcripts",
    security(("bearer" = [])),
    params(StoredQuery),
    responses(
        (status = 200, description = "A page of transcripts", body = [Stored],
            headers(("x-next-cursor" = String, description = "Cursor of the next page; absent on the last"))),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 422, description = "Invalid limit or cursor", body = shared::error::Problem),
    ))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<StoredQuery>,
) -> Result<(HeaderMap, Json<Vec<Stored>>)> {
    let mut filters = Filters::default();
    let limit = filters.limit(non_empty(query.limit).as_deref(), 10, MAX_PAGE);
    filters.finish()?;
    let (listed, next) = state
        .store
        .list_transcripts(
            &user.tenant_id,
            &TranscriptFilter::default(),
            limit,
            non_empty(query.cursor).as_deref(),
        )
        .await?;
    let records = whole(&state, &user.tenant_id, listed).await?;
    Ok((
        super::page_headers(next),
        Json(records.into_iter().map(|r| Stored::of(r, false)).collect()),
    ))
}

/// One of the caller's stored transcripts with its sentences; 404 for anyone else's.
#[utoipa::path(get, path = "/stored-transcripts/{transcript_sid}", tag = "transcripts",
    security(("bearer" = [])),
    params(("transcript_sid" = String, Path, description = "GT...")),
    responses(
        (status = 200, description = "The transcript", body = Stored),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Transcript not found", body = shared::error::Problem),
        (status = 422, description = "Not a transcript SID", body = shared::error::Problem),
    ))]
pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    Path(sid): Path<String>,
) -> Result<Json<Stored>> {
    let record = super::stored_transcript(&state, &user, &sid).await?;
    Ok(Json(Stored::of(record, true)))
}

/// One of the caller's transcripts: full text and sentences; 404 for anyone else's.
#[utoipa::path(get, path = "/api/transcripts/{transcript_sid}", tag = "transcripts",
    security(("bearer" = [])),
    params(("transcript_sid" = String, Path, description = "GT...")),
    responses(
        (status = 200, description = "The transcript", body = PlainReply),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Transcript not found", body = shared::error::Problem),
        (status = 422, description = "Not a transcript SID", body = shared::error::Problem),
    ))]
pub async fn plain(
    State(state): State<AppState>,
    user: AuthUser,
    Path(sid): Path<String>,
) -> Result<Json<PlainReply>> {
    let record = super::stored_transcript(&state, &user, &sid).await?;
    Ok(Json(PlainReply {
        status: "success",
        message: None,
        transcript: record.into(),
    }))
}
