//! The onboarding record and the live state its steps are detected from.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::{Item, ItemExt, Store, keys, now_rfc3339, s};
use crate::domain::onboarding::{Flags, Onboarding, Step};
use crate::error::Result;

/// What the tenant has right now, read from the items later features write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveState {
    pub has_number: bool,
    pub calendar_connected: bool,
    pub has_scenarios: bool,
    /// A call has been completed (answered and ended normally).
    pub has_call: bool,
}

impl LiveState {
    pub fn flags(&self) -> Flags {
        Flags {
            phone_number_setup: self.has_number,
            calendar_connected: self.calendar_connected,
            first_scenario_created: self.has_scenarios,
            welcome_call_completed: self.has_call,
        }
    }

    pub fn has(&self, step: Step) -> bool {
        self.flags().get(step)
    }
}

impl Store {
    /// Whether the partition holds a completed call (a failed or unanswered attempt is not a
    /// first call). Newest first, so an active tenant answers on the first page.
    async fn any_completed_call(&self, pk: String) -> Result<bool> {
        let mut start = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .filter_expression("#status = :completed")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":prefix", s(keys::CALL_PREFIX))
                .expression_attribute_values(":completed", s("completed"))
                .scan_index_forward(false)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            if out.count > 0 {
                return Ok(true);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(false),
            }
        }
    }

    pub async fn onboarding_live_state(&self, tenant_id: &str) -> Result<LiveState> {
        let pk = keys::tenant(tenant_id);
        let (has_number, calendar, has_scenarios, has_call) = tokio::try_join!(
            self.any_with_prefix(pk.clone(), keys::NUMBER_PREFIX),
            self.get(pk.clone(), keys::CALENDAR),
            self.any_with_prefix(pk.clone(), keys::SCENARIO_PREFIX),
            self.any_completed_call(pk.clone()),
        )?;
        Ok(LiveState {
            has_number,
            // A revoked grant is not a live connection.
            calendar_connected: calendar
                .is_some_and(|item| item.opt_str("status").as_deref() == Some("connected")),
            has_scenarios,
            has_call,
        })
    }

    /// Creates the record if missing and turns on the `completed` steps (flags never go back
    /// to false). Sets `completed_at` the first time every step is done.
    pub async fn record_onboarding(&self, tenant_id: &str, completed: Flags) -> Result<Onboarding> {
        let pk = keys::tenant(tenant_id);
        let mut sets = vec![
            "entity = :entity".to_string(),
            "started_at = if_not_exists(started_at, :now)".to_string(),
        ];
        let (mut uses_true, mut uses_false) = (false, false);
        for step in Step::ALL {
            if completed.get(step) {
                sets.push(format!("{0} = :true", step.flag()));
                uses_true = true;
            } else {
                sets.push(format!("{0} = if_not_exists({0}, :false)", step.flag()));
                uses_false = true;
            }
        }
        let mut request = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(keys::ONBOARDING))
            .update_expression(format!("SET {}", sets.join(", ")))
            .expression_attribute_values(":entity", s("onboarding"))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .return_values(ReturnValue::AllNew);
        // Real DynamoDB rejects unused expression values, so add only the ones referenced.
        if uses_true {
            request = request.expression_attribute_values(":true", AttributeValue::Bool(true));
        }
        if uses_false {
            request = request.expression_attribute_values(":false", AttributeValue::Bool(false));
        }
        let item = request.send().await?.attributes.unwrap_or_default();
        let mut onboarding = from_item(tenant_id, &item)?;
        if onboarding.flags.completed() == Step::ALL.len() && onboarding.completed_at.is_none() {
            let out = self
                .client()
                .update_item()
                .table_name(self.table())
                .key(keys::PK, s(&pk))
                .key(keys::SK, s(keys::ONBOARDING))
                .update_expression("SET completed_at = if_not_exists(completed_at, :now)")
                .expression_attribute_values(":now", s(now_rfc3339()))
                .return_values(ReturnValue::AllNew)
                .send()
                .await?;
            onboarding = from_item(tenant_id, &out.attributes.unwrap_or_default())?;
        }
        Ok(onboarding)
    }
}

fn from_item(tenant_id: &str, item: &Item) -> Result<Onboarding> {
    Ok(Onboarding {
        user_id: tenant_id.to_string(),
        flags: Flags {
            phone_number_setup: item.flag(Step::PhoneSetup.flag()),
            calendar_connected: item.flag(Step::Calendar.flag()),
            first_scenario_created: item.flag(Step::Scenarios.flag()),
            welcome_call_completed: item.flag(Step::WelcomeCall.flag()),
        },
        started_at: item.str("started_at")?,
        completed_at: item.opt_str("completed_at"),
    })
}
