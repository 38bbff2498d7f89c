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
