//! `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the auth token, over the public URL
//! Twilio requested followed by every form parameter as `name` + `value`, sorted by name (and
//! by value within a name). The URL comes from configuration, never the Host header, which a
//! caller controls.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub const HEADER: &str = "x-twilio-signature";

fn payload(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut s = String::from(url);
    for (k, v) in sorted {
        s.push_str(k);
        s.push_str(v);
    }
    s
}

/// The signature Twilio would send for this request.
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, auth_token.as_bytes());
    STANDARD.encode(hmac::sign(&key, payload(url, params).as_bytes()).as_ref())
}

/// Constant-time check of `signature` against the URL, with and without the default port
/// (Twilio's libraries accept both forms).
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(tag) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, auth_token.as_bytes());
    url_variants(url)
        .iter()
        .any(|u| hmac::verify(&key, payload(u, params).as_bytes(), &tag).is_ok())
}

fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_string()];
    let default_port = if url.starts_with("https://") || url.starts_with("wss://") {
        ":443"
    } else {
        ":80"
    };
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        let host_end = rest.find('/').unwrap_or(rest.len());
        let host = &rest[..host_end];
        if let Some(bare) = host.strip_suffix(default_port) {
            variants.push(format!(
                "{}{}{}",
                &url[..scheme_end + 3],
                bare,
                &rest[host_end..]
            ));
        } else if !host.contains(':') {
            variants.push(format!(
                "{}{}{}{}",
                &url[..scheme_end + 3],
                host,
                default_port,
                &rest[host_end..]
            ));
        }
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// The worked example of Twilio's security documentation.
    #[test]
    fn matches_twilios_documented_example() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            sign("12345", url, &params()),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
        assert!(verify(
            "12345",
            url,
            &params(),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
    }

    #[test]
    fn rejects_altered_parameters_urls_and_keys() {
        let url = "https://api.example.com/twilio/call-status";
        let sig = sign("token", url, &params());
        let mut altered = params();
        altered[0].1 = "CAother".into();
        assert!(!verify("token", url, &altered, &sig));
        assert!(!verify(
            "token",
            "https://evil.example.com/twilio/call-status",
            &params(),
            &sig
        ));
        assert!(!verify("other", url, &params(), &sig));
        assert!(!verify("token", url, &params(), "not base64!"));
        assert!(verify(
            "token",
            "https://api.example.com:443/twilio/call-status",
            &params(),
            &sig
        ));
    }
}
