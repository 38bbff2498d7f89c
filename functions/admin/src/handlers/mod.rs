pub mod audit_log;
pub mod standing;
pub mod tenants;
pub mod twilio_account;

use shared::http::query::{Filters, non_empty};
use shared::{Error, Result};

/// Page sizes of the administration listings.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 100;

/// A listing's `limit` and `cursor`, checked.
fn page(limit: Option<String>, cursor: Option<String>) -> Result<(u32, Option<String>)> {
    let mut filters = Filters::default();
    let limit = filters.limit(non_empty(limit).as_deref(), DEFAULT_LIMIT, MAX_LIMIT);
    filters.finish()?;
    Ok((limit as u32, non_empty(cursor)))
}

/// A tenant id from a path: a lowercase ULID, or no such tenant (nothing else reaches the
/// store).
fn tenant_id(raw: &str) -> Result<&str> {
    let well_formed = raw.len() == 26
        && raw
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
    if well_formed {
        Ok(raw)
    } else {
        Err(no_such_tenant())
    }
}

fn no_such_tenant() -> Error {
    Error::NotFound("Tenant not found".into())
}
