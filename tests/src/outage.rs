//! Provider outages the HTTP simulators can be put in (Twilio's REST API, OpenAI's HTTP API):
//! every request answered with an error status, done but answered too late for the client, or
//! cut off in the middle of its answer.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::Response;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outage {
    /// Every request is answered with this status and the provider's error body.
    Status(u16),
    /// Every request is served as usual, but its answer is held this long: the provider did
    /// the work, and a client with a shorter timeout never hears of it.
    Late(Duration),
    /// Every request gets `200 OK` and a start of a JSON body, then the connection ends.
    CutOff,
}

impl Outage {
    /// What a request gets during the outage instead of being served, if anything. `error`
    /// builds the provider's error answer for a status.
    pub fn intercept(self, error: impl FnOnce(StatusCode) -> Response) -> Option<Response> {
        match self {
            Outage::Status(status) => {
                Some(error(StatusCode::from_u16(status).expect("an HTTP status")))
            }
            Outage::Late(_) => None,
            Outage::CutOff => {
                let chunks: [Result<Bytes, std::io::Error>; 2] = [
                    Ok(Bytes::from_static(b"{\"sid\": \"")),
                    Err(std::io::Error::other("the simulated provider went away")),
                ];
                let body = Body::from_stream(futures_util::stream::iter(chunks));
                Some(
                    Response::builder()
                        .status(StatusCode::OK)
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(body)
                        .expect("a response"),
                )
            }
        }
    }

    /// Holds a served request's answer for a `Late` outage.
    pub async fn hold_answer(self) {
        if let Outage::Late(delay) = self {
            tokio::time::sleep(delay).await;
        }
    }
}
