//! EventBridge Scheduler invokes this function with the schedule's `Input`
//! (`{"tenant_id": ..., "schedule_id": ...}`); it runs the scheduled-call runner once per
//! delivery (the runner makes repeated deliveries harmless).

use lambda_runtime::{LambdaEvent, service_fn};
use schedules::runner::{self, ScheduledCallEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let state = shared::lambda::cold_start().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<ScheduledCallEvent>| {
        let state = state.clone();
        async move {
            // Infrastructure errors (DynamoDB), and a claim another runner still holds, fail the
            // invocation so Lambda retries it (and, after the last retry, sends it to the
            // dead-letter queue).
            match runner::run(&state, &event.payload).await {
                Ok(outcome) if outcome.retry_later() => Err(lambda_runtime::Error::from(
                    "another runner holds a fresh claim on this scheduled call; retry later",
                )),
                Ok(outcome) => Ok(outcome),
                Err(e) => Err(lambda_runtime::Error::from(e.to_string())),
            }
        }
    }))
    .await
}
