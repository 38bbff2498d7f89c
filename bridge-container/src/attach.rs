//! Taking over browser calls: the bridge long-polls the attach queue (see
//! `shared::sideband`) and watches each call it wins the claim on.
//!
//! A request is deleted once handled: claimed (the call is this task's from then on), lost to
//! another claim (a repeat, or another task), stale, or unreadable. A request that fails for a
//! passing reason (the table did not answer) is left on the queue, so SQS delivers it again
//! after the visibility timeout and, past its receive limit, moves it to the dead-letter queue.
//! While draining the bridge takes no new requests; one received meanwhile is left for
//! another task.

use std::time::Duration;

use shared::sideband::{AttachQueue, Received};

use crate::server::Bridge;

/// The longest wait of one receive (SQS's maximum long poll).
const LONG_POLL: Duration = Duration::from_secs(20);
/// After a failed receive, or an empty one that came back at once (local AWS may not hold a
/// long poll), before the next.
const PAUSE: Duration = Duration::from_millis(250);

/// Polls until the bridge drains; returns at once when no attach queue is configured.
pub async fn run(bridge: Bridge) {
    let Some(queue) = bridge.app.attach_queue.clone() else {
        return;
    };
    while !bridge.draining() {
        let asked = tokio::time::Instant::now();
        match queue.receive(10, LONG_POLL).await {
            Ok(received) if received.is_empty() => {
                if asked.elapsed() < PAUSE {
                    tokio::time::sleep(PAUSE).await;
                }
            }
            Ok(received) => {
                for message in received {
                    tokio::spawn(attach(bridge.clone(), queue.clone(), message));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read the attach queue");
                tokio::time::sleep(PAUSE).await;
            }
        }
    }
}

async fn attach(bridge: Bridge, queue: AttachQueue, message: Received) {
    if bridge.draining() {
        return;
    }
    let Some(request) = message.request else {
        tracing::error!("an attach request that does not parse; deleted");
        delete(&queue, &message.receipt_handle).await;
        return;
    };
    let age = chrono::Utc::now().timestamp() - request.requested_at;
    let max_duration = bridge.app.config.telephony.max_call_duration.as_secs() as i64;
    if age > max_duration {
        // Whatever call it was is over by now (OpenAI would have ended it too).
        tracing::warn!(call_id = %request.call_id, age, "stale attach request; deleted");
        delete(&queue, &message.receipt_handle).await;
        return;
    }
    let claimed = bridge
        .app
        .store
        .claim_sideband(&request.tenant_id, &request.call_id, &request.rtc_call_id)
        .await;
    match claimed {
        Ok(true) => {
            delete(&queue, &message.receipt_handle).await;
            crate::call::run_browser(
                bridge,
                request.tenant_id,
                request.call_id,
                request.rtc_call_id,
            )
            .await;
        }
        Ok(false) => {
            tracing::info!(call_id = %request.call_id, "browser call already attached or over");
            delete(&queue, &message.receipt_handle).await;
        }
        Err(e) => {
            tracing::warn!(call_id = %request.call_id, error = %e, "could not claim a browser call; left for a retry");
        }
    }
}

async fn delete(queue: &AttachQueue, receipt_handle: &str) {
    if let Err(e) = queue.delete(receipt_handle).await {
        // Delivered again later, it loses the claim and is deleted then.
        tracing::warn!(error = %e, "could not delete an attach request");
    }
}
