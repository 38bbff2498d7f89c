//! OpenAI Realtime, GA protocol: the client events the bridge sends and the server events it
//! acts on. Audio is `audio/pcmu` both ways, so Twilio's base64 payloads pass through
//! untouched. (The beta protocol — `input_audio_format`, `response.audio.delta` — is
//! switched off at OpenAI and never spoken here.)

use serde::Deserialize;
use serde_json::{Value, json};

/// The session configuration for a phone call.
pub fn session_update(
    instructions: &str,
    voice: &str,
    transcription_model: &str,
    tools: Value,
) -> String {
    json!({
        "type": "session.update",
        "session": {
            "type": "realtime",
            "output_modalities": ["audio"],
            "instructions": instructions,
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "transcription": {"model": transcription_model},
                    "turn_detection": {
                        "type": "server_vad",
                        "create_response": true,
                        "interrupt_response": true
                    }
                },
                "output": {
                    "format": {"type": "audio/pcmu"},
                    "voice": voice
                }
            },
            "tools": tools,
            "tool_choice": "auto"
        }
    })
    .to_string()
}

/// The `session.update` of a browser call's sideband: the call's instructions (its calendar
/// block included) and tools. Audio is WebRTC's business, so no formats; the voice was set
/// when the call was created and cannot change once the model has spoken.
pub fn sideband_session_update(instructions: &str, tools: Value) -> String {
    json!({
        "type": "session.update",
        "session": {
            "type": "realtime",
            "instructions": instructions,
            "tools": tools,
            "tool_choice": "auto"
        }
    })
    .to_string()
}

/// Caller audio, forwarded as Twilio sent it (base64 μ-law).
pub fn append(payload_b64: &str) -> String {
    const HEAD: &str = r#"{"type":"input_audio_buffer.append","audio":""#;
    let mut event = String::with_capacity(HEAD.len() + payload_b64.len() + 2);
    event.push_str(HEAD);
    event.push_str(payload_b64);
    event.push_str(r#""}"#);
    event
}

/// Asks for a response; `instructions` overrides the session's for this response only.
pub fn response_create(instructions: Option<&str>) -> String {
    match instructions {
        Some(text) => {
            json!({"type": "response.create", "response": {"instructions": text}}).to_string()
        }
        None => r#"{"type":"response.create"}"#.to_string(),
    }
}

/// Stops the response in progress (its `response.done` then says `cancelled`).
pub fn response_cancel() -> String {
    r#"{"type":"response.cancel"}"#.to_string()
}

/// Cuts the assistant item to what the caller heard.
pub fn truncate(item_id: &str, audio_end_ms: u64) -> String {
    json!({
        "type": "conversation.item.truncate",
        "item_id": item_id,
        "content_index": 0,
        "audio_end_ms": audio_end_ms
    })
    .to_string()
}

pub fn function_call_output(call_id: &str, output: &str) -> String {
    json!({
        "type": "conversation.item.create",
        "item": {"type": "function_call_output", "call_id": call_id, "output": output}
    })
    .to_string()
}

/// A past turn, replayed into a new session when the session is rotated.
pub fn history_item(role: Role, text: &str) -> String {
    let (role, kind) = match role {
        Role::User => ("user", "input_text"),
        Role::Assistant => ("assistant", "output_text"),
    };
    json!({
        "type": "conversation.item.create",
        "item": {"type": "message", "role": role, "content": [{"type": kind, "text": text}]}
    })
    .to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

/// The server events the bridge acts on; everything else is `Other`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
pub enum ServerEvent {
    #[serde(rename = "session.created")]
    SessionCreated,
    #[serde(rename = "session.updated")]
    SessionUpdated,
    #[serde(rename = "input_audio_buffer.speech_started")]
    SpeechStarted,
    #[serde(rename = "response.created")]
    ResponseCreated,
    #[serde(rename = "response.output_audio.delta")]
    AudioDelta { item_id: String, delta: String },
    #[serde(rename = "response.output_audio.done")]
    AudioDone { item_id: String },
    #[serde(rename = "response.function_call_arguments.done")]
    FunctionCallArgumentsDone {
        call_id: String,
        name: String,
        arguments: String,
    },
    #[serde(rename = "response.output_item.done")]
    OutputItemDone { item: OutputItem },
    #[serde(rename = "response.done")]
    ResponseDone { response: Response },
    #[serde(rename = "conversation.item.input_audio_transcription.completed")]
    InputTranscript { transcript: String },
    #[serde(rename = "response.output_audio_transcript.done")]
    OutputTranscript { transcript: String },
    /// WebRTC and SIP only: the person's device played everything the model said.
    #[serde(rename = "output_audio_buffer.stopped")]
    OutputAudioBufferStopped,
    #[serde(rename = "error")]
    Error { error: ErrorBody },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
pub struct OutputItem {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub call_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Response {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub usage: Option<Usage>,
    #[serde(default)]
    pub output: Vec<OutputItem>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub input_token_details: TokenDetails,
    #[serde(default)]
    pub output_token_details: TokenDetails,
}

impl Usage {
    /// Adds a response's tokens to the call's record.
    pub fn add_to(&self, summary: &mut shared::store::calls::BridgeSummary) {
        summary.input_text_tokens += self.input_token_details.text_tokens;
        summary.input_audio_tokens += self.input_token_details.audio_tokens;
        summary.output_text_tokens += self.output_token_details.text_tokens;
        summary.output_audio_tokens += self.output_token_details.audio_tokens;
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenDetails {
    #[serde(default)]
    pub text_tokens: u64,
    #[serde(default)]
    pub audio_tokens: u64,
}

#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

impl ErrorBody {
    /// What the call record says of it: the code only, since OpenAI's messages can quote a
    /// part of the key ("Incorrect API key provided: sk-…").
    pub fn describe(&self) -> String {
        format!(
            "OpenAI error {}",
            self.code.as_deref().unwrap_or("without a code")
        )
    }

    /// Errors after which the session cannot go on. Most Realtime errors are recoverable
    /// (OpenAI: "the session will stay open"); these are not.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some(
                "session_expired"
                    | "invalid_api_key"
                    | "insufficient_quota"
                    | "beta_api_shape_disabled"
            )
        )
    }
}

pub fn parse(text: &str) -> ServerEvent {
    serde_json::from_str(text).unwrap_or(ServerEvent::Other)
}

/// The agent's audio: a `response.output_audio.delta`, borrowed from the message.
pub struct AudioDelta<'a> {
    pub item_id: &'a str,
    /// Base64 μ-law.
    pub delta: &'a str,
}

/// Reads a `response.output_audio.delta` without building the whole event: deltas are most of
/// what a session receives, and [`parse`] (an internally tagged enum) buffers every field of
/// the message first. `None` for any other event, and for a delta whose strings carry JSON
/// escapes (then [`parse`] reads it).
pub fn audio_delta(text: &str) -> Option<AudioDelta<'_>> {
    #[derive(Deserialize)]
    struct Peek<'a> {
        #[serde(rename = "type", borrow)]
        kind: &'a str,
        #[serde(borrow, default)]
        item_id: Option<&'a str>,
        #[serde(borrow, default)]
        delta: Option<&'a str>,
    }
    let peek: Peek = serde_json::from_str(text).ok()?;
    match peek {
        Peek {
            kind: "response.output_audio.delta",
            item_id: Some(item_id),
            delta: Some(delta),
        } => Some(AudioDelta { item_id, delta }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ga_event_names() {
        assert!(matches!(
            parse(
                r#"{"type":"response.output_audio.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"AAA="}"#
            ),
            ServerEvent::AudioDelta { .. }
        ));
        let delta = audio_delta(
            r#"{"type":"response.output_audio.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"AAA="}"#,
        )
        .unwrap();
        assert_eq!((delta.item_id, delta.delta), ("i", "AAA="));
        // Any field order; anything else is not a delta.
        assert!(
            audio_delta(r#"{"delta":"AAA=","item_id":"i","type":"response.output_audio.delta"}"#)
                .is_some()
        );
        assert!(audio_delta(r#"{"type":"response.output_audio.done","item_id":"i"}"#).is_none());
        assert!(
            audio_delta(r#"{"type":"response.audio.delta","item_id":"i","delta":"AAA="}"#)
                .is_none()
        );
        // The beta name is not the GA one.
        assert!(matches!(
            parse(r#"{"type":"response.audio.delta","delta":"AAA="}"#),
            ServerEvent::Other
        ));
        match parse(
            r#"{"type":"response.done","response":{"status":"completed","output":[],"usage":{"input_token_details":{"text_tokens":5,"audio_tokens":7},"output_token_details":{"text_tokens":1,"audio_tokens":20}}}}"#,
        ) {
            ServerEvent::ResponseDone { response } => {
                assert_eq!(
                    response.usage.unwrap().output_token_details.audio_tokens,
                    20
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn client_events_are_ga_shaped() {
        let s: Value = serde_json::from_str(&session_update(
            "Be nice",
            "marin",
            "gpt-4o-mini-transcribe",
            json!([]),
        ))
        .unwrap();
        assert_eq!(
            s["session"]["audio"]["input"]["format"]["type"],
            "audio/pcmu"
        );
        assert_eq!(s["session"]["audio"]["output"]["voice"], "marin");
        assert!(s["session"].get("input_audio_format").is_none());
        let a: Value = serde_json::from_str(&append("//8=")).unwrap();
        assert_eq!(
            a,
            json!({"type": "input_audio_buffer.append", "audio": "//8="})
        );
    }
}
