//! Page cursors of the call history. A cursor is opaque to clients: the sort key of the last
//! call of a page, plus a fingerprint of the tenant and the filters it was issued for.
//!
//! Nothing a client sends as a cursor reaches DynamoDB unchecked. Real DynamoDB refuses an
//! `ExclusiveStartKey` outside the query's key range (and moto does not, so tests on moto
//! alone would never see the 500), so a cursor must name a call key inside the range of the
//! query it is used with, and must have been issued for that same tenant and those same
//! filters; anything else is a 422 naming `cursor`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::history::CallFilter;
use crate::domain::ids::CallId;
use crate::error::{Error, FieldError, Result};
use crate::store::keys;

#[derive(Serialize, Deserialize)]
struct Cursor {
    /// The sort key of the last call returned.
    sk: String,
    /// [`fingerprint`] of the tenant and filters the page was listed with.
    q: String,
}

/// Which listing a cursor belongs to. Not a secret: a forged fingerprint gains nothing, as the
/// partition is always the caller's own and the key is range-checked.
fn fingerprint(tenant_id: &str, filter: &CallFilter) -> String {
    let digest = crate::auth::sha256_hex(&format!("{tenant_id}\n{}", filter.canonical()));
    digest[..16].to_string()
}

/// The cursor that resumes after the call `call_id`.
pub fn encode(tenant_id: &str, filter: &CallFilter, call_id: &str) -> String {
    let cursor = Cursor {
        sk: keys::call(call_id),
        q: fingerprint(tenant_id, filter),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).unwrap_or_default())
}

/// The sort key to resume after, once the cursor is known to belong to this listing.
pub fn decode(raw: &str, tenant_id: &str, filter: &CallFilter) -> Result<String> {
    let invalid = |why: &str| Error::Validation(vec![FieldError::new("cursor", why)]);
    let bytes = URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| invalid("is not a valid cursor"))?;
    let cursor: Cursor =
        serde_json::from_slice(&bytes).map_err(|_| invalid("is not a valid cursor"))?;
    let call_id = cursor
        .sk
        .strip_prefix(keys::CALL_PREFIX)
        .ok_or_else(|| invalid("is not a valid cursor"))?;
    CallId::parse(call_id, "cursor").map_err(|_| invalid("is not a valid cursor"))?;
    if cursor.q != fingerprint(tenant_id, filter) {
        return Err(invalid(
            "belongs to another listing: page with the same filters it was issued for",
        ));
    }
    let (low, high) = filter.key_range();
    if cursor.sk < low || cursor.sk > high {
        return Err(invalid("is outside the requested time range"));
    }
    Ok(cursor.sk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calls::{CallStatus, Direction};

    fn call_at(ms: u64) -> String {
        ulid::Ulid::from_parts(ms, 7).to_string().to_lowercase()
    }

    #[test]
    fn a_cursor_resumes_its_own_listing_only() {
        let all = CallFilter::default();
        let cursor = encode("t1", &all, &call_at(5_000));
        assert_eq!(
            decode(&cursor, "t1", &all).unwrap(),
            keys::call(&call_at(5_000))
        );
        // Another tenant, other filters: refused, whatever the key.
        assert!(decode(&cursor, "t2", &all).is_err());
        let inbound = CallFilter::new(None, Some(Direction::Inbound), None, None).unwrap();
        assert!(decode(&cursor, "t1", &inbound).is_err());
        let completed = CallFilter::new(Some(CallStatus::Completed), None, None, None).unwrap();
        assert!(decode(&cursor, "t1", &completed).is_err());
    }

    #[test]
    fn keys_outside_the_query_range_or_malformed_are_refused() {
        let window = CallFilter::new(None, None, Some(1_000), Some(2_000)).unwrap();
        let forge = |sk: String| {
            URL_SAFE_NO_PAD.encode(
                serde_json::to_vec(&Cursor {
                    sk,
                    q: fingerprint("t1", &window),
                })
                .unwrap(),
            )
        };
        assert!(decode(&forge(keys::call(&call_at(1_500))), "t1", &window).is_ok());
        for sk in [
            keys::call(&call_at(999)),
            keys::call(&call_at(2_001)),
            keys::call("not-a-ulid"),
            "SCENARIO#custom_x".to_string(),
            format!("CALL#{}", "z".repeat(1500)),
        ] {
            let err = decode(&forge(sk.clone()), "t1", &window).unwrap_err();
            assert!(
                matches!(&err, Error::Validation(f) if f[0].field == "cursor"),
                "{sk}"
            );
        }
        assert!(decode("%%%", "t1", &window).is_err());
    }
}
