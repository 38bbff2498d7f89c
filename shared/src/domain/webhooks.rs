//! Tenant webhooks: the events a tenant can subscribe to, the URLs they may point at, and how
//! deliveries are signed.
//!
//! Signatures follow the Standard Webhooks scheme: each delivery carries `webhook-id` (the
//! event's id, the same on every retry, so receivers can ignore repeats), `webhook-timestamp`
//! (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `"{id}.{timestamp}.{body}"`, keyed with the base64 part of the endpoint's `whsec_` secret.
//!
//! URLs: HTTPS only, and never this machine or a private network (the platform must not be
//! usable to reach inside a VPC). The same check runs again before every delivery, and the
//! delivery client only connects to public addresses (see `http::outbound`).

use std::net::IpAddr;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

/// What a tenant can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    /// A call reached its final status (completed, busy, no-answer, failed, canceled).
    #[serde(rename = "call.completed")]
    CallCompleted,
    /// A call's transcript is stored and readable.
    #[serde(rename = "transcript.ready")]
    TranscriptReady,
}

impl EventType {
    pub const ALL: [EventType; 2] = [EventType::CallCompleted, EventType::TranscriptReady];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::CallCompleted => "call.completed",
            EventType::TranscriptReady => "transcript.ready",
        }
    }
}

impl std::str::FromStr for EventType {
    type Err = crate::domain::calls::UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| crate::domain::calls::UnknownStatus(s.to_string()))
    }
}

/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// An address a delivery may connect to: not loopback, private, link-local, shared (CGNAT),
/// unique-local, multicast or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// A URL a tenant's events may be delivered to.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointUrl(String);

impl EndpointUrl {
    /// `https://` and a public host. `development_mode` also takes `http://` and this machine
    /// (for local receivers).
    pub fn parse(raw: &str, development_mode: bool) -> Result<EndpointUrl, FieldError> {
        let invalid = |why: &str| FieldError::new("url", why);
        let raw = raw.trim();
        if raw.len() > MAX_URL_LEN {
            return Err(invalid("is longer than 2048 characters"));
        }
        let url = url::Url::parse(raw).map_err(|_| invalid("must be an absolute URL"))?;
        let allowed = url.scheme() == "https" || (development_mode && url.scheme() == "http");
        if !allowed {
            return Err(invalid("must be an https:// URL"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("must not carry credentials"));
        }
        if !development_mode {
            let private = match url.host() {
                None => true,
                Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
                Some(url::Host::Domain(name)) => {
                    let name = name.trim_end_matches('.').to_ascii_lowercase();
                    name == "localhost"
                        || name.ends_with(".localhost")
                        || name.ends_with(".internal")
                }
            };
            if private {
                return Err(invalid(
                    "must point at a public host, not a private network",
                ));
            }
        }
        Ok(EndpointUrl(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    let _ = aws_lc_rs::rand::fill(&mut key);
    format!("whsec_{}", STANDARD.encode(key))
}

/// The `webhook-signature` value of a delivery.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key_bytes = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key_bytes);
    let tag = hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!("v1,{}", STANDARD.encode(tag.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_https_urls_outside_development() {
        for ok in [
            "https://hooks.example-tenant.io/phone",
            "https://203.0.114.5/hook",
            "https://[2606:4700::1111]/x",
        ] {
            assert!(EndpointUrl::parse(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "http://hooks.example-tenant.io/phone",
            "https://localhost/x",
            "https://api.localhost/x",
            "https://127.0.0.1/x",
            "https://10.0.0.8/x",
            "https://172.16.3.4/x",
            "https://192.168.1.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/x",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://user:pw@hooks.example-tenant.io/",
            "ftp://hooks.example-tenant.io/",
            "not a url",
        ] {
            let err = EndpointUrl::parse(bad, false).unwrap_err();
            assert_eq!(err.field, "url", "{bad}");
        }
        assert!(EndpointUrl::parse("http://127.0.0.1:9000/hook", true).is_ok());
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The Standard Webhooks specification's own example.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert!(signature("not-a-secret", "id", 1, "").is_none());
        assert!(new_secret().starts_with("whsec_"));
    }
}
