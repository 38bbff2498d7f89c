//! The transcript jobs (run by the `job-worker`): asking Voice Intelligence for a call's
//! transcript, and fetching it once done. Every job can run twice (SQS delivers at least
//! once, webhooks repeat):
//! - creating a transcript is claimed on the call first, and a transcript Voice Intelligence
//!   already has for the recording is reused rather than created again;
//! - storing a transcript writes the same items each time.
//!
//! A transcript Voice Intelligence is still working on is looked at again later by a delayed
//! job (not a sleeping loop), a bounded number of times; its webhook usually comes first.
//! An error makes the job fail, so SQS delivers it again.

use std::time::Duration;

use shared::domain::calls::Direction;
use shared::domain::transcripts::TranscriptionState;
use shared::domain::usage::Tally;
use shared::jobs::Job;
use shared::store::calls::{CallRecord, SidLink};
use shared::store::transcripts::TranscriptionClaim;
use shared::store::usage::Metered;
use shared::twilio::intelligence::{Intelligence, Participant, TranscriptStatus};
use shared::{AppState, Error, Result};

/// A claim on a call's transcription older than this belongs to a worker that stopped: longer
/// than the worker function's timeout (90 s in template.yaml; a test checks the two).
pub const CLAIM_STALE_AFTER: Duration = Duration::from_secs(120);

/// Asks for the transcript of a call's recording.
pub async fn create_transcript(
    state: &AppState,
    tenant_id: &str,
    call_id: &str,
    recording_sid: &str,
) -> Result<()> {
    match &state.intelligence {
        Some(intelligence) => create(state, intelligence, tenant_id, call_id, recording_sid).await,
        None => {
            tracing::warn!("transcript job without Voice Intelligence configured; dropped");
            Ok(())
        }
    }
}

/// Looks at a transcript, and stores it once completed.
pub async fn fetch_transcript(state: &AppState, transcript_sid: &str, polls: u32) -> Result<()> {
    match &state.intelligence {
        Some(intelligence) => fetch(state, intelligence, transcript_sid, polls).await,
        None => {
            tracing::warn!("transcript job without Voice Intelligence configured; dropped");
            Ok(())
        }
    }
}

/// Asks Voice Intelligence to transcribe the call's recording (once), links the transcript to
/// the call, and schedules the first look at it.
async fn create(
    state: &AppState,
    intelligence: &Intelligence,
    tenant_id: &str,
    call_id: &str,
    recording_sid: &str,
) -> Result<()> {
    match state
        .store
        .claim_transcription(tenant_id, call_id, CLAIM_STALE_AFTER)
        .await?
    {
        TranscriptionClaim::Won => {}
        TranscriptionClaim::Done | TranscriptionClaim::NoCall => return Ok(()),
        TranscriptionClaim::Busy => {
            return Err(Error::internal(
                "another worker is asking for this transcript; try again later",
            ));
        }
    }
    let call = state.store.call(tenant_id, call_id).await?;
    let person = match call.direction {
        Direction::Outbound => &call.to,
        // Browser sessions are not recorded, so never transcribed; their "from" is the browser.
        Direction::Inbound | Direction::Browser => &call.from,
    };
    // A worker that stopped after asking leaves a transcript behind: it is found, not made
    // (and paid for) twice.
    let existing = intelligence
        .transcript_of_recording(recording_sid)
        .await
        .map_err(upstream)?;
    let transcript = match existing {
        Some(t) => t,
        None => match intelligence
            .create_transcript(recording_sid, &Participant::of_call(person), call_id)
            .await
        {
            Ok(t) => t,
            Err(e) if e.is_refusal() => {
                tracing::warn!(call_id, code = ?e.code, "Voice Intelligence refused the transcript");
                return state
                    .store
                    .set_transcription_state(tenant_id, call_id, TranscriptionState::Failed)
                    .await;
            }
            Err(e) => return Err(upstream(e)),
        },
    };
    let linked = state
        .store
        .link_transcript(
            tenant_id,
            call_id,
            &transcript.sid,
            TranscriptionState::of(transcript.status),
        )
        .await?;
    if linked == SidLink::Conflict {
        return Ok(());
    }
    meter_transcription(state, tenant_id, &call).await?;
    let delay = if transcript.status.is_final() {
        Duration::ZERO
    } else {
        state.config.transcripts.poll_interval
    };
    queue(state)?
        .send(
            &Job::FetchTranscript {
                transcript_sid: transcript.sid,
                polls: 0,
            },
            delay,
        )
        .await
}

/// Looks at a transcript: once completed, reads every sentence, enhances and stores it; while
/// in progress, looks again later (a bounded number of times).
async fn fetch(state: &AppState, intelligence: &Intelligence, sid: &str, polls: u32) -> Result<()> {
    let Some((tenant_id, call_id)) = state.store.transcript_owner(sid).await? else {
        // Linking may not have happened yet (the webhook can beat it): try again later, and
        // a transcript that is never ours ends in the dead-letter queue.
        return Err(Error::internal("transcript not linked to a call (yet)"));
    };
    let transcript = match intelligence.transcript(sid).await {
        Ok(t) => t,
        Err(e) if e.status == 404 => {
            tracing::warn!(call_id, "the transcript is gone from Voice Intelligence");
            return state
                .store
                .set_transcription_state(&tenant_id, &call_id, TranscriptionState::Failed)
                .await;
        }
        Err(e) => return Err(upstream(e)),
    };
    match transcript.status {
        TranscriptStatus::Completed => {}
        status if status.is_final() => {
            return state
                .store
                .set_transcription_state(&tenant_id, &call_id, TranscriptionState::Failed)
                .await;
        }
        _ if polls >= state.config.transcripts.max_polls => {
            tracing::warn!(call_id, polls, "gave up waiting for a transcript");
            return state
                .store
                .set_transcription_state(&tenant_id, &call_id, TranscriptionState::TimedOut)
                .await;
        }
        _ => {
            state
                .store
                .set_transcription_state(&tenant_id, &call_id, TranscriptionState::InProgress)
                .await?;
            let next = Job::FetchTranscript {
                transcript_sid: sid.to_string(),
                polls: polls + 1,
            };
            return queue(state)?
                .send(&next, state.config.transcripts.poll_interval)
                .await;
        }
    }
    let call = state.store.call(&tenant_id, &call_id).await?;
    let stored = crate::ingest::store_completed(state, &tenant_id, &call, &transcript).await?;
    shared::events::transcript_ready(state, &tenant_id, &stored).await;
    Ok(())
}

fn queue(state: &AppState) -> Result<&shared::jobs::JobQueue> {
    state
        .jobs
        .as_ref()
        .ok_or_else(|| Error::internal("no job queue configured"))
}

fn upstream(e: shared::twilio::TwilioError) -> Error {
    Error::Upstream(format!("Voice Intelligence: {e}"))
}

/// Counts the recording's minutes in the tenant's transcription usage (once per call).
async fn meter_transcription(state: &AppState, tenant_id: &str, call: &CallRecord) -> Result<()> {
    let seconds = call
        .recording_duration_seconds
        .or(call.duration_seconds)
        .unwrap_or(0);
    let tally = Tally {
        transcription_seconds: u64::from(seconds),
        ..Tally::default()
    };
    state
        .store
        .meter(tenant_id, &call.call_id, Metered::Transcription, &tally)
        .await?;
    Ok(())
}
