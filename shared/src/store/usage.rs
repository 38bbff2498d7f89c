//! Usage aggregates: one item per tenant and UTC day (`USAGE#<date>`) and one per month
//! (`USAGEMONTH#<yyyy-mm>`, which the monthly cap reads in one `GetItem`), moved on with `ADD`
//! in the same transaction that marks the call as metered. A call's end reported twice (a
//! retried write, a repeated callback) fails the marker's condition and counts nothing, so each
//! call is counted exactly once, on the UTC day it was metered.

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use chrono::NaiveDate;

use super::{Item, ItemExt, Store, first_condition_held, keys, n, now_rfc3339, s};
use crate::domain::usage::{CallTime, DIRECTIONS, Tally, Tokens, month_of};
use crate::error::Result;

/// What is being metered about a call; each is counted once per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metered {
    /// The call's time and tokens, when it ended.
    Call,
    /// Its recording's transcription, when the transcript was asked for.
    Transcription,
    /// Its transfer's time with the person, when the `<Dial>` reported it.
    Transfer,
}

impl Metered {
    /// The call record's attribute that says it was counted.
    fn marker(self) -> &'static str {
        match self {
            Metered::Call => "usage_metered_at",
            Metered::Transcription => "transcription_metered_at",
            Metered::Transfer => "transfer_metered_at",
        }
    }
}

impl Store {
    /// Adds `tally` to the tenant's usage of today and of this month, once per call and
    /// [`Metered`] kind. `false` if it was counted before (or the call no longer exists).
    pub async fn meter(
        &self,
        tenant_id: &str,
        call_id: &str,
        what: Metered,
        tally: &Tally,
    ) -> Result<bool> {
        let today = chrono::Utc::now().date_naive();
        let mark = Update::builder()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .update_expression(format!("SET {} = :now", what.marker()))
            .condition_expression(format!(
                "attribute_exists(PK) AND attribute_not_exists({})",
                what.marker()
            ))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .build()?;
        let result = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(mark).build())
            .transact_items(
                TransactWriteItem::builder()
                    .update(self.add_usage(
                        tenant_id,
                        keys::usage_day(&today.to_string()),
                        tally,
                    )?)
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .update(self.add_usage(
                        tenant_id,
                        keys::usage_month(&month_of(today)),
                        tally,
                    )?)
                    .build(),
            )
            .send()
            .await;
        first_condition_held(result)
    }

    /// `ADD`s every attribute of `tally` to one aggregate item (made by the first `ADD`).
    fn add_usage(&self, tenant_id: &str, sk: String, tally: &Tally) -> Result<Update> {
        let mut builder = Update::builder()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(sk));
        let mut adds = Vec::new();
        for (attribute, value) in attributes(tally) {
            adds.push(format!("{attribute} :{attribute}"));
            builder = builder.expression_attribute_values(format!(":{attribute}"), n(value));
        }
        Ok(builder
            .update_expression(format!("ADD {}", adds.join(", ")))
            .build()?)
    }

    /// The tenant's usage per UTC day from `from` to `to` (inclusive), days without usage
    /// left out, oldest first.
    pub async fn usage_days(
        &self,
        tenant_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(NaiveDate, Tally)>> {
        let mut days = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(keys::tenant(tenant_id)))
                .expression_attribute_values(":from", s(keys::usage_day(&from.to_string())))
                .expression_attribute_values(":to", s(keys::usage_day(&to.to_string())))
                .set_exclusive_start_key(start)
                .send()
                .await?;
            for item in out.items() {
                let date = item
                    .str(keys::SK)?
                    .trim_start_matches(keys::USAGE_DAY_PREFIX)
                    .parse::<NaiveDate>()
                    .map_err(|_| {
                        crate::error::Error::internal("a usage item's key is not a date")
                    })?;
                days.push((date, tally(item)));
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(days);
            }
        }
    }

    /// The tenant's usage in the UTC month `YYYY-MM` so far.
    pub async fn month_usage(&self, tenant_id: &str, month: &str) -> Result<Tally> {
        Ok(self
            .get(keys::tenant(tenant_id), &keys::usage_month(month))
            .await?
            .map(|item| tally(&item))
            .unwrap_or_default())
    }
}

/// Every counter of a tally under its attribute name; zeros are left out (an `ADD` of nothing),
/// except that a call always counts one.
fn attributes(tally: &Tally) -> Vec<(String, u64)> {
    let mut all = Vec::new();
    for direction in DIRECTIONS {
        let time = tally.channel(direction);
        all.push((format!("calls_{}", direction.as_str()), time.calls));
        all.push((format!("seconds_{}", direction.as_str()), time.seconds));
    }
    all.push(("calls_transferred".into(), tally.transferred.calls));
    all.push(("seconds_transferred".into(), tally.transferred.seconds));
    for (kind, count) in tally.tokens.by_kind() {
        all.push((format!("tokens_{kind}"), count));
    }
    all.push(("transcription_seconds".into(), tally.transcription_seconds));
    all.retain(|(_, value)| *value > 0);
    if all.is_empty() {
        // An update needs something to do; a tally of nothing adds zero.
        all.push(("transcription_seconds".into(), 0));
    }
    all
}

fn tally(item: &Item) -> Tally {
    let count = |attribute: &str| item.num::<u64>(attribute).unwrap_or(0);
    let time = |direction: crate::domain::calls::Direction| CallTime {
        calls: count(&format!("calls_{}", direction.as_str())),
        seconds: count(&format!("seconds_{}", direction.as_str())),
    };
    Tally {
        phone_inbound: time(crate::domain::calls::Direction::Inbound),
        phone_outbound: time(crate::domain::calls::Direction::Outbound),
        browser: time(crate::domain::calls::Direction::Browser),
        transferred: CallTime {
            calls: count("calls_transferred"),
            seconds: count("seconds_transferred"),
        },
        tokens: Tokens {
            input_text: count("tokens_input_text"),
            input_audio: count("tokens_input_audio"),
            output_text: count("tokens_output_text"),
            output_audio: count("tokens_output_audio"),
        },
        transcription_seconds: count("transcription_seconds"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calls::Direction;

    #[test]
    fn a_tally_survives_its_attributes() {
        let mut original = Tally::of_call(
            Direction::Browser,
            42,
            Tokens {
                input_text: 1,
                input_audio: 2,
                output_text: 3,
                output_audio: 4,
            },
        );
        original.add(&Tally::of_transfer(30));
        let item: Item = attributes(&original)
            .into_iter()
            .map(|(k, v)| (k, n(v)))
            .collect();
        assert_eq!(tally(&item), original);
        assert!(
            !item.contains_key("seconds_inbound"),
            "zeros are not written"
        );
    }
}
