//! The call shape clients see.

use serde::Serialize;
use shared::domain::calls::{CallStatus, Direction};
use shared::domain::receptionist::AnsweredBy;
use shared::domain::transcripts::TranscriptionState;
use shared::store::calendar::bookings::{Booking, BookingStatus};
use shared::store::calls::{BridgeSummary, CallRecord, TransferRecord};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct CallView {
    pub call_id: String,
    pub call_sid: Option<String>,
    pub direction: Direction,
    pub from_number: String,
    pub to_number: String,
    pub scenario: String,
    /// `initiating` until Twilio has answered the platform, then Twilio's call status.
    pub status: CallStatus,
    pub created_at: String,
    pub updated_at: String,
    pub duration_seconds: Option<u32>,
    pub recording_sid: Option<String>,
    pub recording_duration_seconds: Option<u32>,
    /// Why the platform failed or ended the call (Twilio refused it, or it could not be
    /// tracked).
    pub error: Option<String>,
    /// The scheduled call that placed it, if any.
    pub schedule_id: Option<String>,
    /// The media bridge's measurements, once the stream ended.
    pub bridge: Option<BridgeSummary>,
    /// The call's transcript (Voice Intelligence's SID), once asked for.
    pub transcript_sid: Option<String>,
    pub transcript_status: Option<TranscriptionState>,
    /// The call's transfer to a person, once the agent asked for one.
    pub transfer: Option<TransferRecord>,
    /// Who answered an outbound call (answering-machine detection), once Twilio said.
    pub answered_by: Option<AnsweredBy>,
    /// Whether the agent left its message on an answering machine.
    pub voicemail_left: bool,
    /// Appointments booked during the call (only on `GET /calls/{call_id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bookings: Option<Vec<BookingView>>,
}

/// An appointment the agent booked in the tenant's calendar.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingView {
    /// The Google Calendar event.
    pub event_id: String,
    pub calendar_id: String,
    /// RFC 3339, UTC.
    pub start: String,
    pub end: String,
    pub summary: String,
    /// Who it is for (E.164).
    pub caller: String,
    pub status: BookingStatus,
    pub created_at: String,
}

impl From<Booking> for BookingView {
    fn from(b: Booking) -> Self {
        Self {
            event_id: b.event_id,
            calendar_id: b.calendar_id,
            start: b.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            end: b.end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            summary: b.summary,
            caller: b.caller,
            status: b.status,
            created_at: b.created_at,
        }
    }
}

impl From<CallRecord> for CallView {
    fn from(c: CallRecord) -> Self {
        Self {
            call_id: c.call_id,
            call_sid: c.call_sid,
            direction: c.direction,
            from_number: c.from,
            to_number: c.to,
            scenario: c.scenario,
            status: c.status,
            created_at: c.created_at,
            updated_at: c.updated_at,
            duration_seconds: c.duration_seconds,
            recording_sid: c.recording_sid,
            recording_duration_seconds: c.recording_duration_seconds,
            error: c.error,
            schedule_id: c.schedule_id,
            bridge: c.bridge,
            transcript_sid: c.transcript_sid,
            transcript_status: c.transcript_status,
            transfer: c.transfer,
            answered_by: c.answered_by,
            voicemail_left: c.voicemail_left_at.is_some(),
            bookings: None,
        }
    }
}
