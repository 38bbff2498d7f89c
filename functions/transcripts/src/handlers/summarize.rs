use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use shared::http::AuthUser;
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Summary {
    /// Always `success`.
    status: &'static str,
    transcript_sid: String,
    /// One or two sentences, under 160 characters.
    summary: String,
    /// Answered from the store: it was summarised before.
    cached: bool,
}

/// A short summary of one of the caller's stored transcripts: asked of OpenAI's Responses API
/// once, stored, and answered from the store after that.
#[utoipa::path(post, path = "/api/transcripts/{transcript_sid}/summarize", tag = "transcripts",
    security(("bearer" = [])),
    params(("transcript_sid" = String, Path, description = "GT...")),
    responses(
        (status = 200, description = "The summary", body = Summary),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Transcript not found", body = shared::error::Problem),
        (status = 422, description = "Not a transcript SID", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
        (status = 502, description = "OpenAI unavailable", body = shared::error::Problem),
        (status = 503, description = "OpenAI not configured", body = shared::error::Problem),
    ))]
pub async fn summarize(
    State(state): State<AppState>,
    user: AuthUser,
    Path(sid): Path<String>,
) -> Result<Json<Summary>> {
    let record = super::stored_transcript(&state, &user, &sid).await?;
    if let Some(summary) = record.summary {
        return Ok(Json(Summary {
            status: "success",
            transcript_sid: record.transcript_sid,
            summary,
            cached: true,
        }));
    }
    super::limited(&state, &user).await?;
    let openai = state.openai.as_ref().ok_or_else(|| {
        Error::Unavailable("Summaries are not configured on this deployment".into())
    })?;
    let conversation: String = record
        .enhanced
        .conversation_flow
        .iter()
        .map(|e| format!("{}: {}\n", e.speaker.name, e.text))
        .collect();
    let summary = openai.summarize(&conversation).await.map_err(|e| {
        tracing::warn!(status = e.status, "OpenAI could not summarise a transcript");
        Error::Upstream("The summary service is unavailable; please retry shortly".into())
    })?;
    state
        .store
        .set_transcript_summary(&user.tenant_id, &record.call_id, &summary)
        .await?;
    Ok(Json(Summary {
        status: "success",
        transcript_sid: record.transcript_sid,
        summary,
        cached: false,
    }))
}
