//! Browser calls at OpenAI (Realtime over WebRTC), server side: the SDP exchange (`POST
//! /realtime/calls`, multipart `sdp` + `session`, with the platform's key, so nothing that
//! outlives the call reaches the browser) and hanging a call up (`POST
//! /realtime/calls/{call_id}/hangup`). The media bridge watches each call through its sideband
//! WebSocket (`?call_id=`).

use serde_json::{Value, json};

use super::{Client, OpenAiError, read_error};

/// The GA session a browser call starts with: the scenario's instructions and voice, and
/// transcription of what the person says. Audio formats are left to WebRTC (Opus); the tools
/// come from the media bridge once it has attached, since it is the bridge that runs them.
pub fn call_session(
    model: &str,
    instructions: &str,
    voice: &str,
    transcription_model: &str,
) -> Value {
    json!({
        "type": "realtime",
        "model": model,
        "output_modalities": ["audio"],
        "instructions": instructions,
        "audio": {
            "input": {
                "transcription": {"model": transcription_model},
                "turn_detection": {
                    "type": "server_vad",
                    "create_response": true,
                    "interrupt_response": true
                }
            },
            "output": {"voice": voice}
        }
    })
}

/// OpenAI's id of a call from the `Location` of its creation (`/v1/realtime/calls/rtc_…`).
/// Checked, since it goes into URLs and the call record.
pub fn call_id_from_location(location: &str) -> Option<String> {
    let id = location.trim_end_matches('/').rsplit('/').next()?;
    let well_formed = id.starts_with("rtc_")
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    well_formed.then(|| id.to_string())
}

/// A browser call OpenAI accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptedCall {
    /// The SDP answer for the browser.
    pub answer_sdp: String,
    /// `rtc_…`: for the sideband and hanging up.
    pub call_id: String,
}

impl Client {
    /// Sends the browser's SDP offer with the session; OpenAI answers 201 with its SDP answer
    /// and the call's id in `Location`. Not retried: the offer is single-use and a second
    /// call would be a second conversation.
    pub async fn create_realtime_call(
        &self,
        offer_sdp: &str,
        session: &Value,
    ) -> Result<AcceptedCall, OpenAiError> {
        let part = |text: String, mime: &str| {
            reqwest::multipart::Part::text(text)
                .mime_str(mime)
                .map_err(|e| OpenAiError::transport(e.to_string()))
        };
        let form = reqwest::multipart::Form::new()
            .part("sdp", part(offer_sdp.to_string(), "application/sdp")?)
            .part("session", part(session.to_string(), "application/json")?);
        let response = self
            .http
            .post(format!("{}/realtime/calls", self.base_url))
            .bearer_auth(&self.api_key)
            .multipart(form)
            .send()
            .await
            .map_err(|e| OpenAiError::transport(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(read_error(response).await);
        }
        let call_id = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(call_id_from_location)
            .ok_or_else(|| OpenAiError::transport("the answer named no call"))?;
        let answer_sdp = response
            .text()
            .await
            .map_err(|e| OpenAiError::transport(e.without_url().to_string()))?;
        if !answer_sdp.starts_with("v=0") {
            return Err(OpenAiError::transport("the answer held no SDP"));
        }
        Ok(AcceptedCall {
            answer_sdp,
            call_id,
        })
    }

    /// Ends a call. A call OpenAI no longer knows (already over) counts as ended.
    pub async fn hang_up_realtime_call(&self, call_id: &str) -> Result<(), OpenAiError> {
        let response = self
            .http
            .post(format!("{}/realtime/calls/{call_id}/hangup", self.base_url))
            .bearer_auth(&self.api_key)
            .send()
            .await
            .map_err(|e| OpenAiError::transport(e.without_url().to_string()))?;
        match response.status().as_u16() {
            200..=299 | 404 => Ok(()),
            _ => Err(read_error(response).await),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_id_comes_from_the_location_and_nothing_else_does() {
        assert_eq!(
            call_id_from_location("/v1/realtime/calls/rtc_u1_9c6b").as_deref(),
            Some("rtc_u1_9c6b")
        );
        for bad in [
            "/v1/realtime/calls/",
            "/v1/realtime/calls/sess_1",
            "/x/rtc_a?b=c",
            "",
        ] {
            assert_eq!(call_id_from_location(bad), None, "{bad}");
        }
    }
}
