//! Turning a completed Voice Intelligence transcript into the tenant's stored, enhanced one,
//! and telling whether a transcript SID is one of the tenant's at all.
//!
//! A transcript is the tenant's when it is linked to one of the tenant's calls (the worker
//! links every transcript it creates), or when Voice Intelligence says it was made from the
//! recording of one of the tenant's calls and names that call as its customer key (what the
//! worker sends). Nothing else is: another tenant's transcript, or any other of the platform
//! account's, is a 404, as if it did not exist.

use shared::domain::ids::CallId;
use shared::domain::transcripts::{TranscriptionState, enhance};
use shared::store::calls::{CallRecord, SidLink};
use shared::store::transcripts::TranscriptRecord;
use shared::twilio::TwilioError;
use shared::twilio::intelligence::{Intelligence, Transcript, TranscriptStatus};
use shared::{AppState, Error, Result};

/// Where one of the tenant's transcripts is.
pub enum Owned {
    /// Stored, enhanced.
    Stored(Box<TranscriptRecord>),
    /// Only at Voice Intelligence so far (now linked to its call).
    AtTwilio {
        call: Box<CallRecord>,
        transcript: Box<Transcript>,
    },
}

fn not_found() -> Error {
    Error::NotFound("Transcript not found".into())
}

/// Voice Intelligence, or 503 when calls are not transcribed on this deployment.
pub fn intelligence(state: &AppState) -> Result<&Intelligence> {
    state.intelligence.as_ref().ok_or_else(|| {
        Error::Unavailable("Transcripts are not configured on this deployment".into())
    })
}

/// A Voice Intelligence failure as the client sees it.
pub fn upstream(e: TwilioError) -> Error {
    if e.status == 404 {
        return not_found();
    }
    tracing::warn!(status = e.status, code = ?e.code, "Voice Intelligence failed");
    Error::Upstream("The transcription service is unavailable; please retry shortly".into())
}

/// The tenant's transcript `sid`, stored or at Voice Intelligence; 404 for anything else.
pub async fn owned(state: &AppState, tenant_id: &str, sid: &str) -> Result<Owned> {
    if let Some((owner, call_id)) = state.store.transcript_owner(sid).await? {
        if owner != tenant_id {
            return Err(not_found());
        }
        if let Some(record) = state.store.transcript(tenant_id, &call_id).await? {
            return Ok(Owned::Stored(Box::new(record)));
        }
        let transcript = intelligence(state)?
            .transcript(sid)
            .await
            .map_err(upstream)?;
        let call = state.store.call(tenant_id, &call_id).await?;
        return Ok(Owned::AtTwilio {
            call: Box::new(call),
            transcript: Box::new(transcript),
        });
    }
    let transcript = intelligence(state)?
        .transcript(sid)
        .await
        .map_err(upstream)?;
    let Some(call) = call_of(state, tenant_id, &transcript).await? else {
        return Err(not_found());
    };
    let linked = state
        .store
        .link_transcript(
            tenant_id,
            &call.call_id,
            sid,
            TranscriptionState::of(transcript.status),
        )
        .await?;
    if linked == SidLink::Conflict {
        return Err(not_found());
    }
    Ok(Owned::AtTwilio {
        call: Box::new(call),
        transcript: Box::new(transcript),
    })
}

/// The tenant's call a transcript names as its customer key, if the transcript was made from
/// that call's recording.
async fn call_of(
    state: &AppState,
    tenant_id: &str,
    transcript: &Transcript,
) -> Result<Option<CallRecord>> {
    let Some(key) = transcript.customer_key.as_deref() else {
        return Ok(None);
    };
    let Ok(call_id) = CallId::parse(key, "customer_key") else {
        return Ok(None);
    };
    let call = state.store.find_call(tenant_id, call_id.as_str()).await?;
    Ok(call.filter(|c| {
        c.recording_sid.is_some() && c.recording_sid.as_deref() == transcript.source_sid()
    }))
}

/// Reads every sentence of a completed transcript, enhances it and stores it for the call.
pub async fn store_completed(
    state: &AppState,
    tenant_id: &str,
    call: &CallRecord,
    transcript: &Transcript,
) -> Result<TranscriptRecord> {
    if transcript.status != TranscriptStatus::Completed {
        return Err(Error::Conflict(format!(
            "The transcript is not completed yet (it is {})",
            transcript.status.as_str()
        )));
    }
    let sentences = intelligence(state)?
        .sentences(&transcript.sid)
        .await
        .map_err(upstream)?;
    let duration = transcript.duration.unwrap_or(0);
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let record = TranscriptRecord {
        transcript_sid: transcript.sid.clone(),
        call_id: call.call_id.clone(),
        call_date: call.created_at.clone(),
        duration_seconds: duration,
        call_direction: call.direction,
        scenario_name: call.scenario.clone(),
        language_code: transcript.language_code.clone(),
        created_at: now.clone(),
        updated_at: now,
        summary: None,
        enhanced: enhance(&sentences, duration, transcript.language_code.as_deref()),
    };
    state.store.put_transcript(tenant_id, &record).await?;
    tracing::info!(call_id = %call.call_id, sentences = sentences.len(), "transcript stored");
    // What is stored now (a summary asked for earlier is kept).
    Ok(state
        .store
        .transcript(tenant_id, &call.call_id)
        .await?
        .unwrap_or(record))
}
