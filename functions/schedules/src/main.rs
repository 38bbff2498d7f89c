#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let state = shared::lambda::cold_start().await?;
    schedules::check_configuration(&state.config)?;
    shared::lambda::serve(state, schedules::router()).await
}
