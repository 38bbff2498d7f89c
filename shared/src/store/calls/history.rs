//! The tenant's call history: newest first, filtered by status, direction and creation time,
//! a page at a time.
//!
//! Call ids are ULIDs, so the sort key orders calls by creation time and a time window is a
//! key range. [`CallFilter`] can only hold a window whose start is not after its end: real
//! DynamoDB refuses a `BETWEEN` whose low bound is above its high bound (moto does not).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::{CallRecord, cursor, from_item};
use crate::domain::calls::{CallStatus, Direction};
use crate::error::{FieldError, Result};
use crate::store::{Store, keys, s};

/// The largest timestamp a ULID holds (milliseconds).
const MAX_ULID_MS: u64 = (1 << 48) - 1;

/// Filters of the call history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallFilter {
    status: Option<CallStatus>,
    direction: Option<Direction>,
    /// Inclusive bounds on the creation time, epoch milliseconds, `from_ms <= to_ms`.
    from_ms: Option<u64>,
    to_ms: Option<u64>,
}

impl CallFilter {
    /// Refuses a window that ends before it starts or lies outside what a call id can hold,
    /// naming `from`/`to`.
    pub fn new(
        status: Option<CallStatus>,
        direction: Option<Direction>,
        from_ms: Option<u64>,
        to_ms: Option<u64>,
    ) -> std::result::Result<CallFilter, Vec<FieldError>> {
        let mut errors = Vec::new();
        for (field, value) in [("from", from_ms), ("to", to_ms)] {
            if value.is_some_and(|ms| ms > MAX_ULID_MS) {
                errors.push(FieldError::new(field, "is too far in the future"));
            }
        }
        if let (Some(from), Some(to)) = (from_ms, to_ms)
            && from > to
        {
            errors.push(FieldError::new("to", "must not be earlier than from"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(CallFilter {
            status,
            direction,
            from_ms,
            to_ms,
        })
    }

    /// The sort-key range of the window: every call created in it, and nothing else.
    pub(super) fn key_range(&self) -> (String, String) {
        let bound = |ms: u64, random: u128| {
            keys::call(
                &ulid::Ulid::from_parts(ms, random)
                    .to_string()
                    .to_lowercase(),
            )
        };
        (
            bound(self.from_ms.unwrap_or(0), 0),
            bound(self.to_ms.unwrap_or(MAX_ULID_MS), u128::MAX),
        )
    }

    /// The filters as one string, for the cursor's fingerprint.
    pub(super) fn canonical(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.status.map(CallStatus::as_str).unwrap_or(""),
            self.direction.map(Direction::as_str).unwrap_or(""),
            self.from_ms.map(|v| v.to_string()).unwrap_or_default(),
            self.to_ms.map(|v| v.to_string()).unwrap_or_default(),
        )
    }
}

impl Store {
    /// The tenant's calls, newest first, `limit` per page, and the cursor of the next page.
    /// The cursor only ever resumes this tenant's listing with these filters.
    pub async fn list_calls(
        &self,
        tenant_id: &str,
        filter: &CallFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<(Vec<CallRecord>, Option<String>)> {
        let pk = keys::tenant(tenant_id);
        let (low, high) = filter.key_range();
        let mut start: Option<HashMap<String, AttributeValue>> = match cursor {
            Some(raw) => Some(HashMap::from([
                (keys::PK.to_string(), s(&pk)),
                (
                    keys::SK.to_string(),
                    s(cursor::decode(raw, tenant_id, filter)?),
                ),
            ])),
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
            if let Some(status) = filter.status {
                query = query
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":status", s(status.as_str()));
            }
            if let Some(direction) = filter.direction {
                query = query.expression_attribute_values(":direction", s(direction.as_str()));
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
            calls
                .last()
                .map(|c| cursor::encode(tenant_id, filter, &c.call_id))
        } else {
            None
        };
        Ok((calls, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_never_ends_before_it_starts() {
        let errors = CallFilter::new(None, None, Some(2_000), Some(1_000)).unwrap_err();
        assert_eq!(errors[0].field, "to");
        assert!(CallFilter::new(None, None, Some(1_000), Some(1_000)).is_ok());
        let errors = CallFilter::new(None, None, Some(MAX_ULID_MS + 1), None).unwrap_err();
        assert_eq!(errors[0].field, "from");
        for filter in [
            CallFilter::default(),
            CallFilter::new(None, None, Some(5), Some(5)).unwrap(),
            CallFilter::new(None, None, None, Some(0)).unwrap(),
        ] {
            let (low, high) = filter.key_range();
            assert!(low <= high, "{filter:?}");
        }
    }
}
