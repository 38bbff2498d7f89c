//! Scheduled calls. The item is the source of truth; the EventBridge schedule only wakes the
//! runner.
//!
//! The runner claims the item (`pending` -> `dialing`) with a condition, so a repeated
//! delivery of the same event, or a cancel racing the runner, can never place a second call.
//! The claim also fixes the id of the call it will place and when it was made: a runner that
//! dies after claiming leaves a claim that goes stale, and a later delivery takes it over
//! (again conditionally, so only one does) and finds out from that call's record whether
//! Twilio was ever asked.

use super::{Item, ItemExt, Store, conditional_failed, created, keys, now_rfc3339, s};
use crate::domain::calls::ScheduleStatus;
use crate::domain::ids::CallId;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledCall {
    pub schedule_id: String,
    pub phone_number: String,
    pub scenario: String,
    /// RFC 3339, UTC.
    pub scheduled_time: String,
    pub status: ScheduleStatus,
    /// The call this scheduled call places (set when a runner claims it).
    pub call_id: Option<String>,
    /// When the current claim was made (RFC 3339), while `dialing`.
    pub claimed_at: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl ScheduledCall {
    pub fn new(phone_number: &str, scenario: &str, scheduled_time: &str) -> Self {
        let now = now_rfc3339();
        Self {
            schedule_id: crate::domain::ids::ScheduleId::generate().into_string(),
            phone_number: phone_number.into(),
            scenario: scenario.into(),
            scheduled_time: scheduled_time.into(),
            status: ScheduleStatus::Pending,
            call_id: None,
            claimed_at: None,
            error: None,
            created_at: now.clone(),
            updated_at: now,
        }
    }
}

/// What an attempt to claim a scheduled call found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This runner holds the claim and places the call under this id.
    Won { call_id: String },
    /// Someone else holds it, or it is already over (canceled, placed, failed): as it is now.
    Lost(ScheduledCall),
}

/// Who must hold a scheduled call for a claim to succeed.
enum Holder<'a> {
    /// Nobody: it is still `pending`.
    Nobody,
    /// The runner whose claim was made at this time.
    ClaimedAt(&'a str),
}

fn not_found() -> Error {
    Error::NotFound("Scheduled call not found".into())
}

fn from_item(item: &Item) -> Result<ScheduledCall> {
    Ok(ScheduledCall {
        schedule_id: item.str("schedule_id")?,
        phone_number: item.str("phone_number")?,
        scenario: item.str("scenario")?,
        scheduled_time: item.str("scheduled_time")?,
        status: item
            .str("status")?
            .parse()
            .map_err(|_| Error::internal("scheduled call with an unknown status"))?,
        call_id: item.opt_str("call_id"),
        claimed_at: item.opt_str("claimed_at"),
        error: item.opt_str("error"),
        created_at: item.str("created_at")?,
        updated_at: item.str("updated_at")?,
    })
}

impl Store {
    pub async fn create_schedule(&self, tenant_id: &str, call: &ScheduledCall) -> Result<()> {
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .item(keys::PK, s(keys::tenant(tenant_id)))
            .item(keys::SK, s(keys::schedule(&call.schedule_id)))
            .item("entity", s("scheduled_call"))
            .item("schedule_id", s(&call.schedule_id))
            .item("phone_number", s(&call.phone_number))
            .item("scenario", s(&call.scenario))
            .item("scheduled_time", s(&call.scheduled_time))
            .item("status", s(call.status.as_str()))
            .item("created_at", s(&call.created_at))
            .item("updated_at", s(&call.updated_at))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        created(result)
    }

    /// The tenant's scheduled calls, by scheduled time.
    pub async fn schedules(&self, tenant_id: &str) -> Result<Vec<ScheduledCall>> {
        let items = self
            .query_prefix(keys::tenant(tenant_id), keys::SCHEDULE_PREFIX, false)
            .await?;
        let mut scheduled = items.iter().map(from_item).collect::<Result<Vec<_>>>()?;
        scheduled.sort_by(|a, b| a.scheduled_time.cmp(&b.scheduled_time));
        Ok(scheduled)
    }

    pub async fn schedule(&self, tenant_id: &str, schedule_id: &str) -> Result<ScheduledCall> {
        let item = self
            .get(keys::tenant(tenant_id), &keys::schedule(schedule_id))
            .await?
            .ok_or_else(not_found)?;
        from_item(&item)
    }

    /// Cancels a scheduled call that is still `pending`; returns whether it was. 404 when the
    /// tenant has no such scheduled call.
    pub async fn cancel_schedule(&self, tenant_id: &str, schedule_id: &str) -> Result<bool> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::schedule(schedule_id)))
            .update_expression("SET #status = :canceled, updated_at = :now")
            .condition_expression("attribute_exists(PK) AND #status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s(ScheduleStatus::Pending.as_str()))
            .expression_attribute_values(":canceled", s(ScheduleStatus::Canceled.as_str()))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            // Either it does not exist (404) or it is in another state (false).
            Err(e) if conditional_failed(&e) => {
                self.schedule(tenant_id, schedule_id).await.map(|_| false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Forgets a scheduled call that could not be given its EventBridge schedule, so nothing of
    /// the refused request stays behind (only while `pending`: nothing has fired it).
    pub async fn withdraw_schedule(&self, tenant_id: &str, schedule_id: &str) -> Result<()> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::schedule(schedule_id)))
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s(ScheduleStatus::Pending.as_str()))
            .send()
            .await?;
        Ok(())
    }

    /// Claims a `pending` scheduled call for a runner, fixing the id of the call it places.
    pub async fn claim_schedule(&self, tenant_id: &str, schedule_id: &str) -> Result<Claim> {
        let call_id = CallId::generate().into_string();
        self.claim(tenant_id, schedule_id, &call_id, Holder::Nobody)
            .await
    }

    /// Takes over the claim of a runner that stopped (`stale` is the scheduled call as read,
    /// with that runner's claim): a new claim time, and `call_id` for the call to place. Only
    /// one taker wins.
    pub async fn reclaim_schedule(
        &self,
        tenant_id: &str,
        stale: &ScheduledCall,
        call_id: &str,
    ) -> Result<Claim> {
        let claimed_at = stale
            .claimed_at
            .as_deref()
            .ok_or_else(|| Error::internal("taking over a claim that has no claim time"))?;
        self.claim(
            tenant_id,
            &stale.schedule_id,
            call_id,
            Holder::ClaimedAt(claimed_at),
        )
        .await
    }

    async fn claim(
        &self,
        tenant_id: &str,
        schedule_id: &str,
        call_id: &str,
        expected: Holder<'_>,
    ) -> Result<Claim> {
        let now = now_rfc3339();
        let request = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::schedule(schedule_id)))
            .update_expression(
                "SET #status = :dialing, call_id = :call, claimed_at = :now, updated_at = :now",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":dialing", s(ScheduleStatus::Dialing.as_str()))
            .expression_attribute_values(":call", s(call_id))
            .expression_attribute_values(":now", s(&now));
        let request = match expected {
            Holder::Nobody => request
                .condition_expression("attribute_exists(PK) AND #status = :pending")
                .expression_attribute_values(":pending", s(ScheduleStatus::Pending.as_str())),
            Holder::ClaimedAt(claimed_at) => request
                .condition_expression("#status = :dialing AND claimed_at = :claimed")
                .expression_attribute_values(":claimed", s(claimed_at)),
        };
        match request.send().await {
            Ok(_) => Ok(Claim::Won {
                call_id: call_id.to_string(),
            }),
            Err(e) if conditional_failed(&e) => {
                Ok(Claim::Lost(self.schedule(tenant_id, schedule_id).await?))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Records the outcome of a claimed (`dialing`) scheduled call: `Ok` with the placed call,
    /// or `Err` with why it failed.
    pub async fn finish_schedule(
        &self,
        tenant_id: &str,
        schedule_id: &str,
        outcome: std::result::Result<&str, &str>,
    ) -> Result<()> {
        let (status, key, value) = match outcome {
            Ok(call_id) => (ScheduleStatus::Placed, "call_id", call_id),
            Err(error) => (ScheduleStatus::Failed, "error", error),
        };
        self.client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::schedule(schedule_id)))
            .update_expression("SET #status = :status, #outcome = :value, updated_at = :now")
            .condition_expression("attribute_exists(PK) AND #status = :dialing")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#outcome", key)
            .expression_attribute_values(":status", s(status.as_str()))
            .expression_attribute_values(":value", s(value))
            .expression_attribute_values(":dialing", s(ScheduleStatus::Dialing.as_str()))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .send()
            .await?;
        Ok(())
    }
}
