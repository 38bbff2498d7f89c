//! Delivering one event to one endpoint (the job worker runs this for `DeliverWebhook`).
//!
//! Each attempt is signed afresh (a new timestamp; the event id stays) and logged. An endpoint
//! that does not answer 2xx in time is tried again after a delay that doubles from
//! `WEBHOOK_RETRY_SECONDS` (at most 15 minutes, SQS's longest delay), up to
//! `WEBHOOK_MAX_ATTEMPTS` tries; the retry is a new delayed job, so the job itself succeeds and
//! only an infrastructure failure (the store, the queue) makes SQS deliver it again. An
//! endpoint removed meanwhile, or whose URL is no longer allowed, gets nothing more.

use std::time::{Duration, Instant};

use shared::domain::webhooks::{EndpointUrl, signature};
use shared::jobs::Job;
use shared::store::webhooks::{Attempt, Outcome};
use shared::{AppState, Result};

/// One event for one endpoint, as the job carries it.
pub struct Delivery<'a> {
    pub tenant_id: &'a str,
    pub webhook_id: &'a str,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub body: &'a str,
    pub attempt: u32,
}

/// The pause before attempt `next` (2 is the first retry).
pub fn retry_delay(first: Duration, next: u32) -> Duration {
    let doublings = next.saturating_sub(2).min(10);
    (first * 2u32.pow(doublings)).min(Duration::from_secs(900))
}

/// Tries the delivery once, logs it, and schedules the next try if it failed.
pub async fn run(state: &AppState, delivery: &Delivery<'_>) -> Result<()> {
    let Some(endpoint) = state
        .store
        .find_webhook(delivery.tenant_id, delivery.webhook_id)
        .await?
    else {
        tracing::info!("webhook removed; delivery dropped");
        return Ok(());
    };
    let started = Instant::now();
    let sent = send(state, &endpoint.url, &endpoint.sealed_secret, delivery).await;
    let duration_ms = started.elapsed().as_millis() as u64;
    let (http_status, error, can_retry) = match sent {
        Ok(status) if (200..300).contains(&status) => (Some(status), None, false),
        Ok(status) => (
            Some(status),
            Some(format!("the endpoint answered HTTP {status}")),
            true,
        ),
        Err(Failure::Permanent(why)) => (None, Some(why), false),
        Err(Failure::Transient(why)) => (None, Some(why), true),
    };
    let settings = &state.config.webhooks;
    let outcome = match (
        &error,
        can_retry && delivery.attempt < settings.max_attempts,
    ) {
        (None, _) => Outcome::Delivered,
        (Some(_), true) => Outcome::Retrying,
        (Some(_), false) => Outcome::Failed,
    };
    let attempt = Attempt {
        event_id: delivery.event_id.to_string(),
        event_type: delivery.event_type.to_string(),
        attempt: delivery.attempt,
        outcome,
        http_status,
        error,
        duration_ms,
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    state
        .store
        .log_delivery(delivery.tenant_id, delivery.webhook_id, &attempt)
        .await?;
    if outcome == Outcome::Retrying
        && let Some(queue) = &state.jobs
    {
        let next = delivery.attempt + 1;
        let job = Job::DeliverWebhook {
            tenant_id: delivery.tenant_id.to_string(),
            webhook_id: delivery.webhook_id.to_string(),
            event_id: delivery.event_id.to_string(),
            event_type: delivery.event_type.to_string(),
            body: delivery.body.to_string(),
            attempt: next,
        };
        queue
            .send(&job, retry_delay(settings.first_retry, next))
            .await?;
    }
    Ok(())
}

/// Why a try failed: worth retrying (the endpoint may come back) or not.
enum Failure {
    Transient(String),
    Permanent(String),
}

/// POSTs the signed event; the endpoint's HTTP status.
async fn send(
    state: &AppState,
    url: &str,
    sealed_secret: &str,
    delivery: &Delivery<'_>,
) -> std::result::Result<u16, Failure> {
    // The rules may have tightened since the endpoint was registered.
    let url = EndpointUrl::parse(url, state.config.development_mode)
        .map_err(|e| Failure::Permanent(format!("the URL is no longer allowed: {}", e.message)))?;
    let secret = state.sealer.open(sealed_secret).map_err(|_| {
        Failure::Permanent(
            "the signing secret cannot be read (the platform's key changed); register the URL again"
                .into(),
        )
    })?;
    let timestamp = chrono::Utc::now().timestamp();
    let signed = signature(&secret, delivery.event_id, timestamp, delivery.body)
        .ok_or_else(|| Failure::Permanent("the signing secret is malformed".into()))?;
    let response = state
        .tenant_http
        .post(url.as_str())
        .header("content-type", "application/json")
        .header("webhook-id", delivery.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signed)
        .body(delivery.body.to_string())
        .send()
        .await
        .map_err(|e| {
            let why = if e.is_timeout() {
                "the endpoint did not answer in time".to_string()
            } else {
                // Without the URL: it may hold the tenant's own secrets in its query.
                format!("the endpoint could not be reached: {}", e.without_url())
            };
            Failure::Transient(why)
        })?;
    Ok(response.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_stop_at_sqs_longest_delay() {
        let first = Duration::from_secs(30);
        let delays: Vec<u64> = (2..=8).map(|n| retry_delay(first, n).as_secs()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 900, 900]);
    }
}
