//! Query-string filters of the listing endpoints: each parsed value, or a note naming the
//! field, so one answer lists every invalid filter.

use std::str::FromStr;

use crate::error::{Error, FieldError, Result};

/// An absent or blank parameter (`?direction=`) is no filter at all.
pub fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// Collects the invalid filters of one request.
#[derive(Debug, Default)]
pub struct Filters {
    errors: Vec<FieldError>,
}

impl Filters {
    /// The parsed value, or a note that `field` is invalid.
    pub fn parse<T: FromStr>(
        &mut self,
        raw: Option<&str>,
        field: &str,
        message: &str,
    ) -> Option<T> {
        let parsed = raw?.parse().ok();
        if parsed.is_none() {
            self.errors.push(FieldError::new(field, message));
        }
        parsed
    }

    /// An RFC 3339 time as epoch milliseconds.
    pub fn time_ms(&mut self, raw: Option<&str>, field: &str) -> Option<u64> {
        match chrono::DateTime::parse_from_rfc3339(raw?) {
            Ok(t) if t.timestamp_millis() >= 0 => Some(t.timestamp_millis() as u64),
            _ => {
                self.errors.push(FieldError::new(
                    field,
                    "must be an RFC 3339 time, e.g. 2026-11-25T09:00:00Z",
                ));
                None
            }
        }
    }

    /// A page size between 1 and `max`, `default` when absent.
    pub fn limit(&mut self, raw: Option<&str>, default: usize, max: usize) -> usize {
        match raw.map(str::parse::<usize>) {
            None => default,
            Some(Ok(n)) if (1..=max).contains(&n) => n,
            Some(_) => {
                self.errors.push(FieldError::new(
                    "limit",
                    format!("must be between 1 and {max}"),
                ));
                default
            }
        }
    }

    /// Adds the errors of a check made elsewhere (a time window).
    pub fn extend(&mut self, errors: Vec<FieldError>) {
        self.errors.extend(errors);
    }

    /// 422 with every invalid filter, if any.
    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.errors))
        }
    }
}
