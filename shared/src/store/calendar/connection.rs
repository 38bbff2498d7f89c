//! A tenant's Google connection: the sealed refresh token (kept across re-consents that do
//! not return a new one), the current sealed access token and its expiry, and a version that
//! makes concurrent refreshes safe (the loser re-reads instead of overwriting).

use aws_sdk_dynamodb::types::AttributeValue;

use super::super::{Item, ItemExt, Store, epoch_now, keys, n, now_rfc3339, s, written};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionStatus {
    /// Tokens work (as far as the platform knows).
    Connected,
    /// Google refused the refresh token: the tenant must connect again.
    Revoked,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Connected => "connected",
            ConnectionStatus::Revoked => "revoked",
        }
    }
}

/// The stored connection. Token fields are sealed (bound to the tenant).
#[derive(Clone, PartialEq)]
pub struct Connection {
    pub status: ConnectionStatus,
    pub sealed_refresh_token: String,
    pub sealed_access_token: Option<String>,
    /// Epoch seconds.
    pub access_expires_at: i64,
    pub scopes: String,
    pub version: u64,
    pub connected_at: String,
    pub updated_at: String,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("status", &self.status)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// A grant to store: the sealed tokens of one token-endpoint answer.
pub struct GrantWrite<'a> {
    /// `None` when Google returned no refresh token: the stored one is kept.
    pub sealed_refresh_token: Option<&'a str>,
    pub sealed_access_token: &'a str,
    pub access_expires_at: i64,
    pub scopes: &'a str,
}

fn from_item(item: &Item) -> Result<Connection> {
    Ok(Connection {
        status: match item.str("status")?.as_str() {
            "revoked" => ConnectionStatus::Revoked,
            _ => ConnectionStatus::Connected,
        },
        sealed_refresh_token: item.str("sealed_refresh_token")?,
        sealed_access_token: item.opt_str("sealed_access_token"),
        access_expires_at: item.num("access_expires_at").unwrap_or(0),
        scopes: item.opt_str("scopes").unwrap_or_default(),
        version: item.num("version").unwrap_or(0),
        connected_at: item.str("connected_at")?,
        updated_at: item.str("updated_at")?,
    })
}

impl Store {
    pub async fn calendar_connection(&self, tenant_id: &str) -> Result<Option<Connection>> {
        self.get(keys::tenant(tenant_id), keys::CALENDAR)
            .await?
            .as_ref()
            .map(from_item)
            .transpose()
    }

    /// Stores a new grant from the OAuth callback and marks the connection live. Without a
    /// new refresh token the stored one is kept, and if there is none (or it was revoked)
    /// nothing is written and 409 says to connect again.
    pub async fn save_calendar_grant(&self, tenant_id: &str, grant: &GrantWrite<'_>) -> Result<()> {
        let now = now_rfc3339();
        let mut sets = vec![
            "entity = :entity",
            "#status = :connected",
            "sealed_access_token = :access",
            "access_expires_at = :expires",
            "scopes = :scopes",
            "updated_at = :now",
            "connected_at = if_not_exists(connected_at, :now)",
        ];
        let mut request = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::CALENDAR))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":entity", s("calendar"))
            .expression_attribute_values(":connected", s(ConnectionStatus::Connected.as_str()))
            .expression_attribute_values(":access", s(grant.sealed_access_token))
            .expression_attribute_values(":expires", n(grant.access_expires_at))
            .expression_attribute_values(":scopes", s(grant.scopes))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":one", n(1));
        match grant.sealed_refresh_token {
            Some(refresh) => {
                sets.push("sealed_refresh_token = :refresh");
                request = request.expression_attribute_values(":refresh", s(refresh));
            }
            None => {
                request = request.condition_expression(
                    "attribute_exists(sealed_refresh_token) AND #status = :connected",
                );
            }
        }
        let request =
            request.update_expression(format!("SET {} ADD version :one", sets.join(", ")));
        if written(request.send().await)? {
            Ok(())
        } else {
            Err(Error::Conflict(
                "Google did not return a refresh token and none is stored; remove this app's access in your Google account and connect again".into(),
            ))
        }
    }

    /// Writes back a refreshed access token, unless another request refreshed (or the
    /// connection changed) since `version` was read: false then, and the caller re-reads.
    pub async fn store_refreshed_access(
        &self,
        tenant_id: &str,
        sealed_access_token: &str,
        access_expires_at: i64,
        version: u64,
    ) -> Result<bool> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::CALENDAR))
            .update_expression(
                "SET sealed_access_token = :access, access_expires_at = :expires, updated_at = :now ADD version :one",
            )
            .condition_expression("version = :version AND #status = :connected")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":access", s(sealed_access_token))
            .expression_attribute_values(":expires", n(access_expires_at))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":version", n(version))
            .expression_attribute_values(":connected", s(ConnectionStatus::Connected.as_str()))
            .send()
            .await;
        written(result)
    }

    /// Google refused the refresh token: the connection stays (so the tenant sees why) but
    /// is no longer used, and its access token is dropped.
    pub async fn mark_calendar_revoked(&self, tenant_id: &str) -> Result<()> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::CALENDAR))
            .update_expression(
                "SET #status = :revoked, updated_at = :now, revoked_at = :epoch REMOVE sealed_access_token ADD version :one",
            )
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":revoked", s(ConnectionStatus::Revoked.as_str()))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .expression_attribute_values(":epoch", AttributeValue::N(epoch_now().to_string()))
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        written(result).map(|_| ())
    }

    /// Forgets the connection (its tokens with it); true if there was one.
    pub async fn delete_calendar_connection(&self, tenant_id: &str) -> Result<bool> {
        let result = self
            .client()
            .delete_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::CALENDAR))
            .condition_expression("attribute_exists(PK)")
            .send()
            .await;
        written(result)
    }
}
