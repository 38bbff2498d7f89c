//! Scheduled calls. The item is the source of truth; the EventBridge schedule only wakes the
//! runner. The runner claims the item (`pending` -> `dialing`) with a condition, so a repeated
//! delivery of the same event, or a cancel racing the runner, can never place a second call.

use super::{Item, ItemExt, Store, conditional_failed, keys, now_rfc3339, s};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledCall {
    pub schedule_id: String,
    pub phone_number: String,
    pub scenario: String,
    /// RFC 3339, UTC.
    pub scheduled_time: String,
    /// `pending`, `dialing`, `placed`, `failed` or `canceled`.
    pub status: String,
    pub call_id: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl ScheduledCall {
    pub fn new(phone_number: &str, scenario: &str, scheduled_time: &str) -> Self {
        let now = now_rfc3339();
        Self {
            schedule_id: ulid::Ulid::new().to_string().to_lowercase(),
            phone_number: phone_number.into(),
            scenario: scenario.into(),
            scheduled_time: scheduled_time.into(),
            status: "pending".into(),
            call_id: None,
            error: None,
            created_at: now.clone(),
            updated_at: now,
        }
    }
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
        status: item.str("status")?,
        call_id: item.opt_str("call_id"),
        error: item.opt_str("error"),
        created_at: item.str("created_at")?,
        updated_at: item.str("updated_at")?,
    })
}

impl Store {
    pub async fn create_schedule(&self, tenant_id: &str, call: &ScheduledCall) -> Result<()> {
        self.client()
            .put_item()
            .table_name(self.table())
            .item(keys::PK, s(keys::tenant(tenant_id)))
            .item(keys::SK, s(keys::schedule(&call.schedule_id)))
            .item("entity", s("scheduled_call"))
            .item("schedule_id", s(&call.schedule_id))
            .item("phone_number", s(&call.phone_number))
            .item("scenario", s(&call.scenario))
            .item("scheduled_time", s(&call.scheduled_time))
            .item("status", s(&call.status))
            .item("created_at", s(&call.created_at))
            .item("updated_at", s(&call.updated_at))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await?;
        Ok(())
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

    /// Moves a scheduled call from `from` to `to` if it is still in `from`; returns whether it
    /// moved. 404 when the tenant has no such scheduled call.
    pub async fn transition_schedule(
        &self,
        tenant_id: &str,
        schedule_id: &str,
        from: &str,
        to: &str,
    ) -> Result<bool> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::schedule(schedule_id)))
            .update_expression("SET #status = :to, updated_at = :now")
            .condition_expression("attribute_exists(PK) AND #status = :from")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":to", s(to))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if conditional_failed(&e) => {
                // Either it does not exist (404) or it is in another state (false).
                self.schedule(tenant_id, schedule_id).await.map(|_| false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Records the outcome of a claimed (`dialing`) scheduled call.
    pub async fn finish_schedule(
        &self,
        tenant_id: &str,
        schedule_id: &str,
        outcome: std::result::Result<&str, &str>,
    ) -> Result<()> {
        let (status, key, value) = match outcome {
            Ok(call_id) => ("placed", "call_id", call_id),
            Err(error) => ("failed", "error", error),
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
            .expression_attribute_values(":status", s(status))
            .expression_attribute_values(":value", s(value))
            .expression_attribute_values(":dialing", s("dialing"))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .send()
            .await?;
        Ok(())
    }
}
