//! The stream token: a short-lived HS256 token the API puts in the TwiML's `<Parameter>`, naming
//! the tenant, the call and the scenario. The bridge verifies it from the `start` message
//! before it opens any OpenAI connection, so a stream nobody asked for costs nothing.
//!
//! It is signed with its own key (`STREAM_TOKEN_SECRET`) and audience, so neither kind of
//! token can stand in for the other.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::allowance::CallLength;
use crate::domain::calls::Direction;
use crate::error::{Error, Result};

pub const AUDIENCE: &str = "media-stream";

/// What the bridge learns from a verified token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamClaims {
    pub tid: String,
    pub call_id: String,
    /// A predefined scenario key or a custom scenario id (`custom_...`).
    pub scenario: String,
    pub direction: Direction,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// How long the call may run (seconds), as the API worked it out when it let the call
    /// start, and whether the month's minutes left set it; a token without it leaves the
    /// bridge to work it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_s: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_cap: bool,
}

impl StreamClaims {
    /// The call's length, when the token says it.
    pub fn length(&self) -> Option<CallLength> {
        self.max_s.map(|s| CallLength {
            limit: Duration::from_secs(s),
            by_cap: self.by_cap,
        })
    }
}

#[derive(Clone)]
pub struct StreamTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
}

impl StreamTokens {
    pub fn new(secret: &str, ttl: Duration) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            ttl,
        }
    }

    pub fn issue(
        &self,
        tenant_id: &str,
        call_id: &str,
        scenario: &str,
        direction: Direction,
        length: CallLength,
    ) -> Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = StreamClaims {
            tid: tenant_id.to_string(),
            call_id: call_id.to_string(),
            scenario: scenario.to_string(),
            direction,
            aud: AUDIENCE.to_string(),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
            max_s: Some(length.limit.as_secs()),
            by_cap: length.by_cap,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(Error::internal)
    }

    pub fn verify(&self, token: &str) -> Result<StreamClaims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud"]);
        validation.leeway = 5;
        jsonwebtoken::decode::<StreamClaims>(token, &self.decoding, &validation)
            .map(|d| d.claims)
            .map_err(|_| Error::Forbidden("invalid stream token".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_other_keys() {
        let tokens = StreamTokens::new(&"s".repeat(32), Duration::from_secs(60));
        let length = CallLength {
            limit: Duration::from_secs(240),
            by_cap: true,
        };
        let t = tokens
            .issue("t1", "c1", "default", Direction::Outbound, length)
            .unwrap();
        let claims = tokens.verify(&t).unwrap();
        assert_eq!((claims.tid.as_str(), claims.call_id.as_str()), ("t1", "c1"));
        assert_eq!(claims.length(), Some(length));
        let other = StreamTokens::new(&"x".repeat(32), Duration::from_secs(60));
        assert!(other.verify(&t).is_err());
    }
}
