//! Twilio Voice Intelligence (v2, `https://intelligence.twilio.com`): transcripts of our call
//! recordings and their sentences.
//!
//! Like the REST client, every operation is a pure `*_request` builder (checked against the
//! published spec by the contract tests) and a method that sends it through the shared
//! [`Transport`]. The spec types sentence times and confidences as nullable *strings*; real
//! answers have been seen with numbers, so both are accepted.

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};

use super::transport::{Request, Transport, TwilioError};

/// Which channel of our dual-channel recordings holds whom. Twilio records the party on the
/// phone line (the callee of an outbound call, the caller of an inbound one) on the first
/// channel and what Twilio plays to them (the agent, through the media stream) on the
/// second; the simulator models the same, and a test checks that the transcript gives each
/// party the words it said. (To be confirmed on a live call: see the README.)
pub const PERSON_CHANNEL: u32 = 1;
pub const AGENT_CHANNEL: u32 = 2;

/// Sentences asked for per page (Twilio allows up to 5000).
pub const SENTENCES_PAGE_SIZE: u32 = 1000;

/// A transcript's life at Voice Intelligence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TranscriptStatus {
    Queued,
    New,
    InProgress,
    Completed,
    Failed,
    Canceled,
    Error,
    /// A status this code does not know yet; treated as still in progress.
    #[serde(other)]
    Unknown,
}

impl TranscriptStatus {
    /// Nothing will change any more: there are sentences to read, or there never will be.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TranscriptStatus::Completed
                | TranscriptStatus::Failed
                | TranscriptStatus::Canceled
                | TranscriptStatus::Error
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TranscriptStatus::Queued => "queued",
            TranscriptStatus::New => "new",
            TranscriptStatus::InProgress => "in-progress",
            TranscriptStatus::Completed => "completed",
            TranscriptStatus::Failed => "failed",
            TranscriptStatus::Canceled => "canceled",
            TranscriptStatus::Error => "error",
            TranscriptStatus::Unknown => "unknown",
        }
    }
}

/// A transcript resource.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Transcript {
    pub sid: String,
    pub status: TranscriptStatus,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
    /// Seconds of media.
    #[serde(default)]
    pub duration: Option<u32>,
    pub language_code: Option<String>,
    pub customer_key: Option<String>,
    /// `{"media_properties": {"source_sid": "RE..."}, "participants": [...]}`.
    pub channel: Option<serde_json::Value>,
}

impl Transcript {
    /// The recording it was made from.
    pub fn source_sid(&self) -> Option<&str> {
        self.channel.as_ref()?["media_properties"]["source_sid"].as_str()
    }
}

/// One sentence of a transcript.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Sentence {
    #[serde(default)]
    pub media_channel: u32,
    #[serde(default)]
    pub sentence_index: u32,
    /// Seconds from the start of the media.
    #[serde(default, deserialize_with = "number_or_string")]
    pub start_time: Option<f64>,
    #[serde(default, deserialize_with = "number_or_string")]
    pub end_time: Option<f64>,
    #[serde(default)]
    pub transcript: Option<String>,
    #[serde(default, deserialize_with = "number_or_string")]
    pub confidence: Option<f64>,
}

/// `1.5`, `"1.5"` or `null`.
fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient {
        Number(f64),
        Text(String),
    }
    Ok(match Option::<Lenient>::deserialize(d)? {
        Some(Lenient::Number(n)) => Some(n),
        Some(Lenient::Text(t)) => t.trim().parse().ok(),
        None => None,
    })
}

#[derive(Deserialize)]
struct SentencePage {
    sentences: Vec<Sentence>,
    meta: PageMeta,
}

#[derive(Deserialize)]
struct TranscriptPage {
    transcripts: Vec<Transcript>,
}

#[derive(Deserialize)]
struct PageMeta {
    next_page_url: Option<String>,
}

/// Where the next page of a list starts (Twilio's `Page` and `PageToken`).
#[derive(Debug, Clone, PartialEq)]
pub struct PageCursor {
    pub page: String,
    pub token: String,
}

impl PageCursor {
    /// The cursor in a `next_page_url`, if there is a next page.
    fn from_next_page_url(url: &str) -> Option<PageCursor> {
        let query = url.split_once('?')?.1;
        let mut page = None;
        let mut token = None;
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "Page" => page = Some(v.into_owned()),
                "PageToken" => token = Some(v.into_owned()),
                _ => {}
            }
        }
        Some(PageCursor {
            page: page?,
            token: token?,
        })
    }
}

/// A party of the call, as declared to Voice Intelligence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Participant {
    pub channel_participant: u32,
    /// `Customer` or `Agent`.
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_participant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

impl Participant {
    /// The two parties of one of our recordings: the person on the line (their number) and
    /// the agent.
    pub fn of_call(person_number: &str) -> [Participant; 2] {
        [
            Participant {
                channel_participant: PERSON_CHANNEL,
                role: "Customer",
                media_participant_id: Some(person_number.to_string()),
                user_id: None,
            },
            Participant {
                channel_participant: AGENT_CHANNEL,
                role: "Agent",
                media_participant_id: None,
                user_id: Some("ai-agent".into()),
            },
        ]
    }
}

/// The Voice Intelligence API of one service.
#[derive(Clone, Debug)]
pub struct Intelligence {
    transport: Transport,
    service_sid: String,
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Intelligence {
    /// `transport` must point at Voice Intelligence's base URL.
    pub fn new(transport: Transport, service_sid: &str) -> Self {
        Self {
            transport,
            service_sid: service_sid.to_string(),
        }
    }

    pub fn service_sid(&self) -> &str {
        &self.service_sid
    }

    /// A transcript of `recording_sid` with its participants; `customer_key` names our call.
    pub fn create_transcript_request(
        &self,
        recording_sid: &str,
        participants: &[Participant],
        customer_key: &str,
    ) -> Request {
        let channel = serde_json::json!({
            "media_properties": {"source_sid": recording_sid},
            "participants": participants,
        });
        Request {
            method: reqwest::Method::POST,
            path: "/v2/Transcripts".into(),
            query: Vec::new(),
            form: pairs(&[
                ("ServiceSid", &self.service_sid),
                ("Channel", &channel.to_string()),
                ("CustomerKey", customer_key),
            ]),
            // Each create makes (and bills) another transcript.
            idempotent: false,
        }
    }

    /// The service's transcripts of one recording (how an interrupted create is found).
    pub fn transcripts_of_recording_request(&self, recording_sid: &str) -> Request {
        Request {
            method: reqwest::Method::GET,
            path: "/v2/Transcripts".into(),
            query: pairs(&[
                ("ServiceSid", &self.service_sid),
                ("SourceSid", recording_sid),
                ("PageSize", "20"),
            ]),
            form: Vec::new(),
            idempotent: true,
        }
    }

    pub fn transcript_request(&self, sid: &str) -> Request {
        Request {
            method: reqwest::Method::GET,
            path: format!("/v2/Transcripts/{sid}"),
            query: Vec::new(),
            form: Vec::new(),
            idempotent: true,
        }
    }

    /// One page of a transcript's sentences (the first when `cursor` is `None`).
    pub fn sentences_request(&self, sid: &str, cursor: Option<&PageCursor>) -> Request {
        let mut query = pairs(&[("PageSize", &SENTENCES_PAGE_SIZE.to_string())]);
        if let Some(cursor) = cursor {
            query.extend(pairs(&[
                ("Page", &cursor.page),
                ("PageToken", &cursor.token),
            ]));
        }
        Request {
            method: reqwest::Method::GET,
            path: format!("/v2/Transcripts/{sid}/Sentences"),
            query,
            form: Vec::new(),
            idempotent: true,
        }
    }

    pub fn delete_transcript_request(&self, sid: &str) -> Request {
        Request {
            method: reqwest::Method::DELETE,
            path: format!("/v2/Transcripts/{sid}"),
            query: Vec::new(),
            form: Vec::new(),
            idempotent: true,
        }
    }

    pub async fn create_transcript(
        &self,
        recording_sid: &str,
        participants: &[Participant],
        customer_key: &str,
    ) -> Result<Transcript, TwilioError> {
        self.transport
            .send(&self.create_transcript_request(recording_sid, participants, customer_key))
            .await
    }

    /// The service's transcript of `recording_sid`, if one was made.
    pub async fn transcript_of_recording(
        &self,
        recording_sid: &str,
    ) -> Result<Option<Transcript>, TwilioError> {
        let page: TranscriptPage = self
            .transport
            .send(&self.transcripts_of_recording_request(recording_sid))
            .await?;
        Ok(page
            .transcripts
            .into_iter()
            .find(|t| t.source_sid() == Some(recording_sid)))
    }

    pub async fn transcript(&self, sid: &str) -> Result<Transcript, TwilioError> {
        self.transport.send(&self.transcript_request(sid)).await
    }

    /// Every sentence of the transcript, all pages, in Twilio's order.
    pub async fn sentences(&self, sid: &str) -> Result<Vec<Sentence>, TwilioError> {
        let mut sentences = Vec::new();
        let mut cursor = None;
        loop {
            let page: SentencePage = self
                .transport
                .send(&self.sentences_request(sid, cursor.as_ref()))
                .await?;
            sentences.extend(page.sentences);
            match page
                .meta
                .next_page_url
                .as_deref()
                .and_then(PageCursor::from_next_page_url)
            {
                Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
                _ => return Ok(sentences),
            }
        }
    }

    /// Deletes a transcript; one Voice Intelligence no longer knows counts as deleted.
    pub async fn delete_transcript(&self, sid: &str) -> Result<(), TwilioError> {
        match self
            .transport
            .send_raw(&self.delete_transcript_request(sid))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.status == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_take_numbers_or_strings() {
        let s: Sentence = serde_json::from_str(
            r#"{"media_channel":2,"sentence_index":3,"start_time":"1.25","end_time":2.5,"transcript":"Hi.","confidence":null,"sid":"GX1","words":[]}"#,
        )
        .unwrap();
        assert_eq!(
            (s.start_time, s.end_time, s.confidence),
            (Some(1.25), Some(2.5), None)
        );
        let status: TranscriptStatus = serde_json::from_str(r#""paused-for-review""#).unwrap();
        assert_eq!(status, TranscriptStatus::Unknown);
    }

    #[test]
    fn the_next_page_comes_from_next_page_url() {
        let url = "https://intelligence.twilio.com/v2/Transcripts/GT1/Sentences?PageSize=1000&Page=1&PageToken=PAGX2";
        assert_eq!(
            PageCursor::from_next_page_url(url),
            Some(PageCursor {
                page: "1".into(),
                token: "PAGX2".into()
            })
        );
        assert_eq!(PageCursor::from_next_page_url("https://x/y"), None);
    }
}
