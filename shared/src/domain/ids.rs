//! Ids that arrive from outside (paths, query strings, bodies, webhook URLs and forms), parsed
//! before they get anywhere near a DynamoDB key.
//!
//! Every id the platform mints is a lowercase ULID, some with a prefix (`custom_` for custom
//! scenarios); Twilio's SIDs are two letters and 32 hex digits. Anything else cannot name an
//! item, so it is refused as invalid input: that also keeps an oversized value from reaching
//! DynamoDB, which rejects keys over its size limits (moto does not, so only this check stands
//! between such input and a 500 on AWS).

use std::marker::PhantomData;

use crate::error::FieldError;

/// What distinguishes one kind of minted id from another.
pub trait Kind {
    /// Text before the ULID (empty for most).
    const PREFIX: &'static str;
    /// How errors describe it: "a call id".
    const WHAT: &'static str;
}

/// An id the platform minted: `PREFIX` followed by a lowercase ULID.
pub struct Id<K: Kind>(String, PhantomData<K>);

impl<K: Kind> Id<K> {
    /// A fresh id (ULIDs sort by creation time, so items keyed by them list in order).
    pub fn generate() -> Self {
        Self(
            format!(
                "{}{}",
                K::PREFIX,
                ulid::Ulid::new().to_string().to_lowercase()
            ),
            PhantomData,
        )
    }

    /// Accepts exactly what [`Id::generate`] produces; `field` names the input in the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        let invalid = || FieldError::new(field, format!("is not {}", K::WHAT));
        let ulid = raw.strip_prefix(K::PREFIX).ok_or_else(invalid)?;
        let canonical = ulid.len() == ulid::ULID_LEN
            && ulid
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
            && ulid::Ulid::from_string(ulid).is_ok();
        if !canonical {
            return Err(invalid());
        }
        Ok(Self(raw.to_string(), PhantomData))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<K: Kind> Clone for Id<K> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<K: Kind> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<K: Kind> std::fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<K: Kind> std::fmt::Display for Id<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub struct CallKind;
impl Kind for CallKind {
    const PREFIX: &'static str = "";
    const WHAT: &'static str = "a call id";
}

pub struct ScheduleKind;
impl Kind for ScheduleKind {
    const PREFIX: &'static str = "";
    const WHAT: &'static str = "a scheduled call id";
}

pub struct ScenarioKind;
impl Kind for ScenarioKind {
    const PREFIX: &'static str = "custom_";
    const WHAT: &'static str = "a custom scenario id";
}

pub struct TenantKind;
impl Kind for TenantKind {
    const PREFIX: &'static str = "";
    const WHAT: &'static str = "a tenant id";
}

pub struct WebhookKind;
impl Kind for WebhookKind {
    const PREFIX: &'static str = "";
    const WHAT: &'static str = "a webhook id";
}

pub type CallId = Id<CallKind>;
pub type WebhookId = Id<WebhookKind>;
pub type ScheduleId = Id<ScheduleKind>;
pub type ScenarioId = Id<ScenarioKind>;
pub type TenantId = Id<TenantKind>;

/// A Twilio SID: a two-letter type prefix (`CA` for calls, `RE` for recordings) and 32 hex
/// digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sid(String);

impl Sid {
    pub fn parse(raw: &str, prefix: &str, field: &str) -> Result<Sid, FieldError> {
        let valid = raw.len() == 34
            && raw.starts_with(prefix)
            && raw[2..].bytes().all(|b| b.is_ascii_hexdigit());
        if valid {
            Ok(Sid(raw.to_string()))
        } else {
            Err(FieldError::new(
                field,
                format!("is not a Twilio {prefix} SID ({prefix} and 32 hex digits)"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_ids_parse_and_nothing_else_does() {
        let id = CallId::generate();
        assert_eq!(CallId::parse(id.as_str(), "call_id").unwrap(), id);
        let scenario = ScenarioId::generate();
        assert!(scenario.as_str().starts_with("custom_"));
        assert!(ScenarioId::parse(scenario.as_str(), "scenario_id").is_ok());
        for bad in [
            "",
            "01ARZ3NDEKTSV4RRFFQ69G5FAV", // upper case: not what we mint
            "01arz3ndektsv4rrffq69g5fa",  // 25 characters
            "01arz3ndektsv4rrffq69g5favx", // 27
            "01arz3ndektsv4rrffq69g5fa!",
            &"a".repeat(2000), // over DynamoDB's key size limit
        ] {
            let err = CallId::parse(bad, "call_id").unwrap_err();
            assert_eq!(err.field, "call_id");
        }
        assert!(ScenarioId::parse(id.as_str(), "scenario_id").is_err());
    }

    #[test]
    fn sids_have_their_prefix_and_32_hex_digits() {
        let sid = format!("CA{}", "0a".repeat(16));
        assert!(Sid::parse(&sid, "CA", "CallSid").is_ok());
        assert!(Sid::parse(&sid, "RE", "RecordingSid").is_err());
        assert!(Sid::parse("CA123", "CA", "CallSid").is_err());
        assert!(Sid::parse(&format!("{sid}0"), "CA", "CallSid").is_err());
    }
}
