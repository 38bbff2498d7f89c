//! Authentication: password hashing and policy, JWT access tokens, opaque refresh tokens,
//! CAPTCHA verification.

pub mod captcha;
pub mod jwt;
pub mod password;
pub mod seal;
pub mod stream_token;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A random URL-safe token of `bytes` bytes of entropy (refresh tokens, dev signing keys).
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).expect("the system RNG is available");
    URL_SAFE_NO_PAD.encode(buf)
}

/// Hex SHA-256: refresh tokens are stored only as this digest.
pub fn sha256_hex(value: &str) -> String {
    sha256_hex_bytes(value.as_bytes())
}

/// Hex SHA-256 of raw bytes (a webhook body Twilio signed by its hash).
pub fn sha256_hex_bytes(bytes: &[u8]) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        assert_ne!(random_token(32), random_token(32));
        assert_eq!(random_token(32).len(), 43);
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
