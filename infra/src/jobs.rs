//! The local stand-in for the SQS event source of the job worker: moto holds the
//! queues; this loop receives batches, hands each to the worker as the `SqsEvent` Lambda would
//! build, and deletes the messages the worker did not report as failed. A failed message
//! becomes visible again after the queue's visibility timeout, and moto's redrive policy moves
//! it to the dead-letter queue after the maximum receives, as on AWS. No such loop runs in
//! production.

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use shared::{AppState, Error, Result};

/// How the local job queues behave.
#[derive(Debug, Clone, Copy)]
pub struct QueueSettings {
    /// How long a received message stays hidden before it is delivered again.
    pub visibility_timeout: Duration,
    /// Receives before a message goes to the dead-letter queue.
    pub max_receives: u32,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(30),
            max_receives: 5,
        }
    }
}

/// The URLs of a job queue and its dead-letter queue.
#[derive(Debug, Clone)]
pub struct Queues {
    pub jobs: String,
    pub dead_letter: String,
}

fn sqs_error(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("sqs: {e}"))
}

/// Creates the job queue `name` and its dead-letter queue (if they do not exist yet).
pub async fn ensure_queues(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    settings: QueueSettings,
) -> Result<Queues> {
    let dead_letter = sqs
        .create_queue()
        .queue_name(format!("{name}-dead-letter"))
        .send()
        .await
        .map_err(|e| sqs_error(aws_sdk_sqs::error::DisplayErrorContext(&e)))?
        .queue_url
        .ok_or_else(|| sqs_error("no queue URL"))?;
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&dead_letter)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sqs_error(aws_sdk_sqs::error::DisplayErrorContext(&e)))?
        .attributes
        .and_then(|mut a| a.remove(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .ok_or_else(|| sqs_error("no queue ARN"))?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": arn,
        "maxReceiveCount": settings.max_receives.to_string(),
    });
    let jobs = sqs
        .create_queue()
        .queue_name(name)
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            settings.visibility_timeout.as_secs().max(1).to_string(),
        )
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
            redrive.to_string(),
        )
        .send()
        .await
        .map_err(|e| sqs_error(aws_sdk_sqs::error::DisplayErrorContext(&e)))?
        .queue_url
        .ok_or_else(|| sqs_error("no queue URL"))?;
    Ok(Queues { jobs, dead_letter })
}

/// Receives one batch (waiting up to a second for it) and runs it; returns how many messages
/// it received.
pub async fn run_once(state: &AppState) -> Result<usize> {
    let Some(queue) = &state.jobs else {
        return Ok(0);
    };
    let received = queue
        .client()
        .receive_message()
        .queue_url(queue.url())
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .map_err(|e| sqs_error(aws_sdk_sqs::error::DisplayErrorContext(&e)))?;
    let messages = received.messages.unwrap_or_default();
    if messages.is_empty() {
        return Ok(0);
    }
    let mut event = SqsEvent::default();
    for message in &messages {
        let mut record = SqsMessage::default();
        record.message_id = message.message_id.clone();
        record.receipt_handle = message.receipt_handle.clone();
        record.body = message.body.clone();
        event.records.push(record);
    }
    let response =
        crate::permissions::as_worker("job-worker", job_worker::handle_event(state, event)).await;
    for message in &messages {
        let failed = response
            .batch_item_failures
            .iter()
            .any(|f| Some(&f.item_identifier) == message.message_id.as_ref());
        if failed {
            continue;
        }
        if let Some(receipt) = &message.receipt_handle {
            queue
                .client()
                .delete_message()
                .queue_url(queue.url())
                .receipt_handle(receipt)
                .send()
                .await
                .map_err(|e| sqs_error(aws_sdk_sqs::error::DisplayErrorContext(&e)))?;
        }
    }
    Ok(messages.len())
}

/// Sends the jobs the queue refused, as the schedule of the `job-worker` function does on AWS.
pub async fn sweep(state: &AppState) -> Result<usize> {
    crate::permissions::as_worker("job-worker", shared::jobs::send_kept_jobs(state)).await
}

/// Runs jobs as they come, forever (pausing `idle` when there were none), and sweeps kept jobs
/// every `sweep_every`.
pub async fn run(state: AppState, idle: Duration, sweep_every: Duration) {
    let state = crate::permissions::guarded(&state);
    let mut next_sweep = tokio::time::Instant::now() + sweep_every;
    loop {
        if tokio::time::Instant::now() >= next_sweep {
            next_sweep = tokio::time::Instant::now() + sweep_every;
            if let Err(e) = sweep(&state).await {
                tracing::warn!(error = %e, "local sweep of kept jobs failed");
            }
        }
        match run_once(&state).await {
            Ok(0) => tokio::time::sleep(idle).await,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "local job poller pass failed");
                tokio::time::sleep(idle).await;
            }
        }
    }
}
