//! What happens to a call besides the conversation: its transfer to a person (asked for by
//! the bridge, its outcome from the `<Dial>`'s action callback) and who answered an outbound
//! call (answering-machine detection), with whether the agent left a message.
//!
//! Every write is conditional on the call existing, and each can come twice (Twilio repeats
//! callbacks): a repeat writes the same values again.

use serde::Serialize;
use utoipa::ToSchema;

use super::super::{Item, ItemExt, SetClauses, Store, keys, n, now_rfc3339, s, written};
use crate::domain::receptionist::{AnsweredBy, TransferStatus};
use crate::error::Result;

/// A transfer of the call to a person.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TransferRecord {
    /// The number dialled (E.164).
    pub to: String,
    pub status: TransferStatus,
    pub requested_at: String,
    /// Why the caller needed a person, as the agent put it.
    pub reason: Option<String>,
    /// How long the person and the caller talked, once the transfer ended.
    pub duration_seconds: Option<u32>,
    /// Why it failed, when the platform could not make it.
    pub error: Option<String>,
}

pub(super) fn transfer(item: &Item) -> Option<TransferRecord> {
    Some(TransferRecord {
        to: item.opt_str("transfer_to")?,
        status: item.opt_str("transfer_status")?.parse().ok()?,
        requested_at: item.opt_str("transfer_requested_at").unwrap_or_default(),
        reason: item.opt_str("transfer_reason"),
        duration_seconds: item.num("transfer_duration_seconds").ok(),
        error: item.opt_str("transfer_error"),
    })
}

impl Store {
    /// Notes that the call is being transferred to `to` (`dialing`), and why.
    pub async fn begin_transfer(
        &self,
        tenant_id: &str,
        call_id: &str,
        to: &str,
        reason: Option<&str>,
    ) -> Result<()> {
        let now = now_rfc3339();
        self.update_call(
            tenant_id,
            call_id,
            SetClauses::default()
                .set("transfer_to", s(to))
                .set("transfer_status", s(TransferStatus::Dialing.as_str()))
                .set("transfer_requested_at", s(&now))
                .set_some("transfer_reason", reason.map(s))
                .set("updated_at", s(now)),
        )
        .await
    }

    /// Records how the transfer ended (`duration_seconds` for one that connected; `error` when
    /// the platform could not make it). Nothing happens to a call no transfer was begun on:
    /// `false` then.
    pub async fn finish_transfer(
        &self,
        tenant_id: &str,
        call_id: &str,
        status: TransferStatus,
        duration_seconds: Option<u32>,
        error: Option<&str>,
    ) -> Result<bool> {
        let sets = SetClauses::default()
            .set("transfer_status", s(status.as_str()))
            .set_some("transfer_duration_seconds", duration_seconds.map(n))
            .set_some("transfer_error", error.map(s))
            .set("updated_at", s(now_rfc3339()));
        let result = sets
            .apply(self.client().update_item())
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .condition_expression("attribute_exists(transfer_to)")
            .send()
            .await;
        let landed = written(result)?;
        if !landed {
            tracing::warn!(
                call_id,
                "a transfer outcome for a call with no transfer; ignored"
            );
        }
        Ok(landed)
    }

    /// Records who answered the call, as answering-machine detection said.
    pub async fn set_answered_by(
        &self,
        tenant_id: &str,
        call_id: &str,
        answered_by: AnsweredBy,
    ) -> Result<()> {
        let sets = SetClauses::default()
            .set("answered_by", s(answered_by.as_str()))
            .set("updated_at", s(now_rfc3339()));
        self.update_call(tenant_id, call_id, sets).await
    }

    /// Who answered the call, once answering-machine detection said (strongly consistent:
    /// the bridge polls this while it waits).
    pub async fn answered_by(&self, tenant_id: &str, call_id: &str) -> Result<Option<AnsweredBy>> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .projection_expression("answered_by")
            .consistent_read(true)
            .send()
            .await?;
        Ok(out
            .item
            .and_then(|item| item.opt_str("answered_by"))
            .and_then(|a| a.parse().ok()))
    }

    /// Records that the agent left its message on an answering machine.
    pub async fn mark_voicemail_left(&self, tenant_id: &str, call_id: &str) -> Result<()> {
        let now = now_rfc3339();
        let sets = SetClauses::default()
            .set_once("voicemail_left_at", s(&now))
            .set("updated_at", s(now));
        self.update_call(tenant_id, call_id, sets).await
    }
}
