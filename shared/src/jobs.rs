//! Background jobs on SQS: what the webhooks hand over instead of doing slow work inline, and
//! the queue they go on. The worker that runs them (`functions/transcripts`) is invoked by
//! the SQS event source on AWS and by a poller in the local runner; SQS redelivers a job whose
//! run failed, and after a bounded number of receives moves it to the dead-letter queue.
//!
//! Every job is safe to run twice: SQS delivers at least once, and webhooks repeat.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::state::AppState;

/// A unit of background work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum Job {
    /// Ask Voice Intelligence to transcribe a call's finished recording.
    CreateTranscript {
        tenant_id: String,
        call_id: String,
        recording_sid: String,
    },
    /// Read a transcript; once Voice Intelligence has completed it, store it enhanced.
    /// `polls` counts the looks taken while it was still in progress.
    FetchTranscript { transcript_sid: String, polls: u32 },
    /// Deliver one event to one of a tenant's webhook endpoints (`attempt` 1 is the first
    /// try; a failed try schedules the next with a longer delay).
    DeliverWebhook {
        tenant_id: String,
        webhook_id: String,
        event_id: String,
        event_type: String,
        /// The exact body to send (what the signature covers).
        body: String,
        attempt: u32,
    },
}

impl Job {
    pub fn to_body(&self) -> Result<String> {
        serde_json::to_string(self).map_err(Error::internal)
    }

    pub fn from_body(body: &str) -> std::result::Result<Job, serde_json::Error> {
        serde_json::from_str(body)
    }
}

/// The queue jobs are sent to.
#[derive(Clone, Debug)]
pub struct JobQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl JobQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: &str) -> Self {
        Self {
            client,
            url: url.to_string(),
        }
    }

    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends `job`, to be received no earlier than `delay` from now (at most 15 minutes).
    pub async fn send(&self, job: &Job, delay: Duration) -> Result<()> {
        self.send_body(job.to_body()?, delay).await
    }

    /// Sends a job's message body as it is.
    async fn send_body(&self, body: String, delay: Duration) -> Result<()> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(delay.as_secs().min(900) as i32)
            .send()
            .await
            .map_err(|e| {
                Error::internal(format!(
                    "sqs: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(&e)
                ))
            })?;
        Ok(())
    }
}

/// Puts `job` on the queue to run now; if the queue refuses it (after the SDK's retries), keeps
/// it in the table for [`send_kept_jobs`] instead. What a webhook was answered for is then
/// never lost (Twilio does not repeat a recording callback); this fails only if both do.
pub async fn hand_over(state: &AppState, queue: &JobQueue, job: &Job) -> Result<()> {
    let Err(refused) = queue.send(job, Duration::ZERO).await else {
        return Ok(());
    };
    tracing::warn!(error = %refused, "the job queue refused a job; keeping it for the sweep");
    state.store.keep_job(&job.to_body()?).await
}

/// Kept jobs one sweep sends at most (a sweep runs every few minutes).
const SWEEP_BATCH: i32 = 100;

/// Sends the jobs the queue refused earlier, oldest first, forgetting each once sent, and
/// returns how many it sent. It stops at the first refusal: the queue is still failing, and
/// the next sweep tries again. A job sent but not forgotten (the delete failed) is sent again
/// next time, which is safe: every job may run twice.
pub async fn send_kept_jobs(state: &AppState) -> Result<usize> {
    let Some(queue) = &state.jobs else {
        return Ok(0);
    };
    let kept = state.store.kept_jobs(SWEEP_BATCH).await?;
    let count = kept.len();
    for job in kept {
        queue.send_body(job.body, Duration::ZERO).await?;
        state.store.forget_kept_job(&job.key).await?;
    }
    if count > 0 {
        tracing::info!(sent = count, "kept jobs handed to the queue");
    }
    Ok(count)
}

/// Hands a call's finished recording over for transcription, when calls are transcribed on
/// this deployment (a Voice Intelligence service and the job queue are configured).
pub async fn request_transcript(
    state: &AppState,
    tenant_id: &str,
    call_id: &str,
    recording_sid: &str,
) -> Result<()> {
    let (Some(_), Some(queue)) = (&state.intelligence, &state.jobs) else {
        return Ok(());
    };
    let job = Job::CreateTranscript {
        tenant_id: tenant_id.to_string(),
        call_id: call_id.to_string(),
        recording_sid: recording_sid.to_string(),
    };
    hand_over(state, queue, &job).await?;
    tracing::info!(call_id, "transcript requested");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_round_trip_through_their_message_bodies() {
        let job = Job::FetchTranscript {
            transcript_sid: "GT1".into(),
            polls: 3,
        };
        let body = job.to_body().unwrap();
        assert_eq!(
            body,
            r#"{"job":"fetch_transcript","transcript_sid":"GT1","polls":3}"#
        );
        assert_eq!(Job::from_body(&body).unwrap(), job);
        assert!(Job::from_body(r#"{"job":"mine_bitcoin"}"#).is_err());
    }
}
