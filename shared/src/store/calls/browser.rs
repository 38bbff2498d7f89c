//! Voice sessions in a tenant's web browser (WebRTC to OpenAI Realtime). A session starts as a
//! short-lived item under the tenant (`RTCSESSION#<call id>`) that one SDP offer may use; the
//! call record exists only once OpenAI has accepted that offer, so an abandoned session leaves
//! nothing in the history. Then the media bridge claims the call's sideband once and, when the
//! session ends, completes the record.
//!
//! initiating (offer exchanged, the OpenAI call exists) -> in-progress (the bridge attached)
//! -> completed (the bridge's summary); failed when it could not be handed to the bridge.

use super::{CallRecord, call_item};
use crate::domain::calls::CallStatus;
use crate::error::{Error, Result};
use crate::store::{
    ItemExt, Store, conditional_failed, created, epoch_now, keys, n, now_rfc3339, s, written,
};

/// A browser session waiting for its offer.
#[derive(Debug, Clone, PartialEq)]
pub struct BrowserSession {
    /// The id its call will have (also the session's id).
    pub call_id: String,
    pub scenario: String,
    /// Epoch seconds after which the session takes no offer.
    pub expires_at: i64,
}

/// What claiming a session for an offer found.
#[derive(Debug, Clone, PartialEq)]
pub enum OfferClaim {
    /// The offer may go to OpenAI; the session cannot be used again.
    Won(BrowserSession),
    /// An offer already used it.
    AlreadyUsed,
    Expired,
    /// No such session for this tenant.
    NotFound,
}

impl Store {
    /// Stores a new session; it takes one offer until `session.expires_at`.
    pub async fn create_browser_session(
        &self,
        tenant_id: &str,
        session: &BrowserSession,
    ) -> Result<()> {
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .item(keys::PK, s(keys::tenant(tenant_id)))
            .item(keys::SK, s(keys::browser_session(&session.call_id)))
            .item("entity", s("browser_session"))
            .item("call_id", s(&session.call_id))
            .item("scenario", s(&session.scenario))
            .item(keys::TTL_ATTRIBUTE, n(session.expires_at))
            .item("created_at", s(now_rfc3339()))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        created(result)
    }

    /// Marks the session used by an offer, once, before it expires. TTL deletion is lazy, so
    /// the expiry is part of the condition.
    pub async fn claim_browser_offer(&self, tenant_id: &str, call_id: &str) -> Result<OfferClaim> {
        let claimed = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::browser_session(call_id)))
            .update_expression("SET offered_at = :now")
            .condition_expression(
                "attribute_exists(PK) AND attribute_not_exists(offered_at) AND #ttl > :epoch",
            )
            .expression_attribute_names("#ttl", keys::TTL_ATTRIBUTE)
            .expression_attribute_values(":now", s(now_rfc3339()))
            .expression_attribute_values(":epoch", n(epoch_now()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match claimed {
            Ok(out) => {
                let item = out.attributes.unwrap_or_default();
                Ok(OfferClaim::Won(BrowserSession {
                    call_id: item.str("call_id")?,
                    scenario: item.str("scenario")?,
                    expires_at: item.num(keys::TTL_ATTRIBUTE)?,
                }))
            }
            Err(e) if conditional_failed(&e) => {
                // Tell the three refusals apart for a clear answer.
                let item = self
                    .get(keys::tenant(tenant_id), &keys::browser_session(call_id))
                    .await?;
                Ok(match item {
                    None => OfferClaim::NotFound,
                    Some(item) if item.opt_str("offered_at").is_some() => OfferClaim::AlreadyUsed,
                    Some(_) => OfferClaim::Expired,
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Writes the call record of a browser session whose offer OpenAI accepted, with OpenAI's
    /// call id (what the bridge attaches to and hangs up). It stays `initiating` until the
    /// bridge attaches.
    pub async fn create_browser_call(
        &self,
        tenant_id: &str,
        call: &CallRecord,
        rtc_call_id: &str,
    ) -> Result<()> {
        let mut item = call_item(tenant_id, call);
        item.insert("rtc_call_id".into(), s(rtc_call_id));
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        created(result)
    }

    /// OpenAI's call id of a tenant's browser call, if it has one.
    pub async fn rtc_call_id(&self, tenant_id: &str, call_id: &str) -> Result<Option<String>> {
        Ok(self
            .get(keys::tenant(tenant_id), &keys::call(call_id))
            .await?
            .and_then(|item| item.opt_str("rtc_call_id")))
    }

    /// The media bridge's claim on a browser call's sideband: once per call, only for the
    /// OpenAI call it was created with, and only while the call is not over (an attach request
    /// repeated, or sent twice, loses). The call is then in progress.
    pub async fn claim_sideband(
        &self,
        tenant_id: &str,
        call_id: &str,
        rtc_call_id: &str,
    ) -> Result<bool> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .update_expression(
                "SET stream_started_at = :now, updated_at = :now, #status = :live, status_rank = :live_rank",
            )
            .condition_expression(
                "attribute_exists(PK) AND attribute_not_exists(stream_started_at) AND rtc_call_id = :rtc AND status_rank < :final",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now", s(now_rfc3339()))
            .expression_attribute_values(":live", s(CallStatus::InProgress.as_str()))
            .expression_attribute_values(":live_rank", n(CallStatus::InProgress.rank()))
            .expression_attribute_values(":rtc", s(rtc_call_id))
            .expression_attribute_values(":final", n(CallStatus::Completed.rank()))
            .send()
            .await;
        written(result)
    }

    /// A browser call that ended: `completed` with its duration (no carrier reports on it, so
    /// the bridge's measure is the call's). A call already final keeps its status.
    pub async fn complete_browser_call(
        &self,
        tenant_id: &str,
        call_id: &str,
        duration_seconds: u32,
    ) -> Result<()> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .update_expression(
                "SET #status = :completed, status_rank = :final, duration_seconds = :duration, updated_at = :now",
            )
            .condition_expression("attribute_exists(PK) AND status_rank < :final")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":completed", s(CallStatus::Completed.as_str()))
            .expression_attribute_values(":final", n(CallStatus::Completed.rank()))
            .expression_attribute_values(":duration", n(duration_seconds))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .send()
            .await;
        match written(result)? {
            true => Ok(()),
            // Already final (failed by the signalling function, or completed before): kept.
            false => self
                .find_call(tenant_id, call_id)
                .await?
                .map(|_| ())
                .ok_or_else(|| Error::NotFound("Call not found".into())),
        }
    }
}
