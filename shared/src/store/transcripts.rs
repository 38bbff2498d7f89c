//! Transcripts of calls, stored enhanced under the tenant, and the call's side of the link.
//!
//! | item            | PK                     | SK                       |
//! |-----------------|------------------------|--------------------------|
//! | transcript      | `TENANT#<tid>`         | `TRANSCRIPT#<call id>`   |
//! | its flow, paged | `TENANT#<tid>`         | `TRPAGE#<call id>#<nnn>` |
//! | SID -> call     | `TRANSCRIPTSID#<sid>`  | `TRANSCRIPTSID`          |
//!
//! A transcript is keyed by its call's id (a ULID), so transcripts list in call order and a
//! date window is a key range. Its conversation flow can run to thousands of sentences, more
//! than one DynamoDB item holds, so it is stored in pages of [`FLOW_PAGE`] entries; the
//! transcript item, written last, says how many pages are current.
//!
//! On the call: `transcript_sid` and `transcript_status`, and the claim a worker takes before
//! asking Voice Intelligence for a transcript, so duplicate jobs ask once.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    Delete, DeleteRequest, Put, PutRequest, TransactWriteItem, Update, WriteRequest,
};

use super::pages::{ItemFilter, Listing, TimeWindow};
use super::{
    Item, ItemExt, SetClauses, Store, cancellation_codes, failed_condition, keys, n, now_rfc3339,
    s, written,
};
use crate::domain::calls::Direction;
use crate::domain::transcripts::{Enhanced, FlowEntry, TranscriptionState};
use crate::error::{Error, Result};
use crate::store::calls::SidLink;

/// Conversation-flow entries per page item (a few hundred bytes each).
pub const FLOW_PAGE: usize = 200;

/// A call's transcript, enhanced.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptRecord {
    pub transcript_sid: String,
    pub call_id: String,
    /// When the call was made (RFC 3339).
    pub call_date: String,
    pub duration_seconds: u32,
    pub call_direction: Direction,
    /// The call's scenario.
    pub scenario_name: String,
    pub language_code: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// A short summary, once one was asked for.
    pub summary: Option<String>,
    pub enhanced: Enhanced,
}

/// Filters of the transcript listing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TranscriptFilter {
    pub direction: Option<Direction>,
    /// Exact scenario key or custom scenario id.
    pub scenario: Option<String>,
    /// On the call's date.
    pub window: TimeWindow,
}

/// What a worker's attempt to claim a call's transcription found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TranscriptionClaim {
    /// This worker asks Voice Intelligence.
    Won,
    /// The call has its transcript already.
    Done,
    /// Another worker claimed it moments ago.
    Busy,
    /// No such call (any more).
    NoCall,
}

fn not_found() -> Error {
    Error::NotFound("Transcript not found".into())
}

fn transcript_key(call_id: &str) -> String {
    format!("{}{call_id}", keys::TRANSCRIPT_PREFIX)
}

fn page_key(call_id: &str, page: usize) -> String {
    format!("TRPAGE#{call_id}#{page:03}")
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(Error::internal)
}

fn from_json<T: serde::de::DeserializeOwned>(item: &Item, key: &str) -> Result<T> {
    serde_json::from_str(&item.str(key)?)
        .map_err(|e| Error::internal(format!("attribute {key} does not parse: {e}")))
}

/// Everything but the flow (which is in the pages).
fn from_item(item: &Item, flow: Vec<FlowEntry>) -> Result<TranscriptRecord> {
    let full_text = flow
        .iter()
        .map(|e| e.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(TranscriptRecord {
        transcript_sid: item.str("transcript_sid")?,
        call_id: item.str("call_id")?,
        call_date: item.str("call_date")?,
        duration_seconds: item.num("duration_seconds")?,
        call_direction: item
            .str("call_direction")?
            .parse()
            .map_err(|_| Error::internal("transcript with an unknown direction"))?,
        scenario_name: item.str("scenario_name")?,
        language_code: item.opt_str("language_code"),
        created_at: item.str("created_at")?,
        updated_at: item.str("updated_at")?,
        summary: item.opt_str("summary"),
        enhanced: Enhanced {
            full_text,
            participant_info: from_json(item, "participant_info")?,
            conversation_flow: flow,
            summary_data: from_json(item, "summary_data")?,
        },
    })
}

impl Store {
    /// Claims the transcription of a call for one worker: it wins when the call has no
    /// transcript and no other claim younger than `stale_after` (a worker that died leaves
    /// one that goes stale).
    pub async fn claim_transcription(
        &self,
        tenant_id: &str,
        call_id: &str,
        stale_after: Duration,
    ) -> Result<TranscriptionClaim> {
        let now = chrono::Utc::now();
        let stale_before =
            now - chrono::Duration::from_std(stale_after).map_err(Error::internal)?;
        let claimed = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .update_expression("SET transcript_status = :requested, transcript_claimed_at = :now")
            .condition_expression(
                "attribute_exists(PK) AND attribute_not_exists(transcript_sid) AND \
                 (attribute_not_exists(transcript_claimed_at) OR transcript_claimed_at < :stale)",
            )
            .expression_attribute_values(":requested", s(TranscriptionState::Requested.as_str()))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .expression_attribute_values(":stale", s(stale_before.to_rfc3339()))
            .send()
            .await;
        if written(claimed)? {
            return Ok(TranscriptionClaim::Won);
        }
        Ok(match self.find_call(tenant_id, call_id).await? {
            None => TranscriptionClaim::NoCall,
            Some(call) if call.transcript_sid.is_some() => TranscriptionClaim::Done,
            Some(_) => TranscriptionClaim::Busy,
        })
    }

    /// Records that `sid` is the call's transcript: on the call, and the marker that finds the
    /// call from the SID, in one transaction. Idempotent.
    pub async fn link_transcript(
        &self,
        tenant_id: &str,
        call_id: &str,
        sid: &str,
        state: TranscriptionState,
    ) -> Result<SidLink> {
        let update = Update::builder()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .update_expression("SET transcript_sid = :sid, transcript_status = :state")
            .condition_expression(
                "attribute_exists(PK) AND (attribute_not_exists(transcript_sid) OR transcript_sid = :sid)",
            )
            .expression_attribute_values(":sid", s(sid))
            .expression_attribute_values(":state", s(state.as_str()))
            .build()?;
        let marker = Put::builder()
            .table_name(self.table())
            .item(keys::PK, s(keys::transcript_sid(sid)))
            .item(keys::SK, s(keys::TRANSCRIPT_SID))
            .item("entity", s("transcript_sid_marker"))
            .item("tenant_id", s(tenant_id))
            .item("call_id", s(call_id))
            .condition_expression(
                "attribute_not_exists(PK) OR (tenant_id = :tenant AND call_id = :call)",
            )
            .expression_attribute_values(":tenant", s(tenant_id))
            .expression_attribute_values(":call", s(call_id))
            .build()?;
        let result = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(TransactWriteItem::builder().put(marker).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(SidLink::Linked),
            Err(e) => match cancellation_codes(&e) {
                Some(codes) if failed_condition(&codes, 0) || failed_condition(&codes, 1) => {
                    tracing::warn!(call_id, "transcript SID already linked elsewhere");
                    Ok(SidLink::Conflict)
                }
                _ => Err(e.into()),
            },
        }
    }

    /// The tenant and call a transcript SID belongs to, once linked.
    pub async fn transcript_owner(&self, sid: &str) -> Result<Option<(String, String)>> {
        Ok(
            match self
                .get(keys::transcript_sid(sid), keys::TRANSCRIPT_SID)
                .await?
            {
                Some(m) => Some((m.str("tenant_id")?, m.str("call_id")?)),
                None => None,
            },
        )
    }

    /// Where the call's transcript is.
    pub async fn set_transcription_state(
        &self,
        tenant_id: &str,
        call_id: &str,
        state: TranscriptionState,
    ) -> Result<()> {
        self.client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(keys::call(call_id)))
            .update_expression("SET transcript_status = :state")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":state", s(state.as_str()))
            .send()
            .await?;
        Ok(())
    }

    /// Stores (or replaces) the call's transcript: its flow pages first, then the transcript
    /// item that points at them, then the call's state. Writing the same transcript again
    /// gives the same items; its summary (stored separately) is kept.
    pub async fn put_transcript(&self, tenant_id: &str, record: &TranscriptRecord) -> Result<()> {
        let pk = keys::tenant(tenant_id);
        let pages: Vec<&[FlowEntry]> = record
            .enhanced
            .conversation_flow
            .chunks(FLOW_PAGE)
            .collect();
        let mut writes = Vec::with_capacity(pages.len());
        for (i, page) in pages.iter().enumerate() {
            writes.push(
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .item(keys::PK, s(&pk))
                            .item(keys::SK, s(page_key(&record.call_id, i)))
                            .item("entity", s("transcript_page"))
                            .item("flow", s(json(page)?))
                            .build()?,
                    )
                    .build(),
            );
        }
        self.batch_write(writes).await?;
        // An update, not a put: a summary asked for earlier, and the first store's time, stay.
        SetClauses::default()
            .set("entity", s("transcript"))
            .set("transcript_sid", s(&record.transcript_sid))
            .set("call_id", s(&record.call_id))
            .set("call_date", s(&record.call_date))
            .set("duration_seconds", n(record.duration_seconds))
            .set("call_direction", s(record.call_direction.as_str()))
            .set("scenario_name", s(&record.scenario_name))
            .set_some("language_code", record.language_code.as_deref().map(s))
            .set_once("created_at", s(&record.created_at))
            .set("updated_at", s(&record.updated_at))
            .set(
                "participant_info",
                s(json(&record.enhanced.participant_info)?),
            )
            .set("summary_data", s(json(&record.enhanced.summary_data)?))
            .set("page_count", n(pages.len()))
            .apply(self.client().update_item())
            .table_name(self.table())
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(transcript_key(&record.call_id)))
            .send()
            .await?;
        self.set_transcription_state(tenant_id, &record.call_id, TranscriptionState::Completed)
            .await
    }

    /// Writes items in batches of 25 (DynamoDB's limit), retrying what it leaves unprocessed.
    async fn batch_write(&self, writes: Vec<WriteRequest>) -> Result<()> {
        for chunk in writes.chunks(25) {
            let mut pending = chunk.to_vec();
            for attempt in 0..8u32 {
                if pending.is_empty() {
                    break;
                }
                let out = self
                    .client()
                    .batch_write_item()
                    .request_items(self.table(), pending)
                    .send()
                    .await?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut left| left.remove(self.table()))
                    .unwrap_or_default();
                if !pending.is_empty() {
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
            }
            if !pending.is_empty() {
                return Err(Error::internal("DynamoDB left transcript pages unwritten"));
            }
        }
        Ok(())
    }

    /// The call's transcript, with its whole flow.
    pub async fn transcript(
        &self,
        tenant_id: &str,
        call_id: &str,
    ) -> Result<Option<TranscriptRecord>> {
        let pk = keys::tenant(tenant_id);
        let Some(item) = self.get(pk.clone(), &transcript_key(call_id)).await? else {
            return Ok(None);
        };
        let page_count: usize = item.num("page_count")?;
        let pages = self
            .query_prefix(pk, &format!("TRPAGE#{call_id}#"), false)
            .await?;
        let mut flow = Vec::new();
        for page in pages.iter().take(page_count) {
            flow.extend(from_json::<Vec<FlowEntry>>(page, "flow")?);
        }
        Ok(Some(from_item(&item, flow)?))
    }

    /// The tenant's transcript with that SID; 404 for anyone else's or one not stored.
    pub async fn transcript_by_sid(&self, tenant_id: &str, sid: &str) -> Result<TranscriptRecord> {
        match self.transcript_owner(sid).await? {
            Some((owner, call_id)) if owner == tenant_id => self
                .transcript(tenant_id, &call_id)
                .await?
                .ok_or_else(not_found),
            _ => Err(not_found()),
        }
    }

    /// The tenant's transcripts (without their flow), newest call first.
    pub async fn list_transcripts(
        &self,
        tenant_id: &str,
        filter: &TranscriptFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<(Vec<TranscriptRecord>, Option<String>)> {
        let listing = Listing {
            tenant_id,
            prefix: keys::TRANSCRIPT_PREFIX,
            window: filter.window,
            filter: ItemFilter::default()
                .equal("call_direction", filter.direction.map(Direction::as_str))
                .equal("scenario_name", filter.scenario.as_deref()),
        };
        let (items, next) = self.list_page(&listing, limit, cursor).await?;
        let records = items
            .iter()
            .map(|item| from_item(item, Vec::new()))
            .collect::<Result<Vec<_>>>()?;
        Ok((records, next))
    }

    /// Removes the call's stored transcript (its pages, its item, its SID marker) and the call's
    /// link to it, so the call can be transcribed again. Idempotent.
    pub async fn delete_transcript(&self, tenant_id: &str, call_id: &str, sid: &str) -> Result<()> {
        let pk = keys::tenant(tenant_id);
        let pages = self
            .query_prefix(pk.clone(), &format!("TRPAGE#{call_id}#"), false)
            .await?;
        let deletes = pages
            .iter()
            .map(|page| -> Result<WriteRequest> {
                Ok(WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .key(keys::PK, s(&pk))
                            .key(keys::SK, s(page.str(keys::SK)?))
                            .build()?,
                    )
                    .build())
            })
            .collect::<Result<Vec<_>>>()?;
        self.batch_write(deletes).await?;
        let item = Delete::builder()
            .table_name(self.table())
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(transcript_key(call_id)))
            .build()?;
        let marker = Delete::builder()
            .table_name(self.table())
            .key(keys::PK, s(keys::transcript_sid(sid)))
            .key(keys::SK, s(keys::TRANSCRIPT_SID))
            .condition_expression("attribute_not_exists(PK) OR tenant_id = :tenant")
            .expression_attribute_values(":tenant", s(tenant_id))
            .build()?;
        let unlink = Update::builder()
            .table_name(self.table())
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(keys::call(call_id)))
            .update_expression("REMOVE transcript_sid, transcript_status, transcript_claimed_at")
            .condition_expression("attribute_exists(PK)")
            .build()?;
        self.client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(item).build())
            .transact_items(TransactWriteItem::builder().delete(marker).build())
            .transact_items(TransactWriteItem::builder().update(unlink).build())
            .send()
            .await?;
        Ok(())
    }

    /// Stores a summary of the transcript.
    pub async fn set_transcript_summary(
        &self,
        tenant_id: &str,
        call_id: &str,
        summary: &str,
    ) -> Result<()> {
        self.client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(transcript_key(call_id)))
            .update_expression("SET summary = :summary, updated_at = :now")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":summary", s(summary))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .send()
            .await?;
        Ok(())
    }
}
