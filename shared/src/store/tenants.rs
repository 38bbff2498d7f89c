//! Tenants as the platform's operators see them: the directory of every tenant (each user item
//! carries `GSI1PK = TENANTS`, `GSI1SK = <created_at>#<tid>`, so they list oldest first without
//! a scan), a tenant's standing (suspended or not, its own monthly minute cap), and the
//! administrator flag. Every change an administrator makes is written in one transaction with
//! its audit entry (see [`super::audit`]), so no change goes unrecorded.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::audit::AuditEntry;
use super::pages::{invalid_cursor, parse_time_key_cursor, time_key_cursor};
use super::{Item, ItemExt, Store, first_condition_held, keys, n, s, written};
use crate::error::Result;

/// The partition of the tenant directory in `GSI1`.
pub const DIRECTORY: &str = "TENANTS";

/// The directory's sort key of a tenant: creation time first, so it lists oldest first.
pub fn directory_key(created_at: &str, tenant_id: &str) -> String {
    format!("{created_at}#{tenant_id}")
}

/// Why a tenant may not call, as an administrator set it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Suspension {
    pub reason: String,
    pub suspended_at: String,
}

/// What decides whether a tenant may start calls, besides its usage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Standing {
    pub suspension: Option<Suspension>,
    /// Its own monthly minute cap, set by an administrator; `None`: the deployment's.
    pub monthly_minute_cap: Option<u32>,
}

/// One tenant in the directory.
#[derive(Debug, Clone)]
pub struct TenantEntry {
    pub tenant_id: String,
    pub email: String,
    pub created_at: String,
    pub is_admin: bool,
    pub standing: Standing,
}

/// A page of the directory and where the next one starts.
pub struct TenantPage {
    pub tenants: Vec<TenantEntry>,
    pub next_cursor: Option<String>,
}

impl Store {
    /// The tenant's standing; `None` if no such tenant.
    pub async fn standing(&self, tenant_id: &str) -> Result<Option<Standing>> {
        Ok(self
            .get(keys::tenant(tenant_id), keys::USER)
            .await?
            .map(|item| standing(&item)))
    }

    /// Suspends the tenant (a repeat replaces the reason); `false` if no such tenant.
    pub async fn suspend_tenant(
        &self,
        tenant_id: &str,
        reason: &str,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let change = self
            .user_update(tenant_id)
            .update_expression("SET suspended_reason = :reason, suspended_at = :at")
            .expression_attribute_values(":reason", s(reason))
            .expression_attribute_values(":at", s(&audit.at));
        self.audited(change, audit).await
    }

    /// Lifts a suspension (doing nothing to a tenant that is not suspended); `false` if no
    /// such tenant.
    pub async fn reinstate_tenant(&self, tenant_id: &str, audit: &AuditEntry) -> Result<bool> {
        let change = self
            .user_update(tenant_id)
            .update_expression("REMOVE suspended_reason, suspended_at");
        self.audited(change, audit).await
    }

    /// Gives the tenant its own monthly minute cap, or (`None`) the deployment's back.
    pub async fn set_minute_cap(
        &self,
        tenant_id: &str,
        cap: Option<u32>,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let change = match cap {
            Some(cap) => self
                .user_update(tenant_id)
                .update_expression("SET monthly_minute_cap = :cap")
                .expression_attribute_values(":cap", n(cap)),
            None => self
                .user_update(tenant_id)
                .update_expression("REMOVE monthly_minute_cap"),
        };
        self.audited(change, audit).await
    }

    /// Makes the user of `email` an administrator or takes it away; the tenant id, or `None`
    /// if no user has that e-mail.
    pub async fn set_admin(
        &self,
        email: &str,
        admin: bool,
        audit: impl FnOnce(&str) -> AuditEntry,
    ) -> Result<Option<String>> {
        let Some(user) = self.user_by_email(email).await? else {
            return Ok(None);
        };
        let change = self
            .user_update(&user.tenant_id)
            .update_expression("SET is_admin = :admin")
            .expression_attribute_values(":admin", AttributeValue::Bool(admin));
        let written = self.audited(change, &audit(&user.tenant_id)).await?;
        Ok(written.then_some(user.tenant_id))
    }

    /// An update of an existing user item.
    fn user_update(&self, tenant_id: &str) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::USER))
            .condition_expression("attribute_exists(PK)")
    }

    /// Writes a change to a user item together with its audit entry; `false` (and no entry)
    /// if the user does not exist.
    async fn audited(
        &self,
        change: aws_sdk_dynamodb::types::builders::UpdateBuilder,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let result = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(change.build()?).build())
            .transact_items(
                TransactWriteItem::builder()
                    .put(self.audit_put(audit)?)
                    .build(),
            )
            .send()
            .await;
        first_condition_held(result)
    }

    /// Puts every user item that lacks them into the directory (users registered before the
    /// directory existed); the number of tenants added. A scan of the table: an operator's
    /// one-off, never a function's.
    pub async fn index_tenants(&self) -> Result<u32> {
        let mut added = 0;
        let mut start = None;
        loop {
            let page = self
                .client()
                .scan()
                .table_name(self.table())
                .filter_expression("SK = :user AND attribute_not_exists(GSI1PK)")
                .projection_expression("tenant_id, created_at")
                .expression_attribute_values(":user", s(keys::USER))
                .set_exclusive_start_key(start)
                .send()
                .await?;
            for item in page.items() {
                let (tenant_id, created_at) = (item.str("tenant_id")?, item.str("created_at")?);
                let result = self
                    .client()
                    .update_item()
                    .table_name(self.table())
                    .key(keys::PK, s(keys::tenant(&tenant_id)))
                    .key(keys::SK, s(keys::USER))
                    .update_expression("SET GSI1PK = :directory, GSI1SK = :key")
                    .condition_expression("attribute_exists(PK) AND attribute_not_exists(GSI1PK)")
                    .expression_attribute_values(":directory", s(DIRECTORY))
                    .expression_attribute_values(":key", s(directory_key(&created_at, &tenant_id)))
                    .send()
                    .await;
                if written(result)? {
                    added += 1;
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(added);
            }
        }
    }

    /// A page of the tenant directory, oldest first. `cursor` is what the previous page gave.
    pub async fn list_tenants(&self, limit: u32, cursor: Option<&str>) -> Result<TenantPage> {
        let start = cursor.map(start_key).transpose()?;
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :directory")
            .expression_attribute_values(":directory", s(DIRECTORY))
            .set_exclusive_start_key(start)
            .limit(limit as i32)
            .send()
            .await?;
        let tenants = out
            .items()
            .iter()
            .map(|item| {
                Ok(TenantEntry {
                    tenant_id: item.str("tenant_id")?,
                    email: item.str("email")?,
                    created_at: item.str("created_at")?,
                    is_admin: item.flag("is_admin"),
                    standing: standing(item),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = match (&out.last_evaluated_key, tenants.last()) {
            (Some(_), Some(last)) => Some(time_key_cursor(&directory_key(
                &last.created_at,
                &last.tenant_id,
            ))),
            _ => None,
        };
        Ok(TenantPage {
            tenants,
            next_cursor,
        })
    }
}

fn standing(item: &Item) -> Standing {
    Standing {
        suspension: item.opt_str("suspended_reason").map(|reason| Suspension {
            reason,
            suspended_at: item.opt_str("suspended_at").unwrap_or_default(),
        }),
        monthly_minute_cap: item.num("monthly_minute_cap").ok(),
    }
}

/// The directory key a cursor names, checked: `<rfc3339>#<tenant id>`.
fn start_key(cursor: &str) -> Result<Item> {
    let (key, tenant_id) = parse_time_key_cursor(cursor)?;
    let well_formed = tenant_id.len() == 26 && tenant_id.bytes().all(|b| b.is_ascii_alphanumeric());
    if !well_formed {
        return Err(invalid_cursor());
    }
    Ok(Item::from([
        (keys::PK.to_string(), s(keys::tenant(&tenant_id))),
        (keys::SK.to_string(), s(keys::USER)),
        (keys::GSI1PK.to_string(), s(DIRECTORY)),
        (keys::GSI1SK.to_string(), s(key)),
    ]))
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    #[test]
    fn only_cursors_of_the_directory_are_taken() {
        let good = URL_SAFE_NO_PAD.encode("2026-11-30T10:00:00.000Z#01jabcdefghjkmnpqrstvwxyz0");
        assert!(start_key(&good).is_ok());
        for bad in [
            "not base64!".to_string(),
            URL_SAFE_NO_PAD.encode("no-hash"),
            URL_SAFE_NO_PAD.encode("yesterday#01jabcdefghjkmnpqrstvwxyz0"),
            URL_SAFE_NO_PAD.encode("2026-11-30T10:00:00.000Z#TENANT#x"),
        ] {
            assert!(start_key(&bad).is_err(), "{bad}");
        }
    }
}
