#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(twilio_webhooks::router()).await
}
