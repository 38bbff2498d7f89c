//! Twilio Media Streams messages (bidirectional `<Connect><Stream>`).
//!
//! Inbound every message but `connected` carries a string `sequenceNumber` and the
//! `streamSid`; media is base64 μ-law 8 kHz mono in 20 ms frames. Outbound only `media`,
//! `mark` and `clear` are allowed; anything else makes Twilio fail the stream (31924).

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Inbound {
    Connected,
    Start {
        start: Start,
    },
    Media {
        media: Media,
    },
    Mark {
        mark: Mark,
    },
    /// A keypad press (bidirectional streams only).
    Dtmf {
        dtmf: Option<Dtmf>,
    },
    Stop,
}

#[derive(Debug, Deserialize)]
pub struct Dtmf {
    pub digit: String,
}

impl Dtmf {
    /// The key pressed, if it is one a keypad has (`0`-`9`, `*`, `#`).
    pub fn key(&self) -> Option<char> {
        let mut chars = self.digit.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_digit() || c == '*' || c == '#' => Some(c),
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Start {
    pub account_sid: String,
    pub stream_sid: String,
    pub call_sid: String,
    #[serde(default)]
    pub custom_parameters: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
pub struct Media {
    /// Base64 μ-law, forwarded to OpenAI as is (no decode, no re-encode).
    pub payload: String,
    #[serde(default)]
    pub track: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Mark {
    pub name: String,
}

pub fn parse(text: &str) -> Option<Inbound> {
    serde_json::from_str(text).ok()
}

/// The payload of a `media` message, found without parsing the whole message: media is 50
/// messages a second per call, and the payload is forwarded as is. Anything that does not look
/// like a media message (or whose payload is not plain base64) returns `None` and takes the
/// full parse.
pub fn media_payload(text: &str) -> Option<&str> {
    let head = text.get(..text.len().min(48))?;
    if !head.contains(r#""event":"media""#) {
        return None;
    }
    const KEY: &str = r#""payload":""#;
    let start = text.find(KEY)? + KEY.len();
    let len = text[start..].find('"')?;
    let payload = &text[start..start + len];
    payload
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
        .then_some(payload)
}

/// The name of a `mark` echo, read borrowed: Twilio echoes every mark we send (several a
/// second per call while the agent speaks), and the full parse buffers and allocates every
/// field. A name with escapes (never one of ours) returns `None` and takes the full parse.
pub fn mark_name(text: &str) -> Option<&str> {
    #[derive(Deserialize)]
    struct Echo<'a> {
        #[serde(borrow)]
        event: &'a str,
        #[serde(borrow)]
        mark: Option<Name<'a>>,
    }
    #[derive(Deserialize)]
    struct Name<'a> {
        #[serde(borrow)]
        name: &'a str,
    }
    let echo: Echo = serde_json::from_str(text).ok()?;
    (echo.event == "mark").then_some(echo.mark?.name)
}

/// `{"event":"media","streamSid":…,"media":{"payload":…}}` carrying `audio` (μ-law),
/// base64-encoded straight into the message.
pub fn media(stream_sid: &str, audio: &[u8]) -> String {
    const HEAD: &str = r#"{"event":"media","streamSid":""#;
    const MIDDLE: &str = r#"","media":{"payload":""#;
    const TAIL: &str = r#""}}"#;
    let mut message = String::with_capacity(
        HEAD.len() + stream_sid.len() + MIDDLE.len() + audio.len().div_ceil(3) * 4 + TAIL.len(),
    );
    message.push_str(HEAD);
    message.push_str(stream_sid);
    message.push_str(MIDDLE);
    STANDARD.encode_string(audio, &mut message);
    message.push_str(TAIL);
    message
}

/// `{"event":"mark","streamSid":…,"mark":{"name":…}}`; names are `<item_id>:<cumulative_ms>`.
pub fn mark(stream_sid: &str, name: &str) -> String {
    format!(r#"{{"event":"mark","streamSid":"{stream_sid}","mark":{{"name":"{name}"}}}}"#)
}

/// `{"event":"clear","streamSid":…}`: Twilio drops the audio it has buffered.
pub fn clear(stream_sid: &str) -> String {
    format!(r#"{{"event":"clear","streamSid":"{stream_sid}"}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_shapes() {
        let start = r#"{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"customParameters":{"token":"t"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}"#;
        match parse(start) {
            Some(Inbound::Start { start }) => {
                assert_eq!(start.call_sid, "CA1");
                assert_eq!(start.custom_parameters["token"], "t");
            }
            other => panic!("{other:?}"),
        }
        let media = r#"{"event":"media","sequenceNumber":"3","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"//8="}}"#;
        assert!(matches!(parse(media), Some(Inbound::Media { .. })));
        assert!(matches!(
            parse(r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#),
            Some(Inbound::Connected)
        ));
        assert!(matches!(
            parse(
                r#"{"event":"stop","sequenceNumber":"9","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}}"#
            ),
            Some(Inbound::Stop)
        ));
        assert!(parse("not json").is_none());
        assert_eq!(media_payload(media), Some("//8="));
        assert_eq!(media_payload(start), None);
        assert_eq!(
            media_payload(r#"{"event":"media","media":{"payload":"a\"b"}}"#),
            None
        );
        let echo = r#"{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"item_1:100"}}"#;
        assert_eq!(mark_name(echo), Some("item_1:100"));
        assert!(matches!(parse(echo), Some(Inbound::Mark { .. })));
        assert_eq!(mark_name(media), None);
        assert_eq!(mark_name(start), None);
        assert_eq!(
            mark_name(r#"{"event":"mark","mark":{"name":"a\"b"}}"#),
            None
        );
    }

    #[test]
    fn builds_the_three_outbound_messages() {
        let m: serde_json::Value = serde_json::from_str(&media("MZ1", &[0xff, 0xff])).unwrap();
        assert_eq!(
            m,
            serde_json::json!({"event": "media", "streamSid": "MZ1", "media": {"payload": "//8="}})
        );
        let k: serde_json::Value = serde_json::from_str(&mark("MZ1", "item_1:100")).unwrap();
        assert_eq!(k["mark"]["name"], "item_1:100");
        let c: serde_json::Value = serde_json::from_str(&clear("MZ1")).unwrap();
        assert_eq!(c, serde_json::json!({"event": "clear", "streamSid": "MZ1"}));
    }
}
