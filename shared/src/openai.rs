//! OpenAI's HTTP API: short summaries of transcripts with the Responses API (`POST
//! /responses`), transcription of uploaded audio (`POST /audio/transcriptions`), and browser
//! calls ([`realtime_calls`]). Base URL and models from configuration (the simulator in tests).
//!
//! Like the Twilio clients, each request is built by a pure function the contract tests
//! check against the published spec, then sent. Neither request is retried: both cost money
//! and the caller can ask again.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::OpenAi;

pub mod realtime_calls;

/// Longest transcript text sent for a summary (characters): a long call's beginning and end
/// carry what a short summary needs, and the request stays small.
const MAX_SUMMARY_INPUT: usize = 48_000;

/// Each request to OpenAI (no retries): the functions that make one leave room for it.
pub const TIMEOUT: Duration = Duration::from_secs(25);

/// What a summary is asked to be.
pub const SUMMARY_INSTRUCTIONS: &str = "You summarise phone calls between an AI agent and a \
person. Write one or two plain sentences, under 160 characters in all, saying what the call \
was about and how it ended (what was agreed, booked or left open). No names of the AI, no \
greetings, no markdown.";

/// A failure talking to OpenAI.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("OpenAI error (HTTP {status}): {message}")]
pub struct OpenAiError {
    /// 0 when OpenAI could not be reached or answered nonsense.
    pub status: u16,
    pub message: String,
}

impl OpenAiError {
    fn transport(message: impl Into<String>) -> Self {
        Self {
            status: 0,
            message: message.into(),
        }
    }
}

/// An audio file to transcribe.
pub struct Audio {
    pub bytes: Vec<u8>,
    pub file_name: String,
    pub content_type: String,
}

/// The OpenAI HTTP API with the platform's key.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
    summary_model: String,
    whisper_model: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("openai::Client")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// The body of a summary request: the model, our instructions and the conversation.
pub fn summary_request(model: &str, conversation: &str) -> Value {
    let input = if conversation.len() > MAX_SUMMARY_INPUT {
        let mut cut = MAX_SUMMARY_INPUT;
        while !conversation.is_char_boundary(cut) {
            cut -= 1;
        }
        &conversation[..cut]
    } else {
        conversation
    };
    json!({
        "model": model,
        "instructions": SUMMARY_INSTRUCTIONS,
        "input": input,
        "max_output_tokens": 120,
        "store": false,
    })
}

/// The text fields of a transcription request (the file goes beside them).
pub fn transcription_fields(model: &str, language: Option<&str>) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("model", model.to_string()),
        ("response_format", "json".to_string()),
    ];
    if let Some(language) = language {
        fields.push(("language", language.to_string()));
    }
    fields
}

#[derive(Deserialize)]
struct ResponseBody {
    #[serde(default)]
    output: Vec<Value>,
}

/// The text of a Responses API answer: its `output_text` parts, in order.
pub fn response_text(body: &Value) -> Option<String> {
    let body: ResponseBody = serde_json::from_value(body.clone()).ok()?;
    let text: String = body
        .output
        .iter()
        .filter(|item| item["type"] == "message")
        .flat_map(|item| item["content"].as_array().cloned().unwrap_or_default())
        .filter(|part| part["type"] == "output_text")
        .filter_map(|part| part["text"].as_str().map(str::to_string))
        .collect();
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

impl Client {
    /// `None` without an API key (summaries and Whisper then answer 503).
    pub fn from_config(config: &OpenAi) -> Option<Client> {
        let api_key = config.api_key.clone()?;
        Some(Client {
            http: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .build()
                .unwrap_or_default(),
            base_url: config.api_base_url.clone(),
            api_key,
            summary_model: config.summary_model.clone(),
            whisper_model: config.whisper_model.clone(),
        })
    }

    /// A summary of `conversation` (speaker-labelled lines).
    pub async fn summarize(&self, conversation: &str) -> Result<String, OpenAiError> {
        let body = summary_request(&self.summary_model, conversation);
        let answer = self
            .http
            .post(format!("{}/responses", self.base_url))
            .bearer_auth(&self.api_key)
            .json(&body)
            .send()
            .await;
        let json = read(answer).await?;
        response_text(&json).ok_or_else(|| OpenAiError::transport("the answer held no output text"))
    }

    /// The text spoken in `audio`.
    pub async fn transcribe(
        &self,
        audio: Audio,
        language: Option<&str>,
    ) -> Result<String, OpenAiError> {
        let file = reqwest::multipart::Part::bytes(audio.bytes)
            .file_name(audio.file_name)
            .mime_str(&audio.content_type)
            .map_err(|e| OpenAiError::transport(e.to_string()))?;
        let mut form = reqwest::multipart::Form::new().part("file", file);
        for (name, value) in transcription_fields(&self.whisper_model, language) {
            form = form.text(name, value);
        }
        let answer = self
            .http
            .post(format!("{}/audio/transcriptions", self.base_url))
            .bearer_auth(&self.api_key)
            .multipart(form)
            .send()
            .await;
        let json = read(answer).await?;
        json["text"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| OpenAiError::transport("the answer held no text"))
    }
}

/// The JSON of a successful answer, or OpenAI's error.
async fn read(answer: reqwest::Result<reqwest::Response>) -> Result<Value, OpenAiError> {
    let response = answer.map_err(|e| OpenAiError::transport(e.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(read_error(response).await);
    }
    response
        .json()
        .await
        .map_err(|e| OpenAiError::transport(e.without_url().to_string()))
}

/// OpenAI's error from an unsuccessful answer: its status and the message of its body.
async fn read_error(response: reqwest::Response) -> OpenAiError {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or_default();
    OpenAiError {
        status,
        message: body["error"]["message"]
            .as_str()
            .unwrap_or("no message")
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_text_is_every_output_text_part() {
        let body = json!({"output": [
            {"type": "reasoning", "summary": []},
            {"type": "message", "role": "assistant", "content": [
                {"type": "output_text", "text": "Booked Tuesday 10:00.", "annotations": []},
            ]},
        ]});
        assert_eq!(
            response_text(&body).as_deref(),
            Some("Booked Tuesday 10:00.")
        );
        assert_eq!(response_text(&json!({"output": []})), None);
    }

    #[test]
    fn long_conversations_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_SUMMARY_INPUT);
        let body = summary_request("m", &long);
        assert!(body["input"].as_str().unwrap().len() <= MAX_SUMMARY_INPUT);
    }
}
