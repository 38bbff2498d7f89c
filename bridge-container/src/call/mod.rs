//! One call: admission from the `start` message, the OpenAI Realtime session, and the relay
//! loop that carries audio both ways until the call ends, then the call record.
//!
//! One task per call owns all per-call state and both sockets, whole (not split into halves
//! that lock on every poll). It never awaits OpenAI: caller audio is queued and written as far
//! as the socket takes it (dropped, and counted, if OpenAI cannot keep up), so the Twilio
//! socket is always read promptly. Slow work (tools, a new OpenAI session) runs in tasks whose
//! results come back as events of the loop.

//!
//! - `admission`: the `start` message, the stream token, the claim on the call, and what the
//!   call is made of (instructions, voice, its tools); refusals are a [`Refusal`].
//! - `session`: opening and configuring one Realtime session, and writing to it.
//! - `relay`: the loop and its handlers (audio both ways, barge-in, rotation, reconnects);
//!   it ends with an [`EndReason`].
//! - `tool_calls`: the model's function calls, run once each, only after their item
//!   completed, within a time budget.
//! - `voicemail`: an outbound call's wait for who answered (answering-machine detection), and
//!   its message for a machine.
//! - `sideband`: a browser call (WebRTC between the browser and OpenAI), watched through its
//!   sideband socket with the same tools, limits and record ([`run_browser`]).
//! - `wrap_up`: when the agent is told that the call's time is nearly up.

mod admission;
mod relay;
mod session;
mod sideband;
mod tool_calls;
mod voicemail;
mod wrap_up;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;

use shared::allowance::CallLength;
use shared::domain::calls::Direction;
use shared::domain::usage::{Tally, Tokens};
use shared::store::Store;
use shared::store::calls::BridgeSummary;
use shared::store::usage::Metered;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;

use crate::metrics::METRICS;
use crate::server::Bridge;
use admission::{admit, close_twilio};
use relay::Call;

pub use admission::Refusal;
pub use relay::EndReason;

/// Twilio's side of the call, upgraded straight on the TCP socket (see [`crate::listener`]).
type TwilioSocket = WebSocketStream<TcpStream>;

/// Runs a call from the upgraded socket to the call record.
///
/// This future is the call's task, allocated for the whole call, so it holds little besides
/// the relay loop: what is large and short-lived (admission's store calls and the call
/// record's write) runs boxed, made by [`boxed`] so its size is not reserved in this future.
pub async fn run(bridge: Bridge, mut twilio: Box<TwilioSocket>) {
    let admitted = match boxed(admit(&bridge, &mut twilio)).await {
        Ok(admitted) => admitted,
        Err(refusal) => {
            METRICS.calls_refused.fetch_add(1, Relaxed);
            tracing::warn!(reason = refusal.as_str(), "media stream refused");
            close_twilio(&mut twilio, 1008, refusal.as_str()).await;
            return;
        }
    };
    METRICS.calls_total.fetch_add(1, Relaxed);
    METRICS.active_calls.fetch_add(1, Relaxed);
    let call_id = admitted.claims.call_id.clone();
    let tenant_id = admitted.claims.tid.clone();
    let direction = admitted.claims.direction;
    tracing::info!(call_id = %call_id, direction = ?direction, "call connected");
    let summary = Call::new(&bridge, admitted, twilio).run().await;
    tracing::info!(call_id = %call_id, end_reason = %summary.end_reason, barge_ins = summary.barge_ins, "call ended");
    let store = &bridge.app.store;
    let record = async {
        store
            .record_bridge_summary(&tenant_id, &call_id, &summary)
            .await?;
        if summary.end_reason == EndReason::VoicemailLeft.as_str() {
            store.mark_voicemail_left(&tenant_id, &call_id).await?;
        }
        meter(store, &tenant_id, &call_id, direction, &summary).await
    };
    if let Err(e) = boxed(record).await {
        tracing::error!(call_id = %call_id, error = %e, "could not write the call record");
    }
    METRICS.active_calls.fetch_sub(1, Relaxed);
}

/// Counts the call's time and tokens in the tenant's usage (once, however often it is asked).
async fn meter(
    store: &Store,
    tenant_id: &str,
    call_id: &str,
    direction: Direction,
    summary: &BridgeSummary,
) -> shared::Result<()> {
    let tokens = Tokens {
        input_text: summary.input_text_tokens,
        input_audio: summary.input_audio_tokens,
        output_text: summary.output_text_tokens,
        output_audio: summary.output_audio_tokens,
    };
    let seconds = summary.stream_ms.div_ceil(1000);
    let tally = Tally::of_call(direction, seconds, tokens);
    if !store
        .meter(tenant_id, call_id, Metered::Call, &tally)
        .await?
    {
        tracing::warn!(call_id, "the call's usage was counted before");
    }
    Ok(())
}

/// Runs a browser call the bridge has claimed (see [`crate::attach`]) from its sideband to
/// the call record. A call that cannot be watched is hung up: nothing would enforce its
/// tools or its time limit.
pub async fn run_browser(bridge: Bridge, tenant_id: String, call_id: String, rtc_call_id: String) {
    let started = std::time::Instant::now();
    METRICS.calls_total.fetch_add(1, Relaxed);
    METRICS.active_calls.fetch_add(1, Relaxed);
    tracing::info!(call_id = %call_id, direction = "browser", "browser call attached");
    let summary = match boxed(open_sideband(&bridge, &tenant_id, &call_id, &rtc_call_id)).await {
        Ok((openai, tools, length)) => {
            sideband::BrowserCall::new(&bridge, &tenant_id, &call_id, &rtc_call_id, tools, length)
                .run(openai, started)
                .await
        }
        Err(e) => {
            tracing::warn!(call_id = %call_id, error = %e, "could not watch a browser call");
            BridgeSummary {
                end_reason: EndReason::OpenAiUnavailable.as_str().to_string(),
                end_detail: Some(e),
                stream_ms: started.elapsed().as_millis() as u64,
                ..BridgeSummary::default()
            }
        }
    };
    tracing::info!(call_id = %call_id, end_reason = %summary.end_reason, "browser call ended");
    if summary.end_reason != EndReason::CallerHungUp.as_str() {
        hang_up_browser_call(&bridge, &call_id, &rtc_call_id).await;
    }
    let store = &bridge.app.store;
    let record = async {
        store
            .record_bridge_summary(&tenant_id, &call_id, &summary)
            .await?;
        let seconds = summary.stream_ms.div_ceil(1000) as u32;
        store
            .complete_browser_call(&tenant_id, &call_id, seconds)
            .await?;
        meter(store, &tenant_id, &call_id, Direction::Browser, &summary).await
    };
    if let Err(e) = boxed(record).await {
        tracing::error!(call_id = %call_id, error = %e, "could not write the call record");
    }
    METRICS.active_calls.fetch_sub(1, Relaxed);
}

/// The call's configuration from its record, then its sideband, configured with it.
async fn open_sideband(
    bridge: &Bridge,
    tenant_id: &str,
    call_id: &str,
    rtc_call_id: &str,
) -> Result<(session::OpenAi, crate::tools::Registry, CallLength), String> {
    let record = bridge
        .app
        .store
        .call(tenant_id, call_id)
        .await
        .map_err(|e| e.to_string())?;
    let configuration = admission::configure(
        bridge,
        tenant_id,
        call_id,
        &record.scenario,
        Direction::Browser,
        None,
    )
    .await
    .map_err(|refusal| refusal.as_str().to_string())?;
    let url = session::sideband_url(bridge, rtc_call_id);
    let socket = session::retrying(|| session::connect(bridge, url.clone()))
        .await
        .map_err(|e| e.detail)?;
    let mut openai = session::OpenAi::new(socket);
    let tools = configuration.tools;
    let update =
        crate::realtime::sideband_session_update(&configuration.instructions, tools.definitions());
    openai.send(update);
    // The agent speaks first, as on the phone.
    openai.send(crate::realtime::response_create(None));
    openai.write_now().await;
    Ok((openai, tools, configuration.length))
}

/// Ends a browser call at OpenAI (the person's browser then sees the call end).
async fn hang_up_browser_call(bridge: &Bridge, call_id: &str, rtc_call_id: &str) {
    let Some(openai) = &bridge.app.openai else {
        tracing::error!(call_id, "no OpenAI key to hang up a browser call with");
        return;
    };
    if let Err(e) = openai.hang_up_realtime_call(rtc_call_id).await {
        tracing::warn!(
            call_id,
            status = e.status,
            "OpenAI did not hang up a browser call"
        );
    }
}

/// `future` on the heap. A plain function, so the caller's state holds only the pointer:
/// boxing inside an `async fn` can still reserve the future's size there for a temporary.
fn boxed<F: Future>(future: F) -> Pin<Box<F>> {
    Box::pin(future)
}
