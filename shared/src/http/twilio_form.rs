//! The extractor every Twilio webhook uses: the form body, accepted only with a valid
//! `X-Twilio-Signature` computed over the configured public URL (never the Host header, which
//! the caller controls) and the form parameters. Anything else is a 403 and changes nothing.

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
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| Error::bad_request("The body could not be read"))?;
        let params: Vec<(String, String)> = if is_form || bytes.is_empty() {
            form_urlencoded::parse(&bytes).into_owned().collect()
        } else {
            return Err(forbidden());
        };
        if !signature::verify(&auth_token, &url, &params, &header) {
            tracing::warn!(path = %path_and_query.split('?').next().unwrap_or(""), "rejected a webhook with a bad signature");
            return Err(forbidden());
        }
        let query = path_and_query
            .split_once('?')
            .map(|(_, q)| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        Ok(TwilioForm { params, query })
    }
}
