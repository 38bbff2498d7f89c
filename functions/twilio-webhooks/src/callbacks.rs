//! Getting a status or recording callback onto its call, whenever it arrives.
//!
//! Callbacks about outbound calls (and inbound recordings) name the tenant and the call in the
//! URL we gave Twilio, so they find their call even before the create request has answered
//! and the SID is stored; they also link the SID if nobody has yet. Callbacks that name only a
//! SID (an inbound call's status callback, configured on the number) find the call through the
//! SID marker; if the voice webhook has not linked it yet, the callback is parked under the SID
//! and applied when it is. Nothing is dropped and everything is idempotent, so early, late and
//! repeated deliveries all end in the same record.

use shared::calling::{CALLBACK_CALL, CALLBACK_TENANT};
use shared::domain::ids::{CallId, Sid, TenantId};
use shared::http::TwilioForm;
use shared::store::calls::{RecordingUpdate, SidLink, StatusUpdate};
use shared::{AppState, Result};

/// What a callback reports.
pub enum Report {
    Status(StatusUpdate),
    Recording(RecordingUpdate),
}

/// A call, as a callback's URL or its SID marker names it.
pub struct CallRef {
    pub tenant_id: String,
    pub call_id: String,
    /// Named by our own URL (so the SID may still need linking), not found through the SID.
    from_url: bool,
}

/// The call SID of a callback, checked for shape before it becomes part of a key.
pub fn call_sid(form: &TwilioForm) -> Result<Sid> {
    Ok(Sid::parse(form.require("CallSid")?, "CA", "CallSid")?)
}

/// Applies `report` to the call `sid` belongs to and returns that call, or parks the report
/// until the call is known (and returns `None`).
pub async fn deliver(
    state: &AppState,
    form: &TwilioForm,
    sid: &Sid,
    report: Report,
) -> Result<Option<CallRef>> {
    if let Some(call) = named_call(form)? {
        return apply(state, call, sid, &report).await;
    }
    if let Some(call) = linked_call(state, sid).await? {
        return apply(state, call, sid, &report).await;
    }
    match &report {
        Report::Status(update) => state.store.park_status(sid.as_str(), update).await?,
        Report::Recording(recording) => state.store.park_recording(sid.as_str(), recording).await?,
    }
    // The call may have been linked while this was parked (linking applies what is parked,
    // but it may have looked just before): looking again closes that window.
    if let Some(call) = linked_call(state, sid).await? {
        return apply(state, call, sid, &report).await;
    }
    tracing::info!("callback parked until its Call SID is linked to a call");
    Ok(None)
}

/// The call named by the callback URL's query, if it carries one.
pub fn named_call(form: &TwilioForm) -> Result<Option<CallRef>> {
    let (Some(tenant), Some(call)) = (form.query(CALLBACK_TENANT), form.query(CALLBACK_CALL))
    else {
        return Ok(None);
    };
    Ok(Some(CallRef {
        tenant_id: TenantId::parse(tenant, CALLBACK_TENANT)?.into_string(),
        call_id: CallId::parse(call, CALLBACK_CALL)?.into_string(),
        from_url: true,
    }))
}

async fn linked_call(state: &AppState, sid: &Sid) -> Result<Option<CallRef>> {
    Ok(state
        .store
        .call_by_sid(sid.as_str())
        .await?
        .map(|(tenant_id, call_id)| CallRef {
            tenant_id,
            call_id,
            from_url: false,
        }))
}

/// Whether a callback whose URL named `call` is about it: the call exists and has this SID
/// (linked now if nobody stored one yet, as for a callback that beat the create's answer).
pub async fn is_about(state: &AppState, call: &CallRef, sid: &Sid) -> Result<bool> {
    let (tenant, id) = (call.tenant_id.as_str(), call.call_id.as_str());
    let Some(record) = state.store.find_call(tenant, id).await? else {
        tracing::warn!(call_id = id, "callback for a call that no longer exists");
        return Ok(false);
    };
    match record.call_sid.as_deref() {
        Some(linked) if linked == sid.as_str() => Ok(true),
        Some(_) => {
            tracing::warn!(
                call_id = id,
                "callback with another Call SID than the call's"
            );
            Ok(false)
        }
        None => Ok(state.store.link_call_sid(tenant, id, sid.as_str()).await? == SidLink::Linked),
    }
}

async fn apply(
    state: &AppState,
    call: CallRef,
    sid: &Sid,
    report: &Report,
) -> Result<Option<CallRef>> {
    let (tenant, id) = (call.tenant_id.as_str(), call.call_id.as_str());
    if call.from_url && !is_about(state, &call, sid).await? {
        return Ok(None);
    }
    match report {
        Report::Status(update) => {
            let ended = state.store.apply_call_status(tenant, id, update).await?;
            tracing::info!(call_id = id, status = %update.status, "call status");
            if ended {
                let record = state.store.call(tenant, id).await?;
                shared::events::call_completed(state, tenant, &record).await;
            }
        }
        Report::Recording(recording) => {
            state.store.apply_recording(tenant, id, recording).await?;
            tracing::info!(call_id = id, "call recording");
        }
    }
    Ok(Some(call))
}
