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
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(job.to_body()?)
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
    queue.send(&job, Duration::ZERO).await?;
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
