pub mod amd_status;
pub mod call_status;
pub mod inbound;
pub mod recording_status;
pub mod transfer_status;

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A TwiML answer.
pub fn twiml(xml: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response()
}
