//! The SQS event source invokes this function with a batch of jobs; it runs them and reports
//! the ones that failed (partial batch response), which SQS delivers again. A schedule invokes
//! it to send the jobs the queue refused (see the library).

use job_worker::Invocation;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let state = shared::lambda::cold_start().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Invocation>| {
        let state = state.clone();
        async move {
            job_worker::handle(&state, event.payload)
                .await
                .map_err(lambda_runtime::Error::from)
        }
    }))
    .await
}
