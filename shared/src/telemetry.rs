//! Tracing set-up: JSON lines on Lambda, human-readable locally, and a redacting writer in
//! front of both so secrets never reach a log line.
//!
//! Redaction happens on the formatted line, after every layer has had its say, so it also
//! covers fields logged by dependencies. It removes three things:
//! - the configured secret values (signing key, provider credentials), wherever they appear;
//! - values of fields whose name says they are sensitive (`password`, `token`, `secret`,
//!   `authorization`, `api_key`, `cookie`), in both `key=value` and `"key":"value"` form;
//! - anything shaped like a JWT or a `Bearer` credential.

use std::io::{self, Write};
use std::sync::{Arc, OnceLock, RwLock};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

const REDACTED: &str = "[REDACTED]";
const SENSITIVE_KEYS: [&str; 7] = [
    "password",
    "token",
    "secret",
    "authorization",
    "api_key",
    "apikey",
    "cookie",
];

/// Secret values registered at cold start, shared by every writer.
fn registered_secrets() -> &'static RwLock<Vec<String>> {
    static SECRETS: OnceLock<RwLock<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| RwLock::new(Vec::new()))
}

/// Adds values that must never be logged (called once the configuration is known).
pub fn register_secrets(values: impl IntoIterator<Item = String>) {
    if let Ok(mut secrets) = registered_secrets().write() {
        for v in values {
            // Very short values would redact ordinary words; they are not real secrets anyway.
            if v.len() >= 8 && !secrets.contains(&v) {
                secrets.push(v);
            }
        }
    }
}

/// Output format: JSON for CloudWatch, text for a terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
}

impl Format {
    /// JSON when running on Lambda (or when `LOG_FORMAT=json`), text otherwise.
    pub fn detect() -> Self {
        let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
        match std::env::var("LOG_FORMAT").ok().as_deref() {
            Some("json") => Format::Json,
            Some("text") => Format::Text,
            _ if on_lambda => Format::Json,
            _ => Format::Text,
        }
    }
}

/// Installs the global subscriber writing to stdout. Safe to call more than once.
pub fn init() {
    let _ = tracing::subscriber::set_global_default(subscriber(Format::detect(), io::stdout));
}

/// A subscriber with the platform's format and redaction over any writer (tests capture logs
/// through this with an in-memory writer).
pub fn subscriber<W>(format: Format, writer: W) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_env("RUST_LOG")
        .or_else(|_| EnvFilter::try_from_env("AWS_LAMBDA_LOG_LEVEL"))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Redacting(writer));
    match format {
        Format::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .finish(),
        ),
        Format::Text => Box::new(builder.with_ansi(false).finish()),
    }
}

/// Wraps a `MakeWriter` so each formatted event is scrubbed before it is written.
pub struct Redacting<W>(pub W);

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for Redacting<W> {
    type Writer = RedactingWriter<W::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            inner: self.0.make_writer(),
            buf: Vec::new(),
        }
    }
}

/// Buffers one event and writes its redacted form when dropped (the fmt layer makes one writer
/// per event, so this sees whole lines).
pub struct RedactingWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let line = String::from_utf8_lossy(&self.buf).into_owned();
        self.buf.clear();
        self.inner.write_all(redact(&line).as_bytes())?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Scrubs one log line. Public so the rule set can be tested directly.
pub fn redact(line: &str) -> String {
    let mut out = line.to_string();
    if let Ok(secrets) = registered_secrets().read() {
        for s in secrets.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), REDACTED);
            }
        }
    }
    out = redact_bearer(&out);
    out = redact_jwts(&out);
    redact_sensitive_fields(&out)
}

fn redact_bearer(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = find_ascii_ci(rest, "bearer ") {
        out.push_str(&rest[..i + 7]);
        let after = &rest[i + 7..];
        let end = after
            .find(|c: char| c.is_whitespace() || c == '"' || c == ',' || c == '\\')
            .unwrap_or(after.len());
        if end > 0 {
            out.push_str(REDACTED);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// JWTs start with `eyJ` (base64 of `{"`) and have three base64url parts.
fn redact_jwts(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find("eyJ") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
            .unwrap_or(after.len());
        let candidate = &after[..end];
        if candidate.matches('.').count() == 2 && candidate.len() > 20 {
            out.push_str(REDACTED);
        } else {
            out.push_str(candidate);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// `password=hunter2`, `"refresh_token":"abc"`, `client_secret: "x"` -> value redacted.
fn redact_sensitive_fields(line: &str) -> String {
    let lower = line.to_ascii_lowercase();
    let bytes = line.as_bytes();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for key in SENSITIVE_KEYS {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(key) {
            let key_end = from + pos + key.len();
            from = key_end;
            // Skip the rest of the identifier (e.g. `password_hash`, `tokens`) and a closing quote.
            let mut i = key_end;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            if i < bytes.len() && bytes[i] == b'"' {
                i += 1;
            }
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            if i >= bytes.len() || !(bytes[i] == b'=' || bytes[i] == b':') {
                continue;
            }
            i += 1;
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            let (start, end) = if i < bytes.len() && bytes[i] == b'"' {
                // Quoted value: up to the next unescaped quote.
                let start = i + 1;
                let mut j = start;
                while j < bytes.len() && !(bytes[j] == b'"' && bytes[j - 1] != b'\\') {
                    j += 1;
                }
                (start, j)
            } else {
                let start = i;
                let mut j = start;
                while j < bytes.len() && !matches!(bytes[j], b' ' | b',' | b'}' | b'\n') {
                    j += 1;
                }
                (start, j)
            };
            if end > start {
                ranges.push((start, end));
            }
        }
    }
    if ranges.is_empty() {
        return line.to_string();
    }
    ranges.sort_unstable();
    let mut out = String::with_capacity(line.len());
    let mut cursor = 0;
    for (start, end) in ranges {
        if start < cursor {
            continue;
        }
        out.push_str(&line[cursor..start]);
        out.push_str(REDACTED);
        cursor = end;
    }
    out.push_str(&line[cursor..]);
    out
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack.to_ascii_lowercase().find(needle)
}

/// An in-memory `MakeWriter`, for capturing logs in tests and benchmarks.
#[derive(Clone, Default)]
pub struct Capture(pub Arc<std::sync::Mutex<Vec<u8>>>);

impl Capture {
    pub fn contents(&self) -> String {
        self.0
            .lock()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

impl Write for Capture {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(data);
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_key_value_pairs_in_text_and_json() {
        let text = redact("login password=hunter2hunter2 email=a@b.c");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("email=a@b.c"));
        let json = redact(r#"{"refresh_token":"abc123xyz","ok":true}"#);
        assert!(!json.contains("abc123xyz"), "{json}");
        assert!(json.contains(r#""ok":true"#));
    }

    #[test]
    fn redacts_jwts_and_bearer_credentials() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl";
        let line = redact(&format!("got {jwt} and Authorization: Bearer opaque-value"));
        assert!(!line.contains(jwt));
        assert!(!line.contains("opaque-value"));
    }

    #[test]
    fn redacts_registered_secret_values_anywhere() {
        register_secrets(["a-very-secret-signing-key".to_string()]);
        let line = redact("key is a-very-secret-signing-key!");
        assert_eq!(line, "key is [REDACTED]!");
    }

    #[test]
    fn leaves_ordinary_lines_alone() {
        let line = "request finished method=POST path=/auth/login status=200";
        assert_eq!(redact(line), line);
    }
}
