//! Call records: one item per call under the tenant, plus a `CALLSID#` marker so Twilio's
//! webhooks (which know only the Call SID) find the tenant and the call. Also the per-tenant
//! daily outbound counter and the account-wide calls-per-second pacing.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::{
    Item, ItemExt, SetClauses, Store, cancellation_codes, conditional_failed, epoch_now,
    failed_condition, keys, n, now_rfc3339, s,
};
use crate::error::{Error, FieldError, Result};

/// A call as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    pub call_id: String,
    pub call_sid: Option<String>,
    /// `outbound` or `inbound`.
    pub direction: String,
    pub from: String,
    pub to: String,
    /// A predefined scenario key or a custom scenario id.
    pub scenario: String,
    /// `initiating` until Twilio accepts it, then Twilio's call statuses.
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    pub duration_seconds: Option<u32>,
    pub recording_sid: Option<String>,
    pub recording_url: Option<String>,
    pub recording_duration_seconds: Option<u32>,
    pub error: Option<String>,
    pub schedule_id: Option<String>,
    /// What the media bridge measured, once the call's stream ended.
    pub bridge: Option<BridgeSummary>,
}

/// The media bridge's record of a call's stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BridgeSummary {
    /// From the stream's start to its end.
    pub stream_ms: u64,
    /// Audio the agent sent to the caller.
    pub agent_audio_ms: u64,
    /// Times the caller interrupted the agent.
    pub barge_ins: u32,
    pub responses: u32,
    pub session_rotations: u32,
    pub input_text_tokens: u64,
    pub input_audio_tokens: u64,
    pub output_text_tokens: u64,
    pub output_audio_tokens: u64,
    /// `caller_hung_up`, `agent_ended`, `max_duration`, `openai_error`, `openai_disconnected`,
    /// `shutdown`, ...
    pub end_reason: String,
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

    fn from_item(item: &Item) -> Option<BridgeSummary> {
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
        })
    }
}

impl CallRecord {
    pub fn new(direction: &str, from: &str, to: &str, scenario: &str) -> Self {
        let now = now_rfc3339();
        Self {
            call_id: ulid::Ulid::new().to_string().to_lowercase(),
            call_sid: None,
            direction: direction.into(),
            from: from.into(),
            to: to.into(),
            scenario: scenario.into(),
            status: "initiating".into(),
            created_at: now.clone(),
            updated_at: now,
            duration_seconds: None,
            recording_sid: None,
            recording_url: None,
            recording_duration_seconds: None,
            error: None,
            schedule_id: None,
            bridge: None,
        }
    }
}

/// Twilio's call statuses in the order a call moves through them; a status update never moves
/// a call backwards, so late or repeated callbacks cannot undo a final status.
pub fn status_rank(status: &str) -> Option<u8> {
    Some(match status {
        "initiating" => 0,
        "queued" | "initiated" => 1,
        "ringing" => 2,
        "in-progress" => 3,
        "completed" | "busy" | "no-answer" | "failed" | "canceled" => 4,
        _ => return None,
    })
}

pub fn is_final(status: &str) -> bool {
    status_rank(status) == Some(4)
}

/// What a status callback reports.
#[derive(Debug, Clone, Default)]
pub struct StatusUpdate {
    pub status: String,
    pub duration_seconds: Option<u32>,
    pub recording_sid: Option<String>,
}

/// Filters of the call history.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    pub status: Option<String>,
    pub direction: Option<String>,
    /// Inclusive bounds on the creation time, epoch milliseconds.
    pub from_ms: Option<u64>,
    pub to_ms: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct Cursor {
    sk: String,
}

fn not_found() -> Error {
    Error::NotFound("Call not found".into())
}

fn opt_u32(item: &Item, key: &str) -> Option<u32> {
    item.num(key).ok()
}

fn from_item(item: &Item) -> Result<CallRecord> {
    Ok(CallRecord {
        call_id: item.str("call_id")?,
        call_sid: item.opt_str("call_sid"),
        direction: item.str("direction")?,
        from: item.str("from_number")?,
        to: item.str("to_number")?,
        scenario: item.str("scenario")?,
        status: item.str("status")?,
        created_at: item.str("created_at")?,
        updated_at: item.str("updated_at")?,
        duration_seconds: opt_u32(item, "duration_seconds"),
        recording_sid: item.opt_str("recording_sid"),
        recording_url: item.opt_str("recording_url"),
        recording_duration_seconds: opt_u32(item, "recording_duration_seconds"),
        error: item.opt_str("error"),
        schedule_id: item.opt_str("schedule_id"),
        bridge: BridgeSummary::from_item(item),
    })
}

fn call_put(store: &Store, tenant_id: &str, call: &CallRecord) -> Result<Put> {
    let mut put = Put::builder()
        .table_name(store.table())
        .item(keys::PK, s(keys::tenant(tenant_id)))
        .item(keys::SK, s(keys::call(&call.call_id)))
        .item("entity", s("call"))
        .item("call_id", s(&call.call_id))
        .item("direction", s(&call.direction))
        .item("from_number", s(&call.from))
        .item("to_number", s(&call.to))
        .item("scenario", s(&call.scenario))
        .item("status", s(&call.status))
        .item("status_rank", n(status_rank(&call.status).unwrap_or(0)))
        .item("created_at", s(&call.created_at))
        .item("updated_at", s(&call.updated_at))
        .condition_expression("attribute_not_exists(PK)");
    if let Some(sid) = &call.call_sid {
        put = put.item("call_sid", s(sid));
    }
    if let Some(id) = &call.schedule_id {
        put = put.item("schedule_id", s(id));
    }
    Ok(put.build()?)
}

fn sid_marker(store: &Store, tenant_id: &str, call_id: &str, sid: &str) -> Result<Put> {
    Ok(Put::builder()
        .table_name(store.table())
        .item(keys::PK, s(keys::call_sid(sid)))
        .item(keys::SK, s(keys::CALL_SID))
        .item("entity", s("call_sid_marker"))
        .item("tenant_id", s(tenant_id))
        .item("call_id", s(call_id))
        .condition_expression("attribute_not_exists(PK)")
        .build()?)
}

impl Store {
    /// Writes a new outbound call record (before Twilio is asked, so no callback can arrive for
    /// a call we do not know).
    pub async fn create_call(&self, tenant_id: &str, call: &CallRecord) -> Result<()> {
        self.client()
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .put(call_put(self, tenant_id, call)?)
                    .build(),
            )
            .send()
            .await?;
        Ok(())
    }

    /// Records the Call SID Twilio gave the call, with its marker, in one transaction.
    pub async fn attach_call_sid(&self, tenant_id: &str, call_id: &str, sid: &str) -> Result<()> {
        let update = Update::builder()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .update_expression(
                "SET call_sid = :sid, #status = if_not_exists(#status, :queued), updated_at = :now",
            )
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":sid", s(sid))
            .expression_attribute_values(":queued", s("queued"))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .build()?;
        self.client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(
                TransactWriteItem::builder()
                    .put(sid_marker(self, tenant_id, call_id, sid)?)
                    .build(),
            )
            .send()
            .await?;
        // A status callback may have raced ahead of this; `queued` only applies if none did.
        self.apply_call_status(
            tenant_id,
            call_id,
            &StatusUpdate {
                status: "queued".into(),
                ..Default::default()
            },
        )
        .await
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
            Ok(_) => Ok(call.clone()),
            Err(e) => match cancellation_codes(&e) {
                Some(codes) if failed_condition(&codes, 0) => {
                    let (owner, call_id) = self.call_by_sid(sid).await?.ok_or_else(not_found)?;
                    self.call(&owner, &call_id).await
                }
                _ => Err(e.into()),
            },
        }
    }

    /// The tenant and call id of a Call SID.
    pub async fn call_by_sid(&self, sid: &str) -> Result<Option<(String, String)>> {
        Ok(match self.get(keys::call_sid(sid), keys::CALL_SID).await? {
            Some(m) => Some((m.str("tenant_id")?, m.str("call_id")?)),
            None => None,
        })
    }

    /// Applies a status callback. Idempotent: the same update twice is the same as once, and
    /// an update that would move the call backwards (a late `ringing` after `completed`) is
    /// ignored.
    pub async fn apply_call_status(
        &self,
        tenant_id: &str,
        call_id: &str,
        update: &StatusUpdate,
    ) -> Result<()> {
        let rank = status_rank(&update.status)
            .ok_or_else(|| Error::field("CallStatus", "is not a Twilio call status"))?;
        let request = SetClauses::default()
            .set("#status", s(&update.status))
            .set("status_rank", n(rank))
            .set("updated_at", s(now_rfc3339()))
            .set_some("duration_seconds", update.duration_seconds.map(n))
            .set_some("recording_sid", update.recording_sid.as_deref().map(s))
            .apply(self.client().update_item())
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .condition_expression(
                "attribute_exists(PK) AND (status_rank < :status_rank OR #status = :status)",
            );
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e) if conditional_failed(&e) => {
                tracing::debug!(call_id, status = %update.status, "stale call status ignored");
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Records a finished recording (idempotent).
    pub async fn apply_recording(
        &self,
        tenant_id: &str,
        call_id: &str,
        recording_sid: &str,
        recording_url: Option<&str>,
        duration_seconds: Option<u32>,
    ) -> Result<()> {
        SetClauses::default()
            .set("recording_sid", s(recording_sid))
            .set("updated_at", s(now_rfc3339()))
            .set_some("recording_url", recording_url.map(s))
            .set_some("recording_duration_seconds", duration_seconds.map(n))
            .apply(self.client().update_item())
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .condition_expression("attribute_exists(PK)")
            .send()
            .await?;
        Ok(())
    }

    /// Claims the call's media stream for the bridge: succeeds once per call, and only for the
    /// Call SID the call was placed or answered with, so a stream token cannot be replayed for
    /// another stream.
    pub async fn claim_stream(
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
        match result {
            Ok(_) => Ok(true),
            Err(e) if conditional_failed(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
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
        for (k, v) in BRIDGE_NUMBERS.iter().zip(summary.numbers()) {
            sets = sets.set(&format!("bridge_{k}"), n(v));
        }
        sets.apply(self.client().update_item())
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .condition_expression("attribute_exists(PK)")
            .send()
            .await?;
        Ok(())
    }

    /// Marks a call that Twilio never accepted as failed, with the reason.
    pub async fn fail_call(&self, tenant_id: &str, call_id: &str, error: &str) -> Result<()> {
        self.client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .update_expression(
                "SET #status = :failed, status_rank = :rank, #error = :error, updated_at = :now",
            )
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#error", "error")
            .expression_attribute_values(":failed", s("failed"))
            .expression_attribute_values(":rank", n(4))
            .expression_attribute_values(":error", s(error))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .send()
            .await?;
        Ok(())
    }

    pub async fn call(&self, tenant_id: &str, call_id: &str) -> Result<CallRecord> {
        let item = self
            .get(keys::tenant(tenant_id), &keys::call(call_id))
            .await?
            .ok_or_else(not_found)?;
        from_item(&item)
    }

    /// The tenant's calls, newest first, `limit` per page; the cursor is opaque to clients and
    /// only ever addresses the caller's own partition.
    pub async fn list_calls(
        &self,
        tenant_id: &str,
        filter: &CallFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<(Vec<CallRecord>, Option<String>)> {
        let pk = keys::tenant(tenant_id);
        let low = keys::call(
            &ulid::Ulid::from_parts(filter.from_ms.unwrap_or(0), 0)
                .to_string()
                .to_lowercase(),
        );
        let high = keys::call(
            &ulid::Ulid::from_parts(filter.to_ms.unwrap_or((1 << 48) - 1), u128::MAX)
                .to_string()
                .to_lowercase(),
        );
        let mut start: Option<HashMap<String, AttributeValue>> = match cursor {
            Some(c) => {
                let sk = decode_cursor(c)?;
                Some(HashMap::from([
                    (keys::PK.to_string(), s(&pk)),
                    (keys::SK.to_string(), s(sk)),
                ]))
            }
            None => None,
        };
        let mut filters = Vec::new();
        if filter.status.is_some() {
            filters.push("#status = :status");
        }
        if filter.direction.is_some() {
            filters.push("direction = :direction");
        }
        let mut calls = Vec::new();
        let mut more = true;
        while calls.len() < limit && more {
            let mut query = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND SK BETWEEN :low AND :high")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":low", s(&low))
                .expression_attribute_values(":high", s(&high))
                .scan_index_forward(false)
                .limit((limit - calls.len()) as i32)
                .set_exclusive_start_key(start.take());
            if !filters.is_empty() {
                query = query.filter_expression(filters.join(" AND "));
            }
            if let Some(status) = &filter.status {
                query = query
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":status", s(status));
            }
            if let Some(direction) = &filter.direction {
                query = query.expression_attribute_values(":direction", s(direction));
            }
            let out = query.send().await?;
            for item in out.items() {
                calls.push(from_item(item)?);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => more = false,
            }
        }
        // Resume after the last call returned (not DynamoDB's key), so a page never skips one.
        let next = if more {
            calls.last().map(|c| encode_cursor(&keys::call(&c.call_id)))
        } else {
            None
        };
        Ok((calls, next))
    }

    /// Counts one outbound call against the tenant's daily cap (UTC days); 429 once it is
    /// reached, until midnight UTC.
    pub async fn count_outbound_call(&self, tenant_id: &str, cap: u32) -> Result<()> {
        let now = chrono::Utc::now();
        let day = now.format("%Y-%m-%d").to_string();
        let counted = self
            .increment_below(
                keys::tenant(tenant_id),
                &keys::call_day(&day),
                cap,
                epoch_now() + 3 * 86_400,
            )
            .await?;
        if counted {
            return Ok(());
        }
        let midnight = (now.date_naive() + chrono::Days::new(1))
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp())
            .unwrap_or(now.timestamp() + 3600);
        Err(Error::RateLimited {
            detail: format!("Daily outbound call limit reached ({cap} calls per day)"),
            retry_after: (midnight - now.timestamp()).max(1) as u64,
        })
    }

    /// Waits for a slot in the Twilio account's calls-per-second budget, shared by every
    /// instance through a per-second counter. Gives up (503) after `max_wait_secs`.
    pub async fn pace_call(
        &self,
        account_sid: &str,
        per_second: u32,
        max_wait_secs: u32,
    ) -> Result<()> {
        for _ in 0..=(max_wait_secs * 4) {
            let now_ms = chrono::Utc::now().timestamp_millis();
            let second = now_ms / 1000;
            if self
                .increment_below(
                    keys::cps(account_sid, second),
                    keys::CPS,
                    per_second,
                    second + 120,
                )
                .await?
            {
                return Ok(());
            }
            let to_next = 1000 - (now_ms % 1000) as u64;
            tokio::time::sleep(std::time::Duration::from_millis(to_next.min(250) + 1)).await;
        }
        Err(Error::Unavailable(
            "The calling capacity is busy; please retry shortly".into(),
        ))
    }
}

fn encode_cursor(sk: &str) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&Cursor { sk: sk.to_string() }).unwrap_or_default())
}

fn decode_cursor(cursor: &str) -> Result<String> {
    let invalid = || Error::Validation(vec![FieldError::new("cursor", "is not a valid cursor")]);
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if !c.sk.starts_with(keys::CALL_PREFIX) {
        return Err(invalid());
    }
    Ok(c.sk)
}
