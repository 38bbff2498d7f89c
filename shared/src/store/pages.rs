//! Paging through a tenant's time-ordered items (calls, transcripts): items keyed by a prefix
//! and a ULID, newest first, within a time window, a page at a time with an opaque cursor.
//!
//! Neither a window nor a cursor from a client reaches DynamoDB unchecked. Real DynamoDB
//! refuses a `BETWEEN` whose low bound is above its high bound, and an `ExclusiveStartKey`
//! outside the query's key range (moto accepts both, so tests on moto alone would never see
//! the 500). A [`TimeWindow`] never ends before it starts; a cursor must name a key of the
//! listing's prefix inside its window, and must have been issued for the same tenant and
//! filters; anything else is a 422 naming the field.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::{Item, ItemExt, Store, keys, s};
use crate::domain::ids::CallId;
use crate::error::{Error, FieldError, Result};

/// The largest timestamp a ULID holds (milliseconds).
const MAX_ULID_MS: u64 = (1 << 48) - 1;

/// Inclusive bounds on creation time, epoch milliseconds, `from <= to`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TimeWindow {
    from_ms: Option<u64>,
    to_ms: Option<u64>,
}

impl TimeWindow {
    /// Refuses a window that ends before it starts or lies beyond what an id can hold; errors
    /// name the fields as the client called them.
    pub fn new(
        from_ms: Option<u64>,
        to_ms: Option<u64>,
        (from_field, to_field): (&str, &str),
    ) -> std::result::Result<TimeWindow, Vec<FieldError>> {
        let mut errors = Vec::new();
        for (field, value) in [(from_field, from_ms), (to_field, to_ms)] {
            if value.is_some_and(|ms| ms > MAX_ULID_MS) {
                errors.push(FieldError::new(field, "is too far in the future"));
            }
        }
        if let (Some(from), Some(to)) = (from_ms, to_ms)
            && from > to
        {
            errors.push(FieldError::new(
                to_field,
                format!("must not be earlier than {from_field}"),
            ));
        }
        if errors.is_empty() {
            Ok(TimeWindow { from_ms, to_ms })
        } else {
            Err(errors)
        }
    }

    /// The sort keys `prefix` + ULID of every item created in the window, and nothing else.
    pub fn key_range(&self, prefix: &str) -> (String, String) {
        let bound = |ms: u64, random: u128| {
            format!(
                "{prefix}{}",
                ulid::Ulid::from_parts(ms, random)
                    .to_string()
                    .to_lowercase()
            )
        };
        (
            bound(self.from_ms.unwrap_or(0), 0),
            bound(self.to_ms.unwrap_or(MAX_ULID_MS), u128::MAX),
        )
    }

    fn canonical(&self) -> String {
        let part = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        format!("{}|{}", part(self.from_ms), part(self.to_ms))
    }
}

/// Conditions on the listed items' attributes (all must hold).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemFilter {
    equal: Vec<(&'static str, String)>,
}

impl ItemFilter {
    /// Only items whose `attribute` is `value` (no condition when `value` is `None`).
    pub fn equal(mut self, attribute: &'static str, value: Option<&str>) -> Self {
        if let Some(value) = value {
            self.equal.push((attribute, value.to_string()));
        }
        self
    }

    fn canonical(&self) -> String {
        self.equal
            .iter()
            .map(|(a, v)| format!("{a}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// One listing: whose, which items, which filters.
pub struct Listing<'a> {
    pub tenant_id: &'a str,
    /// The sort-key prefix of the listed items (their ids are ULIDs).
    pub prefix: &'a str,
    pub window: TimeWindow,
    pub filter: ItemFilter,
}

#[derive(Serialize, Deserialize)]
struct Cursor {
    /// The sort key of the last item returned.
    sk: String,
    /// [`Listing::fingerprint`] of the listing the page was issued for.
    q: String,
}

impl Listing<'_> {
    /// Which listing a cursor belongs to. Not a secret: a forged fingerprint gains nothing, as
    /// the partition is always the caller's own and the key is range-checked.
    fn fingerprint(&self) -> String {
        let digest = crate::auth::sha256_hex(&format!(
            "{}\n{}\n{}\n{}",
            self.tenant_id,
            self.prefix,
            self.window.canonical(),
            self.filter.canonical()
        ));
        digest[..16].to_string()
    }

    /// The sort-key range the listing queries.
    pub fn key_range(&self) -> (String, String) {
        self.window.key_range(self.prefix)
    }

    /// The cursor that resumes after the item with sort key `sk`.
    pub fn cursor_after(&self, sk: &str) -> String {
        let cursor = Cursor {
            sk: sk.to_string(),
            q: self.fingerprint(),
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).unwrap_or_default())
    }

    /// The sort key to resume after, once the cursor is known to belong to this listing.
    pub fn resume_after(&self, raw: &str) -> Result<String> {
        let invalid = |why: &str| Error::Validation(vec![FieldError::new("cursor", why)]);
        let bytes = URL_SAFE_NO_PAD
            .decode(raw)
            .map_err(|_| invalid("is not a valid cursor"))?;
        let cursor: Cursor =
            serde_json::from_slice(&bytes).map_err(|_| invalid("is not a valid cursor"))?;
        let id = cursor
            .sk
            .strip_prefix(self.prefix)
            .ok_or_else(|| invalid("is not a valid cursor"))?;
        CallId::parse(id, "cursor").map_err(|_| invalid("is not a valid cursor"))?;
        if cursor.q != self.fingerprint() {
            return Err(invalid(
                "belongs to another listing: page with the same filters it was issued for",
            ));
        }
        let (low, high) = self.key_range();
        if cursor.sk < low || cursor.sk > high {
            return Err(invalid("is outside the requested time range"));
        }
        Ok(cursor.sk)
    }
}

impl Store {
    /// One page of a listing, newest first, and the cursor of the next page (`None` on the
    /// last). A page holds `limit` items unless the listing ends first; filtered-out items do
    /// not count.
    pub(crate) async fn list_page(
        &self,
        listing: &Listing<'_>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<(Vec<Item>, Option<String>)> {
        let pk = keys::tenant(listing.tenant_id);
        let (low, high) = listing.key_range();
        let mut start: Option<HashMap<String, AttributeValue>> = match cursor {
            Some(raw) => Some(HashMap::from([
                (keys::PK.to_string(), s(&pk)),
                (keys::SK.to_string(), s(listing.resume_after(raw)?)),
            ])),
            None => None,
        };
        let mut items: Vec<Item> = Vec::new();
        let mut more = true;
        while items.len() < limit && more {
            let mut query = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND SK BETWEEN :low AND :high")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":low", s(&low))
                .expression_attribute_values(":high", s(&high))
                .scan_index_forward(false)
                .limit((limit - items.len()) as i32)
                .set_exclusive_start_key(start.take());
            let mut clauses = Vec::new();
            for (i, (attribute, value)) in listing.filter.equal.iter().enumerate() {
                clauses.push(format!("#f{i} = :f{i}"));
                query = query
                    .expression_attribute_names(format!("#f{i}"), *attribute)
                    .expression_attribute_values(format!(":f{i}"), s(value));
            }
            if !clauses.is_empty() {
                query = query.filter_expression(clauses.join(" AND "));
            }
            let out = query.send().await?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => more = false,
            }
        }
        // Resume after the last item returned (not DynamoDB's key), so a page never skips one.
        let next = match items.last() {
            Some(last) if more => Some(listing.cursor_after(&last.str(keys::SK)?)),
            _ => None,
        };
        Ok((items, next))
    }
}

/// A cursor over items keyed `<rfc3339>#<id>` (the audit log, the tenant directory): the key
/// of the last item returned, opaque to clients.
pub(crate) fn time_key_cursor(sort_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(sort_key)
}

/// The key a [`time_key_cursor`] names, split at its last `#` into time and id, the time
/// checked; the caller checks the id. Anything else is a 422 naming `cursor` (real DynamoDB
/// refuses a start key outside the query, so nothing unchecked reaches it).
pub(crate) fn parse_time_key_cursor(cursor: &str) -> Result<(String, String)> {
    let key = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(invalid_cursor)?;
    let (time, id) = key.rsplit_once('#').ok_or_else(invalid_cursor)?;
    if chrono::DateTime::parse_from_rfc3339(time).is_err() {
        return Err(invalid_cursor());
    }
    let id = id.to_string();
    Ok((key, id))
}

pub(crate) fn invalid_cursor() -> Error {
    Error::Validation(vec![FieldError::new(
        "cursor",
        "is not a cursor this listing gave",
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: (&str, &str) = ("from", "to");

    fn item_at(ms: u64) -> String {
        format!(
            "CALL#{}",
            ulid::Ulid::from_parts(ms, 7).to_string().to_lowercase()
        )
    }

    fn listing(tenant: &str, window: TimeWindow, direction: &str) -> Listing<'static> {
        Listing {
            tenant_id: Box::leak(tenant.to_string().into_boxed_str()),
            prefix: "CALL#",
            window,
            filter: ItemFilter::default()
                .equal("direction", Some(direction).filter(|d| !d.is_empty())),
        }
    }

    #[test]
    fn a_window_never_ends_before_it_starts() {
        let errors = TimeWindow::new(Some(2_000), Some(1_000), FIELDS).unwrap_err();
        assert_eq!(errors[0].field, "to");
        let errors = TimeWindow::new(Some(2), Some(1), ("date_from", "date_to")).unwrap_err();
        assert_eq!(errors[0].field, "date_to");
        assert!(TimeWindow::new(Some(1_000), Some(1_000), FIELDS).is_ok());
        let errors = TimeWindow::new(Some(MAX_ULID_MS + 1), None, FIELDS).unwrap_err();
        assert_eq!(errors[0].field, "from");
        for window in [
            TimeWindow::default(),
            TimeWindow::new(Some(5), Some(5), FIELDS).unwrap(),
            TimeWindow::new(None, Some(0), FIELDS).unwrap(),
        ] {
            let (low, high) = window.key_range("CALL#");
            assert!(low <= high, "{window:?}");
        }
    }

    #[test]
    fn a_cursor_resumes_its_own_listing_only() {
        let all = listing("t1", TimeWindow::default(), "");
        let cursor = all.cursor_after(&item_at(5_000));
        assert_eq!(all.resume_after(&cursor).unwrap(), item_at(5_000));
        // Another tenant, other filters, another prefix: refused, whatever the key.
        assert!(
            listing("t2", TimeWindow::default(), "")
                .resume_after(&cursor)
                .is_err()
        );
        assert!(
            listing("t1", TimeWindow::default(), "inbound")
                .resume_after(&cursor)
                .is_err()
        );
        let transcripts = Listing {
            prefix: "TRANSCRIPT#",
            ..listing("t1", TimeWindow::default(), "")
        };
        assert!(transcripts.resume_after(&cursor).is_err());
    }

    #[test]
    fn keys_outside_the_window_or_malformed_are_refused() {
        let window = listing(
            "t1",
            TimeWindow::new(Some(1_000), Some(2_000), FIELDS).unwrap(),
            "",
        );
        let forge = |sk: String| {
            URL_SAFE_NO_PAD.encode(
                serde_json::to_vec(&Cursor {
                    sk,
                    q: window.fingerprint(),
                })
                .unwrap(),
            )
        };
        assert!(window.resume_after(&forge(item_at(1_500))).is_ok());
        for sk in [
            item_at(999),
            item_at(2_001),
            "CALL#not-a-ulid".to_string(),
            "SCENARIO#custom_x".to_string(),
            format!("CALL#{}", "z".repeat(1500)),
        ] {
            let err = window.resume_after(&forge(sk.clone())).unwrap_err();
            assert!(
                matches!(&err, Error::Validation(f) if f[0].field == "cursor"),
                "{sk}"
            );
        }
        assert!(window.resume_after("%%%").is_err());
    }
}
