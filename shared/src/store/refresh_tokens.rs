//! Refresh tokens: opaque, single-use, stored only as a SHA-256 digest with a TTL, grouped in
//! families. Each login starts a family; each refresh consumes the presented token and issues
//! the next one in the same family. Presenting a token that was already used means it was
//! stolen (or replayed), so the whole family is revoked and the legitimate holder must log in
//! again. Logout revokes the family too.

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem, Update};

use super::{
    ItemExt, Store, cancellation_codes, conditional_failed, epoch_now, failed_condition, keys, n, s,
};
use crate::auth::{random_token, sha256_hex};
use crate::error::{Error, Result};

/// Who a refresh token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub user_id: String,
    pub tenant_id: String,
    pub email: String,
}

pub fn invalid() -> Error {
    Error::Unauthorized("Invalid refresh token".into())
}

impl Store {
    /// Starts a new family and returns its first token.
    pub async fn issue_refresh_token(&self, owner: &Owner, ttl_secs: i64) -> Result<String> {
        let family_id = ulid::Ulid::new().to_string().to_lowercase();
        let expires_at = epoch_now() + ttl_secs;
        let family = Put::builder()
            .table_name(self.table())
            .item(keys::PK, s(keys::family(&family_id)))
            .item(keys::SK, s(keys::FAMILY))
            .item("entity", s("refresh_family"))
            .item("tenant_id", s(&owner.tenant_id))
            .item("revoked", AttributeValue::Bool(false))
            .item(keys::TTL_ATTRIBUTE, n(expires_at))
            .condition_expression("attribute_not_exists(PK)")
            .build()?;
        let (token, put) = self.token_put(owner, &family_id, expires_at)?;
        self.client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(family).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await?;
        Ok(token)
    }

    fn token_put(&self, owner: &Owner, family_id: &str, expires_at: i64) -> Result<(String, Put)> {
        let token = random_token(32);
        let put = Put::builder()
            .table_name(self.table())
            .item(keys::PK, s(keys::refresh(&sha256_hex(&token))))
            .item(keys::SK, s(keys::REFRESH))
            .item("entity", s("refresh_token"))
            .item("user_id", s(&owner.user_id))
            .item("tenant_id", s(&owner.tenant_id))
            .item("email", s(&owner.email))
            .item("family_id", s(family_id))
            .item("used", AttributeValue::Bool(false))
            .item(keys::TTL_ATTRIBUTE, n(expires_at))
            .condition_expression("attribute_not_exists(PK)")
            .build()?;
        Ok((token, put))
    }

    /// Consumes `presented` and returns its owner and the next token of the family.
    /// Unknown, expired or revoked tokens give 401; a reused token also revokes the family.
    pub async fn rotate_refresh_token(&self, presented: &str) -> Result<(Owner, String)> {
        let hash_key = keys::refresh(&sha256_hex(presented));
        let item = self
            .get(hash_key.clone(), keys::REFRESH)
            .await?
            .ok_or_else(invalid)?;
        let family_id = item.str("family_id")?;
        let expires_at: i64 = item.num(keys::TTL_ATTRIBUTE)?;
        let now = epoch_now();
        if item.flag("used") {
            tracing::warn!(family = %family_id, "refresh token reused: revoking its family");
            self.revoke_family(&family_id).await?;
            return Err(invalid());
        }
        if expires_at <= now {
            return Err(invalid());
        }
        let owner = Owner {
            user_id: item.str("user_id")?,
            tenant_id: item.str("tenant_id")?,
            email: item.str("email")?,
        };
        // The family's lifetime is fixed at login: rotation does not extend it.
        let consume = Update::builder()
            .table_name(self.table())
            .key(keys::PK, s(&hash_key))
            .key(keys::SK, s(keys::REFRESH))
            .update_expression("SET #used = :true")
            .condition_expression("attribute_exists(PK) AND #used = :false")
            .expression_attribute_names("#used", "used")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .build()?;
        let family_live = ConditionCheck::builder()
            .table_name(self.table())
            .key(keys::PK, s(keys::family(&family_id)))
            .key(keys::SK, s(keys::FAMILY))
            .condition_expression("#revoked = :false")
            .expression_attribute_names("#revoked", "revoked")
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .build()?;
        // A deactivated (or deleted) user gets no new tokens.
        let user_active = ConditionCheck::builder()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(&owner.tenant_id)))
            .key(keys::SK, s(keys::USER))
            .condition_expression("is_active = :true")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .build()?;
        let (token, put) = self.token_put(&owner, &family_id, expires_at)?;
        let result = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(consume).build())
            .transact_items(
                TransactWriteItem::builder()
                    .condition_check(family_live)
                    .build(),
            )
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(
                TransactWriteItem::builder()
                    .condition_check(user_active)
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok((owner, token)),
            Err(e) => match cancellation_codes(&e) {
                // Someone used the same token a moment ago: a race between two holders.
                Some(codes) if failed_condition(&codes, 0) => {
                    tracing::warn!(family = %family_id, "concurrent refresh token reuse: revoking its family");
                    self.revoke_family(&family_id).await?;
                    Err(invalid())
                }
                Some(codes) if failed_condition(&codes, 1) => Err(invalid()),
                Some(codes) if failed_condition(&codes, 3) => {
                    self.revoke_family(&family_id).await?;
                    Err(invalid())
                }
                _ => Err(e.into()),
            },
        }
    }

    /// Revokes the family of `presented` (logout). Unknown tokens are ignored, so logout never
    /// tells a caller whether a token existed.
    pub async fn revoke_refresh_token(&self, presented: &str) -> Result<()> {
        let hash_key = keys::refresh(&sha256_hex(presented));
        if let Some(item) = self.get(hash_key, keys::REFRESH).await? {
            self.revoke_family(&item.str("family_id")?).await?;
        }
        Ok(())
    }

    async fn revoke_family(&self, family_id: &str) -> Result<()> {
        self.client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::family(family_id)))
            .key(keys::SK, s(keys::FAMILY))
            .update_expression("SET #revoked = :true")
            .expression_attribute_names("#revoked", "revoked")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                if conditional_failed(&e) {
                    Ok(())
                } else {
                    Err(e.into())
                }
            })
    }
}
