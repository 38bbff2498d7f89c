//! Moving a call on once its record exists: the Call SID Twilio gives it, Twilio's status and
//! recording callbacks, the media bridge's claim of the stream and its summary, and failures on
//! the platform's side.
//!
//! Twilio's callbacks can come before, during or after the create request has answered, more
//! than once, and out of order. So every write here is idempotent and none depends on another
//! having happened first:
//! - a status only ever moves a call forward (by [`CallStatus::rank`]);
//! - the SID is linked by whoever learns it first (the create answer, a callback whose URL
//!   carries our call id, the bridge's stream start), the same way each time;
//! - a callback that names only a SID nobody has linked yet (an inbound call's status callback
//!   racing its voice webhook) is parked under the SID, and applied by whoever links it.

use aws_sdk_dynamodb::types::{Put, ReturnValue, TransactWriteItem, Update};

use super::{BridgeSummary, CallRecord, call_put, not_found};
use crate::domain::calls::CallStatus;
use crate::error::{Error, Result};
use crate::store::{
    Item, ItemExt, SetClauses, Store, cancellation_codes, conditional_failed, epoch_now,
    failed_condition, keys, n, now_rfc3339, s, written,
};

/// How long a parked callback waits for its call (TTL); inbound calls are linked within
/// seconds, so this is generous.
const EARLY_CALLBACK_TTL_SECS: i64 = 2 * 86_400;

/// What a status callback reports.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusUpdate {
    pub status: CallStatus,
    pub duration_seconds: Option<u32>,
}

/// A finished recording of a call.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingUpdate {
    pub recording_sid: String,
    pub url: Option<String>,
    pub duration_seconds: Option<u32>,
}

impl RecordingUpdate {
    /// The attributes a recording sets, on a call or a parked callback alike.
    fn clauses(&self) -> SetClauses {
        SetClauses::default()
            .set("recording_sid", s(&self.recording_sid))
            .set_some("recording_url", self.url.as_deref().map(s))
            .set_some("recording_duration_seconds", self.duration_seconds.map(n))
    }
}

/// The outcome of linking a Call SID to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SidLink {
    /// The call has this SID (now, or already had it).
    Linked,
    /// The call has another SID, or the SID belongs to another call: nothing was changed.
    Conflict,
}

const BRIDGE_NUMBERS: [&str; 9] = [
    "stream_ms",
    "agent_audio_ms",
    "barge_ins",
    "responses",
    "session_rotations",
    "input_text_tokens",
    "input_audio_tokens",
    "output_text_tokens",
    "output_audio_tokens",
];

impl BridgeSummary {
    fn numbers(&self) -> [u64; 9] {
        [
            self.stream_ms,
            self.agent_audio_ms,
            u64::from(self.barge_ins),
            u64::from(self.responses),
            u64::from(self.session_rotations),
            self.input_text_tokens,
            self.input_audio_tokens,
            self.output_text_tokens,
            self.output_audio_tokens,
        ]
    }
}

/// The bridge summary stored on a call item, once the bridge wrote one.
pub(super) fn bridge_summary(item: &Item) -> Option<BridgeSummary> {
    let end_reason = item.opt_str("bridge_end_reason")?;
    let n = |k: &str| item.num::<u64>(&format!("bridge_{k}")).unwrap_or(0);
    Some(BridgeSummary {
        stream_ms: n("stream_ms"),
        agent_audio_ms: n("agent_audio_ms"),
        barge_ins: n("barge_ins") as u32,
        responses: n("responses") as u32,
        session_rotations: n("session_rotations") as u32,
        input_text_tokens: n("input_text_tokens"),
        input_audio_tokens: n("input_audio_tokens"),
        output_text_tokens: n("output_text_tokens"),
        output_audio_tokens: n("output_audio_tokens"),
        end_reason,
        end_detail: item.opt_str("bridge_end_detail"),
    })
}

/// The `CALLSID#` marker of `sid`, pointing at the call. Writing it again for the same call is
/// a no-op; it never moves to another call.
fn sid_marker(store: &Store, tenant_id: &str, call_id: &str, sid: &str) -> Result<Put> {
    Ok(Put::builder()
        .table_name(store.table())
        .item(keys::PK, s(keys::call_sid(sid)))
        .item(keys::SK, s(keys::CALL_SID))
        .item("entity", s("call_sid_marker"))
        .item("tenant_id", s(tenant_id))
        .item("call_id", s(call_id))
        .condition_expression(
            "attribute_not_exists(PK) OR (tenant_id = :tenant AND call_id = :call)",
        )
        .expression_attribute_values(":tenant", s(tenant_id))
        .expression_attribute_values(":call", s(call_id))
        .build()?)
}

impl Store {
    /// Records that Twilio's `sid` is this call's: the SID on the call and its marker, in one
    /// transaction, then any callback that was parked under the SID before. Idempotent.
    pub async fn link_call_sid(
        &self,
        tenant_id: &str,
        call_id: &str,
        sid: &str,
    ) -> Result<SidLink> {
        let update = Update::builder()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .update_expression("SET call_sid = :sid, updated_at = :now")
            .condition_expression(
                "attribute_exists(PK) AND (attribute_not_exists(call_sid) OR call_sid = :sid)",
            )
            .expression_attribute_values(":sid", s(sid))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .build()?;
        let result = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(
                TransactWriteItem::builder()
                    .put(sid_marker(self, tenant_id, call_id, sid)?)
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(e) => match cancellation_codes(&e) {
                Some(codes) if failed_condition(&codes, 0) || failed_condition(&codes, 1) => {
                    // Either the call is gone or another SID/call got there first.
                    if self.find_call(tenant_id, call_id).await?.is_none() {
                        return Err(not_found());
                    }
                    tracing::warn!(call_id, "Call SID already linked elsewhere");
                    return Ok(SidLink::Conflict);
                }
                _ => return Err(e.into()),
            },
        }
        self.apply_early_callbacks(tenant_id, call_id, sid).await?;
        Ok(SidLink::Linked)
    }

    /// Records an inbound call and its SID marker. A repeated webhook for the same Call SID
    /// returns the call recorded the first time instead of creating another.
    pub async fn create_inbound_call(
        &self,
        tenant_id: &str,
        call: &CallRecord,
    ) -> Result<CallRecord> {
        let sid = call
            .call_sid
            .as_deref()
            .ok_or_else(|| Error::internal("inbound call without a Call SID"))?;
        let result = self
            .client()
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .put(sid_marker(self, tenant_id, &call.call_id, sid)?)
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .put(call_put(self, tenant_id, call)?)
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => {
                self.apply_early_callbacks(tenant_id, &call.call_id, sid)
                    .await?;
                self.call(tenant_id, &call.call_id).await
            }
            Err(e) => match cancellation_codes(&e) {
                Some(codes) if failed_condition(&codes, 0) => {
                    let (owner, call_id) = self.call_by_sid(sid).await?.ok_or_else(not_found)?;
                    self.call(&owner, &call_id).await
                }
                _ => Err(e.into()),
            },
        }
    }

    /// The tenant and call id of a Call SID, once linked.
    pub async fn call_by_sid(&self, sid: &str) -> Result<Option<(String, String)>> {
        Ok(match self.get(keys::call_sid(sid), keys::CALL_SID).await? {
            Some(m) => Some((m.str("tenant_id")?, m.str("call_id")?)),
            None => None,
        })
    }

    /// Applies a status callback. Idempotent: the same update twice is the same as once, and
    /// an update that would move the call backwards (a late `ringing` after `completed`, a
    /// `queued` after the callbacks already reported more) is ignored. Returns whether this
    /// update is the one that ended the call (its first final status from Twilio).
    pub async fn apply_call_status(
        &self,
        tenant_id: &str,
        call_id: &str,
        update: &StatusUpdate,
    ) -> Result<bool> {
        let result = SetClauses::default()
            .set("#status", s(update.status.as_str()))
            .set("status_rank", n(update.status.rank()))
            .set("updated_at", s(now_rfc3339()))
            .set_some("duration_seconds", update.duration_seconds.map(n))
            .apply(self.client().update_item())
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .condition_expression(
                "attribute_exists(PK) AND (status_rank < :status_rank OR #status = :status)",
            )
            .return_values(ReturnValue::UpdatedOld)
            .send()
            .await;
        match result {
            Ok(out) => {
                // The rank before (a verdict of the platform's own ranks as `initiating`).
                let before: u8 = out
                    .attributes
                    .as_ref()
                    .and_then(|old| old.num("status_rank").ok())
                    .unwrap_or(0);
                Ok(update.status.is_final() && before < update.status.rank())
            }
            Err(e) if conditional_failed(&e) => {
                tracing::debug!(call_id, status = %update.status, "stale call status ignored");
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Records a finished recording (idempotent).
    pub async fn apply_recording(
        &self,
        tenant_id: &str,
        call_id: &str,
        recording: &RecordingUpdate,
    ) -> Result<()> {
        let sets = recording.clauses().set("updated_at", s(now_rfc3339()));
        self.update_call(tenant_id, call_id, sets).await
    }

    /// Keeps a status callback for a SID no call is linked to yet. Only the furthest status
    /// is kept (with its duration), like on a call.
    pub async fn park_status(&self, sid: &str, update: &StatusUpdate) -> Result<()> {
        let request = SetClauses::default()
            .set("entity", s("early_callback"))
            .set("#status", s(update.status.as_str()))
            .set("status_rank", n(update.status.rank()))
            .set(keys::TTL_ATTRIBUTE, n(epoch_now() + EARLY_CALLBACK_TTL_SECS))
            .set_some("duration_seconds", update.duration_seconds.map(n))
            .apply(self.client().update_item())
            .table_name(self.table())
            .key(keys::PK, s(keys::call_sid(sid)))
            .key(keys::SK, s(keys::EARLY_CALLBACK))
            .condition_expression(
                "attribute_not_exists(status_rank) OR status_rank < :status_rank OR #status = :status",
            );
        // A further status is parked already: this one changes nothing.
        written(request.send().await).map(|_| ())
    }

    /// Keeps a recording callback for a SID no call is linked to yet.
    pub async fn park_recording(&self, sid: &str, recording: &RecordingUpdate) -> Result<()> {
        SetClauses::default()
            .set("entity", s("early_callback"))
            .set("recording_sid", s(&recording.recording_sid))
            .set(
                keys::TTL_ATTRIBUTE,
                n(epoch_now() + EARLY_CALLBACK_TTL_SECS),
            )
            .set_some("recording_url", recording.url.as_deref().map(s))
            .set_some(
                "recording_duration_seconds",
                recording.duration_seconds.map(n),
            )
            .apply(self.client().update_item())
            .table_name(self.table())
            .key(keys::PK, s(keys::call_sid(sid)))
            .key(keys::SK, s(keys::EARLY_CALLBACK))
            .send()
            .await?;
        Ok(())
    }

    /// Applies whatever was parked under `sid` to the call it now belongs to.
    async fn apply_early_callbacks(&self, tenant_id: &str, call_id: &str, sid: &str) -> Result<()> {
        let Some(item) = self.get(keys::call_sid(sid), keys::EARLY_CALLBACK).await? else {
            return Ok(());
        };
        if let Some(status) = item.opt_str("status").and_then(|s| s.parse().ok()) {
            let update = StatusUpdate {
                status,
                duration_seconds: item.num("duration_seconds").ok(),
            };
            self.apply_call_status(tenant_id, call_id, &update).await?;
        }
        if let Some(recording_sid) = item.opt_str("recording_sid") {
            let recording = RecordingUpdate {
                recording_sid,
                url: item.opt_str("recording_url"),
                duration_seconds: item.num("recording_duration_seconds").ok(),
            };
            self.apply_recording(tenant_id, call_id, &recording).await?;
        }
        tracing::info!(
            call_id,
            "applied callbacks that arrived before the call was linked"
        );
        Ok(())
    }

    /// Claims the call's media stream for the bridge: succeeds once per call, and only for the
    /// Call SID the call was placed or answered with, so a stream token cannot be replayed for
    /// another stream. A stream that starts before anyone stored the SID links it.
    pub async fn claim_stream(
        &self,
        tenant_id: &str,
        call_id: &str,
        call_sid: &str,
    ) -> Result<bool> {
        // Usually the SID is stored already (the create's answer, the inbound webhook): one
        // conditional write claims the stream, which keeps call set-up short.
        if self
            .mark_stream_started(tenant_id, call_id, call_sid)
            .await?
        {
            return Ok(true);
        }
        // Refused: the stream beat the SID write, or it was claimed, or it is another call's
        // SID. Linking tells them apart (and links the SID in the first case).
        match self.link_call_sid(tenant_id, call_id, call_sid).await {
            Ok(SidLink::Linked) => self.mark_stream_started(tenant_id, call_id, call_sid).await,
            Ok(SidLink::Conflict) | Err(Error::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Sets `stream_started_at` if no stream started yet and the call has this SID.
    async fn mark_stream_started(
        &self,
        tenant_id: &str,
        call_id: &str,
        call_sid: &str,
    ) -> Result<bool> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .update_expression("SET stream_started_at = :now")
            .condition_expression(
                "attribute_exists(PK) AND attribute_not_exists(stream_started_at) AND call_sid = :sid",
            )
            .expression_attribute_values(":now", s(now_rfc3339()))
            .expression_attribute_values(":sid", s(call_sid))
            .send()
            .await;
        written(result)
    }

    /// Writes the bridge's summary of the call's stream.
    pub async fn record_bridge_summary(
        &self,
        tenant_id: &str,
        call_id: &str,
        summary: &BridgeSummary,
    ) -> Result<()> {
        let mut sets = SetClauses::default()
            .set("bridge_end_reason", s(&summary.end_reason))
            .set("updated_at", s(now_rfc3339()));
        if let Some(detail) = &summary.end_detail {
            sets = sets.set("bridge_end_detail", s(detail));
        }
        for (k, v) in BRIDGE_NUMBERS.iter().zip(summary.numbers()) {
            sets = sets.set(&format!("bridge_{k}"), n(v));
        }
        self.update_call(tenant_id, call_id, sets).await
    }

    /// Records why the platform gave up on a call. A call Twilio has not reported on becomes
    /// `failed`, but with the rank of `initiating`: the platform's verdict is a guess about a
    /// call Twilio may yet report on (a create whose answer was lost, a call ended because its
    /// SID could not be stored), and any status Twilio sends later replaces it. A call Twilio
    /// already reported on keeps its status. The reason is recorded either way.
    pub async fn fail_call(&self, tenant_id: &str, call_id: &str, error: &str) -> Result<()> {
        let verdict = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .update_expression(
                "SET #status = :failed, status_rank = :rank, #error = :error, updated_at = :now",
            )
            .condition_expression("attribute_exists(PK) AND status_rank = :rank")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#error", "error")
            .expression_attribute_values(":failed", s(CallStatus::Failed.as_str()))
            .expression_attribute_values(":rank", n(CallStatus::Initiating.rank()))
            .expression_attribute_values(":error", s(error))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .send()
            .await;
        if written(verdict)? {
            return Ok(());
        }
        self.client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .update_expression("SET #error = :error, updated_at = :now")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#error", "error")
            .expression_attribute_values(":error", s(error))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .send()
            .await?;
        Ok(())
    }

    /// Notes that Twilio is about to be asked to place the call: from here on, whether the
    /// call exists at Twilio is unknown until Twilio answers (see the scheduled-call runner).
    pub async fn mark_dialing(&self, tenant_id: &str, call_id: &str) -> Result<()> {
        self.client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .update_expression("SET twilio_requested_at = :now")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":now", s(now_rfc3339()))
            .send()
            .await?;
        Ok(())
    }
}
