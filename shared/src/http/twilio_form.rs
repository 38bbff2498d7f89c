//! The extractor every Twilio webhook uses: the body, accepted only with a valid
//! `X-Twilio-Signature` computed over the configured public URL (never the Host header, which
//! the caller controls). Anything else is a 403 and changes nothing.
//!
//! Twilio signs a form body by its parameters, and a JSON body (Voice Intelligence may send
//! one) by adding `bodySHA256=<hex SHA-256 of the raw body>` to the URL and signing the URL
//! alone; both are accepted, a JSON body only when its hash matches the signed one.

use axum::extract::{FromRequest, OriginalUri, Request};
use axum::http::header::CONTENT_TYPE;

use crate::error::Error;
use crate::state::AppState;
use crate::twilio::signature;

/// A verified webhook: the form in the order Twilio sent it, and the query string of the URL
/// it was sent to (covered by the same signature: our own ids travel there).
#[derive(Debug, Clone)]
pub struct TwilioForm {
    pub params: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

impl TwilioForm {
    pub fn get(&self, name: &str) -> Option<&str> {
        first(&self.params, name)
    }

    /// A parameter of the signed URL's query string.
    pub fn query(&self, name: &str) -> Option<&str> {
        first(&self.query, name)
    }

    /// A required parameter, or 400 naming it.
    pub fn require(&self, name: &str) -> Result<&str, Error> {
        self.get(name)
            .ok_or_else(|| Error::field(name, "is required"))
    }
}

fn content_type_is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// The top-level fields of a JSON object body, as the form parameters they stand for.
fn json_params(bytes: &[u8]) -> Result<Vec<(String, String)>, Error> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|_| Error::field("body", "must be a JSON object"))?;
    Ok(object
        .into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::String(s) => Some((k, s)),
            serde_json::Value::Number(n) => Some((k, n.to_string())),
            serde_json::Value::Bool(b) => Some((k, b.to_string())),
            _ => None,
        })
        .collect())
}

fn forbidden() -> Error {
    Error::Forbidden("Invalid Twilio signature".into())
}

impl FromRequest<AppState> for TwilioForm {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        let auth_token = state
            .config
            .telephony
            .twilio
            .as_ref()
            .map(|t| t.auth_token.clone())
            .ok_or_else(|| {
                Error::Unavailable("Telephony is not configured on this deployment".into())
            })?;
        let path_and_query = req
            .extensions()
            .get::<OriginalUri>()
            .map(|u| u.0.clone())
            .unwrap_or_else(|| req.uri().clone())
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let url = format!("{}{path_and_query}", state.config.telephony.public_url);
        let header = req
            .headers()
            .get(signature::HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(forbidden)?;
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let is_form = content_type.starts_with("application/x-www-form-urlencoded");
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| Error::bad_request("The body could not be read"))?;
        let query: Vec<(String, String)> = path_and_query
            .split_once('?')
            .map(|(_, q)| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let is_json = content_type_is_json(&content_type);
        let form: Vec<(String, String)> = if is_form || bytes.is_empty() {
            form_urlencoded::parse(&bytes).into_owned().collect()
        } else if is_json {
            // The URL (with its bodySHA256) is what is signed; the body must hash to it.
            let claimed = first(&query, "bodySHA256").ok_or_else(forbidden)?;
            if !claimed.eq_ignore_ascii_case(&crate::auth::sha256_hex_bytes(&bytes)) {
                return Err(forbidden());
            }
            Vec::new()
        } else {
            return Err(forbidden());
        };
        if !signature::verify(&auth_token, &url, &form, &header) {
            tracing::warn!(path = %path_and_query.split('?').next().unwrap_or(""), "rejected a webhook with a bad signature");
            return Err(forbidden());
        }
        let params = if is_json { json_params(&bytes)? } else { form };
        Ok(TwilioForm { params, query })
    }
}
