//! Custom scenarios. At most `max` per tenant: a counter on the user item is incremented under
//! a `< max` condition in the same transaction that writes the scenario, so the limit holds
//! under any concurrency.

use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};

use super::{
    Count, Item, ItemExt, Store, cancellation_codes, conditional_failed, failed_condition, keys,
    made_by_an_earlier_attempt, n, now_rfc3339, s,
};
use crate::domain::scenarios::CustomScenarioFields;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct CustomScenario {
    pub scenario_id: String,
    pub fields: CustomScenarioFields,
    pub created_at: String,
    pub updated_at: String,
}

fn not_found() -> Error {
    Error::NotFound("Custom scenario not found".into())
}

/// The fields a scenario may leave out, by attribute.
fn optional_fields(fields: &CustomScenarioFields) -> [(&'static str, Option<&String>); 2] {
    [
        ("transfer_number", fields.transfer_number.as_ref()),
        ("voicemail_message", fields.voicemail_message.as_ref()),
    ]
}

fn from_item(item: &Item) -> Result<CustomScenario> {
    Ok(CustomScenario {
        scenario_id: item.str("scenario_id")?,
        fields: CustomScenarioFields {
            persona: item.str("persona")?,
            prompt: item.str("prompt")?,
            voice_type: item.str("voice_type")?,
            temperature: item.num("temperature")?,
            transfer_number: item.opt_str("transfer_number"),
            voicemail_message: item.opt_str("voicemail_message"),
        },
        created_at: item.str("created_at")?,
        updated_at: item.str("updated_at")?,
    })
}

impl Store {
    /// Creates a scenario for the tenant; 400 when the tenant already has `max`.
    pub async fn create_scenario(
        &self,
        tenant_id: &str,
        fields: &CustomScenarioFields,
        max: u32,
    ) -> Result<CustomScenario> {
        // ULIDs sort by time, so listing the sort keys backwards gives newest first.
        let scenario_id = format!("custom_{}", ulid::Ulid::new().to_string().to_lowercase());
        let now = now_rfc3339();
        let pk = keys::tenant(tenant_id);
        let count = self.count_update(tenant_id, "scenario_count", Count::UpTo(max))?;
        let mut put = Put::builder()
            .table_name(self.table())
            .item(keys::PK, s(&pk))
            .item(keys::SK, s(keys::scenario(&scenario_id)))
            .item("entity", s("custom_scenario"))
            .item("scenario_id", s(&scenario_id))
            .item("persona", s(&fields.persona))
            .item("prompt", s(&fields.prompt))
            .item("voice_type", s(&fields.voice_type))
            .item("temperature", n(fields.temperature))
            .item("created_at", s(&now))
            .item("updated_at", s(&now))
            .condition_expression("attribute_not_exists(PK)");
        for (attribute, value) in optional_fields(fields) {
            if let Some(value) = value {
                put = put.item(attribute, s(value));
            }
        }
        let put = put.build()?;
        let result = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(count).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(CustomScenario {
                scenario_id,
                fields: fields.clone(),
                created_at: now.clone(),
                updated_at: now,
            }),
            Err(e) => match cancellation_codes(&e) {
                // The scenario's fresh key is taken: by this create's own first attempt.
                Some(codes) if failed_condition(&codes, 1) => {
                    made_by_an_earlier_attempt();
                    Ok(CustomScenario {
                        scenario_id,
                        fields: fields.clone(),
                        created_at: now.clone(),
                        updated_at: now,
                    })
                }
                Some(codes) if failed_condition(&codes, 0) => Err(Error::bad_request(format!(
                    "You have reached the maximum limit of {max} custom scenarios. Please delete an existing scenario before creating a new one."
                ))),
                _ => Err(e.into()),
            },
        }
    }

    /// The tenant's scenarios, newest first.
    pub async fn list_scenarios(&self, tenant_id: &str) -> Result<Vec<CustomScenario>> {
        self.query_prefix(keys::tenant(tenant_id), keys::SCENARIO_PREFIX, true)
            .await?
            .iter()
            .map(from_item)
            .collect()
    }

    pub async fn scenario(&self, tenant_id: &str, scenario_id: &str) -> Result<CustomScenario> {
        let item = self
            .get(keys::tenant(tenant_id), &keys::scenario(scenario_id))
            .await?
            .ok_or_else(not_found)?;
        from_item(&item)
    }

    /// Full replace of the editable fields; 404 when the tenant has no such scenario.
    pub async fn update_scenario(
        &self,
        tenant_id: &str,
        scenario_id: &str,
        fields: &CustomScenarioFields,
    ) -> Result<CustomScenario> {
        // A full replace: an optional field left out is removed.
        let mut sets = vec![
            "persona = :persona, prompt = :prompt, voice_type = :voice, temperature = :temp, updated_at = :now"
                .to_string(),
        ];
        let mut removes = Vec::new();
        let mut request = self.client().update_item();
        for (attribute, value) in optional_fields(fields) {
            match value {
                Some(value) => {
                    sets.push(format!("{attribute} = :{attribute}"));
                    request =
                        request.expression_attribute_values(format!(":{attribute}"), s(value));
                }
                None => removes.push(attribute),
            }
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let out = request
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::scenario(scenario_id)))
            .update_expression(expression)
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":persona", s(&fields.persona))
            .expression_attribute_values(":prompt", s(&fields.prompt))
            .expression_attribute_values(":voice", s(&fields.voice_type))
            .expression_attribute_values(":temp", n(fields.temperature))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match out {
            Ok(out) => from_item(&out.attributes.unwrap_or_default()),
            Err(e) if conditional_failed(&e) => Err(not_found()),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes the scenario and gives its slot back, atomically; 404 when it is not the
    /// tenant's.
    pub async fn delete_scenario(&self, tenant_id: &str, scenario_id: &str) -> Result<()> {
        let pk = keys::tenant(tenant_id);
        let delete = Delete::builder()
            .table_name(self.table())
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(keys::scenario(scenario_id)))
            .condition_expression("attribute_exists(PK)")
            .build()?;
        let count = self.count_update(tenant_id, "scenario_count", Count::Down)?;
        let result = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(delete).build())
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
}
