//! E-mail addresses: normalised (trimmed, lower-cased) and checked for a plausible shape.
//! Deliverability is not checked here; there is no verification mail yet.

use crate::error::FieldError;

pub const MAX_LEN: usize = 254;

/// Returns the normalised address or the reason it is not one.
pub fn normalize(raw: &str) -> Result<String, FieldError> {
    let email = raw.trim().to_lowercase();
    let invalid = || FieldError::new("email", "is not a valid e-mail address");
    if email.is_empty() {
        return Err(FieldError::new("email", "is required"));
    }
    if email.len() > MAX_LEN {
        return Err(FieldError::new(
            "email",
            format!("must be at most {MAX_LEN} characters"),
        ));
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    if domain_ok && local_ok {
        Ok(email)
    } else {
        Err(invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_whitespace() {
        assert_eq!(normalize("  Ada@Example.COM ").unwrap(), "ada@example.com");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@x.com",
        ] {
            assert!(normalize(bad).is_err(), "{bad}");
        }
    }
}
