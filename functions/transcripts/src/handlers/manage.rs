//! Transcript work on demand: fetch-and-store one of the tenant's transcripts, import the
//! tenant's, store one for a call, re-enhance, delete (ours and Voice Intelligence's). Every
//! one takes only the tenant's own transcripts (see `ingest`); none lists or touches the rest
//! of the platform's Twilio account.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use shared::domain::ids::Sid;
use shared::domain::transcripts::TranscriptionState;
use shared::http::{AuthUser, JsonBody};
use shared::store::calls::CallFilter;
use shared::twilio::intelligence::TranscriptStatus;
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

use super::{limited, transcript_sid};
use crate::ingest::{self, Owned};
use crate::view::{EnhancedReply, PlainReply};

/// How many of the tenant's newest calls one import looks at (it talks to Voice
/// Intelligence for each, inside one request).
pub const IMPORT_CALLS: usize = 25;
/// An import starts no new call after this long, and says it stopped early.
pub const IMPORT_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// The tenant's transcript, stored now if it was not yet; `true` when it already was.
async fn fetch_and_store_owned(
    state: &AppState,
    tenant_id: &str,
    sid: &Sid,
) -> Result<(shared::store::transcripts::TranscriptRecord, bool)> {
    match ingest::owned(state, tenant_id, sid.as_str()).await? {
        Owned::Stored(record) => Ok((*record, true)),
        Owned::AtTwilio { call, transcript } => Ok((
            ingest::store_completed(state, tenant_id, &call, &transcript).await?,
            false,
        )),
    }
}

/// Fetch one of the caller's transcripts from Voice Intelligence and store it (or return the
/// stored one); 404 for a transcript that is not one of the caller's calls'.
#[utoipa::path(post, path = "/api/transcripts/fetch-and-store/{transcript_sid}", tag = "transcripts",
    security(("bearer" = [])),
    params(("transcript_sid" = String, Path, description = "GT...")),
    responses(
        (status = 200, description = "Stored", body = PlainReply),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Transcript not found", body = shared::error::Problem),
        (status = 409, description = "Not completed yet", body = shared::error::Problem),
        (status = 422, description = "Not a transcript SID", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
        (status = 502, description = "Voice Intelligence unavailable", body = shared::error::Problem),
        (status = 503, description = "Transcripts not configured", body = shared::error::Problem),
    ))]
pub async fn fetch_and_store(
    State(state): State<AppState>,
    user: AuthUser,
    Path(sid): Path<String>,
) -> Result<Json<PlainReply>> {
    let sid = transcript_sid(&sid)?;
    limited(&state, &user).await?;
    let (record, already) = fetch_and_store_owned(&state, &user.tenant_id, &sid).await?;
    Ok(Json(PlainReply {
        status: "success",
        message: Some(if already {
            "Transcript already stored"
        } else {
            "Transcript fetched and stored"
        }),
        transcript: record.into(),
    }))
}

/// The transcript SID, as the reference frontend sends it (a bare JSON string) or as an
/// object.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum SidBody {
    Bare(String),
    Object {
        #[schema(required = true, nullable = false)]
        transcript_sid: Option<String>,
    },
}

impl SidBody {
    fn sid(&self) -> Result<Sid> {
        match self {
            SidBody::Bare(s) => transcript_sid(s),
            SidBody::Object {
                transcript_sid: Some(s),
            } => transcript_sid(s),
            SidBody::Object { .. } => Err(Error::field("transcript_sid", "is required")),
        }
    }
}

/// Fetch one of the caller's transcripts and store it enhanced (or return the stored one).
#[utoipa::path(post, path = "/api/enhanced-twilio-transcripts/fetch-and-store", tag = "transcripts",
    security(("bearer" = [])),
    request_body = SidBody,
    responses(
        (status = 200, description = "Stored", body = EnhancedReply),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Transcript not found", body = shared::error::Problem),
        (status = 409, description = "Not completed yet", body = shared::error::Problem),
        (status = 422, description = "Missing or malformed transcript_sid", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
        (status = 502, description = "Voice Intelligence unavailable", body = shared::error::Problem),
        (status = 503, description = "Transcripts not configured", body = shared::error::Problem),
    ))]
pub async fn fetch_and_store_enhanced(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<SidBody>,
) -> Result<Json<EnhancedReply>> {
    let sid = body.sid()?;
    limited(&state, &user).await?;
    let (record, already) = fetch_and_store_owned(&state, &user.tenant_id, &sid).await?;
    Ok(Json(EnhancedReply {
        status: "success",
        message: if already {
            "Enhanced transcript already exists"
        } else {
            "Enhanced transcript fetched and stored"
        },
        transcript_data: record.into(),
    }))
}

/// Read one of the caller's transcripts from Voice Intelligence again and store it freshly
/// enhanced (a summary asked for earlier is kept).
#[utoipa::path(post, path = "/api/enhanced-transcripts/{transcript_sid}/re-enhance", tag = "transcripts",
    security(("bearer" = [])),
    params(("transcript_sid" = String, Path, description = "GT...")),
    responses(
        (status = 200, description = "Re-enhanced", body = EnhancedReply),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Transcript not found", body = shared::error::Problem),
        (status = 409, description = "Not completed yet", body = shared::error::Problem),
        (status = 422, description = "Not a transcript SID", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
        (status = 502, description = "Voice Intelligence unavailable", body = shared::error::Problem),
        (status = 503, description = "Transcripts not configured", body = shared::error::Problem),
    ))]
pub async fn re_enhance(
    State(state): State<AppState>,
    user: AuthUser,
    Path(sid): Path<String>,
) -> Result<Json<EnhancedReply>> {
    let sid = transcript_sid(&sid)?;
    limited(&state, &user).await?;
    let tenant = &user.tenant_id;
    let (call, transcript) = match ingest::owned(&state, tenant, sid.as_str()).await? {
        Owned::AtTwilio { call, transcript } => (*call, *transcript),
        Owned::Stored(record) => (
            state.store.call(tenant, &record.call_id).await?,
            ingest::intelligence(&state)?
                .transcript(sid.as_str())
                .await
                .map_err(ingest::upstream)?,
        ),
    };
    let record = ingest::store_completed(&state, tenant, &call, &transcript).await?;
    Ok(Json(EnhancedReply {
        status: "success",
        message: "Transcript re-enhanced",
        transcript_data: record.into(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Deleted {
    status: &'static str,
    message: &'static str,
}

/// Delete one of the caller's transcripts, here and at Voice Intelligence; the call can then
/// be transcribed again. 404 for anyone else's.
#[utoipa::path(delete, path = "/twilio-transcripts/{transcript_sid}", tag = "transcripts",
    security(("bearer" = [])),
    params(("transcript_sid" = String, Path, description = "GT...")),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Transcript not found", body = shared::error::Problem),
        (status = 422, description = "Not a transcript SID", body = shared::error::Problem),
        (status = 502, description = "Voice Intelligence unavailable", body = shared::error::Problem),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    Path(sid): Path<String>,
) -> Result<Json<Deleted>> {
    let sid = transcript_sid(&sid)?;
    let tenant = &user.tenant_id;
    // Only what is linked to one of the tenant's calls can be deleted.
    let call_id = match state.store.transcript_owner(sid.as_str()).await? {
        Some((owner, call_id)) if &owner == tenant => call_id,
        _ => return Err(Error::NotFound("Transcript not found".into())),
    };
    if let Some(intelligence) = &state.intelligence {
        intelligence
            .delete_transcript(sid.as_str())
            .await
            .map_err(ingest::upstream)?;
    }
    state
        .store
        .delete_transcript(tenant, &call_id, sid.as_str())
        .await?;
    tracing::info!(call_id, "transcript deleted");
    Ok(Json(Deleted {
        status: "success",
        message: "Transcript deleted",
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ImportFailure {
    sid: String,
    error: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImportResults {
    success: Vec<String>,
    already_exists: Vec<String>,
    failed: Vec<ImportFailure>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportReport {
    /// `completed`, or `partial` when the import ran out of time (ask again for the rest).
    status: &'static str,
    results: ImportResults,
}

/// Store the transcripts Voice Intelligence has of the caller's recent calls that are not
/// stored yet (the newest calls with a recording; never anything else of the account).
#[utoipa::path(post, path = "/api/import-twilio-transcripts", tag = "transcripts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What was imported", body = ImportReport),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
        (status = 502, description = "Voice Intelligence unavailable", body = shared::error::Problem),
        (status = 503, description = "Transcripts not configured", body = shared::error::Problem),
    ))]
pub async fn import(State(state): State<AppState>, user: AuthUser) -> Result<Json<ImportReport>> {
    limited(&state, &user).await?;
    let intelligence = ingest::intelligence(&state)?;
    let tenant = &user.tenant_id;
    let (calls, _) = state
        .store
        .list_calls(tenant, &CallFilter::default(), 100, None)
        .await?;
    let mut results = ImportResults {
        success: Vec::new(),
        already_exists: Vec::new(),
        failed: Vec::new(),
    };
    let started = std::time::Instant::now();
    let mut status = "completed";
    for call in calls
        .into_iter()
        .filter(|c| c.recording_sid.is_some())
        .take(IMPORT_CALLS)
    {
        if started.elapsed() > IMPORT_BUDGET {
            status = "partial";
            break;
        }
        let recording = call.recording_sid.clone().unwrap_or_default();
        let sid = match &call.transcript_sid {
            Some(sid) => Some(sid.clone()),
            None => intelligence
                .transcript_of_recording(&recording)
                .await
                .map_err(ingest::upstream)?
                .map(|t| t.sid),
        };
        let Some(sid) = sid else { continue };
        if call.transcript_status == Some(TranscriptionState::Completed) {
            results.already_exists.push(sid);
            continue;
        }
        let outcome = async {
            let transcript = intelligence
                .transcript(&sid)
                .await
                .map_err(ingest::upstream)?;
            if transcript.status != TranscriptStatus::Completed {
                return Err(Error::Conflict(format!(
                    "not completed (it is {})",
                    transcript.status.as_str()
                )));
            }
            state
                .store
                .link_transcript(tenant, &call.call_id, &sid, TranscriptionState::InProgress)
                .await?;
            ingest::store_completed(&state, tenant, &call, &transcript).await
        }
        .await;
        match outcome {
            Ok(_) => results.success.push(sid),
            Err(e) => results.failed.push(ImportFailure {
                sid,
                error: e.problem().detail,
            }),
        }
    }
    Ok(Json(ImportReport { status, results }))
}
