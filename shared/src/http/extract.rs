//! Extractors. Rejections are problem+json naming the offending field, never axum's plain text.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::auth::jwt;
use crate::error::{Error, FieldError};
use crate::state::AppState;

/// The caller, from a verified access token whose user still exists and is active. The tenant
/// id in here is the only one handlers may use to scope a query.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: String,
    pub tenant_id: String,
    pub email: String,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| Error::Unauthorized("Not authenticated".into()))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(jwt::invalid)?;
        let claims = state.keys.verify(token)?;
        // A deactivated (or deleted) user's tokens stop working at once, everywhere.
        if !state.store.is_active_user(&claims.tid).await? {
            return Err(jwt::invalid());
        }
        Ok(AuthUser {
            user_id: claims.sub,
            tenant_id: claims.tid,
            email: claims.email,
        })
    }
}

/// The client's IP: API Gateway's `sourceIp` on Lambda, the socket peer locally. Never
/// `X-Forwarded-For`, which any client can forge.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) =
            parts
                .extensions
                .get::<lambda_http::request::RequestContext>()
            && let Some(ip) = &ctx.http.source_ip
        {
            return Ok(ClientIp(ip.clone()));
        }
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientIp(ip))
    }
}

/// A JSON body whose deserialisation errors name the field (`temperature`, `steps[0]`).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        if !content_type_is(&req, "application/json") {
            return Err(Error::BadRequest {
                detail: "Expected a JSON body (Content-Type: application/json)".into(),
                errors: vec![FieldError::new("body", "must be JSON")],
            });
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A body that may be JSON or an HTML form (`/auth/login` accepts both, as the reference
/// clients send either).
pub struct JsonOrForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonOrForm<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let is_form = content_type_is(&req, "application/x-www-form-urlencoded");
        let is_json = content_type_is(&req, "application/json");
        if !is_form && !is_json {
            return Err(Error::BadRequest {
                detail: "Expected a JSON or form body".into(),
                errors: vec![FieldError::new(
                    "body",
                    "must be application/json or application/x-www-form-urlencoded",
                )],
            });
        }
        let bytes = read_body(req, state).await?;
        if is_json {
            return parse_json(&bytes).map(JsonOrForm);
        }
        parse_form(&bytes).map(JsonOrForm)
    }
}

/// An HTML form body with field-naming errors.
pub struct FormBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for FormBody<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        if !content_type_is(&req, "application/x-www-form-urlencoded") {
            return Err(Error::BadRequest {
                detail: "Expected a form body (application/x-www-form-urlencoded)".into(),
                errors: vec![FieldError::new("body", "must be a form")],
            });
        }
        let bytes = read_body(req, state).await?;
        parse_form(&bytes).map(FormBody)
    }
}

fn content_type_is(req: &Request, expected: &str) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}

/// Bodies are small JSON documents; anything bigger is refused before parsing.
const MAX_BODY: usize = 64 * 1024;

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<axum::body::Bytes, Error> {
    let bytes = axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|_| Error::BadRequest {
            detail: format!("The body could not be read (at most {MAX_BODY} bytes)"),
            errors: vec![FieldError::new("body", "could not be read")],
        })?;
    if bytes.len() > MAX_BODY {
        return Err(Error::bad_request(format!(
            "The body is larger than {MAX_BODY} bytes"
        )));
    }
    Ok(bytes)
}

/// The body as one JSON document: anything after it (`{"a":1} trailing`, a second document)
/// is refused like a syntax error, so what was parsed is exactly what was sent.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let not_json = || Error::BadRequest {
        detail: "The body is not valid JSON".into(),
        errors: vec![FieldError::new("body", "is not valid JSON")],
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return not_json();
        }
        let field = if field == "." {
            "body".to_string()
        } else {
            field
        };
        Error::Validation(vec![FieldError::new(
            field,
            strip_location(&inner.to_string()),
        )])
    })?;
    de.end().map_err(|_| Error::BadRequest {
        detail: "The body has data after its JSON document".into(),
        errors: vec![FieldError::new(
            "body",
            "must hold exactly one JSON document",
        )],
    })?;
    Ok(value)
}

fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." {
            "body".to_string()
        } else {
            field
        };
        Error::Validation(vec![FieldError::new(field, e.into_inner().to_string())])
    })
}

/// serde_json appends " at line 1 column 7"; clients need only the reason.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Step {
        #[allow(dead_code)]
        step: String,
    }

    #[test]
    fn a_body_is_exactly_one_json_document() {
        assert!(parse_json::<Step>(br#"{"step":"calendar"}"#).is_ok());
        assert!(parse_json::<Step>(b" {\"step\":\"calendar\"}\n\t ").is_ok());
        for body in [
            &br#"{"step":"calendar"} trailing"#[..],
            br#"{"step":"calendar"}{"step":"welcome_call"}"#,
            br#"{"step":"calendar"} 1"#,
            br#"{"step":"calendar"}]"#,
        ] {
            let err = parse_json::<Step>(body).unwrap_err();
            assert_eq!(err.status(), 400, "{}", String::from_utf8_lossy(body));
            assert_eq!(err.problem().errors[0].field, "body");
        }
    }
}
