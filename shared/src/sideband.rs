//! Attach requests: how the signalling function hands a browser call to the media bridge.
//!
//! Once OpenAI has accepted a browser's offer, the call exists at OpenAI with no one watching
//! it: no tools, no time limit. The bridge takes it over through the call's sideband
//! WebSocket. The request travels on an SQS queue the bridge long-polls, so it survives a
//! bridge task that is restarting (redelivered after the visibility timeout) and ends in the
//! dead-letter queue if no bridge could take it; the bridge's claim on the call record
//! (`Store::claim_sideband`) makes a repeated request harmless.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One browser call for the bridge to attach to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachRequest {
    pub tenant_id: String,
    pub call_id: String,
    /// OpenAI's id of the call (`rtc_…`): the sideband is `?call_id=` this.
    pub rtc_call_id: String,
    /// Epoch seconds of the request: a request older than a call may last is dropped.
    pub requested_at: i64,
}

/// A received request and the handle that deletes it once handled.
#[derive(Debug, Clone)]
pub struct Received {
    pub request: Option<AttachRequest>,
    pub receipt_handle: String,
}

/// The queue of attach requests.
#[derive(Clone, Debug)]
pub struct AttachQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

fn sqs_error<E: std::error::Error + Send + Sync + 'static, R: std::fmt::Debug>(
    e: aws_sdk_sqs::error::SdkError<E, R>,
) -> Error {
    Error::internal(format!(
        "sqs: {}",
        aws_sdk_sqs::error::DisplayErrorContext(&e)
    ))
}

impl AttachQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: &str) -> Self {
        Self {
            client,
            url: url.to_string(),
        }
    }

    pub async fn send(&self, request: &AttachRequest) -> Result<()> {
        let body = serde_json::to_string(request).map_err(Error::internal)?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(sqs_error)?;
        Ok(())
    }

    /// Waits up to `wait` (long polling, at most 20 s) for up to `max` requests. A body that
    /// does not parse comes back as `request: None`, to be deleted.
    pub async fn receive(&self, max: i32, wait: Duration) -> Result<Vec<Received>> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, 10))
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .send()
            .await
            .map_err(sqs_error)?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| {
                Some(Received {
                    request: m.body.as_deref().and_then(|b| serde_json::from_str(b).ok()),
                    receipt_handle: m.receipt_handle?,
                })
            })
            .collect())
    }

    pub async fn delete(&self, receipt_handle: &str) -> Result<()> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(sqs_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_through_their_message_bodies() {
        let request = AttachRequest {
            tenant_id: "t1".into(),
            call_id: "c1".into(),
            rtc_call_id: "rtc_1".into(),
            requested_at: 1_700_000_000,
        };
        let body = serde_json::to_string(&request).unwrap();
        assert_eq!(
            body,
            r#"{"tenant_id":"t1","call_id":"c1","rtc_call_id":"rtc_1","requested_at":1700000000}"#
        );
        assert_eq!(
            serde_json::from_str::<AttachRequest>(&body).unwrap(),
            request
        );
    }
}
