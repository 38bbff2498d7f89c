//! Twilio's webhooks: the voice URL of every provisioned number (inbound calls), call status
//! callbacks, recording status callbacks, the outcome of a transfer to a person and who
//! answered an outbound call (answering-machine detection). Each verifies `X-Twilio-Signature` (403 and no
//! change otherwise) and is idempotent under Twilio's repeated deliveries; status and
//! recording callbacks reach their call whenever they arrive (see `callbacks`).

mod callbacks;
mod handlers;

use shared::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every route of the webhooks context.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::inbound::inbound))
        .routes(routes!(handlers::call_status::call_status))
        .routes(routes!(handlers::recording_status::recording_status))
        .routes(routes!(handlers::transfer_status::transfer_status))
        .routes(routes!(handlers::amd_status::amd_status))
}
