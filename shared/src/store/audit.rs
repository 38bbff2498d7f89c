//! The audit log of platform administration: one item per administrator action under the
//! `AUDIT` partition, keyed by time, newest listed first. Changes write their entry in the
//! same transaction as the change (see [`super::tenants`]); reads write theirs before they
//! answer. Entries are never updated or deleted by the platform.

use std::str::FromStr;

use aws_sdk_dynamodb::types::Put;
use serde::Serialize;
use utoipa::ToSchema;

use super::pages::{invalid_cursor, parse_time_key_cursor, time_key_cursor};
use super::{Item, ItemExt, Store, created, keys, now_rfc3339, s};
use crate::error::{Error, Result};

/// What an administrator did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    PromoteAdmin,
    DemoteAdmin,
    IndexTenants,
    ListTenants,
    SuspendTenant,
    ReinstateTenant,
    SetMinuteCap,
    ViewPlatformAccount,
    ViewAuditLog,
}

impl AuditAction {
    const ALL: [AuditAction; 9] = [
        AuditAction::PromoteAdmin,
        AuditAction::DemoteAdmin,
        AuditAction::IndexTenants,
        AuditAction::ListTenants,
        AuditAction::SuspendTenant,
        AuditAction::ReinstateTenant,
        AuditAction::SetMinuteCap,
        AuditAction::ViewPlatformAccount,
        AuditAction::ViewAuditLog,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::PromoteAdmin => "promote_admin",
            AuditAction::DemoteAdmin => "demote_admin",
            AuditAction::IndexTenants => "index_tenants",
            AuditAction::ListTenants => "list_tenants",
            AuditAction::SuspendTenant => "suspend_tenant",
            AuditAction::ReinstateTenant => "reinstate_tenant",
            AuditAction::SetMinuteCap => "set_minute_cap",
            AuditAction::ViewPlatformAccount => "view_platform_account",
            AuditAction::ViewAuditLog => "view_audit_log",
        }
    }
}

impl FromStr for AuditAction {
    type Err = ();

    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        AuditAction::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or(())
    }
}

/// One administrator action.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditEntry {
    pub at: String,
    /// The administrator's user id, or `operator` for the operator's command line.
    pub actor: String,
    /// The administrator's e-mail (the operator's command names none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_email: Option<String>,
    pub action: AuditAction,
    /// The tenant acted on, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// What was set (a suspension's reason, a cap), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The actor of entries written by the operator's command line.
pub const OPERATOR: &str = "operator";

impl AuditEntry {
    /// An entry stamped now.
    pub fn now(actor: &str, actor_email: Option<&str>, action: AuditAction) -> AuditEntry {
        AuditEntry {
            at: now_rfc3339(),
            actor: actor.to_string(),
            actor_email: actor_email.map(str::to_string),
            action,
            tenant_id: None,
            detail: None,
        }
    }

    pub fn on_tenant(mut self, tenant_id: &str) -> Self {
        self.tenant_id = Some(tenant_id.to_string());
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The entry's sort key: its time, then a ULID so entries of the same millisecond differ.
    fn sort_key(&self) -> String {
        format!(
            "{}#{}",
            self.at,
            ulid::Ulid::new().to_string().to_lowercase()
        )
    }
}

/// A page of the log and where the next (older) one starts.
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

impl Store {
    /// The `Put` that writes an entry (for transactions).
    pub(crate) fn audit_put(&self, entry: &AuditEntry) -> Result<Put> {
        let mut put = Put::builder()
            .table_name(self.table())
            .item(keys::PK, s(keys::AUDIT))
            .item(keys::SK, s(entry.sort_key()))
            .item("entity", s("audit"))
            .item("at", s(&entry.at))
            .item("actor", s(&entry.actor))
            .item("action", s(entry.action.as_str()))
            .condition_expression("attribute_not_exists(PK)");
        for (attribute, value) in [
            ("actor_email", &entry.actor_email),
            ("tenant_id", &entry.tenant_id),
            ("detail", &entry.detail),
        ] {
            if let Some(value) = value {
                put = put.item(attribute, s(value));
            }
        }
        Ok(put.build()?)
    }

    /// Writes an entry on its own (an action that changes nothing).
    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<()> {
        let put = self.audit_put(entry)?;
        let result = self
            .client()
            .put_item()
            .table_name(put.table_name())
            .set_item(Some(put.item().clone()))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        created(result)
    }

    /// A page of the log, newest first.
    pub async fn audit_log(&self, limit: u32, cursor: Option<&str>) -> Result<AuditPage> {
        let start = cursor.map(start_key).transpose()?;
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(keys::AUDIT))
            .scan_index_forward(false)
            .set_exclusive_start_key(start)
            .limit(limit as i32)
            .send()
            .await?;
        let entries = out.items().iter().map(entry).collect::<Result<Vec<_>>>()?;
        let next_cursor = match (&out.last_evaluated_key, out.items().last()) {
            (Some(_), Some(last)) => Some(time_key_cursor(&last.str(keys::SK)?)),
            _ => None,
        };
        Ok(AuditPage {
            entries,
            next_cursor,
        })
    }
}

fn entry(item: &Item) -> Result<AuditEntry> {
    Ok(AuditEntry {
        at: item.str("at")?,
        actor: item.str("actor")?,
        actor_email: item.opt_str("actor_email"),
        action: item
            .str("action")?
            .parse()
            .map_err(|_| Error::internal("an audit entry holds an unknown action"))?,
        tenant_id: item.opt_str("tenant_id"),
        detail: item.opt_str("detail"),
    })
}

/// The log key a cursor names, checked (`<rfc3339>#<ulid>`).
fn start_key(cursor: &str) -> Result<Item> {
    let (sk, id) = parse_time_key_cursor(cursor)?;
    if ulid::Ulid::from_string(&id).is_err() {
        return Err(invalid_cursor());
    }
    Ok(Item::from([
        (keys::PK.to_string(), s(keys::AUDIT)),
        (keys::SK.to_string(), s(sk)),
    ]))
}
