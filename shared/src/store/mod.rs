//! The DynamoDB single-table store: key design in [`keys`], the table definition in
//! [`schema`], one module per entity.
//!
//! Every tenant-owned read and write takes the tenant id from the verified token (see
//! `http::extract::AuthUser`) and builds its key with [`keys::tenant`], so no query can reach
//! another tenant's partition. Uniqueness and limits are DynamoDB conditions inside
//! transactions, so they hold across concurrent Lambda instances.

pub mod access;
pub mod audit;
pub mod calendar;
pub mod calls;
pub mod kept_jobs;
pub mod keys;
pub mod numbers;
pub mod onboarding;
pub mod pages;
pub mod rate_limits;
pub mod refresh_tokens;
pub mod scenarios;
pub mod schedules;
pub mod schema;
pub mod tenants;
pub mod transcripts;
pub mod usage;
pub mod users;
pub mod webhooks;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Update};

use crate::error::{Error, Result};

pub type Item = HashMap<String, AttributeValue>;

#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

/// A table call that has not answered in this long is tried again (the SDK's standard retry);
/// the whole call, retries included, gives up after [`OPERATION_TIMEOUT`]. DynamoDB answers in
/// milliseconds, so waiting longer only holds a request (and its Lambda) past any use: the
/// client gets a 503 it can retry well inside the API's 10-second function timeout.
pub const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);
pub const OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(8);

/// The DynamoDB client of the store, with the timeouts above (the SDK sets none by default).
pub fn client(sdk: &aws_config::SdkConfig) -> Client {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(sdk)
            .timeout_config(timeouts)
            .build(),
    )
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// One read of a key no item has: the table answers, with these credentials and this
    /// endpoint. Also sets up what the first real request would otherwise pay for (the
    /// credentials, the endpoint, the connection).
    pub async fn check_reachable(&self) -> Result<()> {
        self.get(keys::PROBE.to_string(), keys::PROBE)
            .await
            .map(drop)
    }

    /// A strongly consistent read of one item.
    async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item)
    }

    /// Every item of the partition whose sort key starts with `prefix`, all pages, in sort-key
    /// order (reversed when `newest_first`, for ULID keys).
    async fn query_prefix(
        &self,
        pk: String,
        prefix: &str,
        newest_first: bool,
    ) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":prefix", s(prefix))
                .scan_index_forward(!newest_first)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Adds one to the `hits` counter of a window item unless it already reached `max`;
    /// false when it had. The item expires (TTL) at `expires_at`. Daily caps and the
    /// calls-per-second budget are both this.
    async fn increment_below(
        &self,
        pk: String,
        sk: &str,
        max: u32,
        expires_at: i64,
    ) -> Result<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .update_expression("ADD hits :one SET #ttl = :expires")
            .condition_expression("attribute_not_exists(hits) OR hits < :max")
            .expression_attribute_names("#ttl", keys::TTL_ATTRIBUTE)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max))
            .expression_attribute_values(":expires", n(expires_at))
            .send()
            .await;
        written(result)
    }

    /// The transaction action that moves a per-tenant count on the user item: up by one only
    /// while below `max` (a limit such as 20 scenarios), or down by one (never below zero).
    fn count_update(&self, tenant_id: &str, attribute: &str, change: Count) -> Result<Update> {
        let builder = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::USER));
        let builder = match change {
            Count::UpTo(max) => builder
                .update_expression(format!("ADD {attribute} :one"))
                .condition_expression(format!(
                    "attribute_exists(PK) AND (attribute_not_exists({attribute}) OR {attribute} < :max)"
                ))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":max", n(max)),
            Count::Down => builder
                .update_expression(format!("ADD {attribute} :minus_one"))
                .condition_expression(format!("{attribute} > :zero"))
                .expression_attribute_values(":minus_one", n(-1))
                .expression_attribute_values(":zero", n(0)),
        };
        Ok(builder.build()?)
    }

    /// Whether the partition holds at least one item whose sort key starts with `prefix`.
    async fn any_with_prefix(&self, pk: String, prefix: &str) -> Result<bool> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
            .limit(1)
            .send()
            .await?;
        Ok(out.count > 0)
    }
}

/// How [`Store::count_update`] moves a count.
pub(crate) enum Count {
    UpTo(u32),
    Down,
}

/// A `SET` update expression assembled from optional parts. It carries exactly the values its
/// clauses use: real DynamoDB rejects unused expression values (moto does not, so tests would
/// not catch it).
#[derive(Default)]
pub(crate) struct SetClauses {
    clauses: Vec<String>,
    values: Vec<(String, AttributeValue)>,
    names: Vec<(String, String)>,
}

impl SetClauses {
    /// `attribute = :attribute`; a reserved word is written `#name` and aliased for you.
    pub(crate) fn set(mut self, attribute: &str, value: AttributeValue) -> Self {
        let bare = attribute.trim_start_matches('#');
        if attribute.starts_with('#') {
            self.names.push((attribute.to_string(), bare.to_string()));
        }
        self.clauses.push(format!("{attribute} = :{bare}"));
        self.values.push((format!(":{bare}"), value));
        self
    }

    /// `attribute = if_not_exists(attribute, :attribute)`: set once, then kept.
    pub(crate) fn set_once(mut self, attribute: &str, value: AttributeValue) -> Self {
        self.clauses.push(format!(
            "{attribute} = if_not_exists({attribute}, :{attribute})"
        ));
        self.values.push((format!(":{attribute}"), value));
        self
    }

    pub(crate) fn set_some(self, attribute: &str, value: Option<AttributeValue>) -> Self {
        match value {
            Some(v) => self.set(attribute, v),
            None => self,
        }
    }

    /// Applies the expression, its values and names to an `UpdateItem` request.
    pub(crate) fn apply(
        self,
        mut request: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        request = request.update_expression(format!("SET {}", self.clauses.join(", ")));
        for (k, v) in self.values {
            request = request.expression_attribute_values(k, v);
        }
        for (k, v) in self.names {
            request = request.expression_attribute_names(k, v);
        }
        request
    }
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Reading attributes out of an item.
pub(crate) trait ItemExt {
    fn str(&self, key: &str) -> Result<String>;
    fn opt_str(&self, key: &str) -> Option<String>;
    fn num<T: std::str::FromStr>(&self, key: &str) -> Result<T>;
    fn flag(&self, key: &str) -> bool;
}

impl ItemExt for Item {
    fn str(&self, key: &str) -> Result<String> {
        self.opt_str(key)
            .ok_or_else(|| Error::internal(format!("item lacks string attribute {key}")))
    }

    fn opt_str(&self, key: &str) -> Option<String> {
        match self.get(key) {
            Some(AttributeValue::S(v)) => Some(v.clone()),
            _ => None,
        }
    }

    fn num<T: std::str::FromStr>(&self, key: &str) -> Result<T> {
        match self.get(key) {
            Some(AttributeValue::N(v)) => v
                .parse()
                .map_err(|_| Error::internal(format!("attribute {key} is not a number"))),
            _ => Err(Error::internal(format!(
                "item lacks number attribute {key}"
            ))),
        }
    }

    fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some(AttributeValue::Bool(true)))
    }
}

/// The per-action cancellation codes of a cancelled transaction (in request order), or `None`
/// if the error is something else.
pub(crate) fn cancellation_codes<R>(
    err: &SdkError<TransactWriteItemsError, R>,
) -> Option<Vec<String>> {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => Some(
            e.cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None").to_string())
                .collect(),
        ),
        _ => None,
    }
}

/// The answer to a write that creates an item under a key this request minted moments ago (a
/// ULID). When the answer to the first attempt is lost (a dropped connection, a timeout after
/// the write), the SDK sends the write again and the retry finds the item the first attempt
/// made: no other request can have made that key, so the item is this request's own and the
/// create succeeded. (Real DynamoDB makes a retried transaction idempotent by its client
/// request token; a single put has no such token, and moto honours neither.)
pub(crate) fn created<T, E, R>(result: std::result::Result<T, SdkError<E, R>>) -> Result<()>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) if conditional_failed(&e) => {
            made_by_an_earlier_attempt();
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Logs a create whose retry found the item its first attempt made (see [`created`]).
pub(crate) fn made_by_an_earlier_attempt() {
    tracing::warn!("a create was retried after its answer was lost; its first attempt had made it");
}

/// Whether a single-item write failed its condition expression.
pub(crate) fn conditional_failed<E, R>(e: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|se| se.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

/// Whether a conditional write was made: `false` when its condition did not hold, the error
/// for any other failure.
pub(crate) fn written<T, E, R>(result: std::result::Result<T, SdkError<E, R>>) -> Result<bool>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if conditional_failed(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The answer to a transaction whose first action carries the condition that matters (the
/// others cannot fail theirs): `false` when that condition did not hold, the error otherwise.
pub(crate) fn first_condition_held<T, R>(
    result: std::result::Result<T, SdkError<TransactWriteItemsError, R>>,
) -> Result<bool>
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) => match cancellation_codes(&e) {
            Some(codes) if failed_condition(&codes, 0) => Ok(false),
            _ => Err(e.into()),
        },
    }
}

pub(crate) fn failed_condition(codes: &[String], index: usize) -> bool {
    codes.get(index).map(String::as_str) == Some("ConditionalCheckFailed")
}

impl From<aws_sdk_dynamodb::error::BuildError> for Error {
    fn from(e: aws_sdk_dynamodb::error::BuildError) -> Self {
        Error::internal(format!("building a DynamoDB request: {e}"))
    }
}

/// Seconds since the epoch, as DynamoDB's TTL wants them.
pub(crate) fn epoch_now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// moto accepts unused expression values, real DynamoDB does not: check it here.
    #[test]
    fn set_clauses_carry_exactly_the_values_they_use() {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .build();
        let client = Client::from_conf(config);
        let request = SetClauses::default()
            .set("#status", s("completed"))
            .set_some("duration_seconds", Some(n(7)))
            .set_some("recording_sid", None)
            .apply(client.update_item());
        assert_eq!(
            request.get_update_expression().as_deref(),
            Some("SET #status = :status, duration_seconds = :duration_seconds")
        );
        let mut values: Vec<_> = request
            .get_expression_attribute_values()
            .clone()
            .unwrap_or_default()
            .into_keys()
            .collect();
        values.sort();
        assert_eq!(values, [":duration_seconds", ":status"]);
        assert_eq!(
            request
                .get_expression_attribute_names()
                .clone()
                .unwrap_or_default()["#status"],
            "status"
        );
    }
}
