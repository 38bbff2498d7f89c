//! One handler per endpoint, and what several of them share.

pub mod enhanced;
pub mod manage;
pub mod stored;
pub mod summarize;
pub mod webhook;
pub mod whisper;

use axum::http::HeaderMap;
use shared::domain::ids::Sid;
use shared::http::AuthUser;
use shared::store::transcripts::TranscriptRecord;
use shared::{AppState, Result};

/// The response header that carries the next page's cursor (the bodies stay the reference
/// app's bare lists).
pub const NEXT_CURSOR: &str = "x-next-cursor";

/// The transcript SID of a path, checked for shape (422 naming `transcript_sid`).
pub(crate) fn transcript_sid(raw: &str) -> Result<Sid> {
    Ok(Sid::parse(raw.trim(), "GT", "transcript_sid")?)
}

/// The caller's stored transcript with the SID of a path; 404 for anyone else's.
pub(crate) async fn stored_transcript(
    state: &AppState,
    user: &AuthUser,
    raw_sid: &str,
) -> Result<TranscriptRecord> {
    let sid = transcript_sid(raw_sid)?;
    state
        .store
        .transcript_by_sid(&user.tenant_id, sid.as_str())
        .await
}

/// The headers of a page: the next page's cursor, when there is one.
pub(crate) fn page_headers(next: Option<String>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(cursor) = next.and_then(|c| c.parse().ok()) {
        headers.insert(NEXT_CURSOR, cursor);
    }
    headers
}

/// Counts transcript work on demand (it costs Twilio or OpenAI money) against the caller's
/// budget.
pub(crate) async fn limited(state: &AppState, user: &AuthUser) -> Result<()> {
    state
        .store
        .rate_limit(
            "transcripts",
            &user.tenant_id,
            &state.config.rate_limits.transcripts,
        )
        .await
}
