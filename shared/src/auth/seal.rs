//! Secrets the platform must keep but never show again (tenant webhook signing secrets, Google
//! tokens) are stored sealed: AES-256-GCM under a key from the platform's secret, so a copy of
//! the table alone does not give them away. A value can be bound to a context (its tenant), so
//! it opens nowhere else.
//!
//! The key is derived from `JWT_SECRET`: rotating that secret makes sealed secrets unreadable
//! (their deliveries then fail with a clear reason, and the tenant registers the URL again).

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::{Error, Result};

/// Seals and opens secrets.
#[derive(Clone)]
pub struct Sealer {
    key_bytes: [u8; 32],
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer {
    pub fn new(signing_key: &str) -> Self {
        let mac = hmac::Key::new(hmac::HMAC_SHA256, signing_key.as_bytes());
        let tag = hmac::sign(&mac, b"sealed-secrets-key");
        let mut key_bytes = [0u8; 32];
        key_bytes.copy_from_slice(tag.as_ref());
        Self { key_bytes }
    }

    fn key(&self) -> Result<LessSafeKey> {
        let key = UnboundKey::new(&AES_256_GCM, &self.key_bytes)
            .map_err(|_| Error::internal("sealing key"))?;
        Ok(LessSafeKey::new(key))
    }

    /// `plaintext`, sealed with a fresh nonce, as base64 (nonce, ciphertext and tag).
    pub fn seal(&self, plaintext: &str) -> Result<String> {
        self.seal_bound(plaintext, b"")
    }

    /// What [`Sealer::seal`] sealed; an error if it was sealed under another key or altered.
    pub fn open(&self, sealed: &str) -> Result<String> {
        self.open_bound(sealed, b"")
    }

    /// Seals `plaintext` bound to `context` (e.g. the owning tenant): it opens only with the
    /// same context, so a sealed value copied onto another tenant's item is useless there.
    pub fn seal_bound(&self, plaintext: &str, context: &[u8]) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| Error::internal("random nonce"))?;
        let mut sealed = plaintext.as_bytes().to_vec();
        self.key()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut sealed,
            )
            .map_err(|_| Error::internal("sealing a secret"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(STANDARD.encode(out))
    }

    /// What [`Sealer::seal_bound`] sealed with the same `context`.
    pub fn open_bound(&self, sealed: &str, context: &[u8]) -> Result<String> {
        let unreadable = || Error::internal("a sealed secret cannot be opened with this key");
        let bytes = STANDARD.decode(sealed).map_err(|_| unreadable())?;
        if bytes.len() < NONCE_LEN {
            return Err(unreadable());
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unreadable())?;
        let mut rest = rest.to_vec();
        let plain = self
            .key()?
            .open_in_place(nonce, Aad::from(context), &mut rest)
            .map_err(|_| unreadable())?;
        String::from_utf8(plain.to_vec()).map_err(|_| unreadable())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_sealed_opens_only_with_the_same_key() {
        let sealer = Sealer::new("k".repeat(40).as_str());
        let sealed = sealer.seal("whsec_abc").unwrap();
        assert!(!sealed.contains("whsec"));
        assert_ne!(
            sealed,
            sealer.seal("whsec_abc").unwrap(),
            "fresh nonce each time"
        );
        assert_eq!(sealer.open(&sealed).unwrap(), "whsec_abc");
        assert!(
            Sealer::new("another key entirely, 32 bytes+")
                .open(&sealed)
                .is_err()
        );
        let mut altered = STANDARD.decode(&sealed).unwrap();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert!(sealer.open(&STANDARD.encode(altered)).is_err());
    }

    #[test]
    fn a_bound_secret_opens_only_in_its_context() {
        let sealer = Sealer::new("k".repeat(40).as_str());
        let sealed = sealer.seal_bound("1//refresh", b"tenant-a").unwrap();
        assert_eq!(
            sealer.open_bound(&sealed, b"tenant-a").unwrap(),
            "1//refresh"
        );
        assert!(sealer.open_bound(&sealed, b"tenant-b").is_err());
        assert!(sealer.open(&sealed).is_err());
    }
}
