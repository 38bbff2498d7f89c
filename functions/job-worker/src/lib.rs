//! The job worker: runs the background jobs of the queue (transcripts, tenant webhook
//! deliveries), on AWS through the SQS event source of the `job-worker` function, locally
//! through the local runner's poller; both hand it the same [`SqsEvent`].
//!
//! A job that fails is reported in the batch response, so SQS delivers that message again
//! (and, after the queue's maximum receives, moves it to the dead-letter queue); the others of
//! the batch are done.
//!
//! A schedule also invokes it every few minutes to send the jobs the queue refused when they
//! were made (kept in the table, see [`shared::jobs::hand_over`]).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use serde::Deserialize;
use shared::jobs::Job;
use shared::{AppState, Error, Result};

/// What the function is invoked with.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Invocation {
    /// `{"sweep": "kept_jobs"}`: the schedule's input (template.yaml). First, since an SQS
    /// event is the shape that takes anything.
    Sweep {
        sweep: Sweep,
    },
    Jobs(SqsEvent),
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Sweep {
    KeptJobs,
}

/// Runs an invocation: a batch (the failed jobs in the response) or a sweep (an error fails
/// the invocation, so the function's error alarm sees a queue that keeps refusing).
pub async fn handle(state: &AppState, invocation: Invocation) -> Result<SqsBatchResponse> {
    match invocation {
        Invocation::Jobs(event) => Ok(handle_event(state, event).await),
        Invocation::Sweep {
            sweep: Sweep::KeptJobs,
        } => {
            shared::jobs::send_kept_jobs(state).await?;
            Ok(SqsBatchResponse::default())
        }
    }
}

/// Runs every message of a batch, side by side (so a batch takes one job's time, which the
/// function's timeout is sized for); the ones that failed are in the response, for SQS to
/// deliver again.
pub async fn handle_event(state: &AppState, event: SqsEvent) -> SqsBatchResponse {
    let outcomes = futures_util::future::join_all(
        event
            .records
            .iter()
            .map(|message| handle_message(state, message)),
    )
    .await;
    let mut response = SqsBatchResponse::default();
    for (message, outcome) in event.records.iter().zip(outcomes) {
        if let Err(e) = outcome {
            let id = message.message_id.clone().unwrap_or_default();
            tracing::warn!(message_id = %id, error = %e, "job failed; SQS will deliver it again");
            response.add_failure(id);
        }
    }
    response
}

async fn handle_message(state: &AppState, message: &SqsMessage) -> Result<()> {
    let body = message.body.as_deref().unwrap_or_default();
    // A body that is not a job never will be: it fails until the dead-letter queue takes it.
    let job = Job::from_body(body).map_err(|e| Error::internal(format!("not a job: {e}")))?;
    run(state, &job).await
}

/// Runs one job.
pub async fn run(state: &AppState, job: &Job) -> Result<()> {
    match job {
        Job::CreateTranscript {
            tenant_id,
            call_id,
            recording_sid,
        } => transcripts::worker::create_transcript(state, tenant_id, call_id, recording_sid).await,
        Job::FetchTranscript {
            transcript_sid,
            polls,
        } => transcripts::worker::fetch_transcript(state, transcript_sid, *polls).await,
        Job::DeliverWebhook {
            tenant_id,
            webhook_id,
            event_id,
            event_type,
            body,
            attempt,
        } => {
            let delivery = webhooks::delivery::Delivery {
                tenant_id,
                webhook_id,
                event_id,
                event_type,
                body,
                attempt: *attempt,
            };
            webhooks::delivery::run(state, &delivery).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedules_input_is_a_sweep_and_a_queue_batch_is_jobs() {
        let sweep: Invocation = serde_json::from_str(r#"{"sweep":"kept_jobs"}"#).unwrap();
        assert!(matches!(
            sweep,
            Invocation::Sweep {
                sweep: Sweep::KeptJobs
            }
        ));
        let batch = r#"{"Records":[{"messageId":"m1","body":"{}","eventSource":"aws:sqs"}]}"#;
        let Invocation::Jobs(event) = serde_json::from_str(batch).unwrap() else {
            panic!("a batch read as a sweep");
        };
        assert_eq!(event.records.len(), 1);
    }
}
