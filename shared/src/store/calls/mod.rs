//! Call records: one item per call under the tenant (`CALL#<call id>`), plus a `CALLSID#`
//! marker once Twilio has given the call its SID, so that what knows only the SID (an inbound
//! call's status callback, a repeated voice webhook) finds the tenant and the call.
//!
//! - this module: the record and its creation;
//! - [`progress`]: everything that moves a call on once it exists (its SID, Twilio's status and
//!   recording callbacks, including those that arrive before the SID is known, the bridge's
//!   stream claim and summary);
//! - [`browser`]: voice sessions in a tenant's browser (a session to sign, then its call);
//! - [`history`]: the tenant's call history;
//! - [`pacing`]: the per-tenant daily cap and the account-wide calls-per-second pacing;
//! - [`receptionist`]: a transfer to a person, and who answered (answering machines).

pub mod browser;
pub mod history;
pub mod pacing;
pub mod progress;
pub mod receptionist;

use aws_sdk_dynamodb::types::Put;
use serde::Serialize;

use super::{Item, ItemExt, SetClauses, Store, created, keys, n, now_rfc3339, s};
use crate::domain::calls::{CallStatus, Direction};
use crate::domain::ids::CallId;
use crate::domain::receptionist::AnsweredBy;
use crate::domain::transcripts::TranscriptionState;
use crate::error::{Error, Result};

pub use browser::{BrowserSession, OfferClaim};
pub use history::CallFilter;
pub use progress::{RecordingUpdate, SidLink, StatusUpdate};
pub use receptionist::TransferRecord;

/// A call as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    pub call_id: String,
    pub call_sid: Option<String>,
    pub direction: Direction,
    pub from: String,
    pub to: String,
    /// A predefined scenario key or a custom scenario id.
    pub scenario: String,
    pub status: CallStatus,
    pub created_at: String,
    pub updated_at: String,
    pub duration_seconds: Option<u32>,
    pub recording_sid: Option<String>,
    pub recording_url: Option<String>,
    pub recording_duration_seconds: Option<u32>,
    /// Why the call failed on the platform's side (Twilio refused it, or it had to be ended).
    pub error: Option<String>,
    /// When the platform sent Twilio the request to place it (outbound calls).
    pub twilio_requested_at: Option<String>,
    pub schedule_id: Option<String>,
    /// What the media bridge measured, once the call's stream ended.
    pub bridge: Option<BridgeSummary>,
    /// The call's transcript at Voice Intelligence, once asked for.
    pub transcript_sid: Option<String>,
    pub transcript_status: Option<TranscriptionState>,
    /// The call's transfer to a person, once the agent asked for one.
    pub transfer: Option<TransferRecord>,
    /// Who answered an outbound call (answering-machine detection).
    pub answered_by: Option<AnsweredBy>,
    /// When the agent left its message on an answering machine.
    pub voicemail_left_at: Option<String>,
}

/// The media bridge's record of a call's stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BridgeSummary {
    /// From the stream's start to its end.
    pub stream_ms: u64,
    /// Audio the agent sent to the caller.
    pub agent_audio_ms: u64,
    /// Times the caller interrupted the agent.
    pub barge_ins: u32,
    pub responses: u32,
    pub session_rotations: u32,
    pub input_text_tokens: u64,
    pub input_audio_tokens: u64,
    pub output_text_tokens: u64,
    pub output_audio_tokens: u64,
    /// `caller_hung_up`, `agent_ended`, `max_duration`, `minutes_used_up`, `openai_error`,
    /// `openai_disconnected`, `shutdown`, ...
    pub end_reason: String,
    /// What went wrong, when the bridge gave up on the call (`openai_unavailable`,
    /// `openai_error`): e.g. "OpenAI refused the connection with HTTP 429 (3 attempts)".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_detail: Option<String>,
}

impl CallRecord {
    /// A new call with a freshly minted id, `initiating`.
    pub fn new(direction: Direction, from: &str, to: &str, scenario: &str) -> Self {
        Self::with_id(CallId::generate(), direction, from, to, scenario)
    }

    /// A new call under an id chosen beforehand (a scheduled call's attempt).
    pub fn with_id(
        call_id: CallId,
        direction: Direction,
        from: &str,
        to: &str,
        scenario: &str,
    ) -> Self {
        let now = now_rfc3339();
        Self {
            call_id: call_id.into_string(),
            call_sid: None,
            direction,
            from: from.into(),
            to: to.into(),
            scenario: scenario.into(),
            status: CallStatus::Initiating,
            created_at: now.clone(),
            updated_at: now,
            duration_seconds: None,
            recording_sid: None,
            recording_url: None,
            recording_duration_seconds: None,
            error: None,
            twilio_requested_at: None,
            schedule_id: None,
            bridge: None,
            transcript_sid: None,
            transcript_status: None,
            transfer: None,
            answered_by: None,
            voicemail_left_at: None,
        }
    }
}

fn not_found() -> Error {
    Error::NotFound("Call not found".into())
}

fn opt_u32(item: &Item, key: &str) -> Option<u32> {
    item.num(key).ok()
}

/// A stored attribute that must hold one of a type's wire strings.
fn parsed<T: std::str::FromStr>(item: &Item, key: &str) -> Result<T> {
    item.str(key)?
        .parse()
        .map_err(|_| Error::internal(format!("attribute {key} holds an unknown value")))
}

fn from_item(item: &Item) -> Result<CallRecord> {
    Ok(CallRecord {
        call_id: item.str("call_id")?,
        call_sid: item.opt_str("call_sid"),
        direction: parsed(item, "direction")?,
        from: item.str("from_number")?,
        to: item.str("to_number")?,
        scenario: item.str("scenario")?,
        status: parsed(item, "status")?,
        created_at: item.str("created_at")?,
        updated_at: item.str("updated_at")?,
        duration_seconds: opt_u32(item, "duration_seconds"),
        recording_sid: item.opt_str("recording_sid"),
        recording_url: item.opt_str("recording_url"),
        recording_duration_seconds: opt_u32(item, "recording_duration_seconds"),
        error: item.opt_str("error"),
        twilio_requested_at: item.opt_str("twilio_requested_at"),
        schedule_id: item.opt_str("schedule_id"),
        bridge: progress::bridge_summary(item),
        transcript_sid: item.opt_str("transcript_sid"),
        transcript_status: item
            .opt_str("transcript_status")
            .and_then(|s| s.parse().ok()),
        transfer: receptionist::transfer(item),
        answered_by: item.opt_str("answered_by").and_then(|a| a.parse().ok()),
        voicemail_left_at: item.opt_str("voicemail_left_at"),
    })
}

/// The attributes of a new call item.
fn call_item(tenant_id: &str, call: &CallRecord) -> Item {
    let mut item = Item::from([
        (keys::PK.to_string(), s(keys::tenant(tenant_id))),
        (keys::SK.to_string(), s(keys::call(&call.call_id))),
        ("entity".to_string(), s("call")),
        ("call_id".to_string(), s(&call.call_id)),
        ("direction".to_string(), s(call.direction.as_str())),
        ("from_number".to_string(), s(&call.from)),
        ("to_number".to_string(), s(&call.to)),
        ("scenario".to_string(), s(&call.scenario)),
        ("status".to_string(), s(call.status.as_str())),
        ("status_rank".to_string(), n(call.status.rank())),
        ("created_at".to_string(), s(&call.created_at)),
        ("updated_at".to_string(), s(&call.updated_at)),
    ]);
    if let Some(sid) = &call.call_sid {
        item.insert("call_sid".into(), s(sid));
    }
    if let Some(id) = &call.schedule_id {
        item.insert("schedule_id".into(), s(id));
    }
    item
}

/// A new call item, written only if the call id is new.
fn call_put(store: &Store, tenant_id: &str, call: &CallRecord) -> Result<Put> {
    Ok(Put::builder()
        .table_name(store.table())
        .set_item(Some(call_item(tenant_id, call)))
        .condition_expression("attribute_not_exists(PK)")
        .build()?)
}

impl Store {
    /// Writes a new outbound call record, before Twilio is asked, so every callback about it
    /// (each carries the call id in its URL) finds it.
    pub async fn create_call(&self, tenant_id: &str, call: &CallRecord) -> Result<()> {
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(call_item(tenant_id, call)))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        created(result)
    }

    pub async fn call(&self, tenant_id: &str, call_id: &str) -> Result<CallRecord> {
        self.find_call(tenant_id, call_id)
            .await?
            .ok_or_else(not_found)
    }

    /// Sets attributes of an existing call (an error if there is no such call).
    pub(super) async fn update_call(
        &self,
        tenant_id: &str,
        call_id: &str,
        sets: SetClauses,
    ) -> Result<()> {
        sets.apply(self.client().update_item())
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .condition_expression("attribute_exists(PK)")
            .send()
            .await?;
        Ok(())
    }

    /// The call, if the tenant has it.
    pub async fn find_call(&self, tenant_id: &str, call_id: &str) -> Result<Option<CallRecord>> {
        self.get(keys::tenant(tenant_id), &keys::call(call_id))
            .await?
            .map(|item| from_item(&item))
            .transpose()
    }
}
