//! Tenant webhook endpoints and their delivery log.
//!
//! | item           | PK             | SK                              |
//! |----------------|----------------|---------------------------------|
//! | endpoint       | `TENANT#<tid>` | `WEBHOOK#<id>`                  |
//! | delivery entry | `TENANT#<tid>` | `WHLOG#<webhook id>#<ulid>`     |
//!
//! An endpoint's signing secret is stored sealed (see `auth::seal`). The number of endpoints
//! per tenant is counted on the user item in the same transaction that writes one, so the
//! limit holds under concurrency. Delivery entries expire (TTL) after [`LOG_RETENTION_DAYS`].

use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    Count, Item, ItemExt, Store, cancellation_codes, epoch_now, failed_condition, keys,
    made_by_an_earlier_attempt, n, s,
};
use crate::domain::webhooks::EventType;
use crate::error::{Error, Result};

/// How long delivery entries are kept.
pub const LOG_RETENTION_DAYS: i64 = 30;

/// A tenant's endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub webhook_id: String,
    pub url: String,
    pub events: Vec<EventType>,
    pub created_at: String,
    /// The signing secret, sealed.
    pub sealed_secret: String,
}

/// How one delivery attempt went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The endpoint answered 2xx.
    Delivered,
    /// It did not; another attempt is scheduled.
    Retrying,
    /// It did not, and no attempt is left (or it never can succeed).
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Retrying => "retrying",
            Outcome::Failed => "failed",
        }
    }
}

/// One delivery attempt, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Attempt {
    pub event_id: String,
    pub event_type: String,
    /// 1 for the first try.
    pub attempt: u32,
    pub outcome: Outcome,
    /// The endpoint's HTTP status, when it answered.
    pub http_status: Option<u16>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    pub duration_ms: u64,
    /// RFC 3339.
    pub at: String,
}

fn not_found() -> Error {
    Error::NotFound("Webhook not found".into())
}

fn webhook_key(id: &str) -> String {
    format!("{}{id}", keys::WEBHOOK_PREFIX)
}

fn from_item(item: &Item) -> Result<Endpoint> {
    let events: Vec<String> = serde_json::from_str(&item.str("events")?)
        .map_err(|_| Error::internal("webhook with unreadable events"))?;
    Ok(Endpoint {
        webhook_id: item.str("webhook_id")?,
        url: item.str("url")?,
        events: events.iter().filter_map(|e| e.parse().ok()).collect(),
        created_at: item.str("created_at")?,
        sealed_secret: item.str("sealed_secret")?,
    })
}

fn attempt_from_item(item: &Item) -> Result<Attempt> {
    Ok(Attempt {
        event_id: item.str("event_id")?,
        event_type: item.str("event_type")?,
        attempt: item.num("attempt")?,
        outcome: match item.str("outcome")?.as_str() {
            "delivered" => Outcome::Delivered,
            "retrying" => Outcome::Retrying,
            _ => Outcome::Failed,
        },
        http_status: item.num("http_status").ok(),
        error: item.opt_str("error"),
        duration_ms: item.num("duration_ms").unwrap_or(0),
        at: item.str("at")?,
    })
}

impl Store {
    /// Registers an endpoint; 400 at the tenant's maximum.
    pub async fn create_webhook(
        &self,
        tenant_id: &str,
        endpoint: &Endpoint,
        max: u32,
    ) -> Result<()> {
        let events: Vec<&str> = endpoint.events.iter().map(|e| e.as_str()).collect();
        let put = Put::builder()
            .table_name(self.table())
            .item(keys::PK, s(keys::tenant(tenant_id)))
            .item(keys::SK, s(webhook_key(&endpoint.webhook_id)))
            .item("entity", s("webhook"))
            .item("webhook_id", s(&endpoint.webhook_id))
            .item("url", s(&endpoint.url))
            .item(
                "events",
                s(serde_json::to_string(&events).map_err(Error::internal)?),
            )
            .item("sealed_secret", s(&endpoint.sealed_secret))
            .item("created_at", s(&endpoint.created_at))
            .condition_expression("attribute_not_exists(PK)")
            .build()?;
        let count = self.count_update(tenant_id, "webhook_count", Count::UpTo(max))?;
        let result = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(count).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match cancellation_codes(&e) {
                // The endpoint's fresh key is taken: by this create's own first attempt.
                Some(codes) if failed_condition(&codes, 1) => {
                    made_by_an_earlier_attempt();
                    Ok(())
                }
                Some(codes) if failed_condition(&codes, 0) => Err(Error::bad_request(format!(
                    "Maximum number of webhooks reached ({max})"
                ))),
                _ => Err(e.into()),
            },
        }
    }

    pub async fn webhooks(&self, tenant_id: &str) -> Result<Vec<Endpoint>> {
        let items = self
            .query_prefix(keys::tenant(tenant_id), keys::WEBHOOK_PREFIX, false)
            .await?;
        items.iter().map(from_item).collect()
    }

    /// The tenant's endpoint, if it still exists.
    pub async fn find_webhook(
        &self,
        tenant_id: &str,
        webhook_id: &str,
    ) -> Result<Option<Endpoint>> {
        self.get(keys::tenant(tenant_id), &webhook_key(webhook_id))
            .await?
            .map(|item| from_item(&item))
            .transpose()
    }

    pub async fn webhook(&self, tenant_id: &str, webhook_id: &str) -> Result<Endpoint> {
        self.find_webhook(tenant_id, webhook_id)
            .await?
            .ok_or_else(not_found)
    }

    /// Removes an endpoint (its log expires on its own); 404 when the tenant has no such one.
    pub async fn delete_webhook(&self, tenant_id: &str, webhook_id: &str) -> Result<()> {
        let delete = Delete::builder()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(webhook_key(webhook_id)))
            .condition_expression("attribute_exists(PK)")
            .build()?;
        let count = self.count_update(tenant_id, "webhook_count", Count::Down)?;
        let result = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(delete).build())
            .transact_items(TransactWriteItem::builder().update(count).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match cancellation_codes(&e) {
                Some(codes) if failed_condition(&codes, 0) => Err(not_found()),
                _ => Err(e.into()),
            },
        }
    }

    /// Adds an attempt to the endpoint's delivery log.
    pub async fn log_delivery(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        attempt: &Attempt,
    ) -> Result<()> {
        let id = ulid::Ulid::new().to_string().to_lowercase();
        let mut put = self
            .client()
            .put_item()
            .table_name(self.table())
            .item(keys::PK, s(keys::tenant(tenant_id)))
            .item(keys::SK, s(format!("WHLOG#{webhook_id}#{id}")))
            .item("entity", s("webhook_delivery"))
            .item("event_id", s(&attempt.event_id))
            .item("event_type", s(&attempt.event_type))
            .item("attempt", n(attempt.attempt))
            .item("outcome", s(attempt.outcome.as_str()))
            .item("duration_ms", n(attempt.duration_ms))
            .item("at", s(&attempt.at))
            .item(
                keys::TTL_ATTRIBUTE,
                n(epoch_now() + LOG_RETENTION_DAYS * 86_400),
            );
        if let Some(status) = attempt.http_status {
            put = put.item("http_status", n(status));
        }
        if let Some(error) = &attempt.error {
            put = put.item("error", s(error));
        }
        put.send().await?;
        Ok(())
    }

    /// The endpoint's latest attempts, newest first (404 for anyone else's endpoint).
    pub async fn deliveries(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        limit: usize,
    ) -> Result<Vec<Attempt>> {
        self.webhook(tenant_id, webhook_id).await?;
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(keys::tenant(tenant_id)))
            .expression_attribute_values(":prefix", s(format!("WHLOG#{webhook_id}#")))
            .scan_index_forward(false)
            .limit(limit as i32)
            .send()
            .await?;
        let now = epoch_now();
        out.items()
            .iter()
            // TTL deletion is lazy: an expired entry may still be there.
            .filter(|item| {
                item.num::<i64>(keys::TTL_ATTRIBUTE)
                    .is_ok_and(|expires| expires > now)
            })
            .map(attempt_from_item)
            .collect()
    }
}
