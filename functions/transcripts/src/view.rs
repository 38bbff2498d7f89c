//! The transcript shapes clients see: the reference app's enhanced transcripts (§1.9), with
//! the call's id as `id`.

use std::collections::BTreeMap;

use serde::Serialize;
use shared::domain::calls::Direction;
use shared::domain::transcripts::{
    ConversationStats, FlowEntry, ParticipantStats, SummaryData, format_duration,
};
use shared::store::transcripts::TranscriptRecord;
use utoipa::ToSchema;

/// Where every stored transcript comes from.
const SOURCE_TYPE: &str = "TwilioIntelligence";

#[derive(Debug, Serialize, ToSchema)]
pub struct ListSummary {
    /// `m:ss`.
    pub duration_formatted: String,
    pub participant_info: BTreeMap<String, ParticipantStats>,
    pub conversation_stats: ConversationStats,
}

/// One transcript in the listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnhancedListItem {
    /// The call's id.
    pub id: String,
    pub transcript_sid: String,
    pub call_id: String,
    pub call_date: String,
    /// Seconds.
    pub duration: u32,
    pub call_direction: Direction,
    pub scenario_name: String,
    pub source_type: &'static str,
    pub language_code: Option<String>,
    /// Always `completed`: only completed transcripts are stored.
    pub status: &'static str,
    pub participant_count: u32,
    pub conversation_turns: u32,
    pub total_words: u32,
    pub created_at: String,
    pub summary: ListSummary,
}

impl From<TranscriptRecord> for EnhancedListItem {
    fn from(r: TranscriptRecord) -> Self {
        let stats = &r.enhanced.summary_data;
        Self {
            id: r.call_id.clone(),
            participant_count: stats.participant_count,
            conversation_turns: stats.conversation_stats.turns,
            total_words: stats.total_words,
            summary: ListSummary {
                duration_formatted: format_duration(r.duration_seconds),
                participant_info: r.enhanced.participant_info.clone(),
                conversation_stats: stats.conversation_stats.clone(),
            },
            transcript_sid: r.transcript_sid,
            call_id: r.call_id,
            call_date: r.call_date,
            duration: r.duration_seconds,
            call_direction: r.call_direction,
            scenario_name: r.scenario_name,
            source_type: SOURCE_TYPE,
            language_code: r.language_code,
            status: "completed",
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FormattedData {
    pub duration_formatted: String,
    pub participant_names: Vec<String>,
    pub total_turns: u32,
    pub total_words: u32,
    pub average_confidence: Option<f64>,
}

/// One transcript, whole.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnhancedTranscript {
    pub id: String,
    pub transcript_sid: String,
    pub call_id: String,
    pub call_date: String,
    pub duration: u32,
    pub call_direction: Direction,
    pub scenario_name: String,
    pub source_type: &'static str,
    pub language_code: Option<String>,
    pub status: &'static str,
    pub full_text: String,
    pub created_at: String,
    pub updated_at: String,
    /// A short summary, once asked for.
    pub summary: Option<String>,
    pub participant_info: BTreeMap<String, ParticipantStats>,
    pub conversation_flow: Vec<FlowEntry>,
    pub summary_data: SummaryData,
    pub formatted_data: FormattedData,
}

impl From<TranscriptRecord> for EnhancedTranscript {
    fn from(r: TranscriptRecord) -> Self {
        let e = r.enhanced;
        Self {
            id: r.call_id.clone(),
            formatted_data: FormattedData {
                duration_formatted: format_duration(r.duration_seconds),
                participant_names: e
                    .participant_info
                    .values()
                    .map(|p| p.name.clone())
                    .collect(),
                total_turns: e.summary_data.conversation_stats.turns,
                total_words: e.summary_data.total_words,
                average_confidence: e.summary_data.average_confidence,
            },
            transcript_sid: r.transcript_sid,
            call_id: r.call_id,
            call_date: r.call_date,
            duration: r.duration_seconds,
            call_direction: r.call_direction,
            scenario_name: r.scenario_name,
            source_type: SOURCE_TYPE,
            language_code: r.language_code,
            status: "completed",
            full_text: e.full_text,
            created_at: r.created_at,
            updated_at: r.updated_at,
            summary: r.summary,
            participant_info: e.participant_info,
            conversation_flow: e.conversation_flow,
            summary_data: e.summary_data,
        }
    }
}

/// A sentence the way Voice Intelligence lists it (`speaker` is the channel).
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelSentence {
    pub text: String,
    pub speaker: u32,
    pub start_time: f64,
    pub end_time: f64,
    pub confidence: Option<f64>,
}

/// A stored transcript in Voice Intelligence's own shape (what the reference frontend's
/// transcript list and detail read).
#[derive(Debug, Serialize, ToSchema)]
pub struct TwilioShaped {
    pub sid: String,
    pub status: &'static str,
    pub date_created: String,
    pub date_updated: String,
    pub duration: u32,
    pub language_code: Option<String>,
    pub sentences: Vec<ChannelSentence>,
}

impl From<TranscriptRecord> for TwilioShaped {
    fn from(r: TranscriptRecord) -> Self {
        Self {
            sentences: r
                .enhanced
                .conversation_flow
                .iter()
                .map(|e| ChannelSentence {
                    text: e.text.clone(),
                    speaker: e.speaker.channel,
                    start_time: e.start_time,
                    end_time: e.end_time,
                    confidence: e.confidence,
                })
                .collect(),
            sid: r.transcript_sid,
            status: "completed",
            date_created: r.created_at,
            date_updated: r.updated_at,
            duration: r.duration_seconds,
            language_code: r.language_code,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TwilioShapedPage {
    pub transcripts: Vec<TwilioShaped>,
    /// Pass as `page_token` for the next page; absent on the last.
    pub next_page_token: Option<String>,
}

/// A sentence as the plain transcript shapes list it (`speaker` is the role).
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleSentence {
    pub transcript: String,
    /// `customer`, `agent` or `unknown`.
    pub speaker: String,
    pub start_time: f64,
    pub end_time: f64,
    pub confidence: Option<f64>,
}

fn role_sentences(flow: &[FlowEntry]) -> Vec<RoleSentence> {
    flow.iter()
        .map(|e| RoleSentence {
            transcript: e.text.clone(),
            speaker: e.speaker.role.clone(),
            start_time: e.start_time,
            end_time: e.end_time,
            confidence: e.confidence,
        })
        .collect()
}

/// A stored transcript in the reference app's plain stored shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stored {
    /// The call's id.
    pub id: String,
    pub transcript_sid: String,
    pub status: &'static str,
    pub full_text: String,
    pub date_created: String,
    pub date_updated: String,
    pub duration: u32,
    pub language_code: Option<String>,
    pub created_at: String,
    /// Only on a single transcript.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentences: Option<Vec<RoleSentence>>,
}

impl Stored {
    pub fn of(r: TranscriptRecord, with_sentences: bool) -> Self {
        Self {
            sentences: with_sentences.then(|| role_sentences(&r.enhanced.conversation_flow)),
            id: r.call_id,
            transcript_sid: r.transcript_sid,
            status: "completed",
            full_text: r.enhanced.full_text,
            date_created: r.created_at.clone(),
            date_updated: r.updated_at,
            duration: r.duration_seconds,
            language_code: r.language_code,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlainTranscript {
    pub full_text: String,
    pub sentences: Vec<RoleSentence>,
    pub language_code: Option<String>,
    pub duration: u32,
    pub status: &'static str,
    pub transcript_sid: String,
}

impl From<TranscriptRecord> for PlainTranscript {
    fn from(r: TranscriptRecord) -> Self {
        Self {
            sentences: role_sentences(&r.enhanced.conversation_flow),
            full_text: r.enhanced.full_text,
            language_code: r.language_code,
            duration: r.duration_seconds,
            status: "completed",
            transcript_sid: r.transcript_sid,
        }
    }
}

/// `{status: "success", message?, transcript}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlainReply {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
    pub transcript: PlainTranscript,
}

/// `{status: "success", message, transcript_data}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnhancedReply {
    pub status: &'static str,
    pub message: &'static str,
    pub transcript_data: EnhancedTranscript,
}
