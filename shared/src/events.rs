//! Events tenants can subscribe to with webhooks: when one happens, a delivery job per
//! subscribed endpoint goes on the job queue (the job worker sends, signs and retries them).
//!
//! An event's id is derived from what it is about (`evt_call_completed_<call id>`), so a
//! repeated Twilio callback that announces the same thing produces the same id, and receivers
//! can ignore the repeat by its `webhook-id`.

use serde_json::{Value, json};

use crate::domain::webhooks::EventType;
use crate::error::Result;
use crate::jobs::Job;
use crate::state::AppState;
use crate::store::calls::CallRecord;
use crate::store::transcripts::TranscriptRecord;

/// Queues `event_type` about `subject` for every endpoint of the tenant that subscribes to it.
/// A failure is logged, not raised: the change it reports has happened either way.
pub async fn emit(
    state: &AppState,
    tenant_id: &str,
    event_type: EventType,
    subject: &str,
    data: Value,
) {
    if let Err(e) = try_emit(state, tenant_id, event_type, subject, data).await {
        tracing::error!(event = event_type.as_str(), error = %e, "could not queue a webhook event");
    }
}

async fn try_emit(
    state: &AppState,
    tenant_id: &str,
    event_type: EventType,
    subject: &str,
    data: Value,
) -> Result<()> {
    let Some(queue) = &state.jobs else {
        return Ok(());
    };
    let endpoints = state.store.webhooks(tenant_id).await?;
    let subscribed: Vec<_> = endpoints
        .iter()
        .filter(|e| e.events.contains(&event_type))
        .collect();
    if subscribed.is_empty() {
        return Ok(());
    }
    let event_id = format!("evt_{}_{subject}", event_type.as_str().replace('.', "_"));
    let body = json!({
        "id": event_id,
        "type": event_type.as_str(),
        "created_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string();
    for endpoint in subscribed {
        let job = Job::DeliverWebhook {
            tenant_id: tenant_id.to_string(),
            webhook_id: endpoint.webhook_id.clone(),
            event_id: event_id.clone(),
            event_type: event_type.as_str().to_string(),
            body: body.clone(),
            attempt: 1,
        };
        crate::jobs::hand_over(state, queue, &job).await?;
    }
    Ok(())
}

/// A call reached its final status.
pub async fn call_completed(state: &AppState, tenant_id: &str, call: &CallRecord) {
    let data = json!({
        "call_id": call.call_id,
        "call_sid": call.call_sid,
        "direction": call.direction,
        "from_number": call.from,
        "to_number": call.to,
        "scenario": call.scenario,
        "status": call.status,
        "duration_seconds": call.duration_seconds,
        "recording_sid": call.recording_sid,
        "created_at": call.created_at,
    });
    emit(
        state,
        tenant_id,
        EventType::CallCompleted,
        &call.call_id,
        data,
    )
    .await;
}

/// A call's transcript is stored and readable.
pub async fn transcript_ready(state: &AppState, tenant_id: &str, transcript: &TranscriptRecord) {
    let summary = &transcript.enhanced.summary_data;
    let data = json!({
        "transcript_sid": transcript.transcript_sid,
        "call_id": transcript.call_id,
        "call_direction": transcript.call_direction,
        "scenario_name": transcript.scenario_name,
        "duration": transcript.duration_seconds,
        "participant_count": summary.participant_count,
        "total_words": summary.total_words,
        "turns": summary.conversation_stats.turns,
        "average_confidence": summary.average_confidence,
    });
    emit(
        state,
        tenant_id,
        EventType::TranscriptReady,
        &transcript.transcript_sid,
        data,
    )
    .await;
}
