//! Short-lived HS256 access tokens.
//!
//! Verification pins the algorithm to HS256 and requires `exp`, `iss`, `aud` and `typ`, so
//! `alg: none`, an algorithm swap and a refresh token used as an access token are all rejected.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const AUDIENCE: &str = "ai-phone-agents-api";
const ACCESS: &str = "access";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The tenant id; every query is scoped by this.
    pub tid: String,
    pub email: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub typ: String,
}

#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuer: String,
    ttl: Duration,
}

impl Keys {
    pub fn new(secret: &str, issuer: &str, ttl: Duration) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            issuer: issuer.to_string(),
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, user_id: &str, tenant_id: &str, email: &str) -> Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            tid: tenant_id.to_string(),
            email: email.to_string(),
            iss: self.issuer.clone(),
            aud: AUDIENCE.to_string(),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
            typ: ACCESS.to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(Error::internal)
    }

    pub fn verify(&self, token: &str) -> Result<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| invalid())?;
        if data.claims.typ != ACCESS || data.claims.tid.is_empty() {
            return Err(invalid());
        }
        Ok(data.claims)
    }
}

pub fn invalid() -> Error {
    Error::Unauthorized("Could not validate credentials".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys() -> Keys {
        Keys::new(&"s".repeat(32), "test", Duration::from_secs(60))
    }

    #[test]
    fn round_trip() {
        let t = keys().issue("u1", "t1", "a@b.co").unwrap();
        let c = keys().verify(&t).unwrap();
        assert_eq!((c.sub.as_str(), c.tid.as_str()), ("u1", "t1"));
    }

    #[test]
    fn rejects_alg_none_and_other_keys() {
        let t = keys().issue("u1", "t1", "a@b.co").unwrap();
        let payload = t.split('.').nth(1).unwrap();
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            payload
        );
        assert!(keys().verify(&none).is_err());
        let other = Keys::new(&"x".repeat(32), "test", Duration::from_secs(60));
        assert!(other.verify(&t).is_err());
    }
}
