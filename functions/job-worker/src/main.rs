//! The SQS event source invokes this function with a batch of jobs; it runs them and reports
//! the ones that failed (partial batch response), which SQS delivers again.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let state = shared::lambda::cold_start().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let state = state.clone();
        async move {
            Ok::<SqsBatchResponse, lambda_runtime::Error>(
                job_worker::handle_event(&state, event.payload).await,
            )
        }
    }))
    .await
}
