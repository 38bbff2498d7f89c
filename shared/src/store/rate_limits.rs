//! Fixed-window rate limits that hold across Lambda instances: one counter item per
//! (bucket, subject, window), incremented atomically, expiring by TTL after the window.

use aws_sdk_dynamodb::types::ReturnValue;

use super::{ItemExt, Store, epoch_now, keys, n};
use crate::config::RateLimit;
use crate::error::{Error, Result};

impl Store {
    /// Counts one hit of `subject` (a client IP or a user id) in `bucket`; 429 with
    /// `Retry-After` once the window's budget is spent.
    pub async fn rate_limit(&self, bucket: &str, subject: &str, limit: &RateLimit) -> Result<()> {
        let window = limit.window.as_secs().max(1) as i64;
        let now = epoch_now();
        let window_start = now - now.rem_euclid(window);
        let out = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(
                keys::PK,
                super::s(keys::rate_limit(bucket, subject, window_start)),
            )
            .key(keys::SK, super::s(keys::RATE_LIMIT))
            .update_expression("ADD hits :one SET #ttl = :expires")
            .expression_attribute_names("#ttl", keys::TTL_ATTRIBUTE)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":expires", n(window_start + window * 2))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await?;
        let hits: u32 = out.attributes.unwrap_or_default().num("hits")?;
        if hits > limit.max {
            let retry_after = (window_start + window - now).max(1) as u64;
            return Err(Error::RateLimited {
                detail: format!(
                    "Rate limit exceeded: {} per {}",
                    limit.max,
                    describe_window(window)
                ),
                retry_after,
            });
        }
        Ok(())
    }
}

fn describe_window(secs: i64) -> String {
    match secs {
        60 => "1 minute".into(),
        s if s % 60 == 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}
