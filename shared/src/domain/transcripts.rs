//! Enhanced transcripts: a call's sentences turned into who said what, for how long, in how
//! many turns, with what confidence.
//!
//! The shapes follow the reference app's enhanced transcripts (participant info, conversation
//! flow, summary data), done right: roles come from the participants we declared for each
//! channel of our recording, turns are changes of speaker (not sentences), the average
//! confidence is over the sentences that have one, and speaking time is shared out of the
//! time anyone spoke.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::twilio::intelligence::{AGENT_CHANNEL, PERSON_CHANNEL, Sentence, TranscriptStatus};

/// Where a call's transcript is, as the call record shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TranscriptionState {
    /// The platform is asking Voice Intelligence for it.
    Requested,
    /// Voice Intelligence has it and is working on it.
    InProgress,
    /// Stored, enhanced, readable.
    Completed,
    /// Voice Intelligence could not make it (failed, canceled, error).
    Failed,
    /// Voice Intelligence was still working on it after every look the platform takes.
    TimedOut,
}

impl TranscriptionState {
    pub fn as_str(self) -> &'static str {
        match self {
            TranscriptionState::Requested => "requested",
            TranscriptionState::InProgress => "in-progress",
            TranscriptionState::Completed => "completed",
            TranscriptionState::Failed => "failed",
            TranscriptionState::TimedOut => "timed-out",
        }
    }

    /// What a Voice Intelligence status means for the call. `Completed` is only reached by
    /// storing the transcript, never straight from Voice Intelligence's word.
    pub fn of(status: TranscriptStatus) -> TranscriptionState {
        match status {
            TranscriptStatus::Failed | TranscriptStatus::Canceled | TranscriptStatus::Error => {
                TranscriptionState::Failed
            }
            _ => TranscriptionState::InProgress,
        }
    }
}

impl std::str::FromStr for TranscriptionState {
    type Err = crate::domain::calls::UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            TranscriptionState::Requested,
            TranscriptionState::InProgress,
            TranscriptionState::Completed,
            TranscriptionState::Failed,
            TranscriptionState::TimedOut,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
        .ok_or_else(|| crate::domain::calls::UnknownStatus(s.to_string()))
    }
}

/// Who is on a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Speaker {
    pub channel: u32,
    /// `customer`, `agent` or `unknown`.
    pub role: String,
    pub name: String,
}

impl Speaker {
    /// The party we declared for `channel` of our recordings.
    pub fn of_channel(channel: u32) -> Speaker {
        let (role, name) = match channel {
            PERSON_CHANNEL => ("customer", "Customer".to_string()),
            AGENT_CHANNEL => ("agent", "AI Agent".to_string()),
            other => ("unknown", format!("Speaker {other}")),
        };
        Speaker {
            channel,
            role: role.into(),
            name,
        }
    }
}

/// What one participant contributed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ParticipantStats {
    pub channel: u32,
    pub role: String,
    pub name: String,
    /// Seconds.
    pub total_speaking_time: f64,
    pub word_count: u32,
    pub sentence_count: u32,
}

/// One sentence in the order it was said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FlowEntry {
    /// 1-based.
    pub sequence: u32,
    pub speaker: Speaker,
    pub text: String,
    pub start_time: f64,
    pub end_time: f64,
    pub duration: f64,
    pub confidence: Option<f64>,
    pub word_count: u32,
}

/// One participant's share of the talking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SpeakingShare {
    /// Of the time anyone spoke.
    pub percentage: f64,
    pub seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConversationStats {
    /// Changes of speaker, plus the first.
    pub turns: u32,
    pub avg_words_per_turn: f64,
    /// By channel.
    pub speaking_time_distribution: BTreeMap<String, SpeakingShare>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SummaryData {
    pub total_duration_seconds: u32,
    pub total_sentences: u32,
    pub total_words: u32,
    pub participant_count: u32,
    pub language_code: Option<String>,
    /// Over the sentences that have a confidence; `None` when none has.
    pub average_confidence: Option<f64>,
    pub conversation_stats: ConversationStats,
}

/// Everything derived from a transcript's sentences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enhanced {
    pub full_text: String,
    /// By channel.
    pub participant_info: BTreeMap<String, ParticipantStats>,
    pub conversation_flow: Vec<FlowEntry>,
    pub summary_data: SummaryData,
}

fn words(text: &str) -> u32 {
    text.split_whitespace().count() as u32
}

/// Enhances the sentences of a transcript of `duration_seconds` of media. Sentences come in
/// any order; they are put in the order they were said (start time, then index).
pub fn enhance(
    sentences: &[Sentence],
    duration_seconds: u32,
    language_code: Option<&str>,
) -> Enhanced {
    let mut ordered: Vec<&Sentence> = sentences.iter().collect();
    ordered.sort_by(|a, b| {
        let start = |s: &Sentence| s.start_time.unwrap_or(f64::MAX);
        start(a)
            .total_cmp(&start(b))
            .then(a.sentence_index.cmp(&b.sentence_index))
    });

    let mut participants: BTreeMap<u32, ParticipantStats> = BTreeMap::new();
    let mut flow = Vec::with_capacity(ordered.len());
    let mut turns = 0;
    let mut last_channel = None;
    let (mut confidence_sum, mut confident) = (0.0, 0u32);
    for sentence in ordered {
        let text = sentence.transcript.as_deref().unwrap_or("").trim();
        if text.is_empty() {
            continue;
        }
        let start = sentence.start_time.unwrap_or(0.0);
        let end = sentence.end_time.unwrap_or(start).max(start);
        let count = words(text);
        let speaker = Speaker::of_channel(sentence.media_channel);
        let stats = participants
            .entry(sentence.media_channel)
            .or_insert_with(|| ParticipantStats {
                channel: speaker.channel,
                role: speaker.role.clone(),
                name: speaker.name.clone(),
                total_speaking_time: 0.0,
                word_count: 0,
                sentence_count: 0,
            });
        stats.total_speaking_time += end - start;
        stats.word_count += count;
        stats.sentence_count += 1;
        if last_channel != Some(sentence.media_channel) {
            turns += 1;
            last_channel = Some(sentence.media_channel);
        }
        if let Some(c) = sentence.confidence {
            confidence_sum += c;
            confident += 1;
        }
        flow.push(FlowEntry {
            sequence: flow.len() as u32 + 1,
            speaker,
            text: text.to_string(),
            start_time: start,
            end_time: end,
            duration: end - start,
            confidence: sentence.confidence,
            word_count: count,
        });
    }

    let total_words: u32 = participants.values().map(|p| p.word_count).sum();
    let total_speaking: f64 = participants.values().map(|p| p.total_speaking_time).sum();
    let speaking_time_distribution = participants
        .values()
        .map(|p| {
            let percentage = if total_speaking > 0.0 {
                round2(p.total_speaking_time / total_speaking * 100.0)
            } else {
                0.0
            };
            (
                p.channel.to_string(),
                SpeakingShare {
                    percentage,
                    seconds: round2(p.total_speaking_time),
                },
            )
        })
        .collect();
    let full_text = flow
        .iter()
        .map(|e| e.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let summary_data = SummaryData {
        total_duration_seconds: duration_seconds,
        total_sentences: flow.len() as u32,
        total_words,
        participant_count: participants.len() as u32,
        language_code: language_code.map(str::to_string),
        average_confidence: (confident > 0).then(|| round4(confidence_sum / f64::from(confident))),
        conversation_stats: ConversationStats {
            turns,
            avg_words_per_turn: if turns > 0 {
                round2(f64::from(total_words) / f64::from(turns))
            } else {
                0.0
            },
            speaking_time_distribution,
        },
    };
    Enhanced {
        full_text,
        participant_info: participants
            .into_iter()
            .map(|(channel, stats)| (channel.to_string(), stats))
            .collect(),
        conversation_flow: flow,
        summary_data,
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// `m:ss` (or `h:mm:ss`) of a duration in seconds.
pub fn format_duration(seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentence(
        channel: u32,
        index: u32,
        start: f64,
        end: f64,
        text: &str,
        confidence: Option<f64>,
    ) -> Sentence {
        Sentence {
            media_channel: channel,
            sentence_index: index,
            start_time: Some(start),
            end_time: Some(end),
            transcript: Some(text.into()),
            confidence,
        }
    }

    #[test]
    fn roles_turns_words_and_confidence() {
        // Out of order, as pages may come; an empty sentence is skipped.
        let sentences = [
            sentence(1, 2, 4.0, 5.0, "Yes, Tuesday works.", Some(0.8)),
            sentence(2, 0, 0.0, 2.0, "Hello, this is the clinic.", Some(0.9)),
            sentence(2, 1, 2.0, 3.0, "Can you come Tuesday?", None),
            sentence(1, 3, 5.5, 6.0, "  ", Some(0.1)),
            sentence(2, 4, 7.0, 8.0, "Great, see you then.", None),
        ];
        let e = enhance(&sentences, 9, Some("en-US"));
        let order: Vec<u32> = e
            .conversation_flow
            .iter()
            .map(|f| f.speaker.channel)
            .collect();
        assert_eq!(order, [2, 2, 1, 2]);
        assert_eq!(e.conversation_flow[0].sequence, 1);
        assert_eq!(e.conversation_flow[2].speaker.role, "customer");
        assert_eq!(e.conversation_flow[0].speaker.role, "agent");
        let s = &e.summary_data;
        assert_eq!(s.conversation_stats.turns, 3, "agent, customer, agent");
        assert_eq!(s.total_sentences, 4);
        assert_eq!(s.total_words, 5 + 4 + 3 + 4);
        assert_eq!(
            s.average_confidence,
            Some(0.85),
            "only sentences with one count"
        );
        assert_eq!(s.participant_count, 2);
        let agent = &e.participant_info["2"];
        assert_eq!((agent.sentence_count, agent.total_speaking_time), (3, 4.0));
        let shares = &s.conversation_stats.speaking_time_distribution;
        assert_eq!(shares["2"].percentage, 80.0);
        assert_eq!(shares["1"].percentage, 20.0);
        assert!(
            e.full_text
                .starts_with("Hello, this is the clinic. Can you come Tuesday? Yes")
        );
    }

    #[test]
    fn nothing_said_is_not_an_error() {
        let e = enhance(&[], 0, None);
        assert_eq!(e.summary_data.average_confidence, None);
        assert_eq!(e.summary_data.conversation_stats.avg_words_per_turn, 0.0);
        assert!(e.full_text.is_empty());
        assert_eq!(format_duration(65), "1:05");
        assert_eq!(format_duration(3725), "1:02:05");
    }
}
