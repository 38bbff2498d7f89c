//! One call: admission from the `start` message, the OpenAI Realtime session, and the relay
//! loop that carries audio both ways until the call ends, then the call record.
//!
//! The loop owns all per-call state and never awaits OpenAI: caller audio goes to a writer
//! task through a bounded channel (dropped, and counted, if OpenAI cannot keep up), so the
//! Twilio socket is always read promptly. Slow work (tools, a new OpenAI session) runs in
//! tasks whose results come back as events of the loop.
//!
//! - `admission`: the `start` message, the stream token, the claim on the call, and what the
//!   call is made of (instructions, voice, its tools); refusals are a [`Refusal`].
//! - `session`: opening and configuring one Realtime session, and its writer task.
//! - `relay`: the loop and its handlers (audio both ways, barge-in, rotation, reconnects);
//!   it ends with an [`EndReason`].
//! - `tool_calls`: the model's function calls, run once each, only after their item
//!   completed, within a time budget.

mod admission;
mod relay;
mod session;
mod tool_calls;

use std::sync::atomic::Ordering::Relaxed;

use axum::extract::ws::{Message as TwilioMessage, WebSocket};
use futures_util::StreamExt;
use futures_util::stream::{SplitSink, SplitStream};

use crate::metrics::METRICS;
use crate::server::Bridge;
use admission::{admit, close_twilio};
use relay::Call;

pub use admission::Refusal;
pub use relay::EndReason;

type TwilioSink = SplitSink<WebSocket, TwilioMessage>;
type TwilioStream = SplitStream<WebSocket>;

/// Runs a call from the upgraded socket to the call record.
pub async fn run(bridge: Bridge, socket: WebSocket) {
    let (mut twilio_tx, mut twilio_rx) = socket.split();
    let admitted = match admit(&bridge, &mut twilio_rx).await {
        Ok(admitted) => admitted,
        Err(refusal) => {
            METRICS.calls_refused.fetch_add(1, Relaxed);
            tracing::warn!(reason = refusal.as_str(), "media stream refused");
            close_twilio(&mut twilio_tx, 1008, refusal.as_str()).await;
            return;
        }
    };
    METRICS.calls_total.fetch_add(1, Relaxed);
    METRICS.active_calls.fetch_add(1, Relaxed);
    let call_id = admitted.claims.call_id.clone();
    let tenant_id = admitted.claims.tid.clone();
    tracing::info!(call_id = %call_id, direction = ?admitted.claims.direction, "call connected");
    let summary = Call::new(&bridge, admitted, twilio_tx, twilio_rx)
        .run()
        .await;
    tracing::info!(call_id = %call_id, end_reason = %summary.end_reason, barge_ins = summary.barge_ins, "call ended");
    if let Err(e) = bridge
        .app
        .store
        .record_bridge_summary(&tenant_id, &call_id, &summary)
        .await
    {
        tracing::error!(call_id = %call_id, error = %e, "could not write the call record");
    }
    METRICS.active_calls.fetch_sub(1, Relaxed);
}
