//! Phone numbers owned by tenants. A number is unique across the platform through its marker
//! item (`PHONE#<e164>`), which is also how an inbound call finds its tenant. Buying is two
//! steps around the Twilio purchase: reserve (marker + counter under the per-tenant maximum +
//! a `provisioning` item, in one transaction), then activate or roll back.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};

use super::{
    Count, Item, ItemExt, SetClauses, Store, cancellation_codes, failed_condition, keys,
    now_rfc3339, s,
};
use crate::domain::phone::NumberStatus;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct PhoneNumber {
    pub phone_number: String,
    pub twilio_sid: Option<String>,
    pub friendly_name: Option<String>,
    pub status: NumberStatus,
    pub voice: bool,
    pub sms: bool,
    pub created_at: String,
}

pub fn not_found() -> Error {
    Error::NotFound("Phone number not found".into())
}

fn from_item(item: &Item) -> Result<PhoneNumber> {
    Ok(PhoneNumber {
        phone_number: item.str("phone_number")?,
        twilio_sid: item.opt_str("twilio_sid"),
        friendly_name: item.opt_str("friendly_name"),
        status: item
            .str("status")?
            .parse()
            .map_err(|_| Error::internal("phone number with an unknown status"))?,
        voice: item.flag("voice"),
        sms: item.flag("sms"),
        created_at: item.str("created_at")?,
    })
}

impl Store {
    /// Reserves `number` for the tenant: 400 at the per-tenant maximum, 409 when the number
    /// already belongs to anyone (this tenant included). Writes nothing on refusal.
    pub async fn reserve_number(&self, tenant_id: &str, number: &str, max: u32) -> Result<()> {
        let pk = keys::tenant(tenant_id);
        let count = self.count_update(tenant_id, "number_count", Count::UpTo(max))?;
        let marker = Put::builder()
            .table_name(self.table())
            .item(keys::PK, s(keys::phone(number)))
            .item(keys::SK, s(keys::PHONE))
            .item("entity", s("phone_marker"))
            .item("tenant_id", s(tenant_id))
            .condition_expression("attribute_not_exists(PK)")
            .build()?;
        let item = Put::builder()
            .table_name(self.table())
            .item(keys::PK, s(&pk))
            .item(keys::SK, s(keys::number(number)))
            .item("entity", s("phone_number"))
            .item("phone_number", s(number))
            .item("status", s(NumberStatus::Provisioning.as_str()))
            .item("voice", AttributeValue::Bool(true))
            .item("sms", AttributeValue::Bool(false))
            .item("created_at", s(now_rfc3339()))
            .condition_expression("attribute_not_exists(PK)")
            .build()?;
        let result = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(count).build())
            .transact_items(TransactWriteItem::builder().put(marker).build())
            .transact_items(TransactWriteItem::builder().put(item).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match cancellation_codes(&e) {
                Some(codes) if failed_condition(&codes, 0) => Err(Error::bad_request(format!(
                    "Maximum number of phone numbers reached ({max})"
                ))),
                Some(codes) if failed_condition(&codes, 1) || failed_condition(&codes, 2) => Err(
                    Error::Conflict("This phone number is already provisioned".into()),
                ),
                _ => Err(e.into()),
            },
        }
    }

    /// Records the purchase of a reserved number.
    pub async fn activate_number(
        &self,
        tenant_id: &str,
        number: &str,
        twilio_sid: &str,
        friendly_name: Option<&str>,
        voice: bool,
        sms: bool,
    ) -> Result<PhoneNumber> {
        let update = SetClauses::default()
            .set("#status", s(NumberStatus::Active.as_str()))
            .set("twilio_sid", s(twilio_sid))
            .set("voice", AttributeValue::Bool(voice))
            .set("sms", AttributeValue::Bool(sms))
            .set_some("friendly_name", friendly_name.map(s))
            .apply(self.client().update_item())
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::number(number)))
            .condition_expression("attribute_exists(PK)")
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        from_item(&update.send().await?.attributes.unwrap_or_default())
    }

    /// Removes the tenant's number, its marker and its slot in one transaction; 404 when the
    /// tenant has no such number.
    pub async fn remove_number(&self, tenant_id: &str, number: &str) -> Result<()> {
        let pk = keys::tenant(tenant_id);
        let item = Delete::builder()
            .table_name(self.table())
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(keys::number(number)))
            .condition_expression("attribute_exists(PK)")
            .build()?;
        let marker = Delete::builder()
            .table_name(self.table())
            .key(keys::PK, s(keys::phone(number)))
            .key(keys::SK, s(keys::PHONE))
            .condition_expression("tenant_id = :tenant")
            .expression_attribute_values(":tenant", s(tenant_id))
            .build()?;
        let count = self.count_update(tenant_id, "number_count", Count::Down)?;
        let result = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(item).build())
            .transact_items(TransactWriteItem::builder().delete(marker).build())
            .transact_items(TransactWriteItem::builder().update(count).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match cancellation_codes(&e) {
                Some(codes) if failed_condition(&codes, 0) => Err(not_found()),
                _ => Err(e.into()),
            },
        }
    }

    /// The tenant's numbers, oldest first (so the first one is the primary).
    pub async fn numbers(&self, tenant_id: &str) -> Result<Vec<PhoneNumber>> {
        let items = self
            .query_prefix(keys::tenant(tenant_id), keys::NUMBER_PREFIX, false)
            .await?;
        let mut numbers = items.iter().map(from_item).collect::<Result<Vec<_>>>()?;
        numbers.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(numbers)
    }

    pub async fn number(&self, tenant_id: &str, number: &str) -> Result<PhoneNumber> {
        let item = self
            .get(keys::tenant(tenant_id), &keys::number(number))
            .await?
            .ok_or_else(not_found)?;
        from_item(&item)
    }

    /// The tenant that owns `number`, if any (how inbound calls are routed).
    pub async fn number_owner(&self, number: &str) -> Result<Option<String>> {
        Ok(match self.get(keys::phone(number), keys::PHONE).await? {
            Some(marker) => Some(marker.str("tenant_id")?),
            None => None,
        })
    }
}
