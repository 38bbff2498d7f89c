//! Users. A registered user is a tenant of their own: the tenant id is the user id.
//! The e-mail marker item makes e-mails unique and lets login find the user.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use super::{
    ItemExt, Store, cancellation_codes, conditional_failed, failed_condition, keys,
    made_by_an_earlier_attempt, n, now_rfc3339, s,
};
use crate::domain::onboarding::Step;
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub password_hash: String,
    pub is_active: bool,
    pub is_admin: bool,
    pub created_at: String,
    /// The name the agent addresses the person by on outbound calls, once set.
    pub name: Option<String>,
}

impl User {
    /// A new active user who is the owner of a new tenant.
    pub fn new(email: String, password_hash: String) -> User {
        let id = ulid::Ulid::new().to_string().to_lowercase();
        User {
            tenant_id: id.clone(),
            id,
            email,
            password_hash,
            is_active: true,
            is_admin: false,
            created_at: now_rfc3339(),
            name: None,
        }
    }
}

impl Store {
    /// Writes the user, its e-mail marker and its onboarding record in one transaction.
    /// A taken e-mail gives 409 and writes nothing.
    pub async fn create_user(&self, user: &User) -> Result<()> {
        let pk = keys::tenant(&user.tenant_id);
        let user_item = Put::builder()
            .table_name(self.table())
            .item(keys::PK, s(&pk))
            .item(keys::SK, s(keys::USER))
            .item("entity", s("user"))
            .item("user_id", s(&user.id))
            .item("tenant_id", s(&user.tenant_id))
            .item("email", s(&user.email))
            .item("password_hash", s(&user.password_hash))
            .item(
                "is_active",
                aws_sdk_dynamodb::types::AttributeValue::Bool(user.is_active),
            )
            .item(
                "is_admin",
                aws_sdk_dynamodb::types::AttributeValue::Bool(user.is_admin),
            )
            .item("scenario_count", n(0))
            .item("created_at", s(&user.created_at))
            .item(keys::GSI1PK, s(super::tenants::DIRECTORY))
            .item(
                keys::GSI1SK,
                s(super::tenants::directory_key(
                    &user.created_at,
                    &user.tenant_id,
                )),
            )
            .condition_expression("attribute_not_exists(PK)")
            .build()?;
        let marker = Put::builder()
            .table_name(self.table())
            .item(keys::PK, s(keys::email(&user.email)))
            .item(keys::SK, s(keys::EMAIL))
            .item("entity", s("email"))
            .item("user_id", s(&user.id))
            .item("tenant_id", s(&user.tenant_id))
            .condition_expression("attribute_not_exists(PK)")
            .build()?;
        let mut onboarding = Put::builder()
            .table_name(self.table())
            .item(keys::PK, s(&pk))
            .item(keys::SK, s(keys::ONBOARDING))
            .item("entity", s("onboarding"))
            .item("started_at", s(now_rfc3339()))
            .condition_expression("attribute_not_exists(PK)");
        for step in Step::ALL {
            onboarding = onboarding.item(
                step.flag(),
                aws_sdk_dynamodb::types::AttributeValue::Bool(false),
            );
        }
        let result = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(user_item).build())
            .transact_items(TransactWriteItem::builder().put(marker).build())
            .transact_items(
                TransactWriteItem::builder()
                    .put(onboarding.build()?)
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match cancellation_codes(&e) {
                // The new tenant's key is taken: by this registration's own first attempt.
                Some(codes) if failed_condition(&codes, 0) => {
                    made_by_an_earlier_attempt();
                    Ok(())
                }
                Some(codes) if failed_condition(&codes, 1) => {
                    Err(Error::Conflict("Email already registered".into()))
                }
                _ => Err(e.into()),
            },
        }
    }

    pub async fn user(&self, tenant_id: &str) -> Result<Option<User>> {
        let Some(item) = self.get(keys::tenant(tenant_id), keys::USER).await? else {
            return Ok(None);
        };
        Ok(Some(User {
            id: item.str("user_id")?,
            tenant_id: item.str("tenant_id")?,
            email: item.str("email")?,
            password_hash: item.str("password_hash")?,
            is_active: item.flag("is_active"),
            is_admin: item.flag("is_admin"),
            created_at: item.str("created_at")?,
            name: item.opt_str("name"),
        }))
    }

    /// Sets the user's name (see [`User::name`]); `false` if the user no longer exists.
    pub async fn set_user_name(&self, tenant_id: &str, name: &str) -> Result<bool> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::USER))
            .update_expression("SET #name = :name, updated_at = :now")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#name", "name")
            .expression_attribute_values(":name", s(name))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if conditional_failed(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the tenant's user exists and is active: checked on every request an access
    /// token makes, so deactivating a user takes effect at once, not when tokens expire.
    pub async fn is_active_user(&self, tenant_id: &str) -> Result<bool> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::USER))
            .projection_expression("is_active")
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item.is_some_and(|item| item.flag("is_active")))
    }

    /// Looks a user up by normalised e-mail through the marker (strongly consistent).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let Some(marker) = self.get(keys::email(email), keys::EMAIL).await? else {
            return Ok(None);
        };
        self.user(&marker.str("tenant_id")?).await
    }
}

impl Store {
    /// The scenario inbound calls to the tenant's numbers use, if the tenant chose one.
    pub async fn inbound_scenario(&self, tenant_id: &str) -> Result<Option<String>> {
        Ok(self
            .get(keys::tenant(tenant_id), keys::USER)
            .await?
            .and_then(|item| item.opt_str("inbound_scenario")))
    }

    pub async fn set_inbound_scenario(&self, tenant_id: &str, scenario: &str) -> Result<()> {
        self.client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::USER))
            .update_expression("SET inbound_scenario = :scenario")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":scenario", s(scenario))
            .send()
            .await?;
        Ok(())
    }
}
