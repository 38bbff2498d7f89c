//! Appointments the platform booked during calls.
//!
//! A booking is written `pending` before Google is asked and `booked` once the event exists,
//! in the same transaction as a claim on its calendar slot, so two calls cannot book the
//! same start and a replayed booking finds the first one. The Google event id is derived
//! from the tenant, call and start, so even a booking interrupted between Google and this
//! table is completed, not duplicated, when it is retried.

use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::super::{
    Item, ItemExt, Store, cancellation_codes, failed_condition, keys, now_rfc3339, s,
};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// Google is being asked (or was, and the answer was lost).
    Pending,
    Booked,
    Cancelled,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Pending => "pending",
            BookingStatus::Booked => "booked",
            BookingStatus::Cancelled => "cancelled",
        }
    }

    fn parse(value: &str) -> Self {
        match value {
            "booked" => BookingStatus::Booked,
            "cancelled" => BookingStatus::Cancelled,
            _ => BookingStatus::Pending,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Booking {
    pub call_id: String,
    /// The caller's number (E.164): who the appointment is for.
    pub caller: String,
    pub calendar_id: String,
    pub event_id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: String,
    pub status: BookingStatus,
    pub created_at: String,
}

/// What [`Store::begin_booking`] found.
#[derive(Debug)]
pub enum Begun {
    /// The booking is new and its slot claimed: ask Google.
    Started,
    /// This call already booked (or began booking) this start.
    Exists(Booking),
    /// Another call holds the slot.
    SlotTaken,
}

fn booking_key(call_id: &str, start: DateTime<Utc>) -> String {
    format!("BOOKING#{call_id}#{}", start.timestamp())
}

fn slot_key(calendar_id: &str, start: DateTime<Utc>) -> String {
    format!("BOOKSLOT#{calendar_id}#{}", start.timestamp())
}

fn caller_index(tenant_id: &str, caller: &str) -> String {
    format!("BOOKCALLER#{tenant_id}#{caller}")
}

fn time(item: &Item, key: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&item.str(key)?)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Error::internal(format!("booking with unreadable {key}")))
}

fn from_item(item: &Item) -> Result<Booking> {
    Ok(Booking {
        call_id: item.str("call_id")?,
        caller: item.str("caller")?,
        calendar_id: item.str("calendar_id")?,
        event_id: item.str("event_id")?,
        start: time(item, "start")?,
        end: time(item, "end")?,
        summary: item.str("summary")?,
        status: BookingStatus::parse(&item.str("status")?),
        created_at: item.str("created_at")?,
    })
}

impl Store {
    /// Records a pending booking and claims its slot, unless this call already booked this
    /// start or another call holds the slot.
    pub async fn begin_booking(&self, tenant_id: &str, booking: &Booking) -> Result<Begun> {
        let pk = keys::tenant(tenant_id);
        let put = Put::builder()
            .table_name(self.table())
            .item(keys::PK, s(&pk))
            .item(keys::SK, s(booking_key(&booking.call_id, booking.start)))
            .item(keys::GSI1PK, s(caller_index(tenant_id, &booking.caller)))
            .item(keys::GSI1SK, s(booking.start.to_rfc3339()))
            .item("entity", s("booking"))
            .item("call_id", s(&booking.call_id))
            .item("caller", s(&booking.caller))
            .item("calendar_id", s(&booking.calendar_id))
            .item("event_id", s(&booking.event_id))
            .item("start", s(booking.start.to_rfc3339()))
            .item("end", s(booking.end.to_rfc3339()))
            .item("summary", s(&booking.summary))
            .item("status", s(BookingStatus::Pending.as_str()))
            .item("created_at", s(&booking.created_at))
            .condition_expression("attribute_not_exists(PK)")
            .build()?;
        let claim = Put::builder()
            .table_name(self.table())
            .item(keys::PK, s(&pk))
            .item(keys::SK, s(slot_key(&booking.calendar_id, booking.start)))
            .item("entity", s("booking_slot"))
            .item("call_id", s(&booking.call_id))
            .condition_expression("attribute_not_exists(PK) OR call_id = :call")
            .expression_attribute_values(":call", s(&booking.call_id))
            .build()?;
        let result = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().put(claim).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(Begun::Started),
            Err(e) => match cancellation_codes(&e) {
                Some(codes) if failed_condition(&codes, 0) => {
                    let existing = self
                        .get(pk, &booking_key(&booking.call_id, booking.start))
                        .await?
                        .ok_or_else(|| Error::internal("a booking vanished while being read"))?;
                    Ok(Begun::Exists(from_item(&existing)?))
                }
                Some(codes) if failed_condition(&codes, 1) => Ok(Begun::SlotTaken),
                _ => Err(e.into()),
            },
        }
    }

    /// The event exists at Google: the booking is confirmed.
    pub async fn confirm_booking(&self, tenant_id: &str, booking: &Booking) -> Result<()> {
        self.client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::tenant(tenant_id)))
            .key(keys::SK, s(booking_key(&booking.call_id, booking.start)))
            .update_expression("SET #status = :booked, updated_at = :now")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":booked", s(BookingStatus::Booked.as_str()))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .send()
            .await?;
        Ok(())
    }

    /// Google refused the event for good: the booking and its claim go, so the slot is
    /// free again and a retry starts afresh.
    pub async fn abandon_booking(&self, tenant_id: &str, booking: &Booking) -> Result<()> {
        let pk = keys::tenant(tenant_id);
        self.client()
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .delete(
                        Delete::builder()
                            .table_name(self.table())
                            .key(keys::PK, s(&pk))
                            .key(keys::SK, s(booking_key(&booking.call_id, booking.start)))
                            .build()?,
                    )
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .delete(self.claim_release(&pk, booking)?)
                    .build(),
            )
            .send()
            .await?;
        Ok(())
    }

    fn claim_release(&self, pk: &str, booking: &Booking) -> Result<Delete> {
        Ok(Delete::builder()
            .table_name(self.table())
            .key(keys::PK, s(pk))
            .key(keys::SK, s(slot_key(&booking.calendar_id, booking.start)))
            .condition_expression("attribute_not_exists(PK) OR call_id = :call")
            .expression_attribute_values(":call", s(&booking.call_id))
            .build()?)
    }

    /// Marks a booked appointment cancelled and frees its slot.
    pub async fn cancel_booking(&self, tenant_id: &str, booking: &Booking) -> Result<()> {
        let pk = keys::tenant(tenant_id);
        let update = Update::builder()
            .table_name(self.table())
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(booking_key(&booking.call_id, booking.start)))
            .update_expression("SET #status = :cancelled, updated_at = :now")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":cancelled", s(BookingStatus::Cancelled.as_str()))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .build()?;
        self.client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(
                TransactWriteItem::builder()
                    .delete(self.claim_release(&pk, booking)?)
                    .build(),
            )
            .send()
            .await?;
        Ok(())
    }

    /// The appointments booked during one call, earliest first.
    pub async fn call_bookings(&self, tenant_id: &str, call_id: &str) -> Result<Vec<Booking>> {
        let mut bookings: Vec<Booking> = self
            .query_prefix(
                keys::tenant(tenant_id),
                &format!("BOOKING#{call_id}#"),
                false,
            )
            .await?
            .iter()
            .map(from_item)
            .collect::<Result<_>>()?;
        bookings.sort_by_key(|b| b.start);
        Ok(bookings)
    }

    /// Every appointment booked for `caller` in any call, earliest first. The index is
    /// eventually consistent, which is fine for a caller asking in a later call.
    pub async fn caller_bookings(&self, tenant_id: &str, caller: &str) -> Result<Vec<Booking>> {
        let mut bookings = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(keys::GSI1)
                .key_condition_expression("GSI1PK = :pk")
                .expression_attribute_values(":pk", s(caller_index(tenant_id, caller)))
                .set_exclusive_start_key(start)
                .send()
                .await?;
            for item in out.items.unwrap_or_default() {
                bookings.push(from_item(&item)?);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(bookings)
    }
}
