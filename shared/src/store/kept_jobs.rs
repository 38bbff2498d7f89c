//! Jobs the queue refused, kept in the table until the sweep hands them over (see
//! [`crate::jobs::hand_over`]). Rare by design: an item exists only while SQS was failing, so
//! one partition holds them all, oldest first.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{ItemExt, Store, keys, s};
use crate::error::Result;

/// One kept job: its key in the table and the job's message body.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptJob {
    pub key: String,
    pub body: String,
}

impl Store {
    /// Keeps a job's message body until the sweep sends it.
    pub async fn keep_job(&self, body: &str) -> Result<()> {
        let key = format!(
            "{}#{}",
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ulid::Ulid::new().to_string().to_lowercase()
        );
        self.client()
            .put_item()
            .table_name(self.table())
            .item(keys::PK, s(keys::KEPT_JOBS))
            .item(keys::SK, s(&key))
            .item("entity", s("kept_job"))
            .item("body", s(body))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await?;
        Ok(())
    }

    /// The oldest kept jobs, at most `limit`.
    pub async fn kept_jobs(&self, limit: i32) -> Result<Vec<KeptJob>> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(keys::KEPT_JOBS))
            .limit(limit)
            .send()
            .await?;
        out.items
            .unwrap_or_default()
            .iter()
            .map(|item| {
                Ok(KeptJob {
                    key: item.str(keys::SK)?,
                    body: item.str("body")?,
                })
            })
            .collect()
    }

    /// Forgets a kept job once the queue has it.
    pub async fn forget_kept_job(&self, key: &str) -> Result<()> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::KEPT_JOBS))
            .key(keys::SK, AttributeValue::S(key.to_string()))
            .send()
            .await?;
        Ok(())
    }
}
