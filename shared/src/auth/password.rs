//! Password policy and Argon2id hashing.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::{Error, FieldError, Result};

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 128;

/// The policy: 10 to 128 characters, at least one letter and one digit or symbol, and not the
/// e-mail address itself. Returns every broken rule so the client can show them all.
pub fn check_policy(password: &str, email: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let len = password.chars().count();
    if len < MIN_LEN {
        errors.push(FieldError::new(
            "password",
            format!("must be at least {MIN_LEN} characters"),
        ));
    }
    if len > MAX_LEN {
        errors.push(FieldError::new(
            "password",
            format!("must be at most {MAX_LEN} characters"),
        ));
    }
    let has_letter = password.chars().any(char::is_alphabetic);
    let has_other = password.chars().any(|c| !c.is_alphabetic());
    if !(has_letter && has_other) {
        errors.push(FieldError::new(
            "password",
            "must contain a letter and a digit or symbol",
        ));
    }
    if !email.is_empty() && password.eq_ignore_ascii_case(email) {
        errors.push(FieldError::new(
            "password",
            "must not be your e-mail address",
        ));
    }
    errors
}

pub fn hash(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| Error::internal("rng unavailable"))?;
    let salt = SaltString::encode_b64(&salt).map_err(Error::internal)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(Error::internal)
}

/// Constant-time verification against a stored PHC string.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the same time as a real verification, so an unknown e-mail cannot be told apart from
/// a wrong password by timing.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash("dummy-password-for-timing").unwrap_or_default());
    let _ = verify(password, phc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_round_trips() {
        let h = hash("correct horse 1").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse 1", &h));
        assert!(!verify("correct horse 2", &h));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn policy_reports_each_rule() {
        assert!(check_policy("longenough1", "a@b.co").is_empty());
        assert_eq!(check_policy("short1", "a@b.co").len(), 1);
        assert_eq!(check_policy("onlyletterslong", "a@b.co").len(), 1);
        assert!(!check_policy("me@example.com", "me@example.com").is_empty());
    }
}
