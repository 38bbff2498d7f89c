//! The one error type of the platform, rendered as RFC 9457 `application/problem+json`.
//!
//! Client errors carry a human-readable `detail` (the frontend reads `detail`) and, for
//! validation failures, `errors: [{field, message}]`. Internal errors are logged with their
//! cause and answered with a generic message: nothing internal reaches a client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name as the client sent it (`persona`, `email`, ...).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 422: one or more fields are invalid.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 400: the request is well-formed but cannot be acted on.
    #[error("bad request: {detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 401 with `WWW-Authenticate: Bearer`.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404; also what another tenant sees for a resource that is not theirs.
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// 413: the body is larger than the endpoint takes (the detail names the limit).
    #[error("too large: {0}")]
    TooLarge(String),
    /// 429 with `Retry-After` in seconds.
    #[error("rate limited: {detail}")]
    RateLimited { detail: String, retry_after: u64 },
    /// 503: a capacity or configuration gap the client can do nothing about but retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 502: an upstream provider failed or answered nonsense.
    #[error("upstream failure: {0}")]
    Upstream(String),
    /// 500: logged with its cause, answered generically.
    #[error("internal error: {0}")]
    Internal(String),
    /// Start-up configuration problem; never reaches a client at run time.
    #[error("configuration error: {0}")]
    Config(String),
}

impl Error {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::new(field, message)])
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Error::BadRequest {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Error::Internal(cause.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Upstream(_) => StatusCode::BAD_GATEWAY,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) | Error::Config(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body a client sees.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (detail, errors) = match self {
            Error::Validation(errors) => ("Validation error".to_string(), errors.clone()),
            Error::BadRequest { detail, errors } => (detail.clone(), errors.clone()),
            Error::Unauthorized(d)
            | Error::Forbidden(d)
            | Error::NotFound(d)
            | Error::Conflict(d)
            | Error::TooLarge(d)
            | Error::Upstream(d)
            | Error::Unavailable(d) => (d.clone(), Vec::new()),
            Error::RateLimited { detail, .. } => (detail.clone(), Vec::new()),
            Error::Internal(_) | Error::Config(_) => (
                "An unexpected error occurred. Please try again later.".to_string(),
                Vec::new(),
            ),
        };
        Problem {
            // RFC 9457: `about:blank` means the status code says it all, with its reason
            // phrase as the title; `detail` and `errors` carry the specifics.
            kind: "about:blank".to_string(),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }
}

/// RFC 9457 problem details.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match &self {
            Error::Internal(cause) | Error::Config(cause) => {
                tracing::error!(error = %cause, "request failed")
            }
            Error::Upstream(cause) => tracing::warn!(error = %cause, "upstream failure"),
            _ => tracing::debug!(status = self.status().as_u16(), "client error"),
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (self.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match &self {
            Error::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Error::RateLimited { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            _ => {}
        }
        response
    }
}

/// One invalid field is a validation error (422), so parsers can be used with `?`.
impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Error::Validation(vec![e])
    }
}

impl From<aws_sdk_dynamodb::Error> for Error {
    fn from(e: aws_sdk_dynamodb::Error) -> Self {
        Error::Internal(format!("dynamodb: {e}"))
    }
}

/// AWS error codes that mean "not now" rather than "not like this": the SDK has already
/// retried them, so the client is told to come back shortly.
const TRANSIENT_AWS_CODES: [&str; 10] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalServerException",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "TransactionConflictException",
    "LimitExceededException",
];

impl<E, R> From<aws_sdk_dynamodb::error::SdkError<E, R>> for Error
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    /// A failure AWS may not repeat (throttling, an internal error, a timeout, a lost
    /// connection) after the SDK's own retries is a 503 the client can retry; anything else
    /// is a defect of ours (500).
    fn from(e: aws_sdk_dynamodb::error::SdkError<E, R>) -> Self {
        use aws_sdk_dynamodb::error::SdkError;
        let cause = aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string();
        let transient = match &e {
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => service
                .err()
                .code()
                .is_some_and(|code| TRANSIENT_AWS_CODES.contains(&code)),
            _ => false,
        };
        if transient {
            tracing::warn!(error = %cause, "AWS did not answer after the SDK's retries");
            return Error::Unavailable("The service is busy; please retry in a moment".into());
        }
        Error::Internal(format!("aws: {cause}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_leak_their_cause() {
        let p = Error::internal("table secret-table exploded").problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("secret-table"));
    }

    #[test]
    fn validation_lists_fields() {
        let p = Error::field("email", "is not a valid e-mail address").problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.errors[0].field, "email");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["type"], "about:blank");
        assert_eq!(json["title"], "Unprocessable Entity");
    }
}
