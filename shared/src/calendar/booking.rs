//! Booking and cancelling appointments for the person on a call.
//!
//! A booking is idempotent per call and start: the Google event id is derived from the
//! tenant, the call and the start, and the booking item is written before Google is asked.
//! A replayed tool call finds the booking and books nothing new; one interrupted after Google
//! created the event finds the event (Google answers 409 for its id) and completes.
//! Cancelling only ever touches appointments the platform booked for that same caller.

use chrono::{DateTime, Duration, Utc};

use super::TenantCalendar;
use super::availability::MIN_NOTICE;
use crate::domain::calendar::settings::SLOT_MINUTES;
use crate::domain::calendar::slots::outside_hours;
use crate::domain::calendar::{Slot, SlotQuery};
use crate::error::{Error, Result};
use crate::google::GoogleError;
use crate::google::calendar::NewEvent;
use crate::store::calendar::bookings::{Begun, Booking, BookingStatus};

/// Private extended properties on every event the platform creates.
pub const PROPERTY_CALL: &str = "aipa_call_id";
pub const PROPERTY_CALLER: &str = "aipa_caller";
/// How far ahead an appointment may be booked.
pub const MAX_DAYS_AHEAD: i64 = 365;
/// Longest purpose or name kept in an event's title.
const MAX_TEXT: usize = 120;

/// What to book.
#[derive(Debug, Clone)]
pub struct BookingRequest {
    pub call_id: String,
    /// E.164 of the person on the call.
    pub caller: String,
    pub start: DateTime<Utc>,
    /// The settings' slot length when `None`.
    pub minutes: Option<u32>,
    pub purpose: String,
    pub caller_name: Option<String>,
}

#[derive(Debug)]
pub enum BookingOutcome {
    Booked(Booking),
    /// This call had already booked this start: nothing new was created.
    AlreadyBooked(Booking),
    /// The time cannot be booked; `alternatives` are the next free slots.
    Unavailable {
        reason: String,
        alternatives: Vec<Slot>,
    },
}

#[derive(Debug)]
pub enum CancelOutcome {
    Cancelled(Booking),
    /// The caller has no upcoming appointment booked here (at that time, if one was given).
    NotFound {
        upcoming: Vec<Booking>,
    },
    /// Several appointments and no time given: the caller must say which.
    Ambiguous(Vec<Booking>),
}

/// The event id of a booking: lowercase hex is valid base32hex, and 32 digits (128 bits) of
/// a digest over tenant, call and start make collisions a non-issue.
pub fn event_id(tenant_id: &str, call_id: &str, start: DateTime<Utc>) -> String {
    let digest = crate::auth::sha256_hex(&format!("{tenant_id}|{call_id}|{}", start.timestamp()));
    digest[..32].to_string()
}

/// Text fit for an event title: no control characters, bounded length.
fn clean(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_TEXT)
        .collect()
}

impl TenantCalendar {
    pub async fn book(&self, request: &BookingRequest) -> Result<BookingOutcome> {
        let minutes = request.minutes.unwrap_or(self.settings.slot_minutes);
        if !SLOT_MINUTES.contains(&minutes) {
            return Err(Error::bad_request(format!(
                "An appointment lasts between {} and {} minutes",
                SLOT_MINUTES.start(),
                SLOT_MINUTES.end()
            )));
        }
        let length = Duration::minutes(i64::from(minutes));
        let end = request.start + length;
        let now = Utc::now();
        let refusal = if request.start < now + MIN_NOTICE {
            Some("that time is in the past or too soon".to_string())
        } else if request.start > now + Duration::days(MAX_DAYS_AHEAD) {
            Some("that time is too far ahead".to_string())
        } else {
            outside_hours(&self.settings, request.start, length)
        };
        if let Some(reason) = refusal {
            return self.unavailable(reason, request.start, length).await;
        }
        let purpose = clean(&request.purpose);
        let who = match request
            .caller_name
            .as_deref()
            .map(clean)
            .filter(|n| !n.is_empty())
        {
            Some(name) => format!("{name} ({})", request.caller),
            None => request.caller.clone(),
        };
        let summary = if purpose.is_empty() {
            format!("Appointment with {who}")
        } else {
            format!("{purpose} with {who}")
        };
        let booking = Booking {
            call_id: request.call_id.clone(),
            caller: request.caller.clone(),
            calendar_id: self.settings.calendar_id.clone(),
            event_id: event_id(self.tenant_id(), &request.call_id, request.start),
            start: request.start,
            end,
            summary,
            status: BookingStatus::Pending,
            created_at: crate::store::now_rfc3339(),
        };
        let store = self.store_handle();
        match store.begin_booking(self.tenant_id(), &booking).await? {
            Begun::Exists(existing) => match existing.status {
                BookingStatus::Booked => return Ok(BookingOutcome::AlreadyBooked(existing)),
                BookingStatus::Cancelled => {
                    return self
                        .unavailable(
                            "that appointment was cancelled during this call; choose another time"
                                .into(),
                            request.start,
                            length,
                        )
                        .await;
                }
                // An earlier attempt stopped half-way: finish it (the event id is the same).
                BookingStatus::Pending => return self.create_event(existing).await,
            },
            Begun::SlotTaken => {
                return self
                    .unavailable(
                        "that time was just booked by someone else".into(),
                        request.start,
                        length,
                    )
                    .await;
            }
            Begun::Started => {}
        }
        let conflicts = match self.conflicts(booking.start, booking.end).await {
            Ok(conflicts) => conflicts,
            Err(e) => {
                store.abandon_booking(self.tenant_id(), &booking).await?;
                return Err(e);
            }
        };
        if !conflicts.is_empty() {
            store.abandon_booking(self.tenant_id(), &booking).await?;
            return self
                .unavailable("the calendar is busy then".into(), request.start, length)
                .await;
        }
        self.create_event(booking).await
    }

    /// Creates the booking's event (or finds it, if an earlier attempt created it) and
    /// confirms the booking.
    async fn create_event(&self, mut booking: Booking) -> Result<BookingOutcome> {
        let apis = self.apis();
        let zone = self.settings.time_zone.name();
        let description = format!(
            "Booked by phone for {} by the AI phone agent during call {}.",
            booking.caller, booking.call_id
        );
        let properties = [
            (PROPERTY_CALL, booking.call_id.as_str()),
            (PROPERTY_CALLER, booking.caller.as_str()),
        ];
        let event = NewEvent {
            id: &booking.event_id,
            summary: &booking.summary,
            description: &description,
            start: booking.start,
            end: booking.end,
            time_zone: zone,
            private_properties: &properties,
        };
        let calendar_id = booking.calendar_id.clone();
        let created = self
            .with_token(|token| {
                let (event, calendar_id) = (event.clone(), calendar_id.clone());
                async move {
                    apis.calendar
                        .insert(&token, &calendar_id, &event)
                        .await
                        .map(|_| ())
                }
            })
            .await?;
        let store = self.store_handle();
        match created {
            Ok(()) => {}
            Err(e) if e.status == 409 => {
                // The id exists: an earlier attempt created it, unless it was since deleted.
                let existing = self
                    .call(|token| {
                        let (calendar_id, id) = (calendar_id.clone(), booking.event_id.clone());
                        async move { apis.calendar.event(&token, &calendar_id, &id).await }
                    })
                    .await?;
                if existing.status.as_deref() == Some("cancelled") {
                    store.abandon_booking(self.tenant_id(), &booking).await?;
                    return Err(Error::Conflict(
                        "This appointment was booked and then removed from the calendar; choose another time".into(),
                    ));
                }
            }
            Err(e) if retry_later(&e) => {
                // Google may or may not have created it: the booking stays pending, and a
                // retry finishes it under the same event id.
                return Err(super::google_error(e));
            }
            Err(e) => {
                store.abandon_booking(self.tenant_id(), &booking).await?;
                return Err(super::google_error(e));
            }
        }
        store.confirm_booking(self.tenant_id(), &booking).await?;
        booking.status = BookingStatus::Booked;
        tracing::info!(call_id = %booking.call_id, "appointment booked");
        Ok(BookingOutcome::Booked(booking))
    }

    /// The refusal, with the next free slots from the day asked for (or from now).
    async fn unavailable(
        &self,
        reason: String,
        near: DateTime<Utc>,
        length: Duration,
    ) -> Result<BookingOutcome> {
        let now = Utc::now();
        let zone = self.settings.time_zone;
        let day_start = near
            .with_timezone(&zone)
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .and_then(|midnight| midnight.and_local_timezone(zone).earliest())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(near);
        let from = day_start.clamp(now, now + Duration::days(MAX_DAYS_AHEAD));
        let alternatives = self
            .free_slots(SlotQuery {
                from,
                to: from + Duration::days(14),
                not_before: from,
                length: Some(length),
                day_start: None,
                day_end: None,
                max_results: 3,
            })
            .await?;
        Ok(BookingOutcome::Unavailable {
            reason,
            alternatives,
        })
    }

    /// The caller's upcoming appointments booked by the platform.
    pub async fn caller_appointments(&self, caller: &str) -> Result<Vec<Booking>> {
        let now = Utc::now();
        let mut upcoming: Vec<Booking> = self
            .store_handle()
            .caller_bookings(self.tenant_id(), caller)
            .await?
            .into_iter()
            .filter(|b| b.status == BookingStatus::Booked && b.start > now)
            .collect();
        upcoming.sort_by_key(|b| b.start);
        Ok(upcoming)
    }

    /// Cancels the caller's appointment at `start` (or their only one).
    pub async fn cancel(
        &self,
        caller: &str,
        start: Option<DateTime<Utc>>,
    ) -> Result<CancelOutcome> {
        let upcoming = self.caller_appointments(caller).await?;
        let chosen = match start {
            Some(t) => upcoming.iter().find(|b| b.start == t).cloned(),
            None if upcoming.len() > 1 => return Ok(CancelOutcome::Ambiguous(upcoming)),
            None => upcoming.first().cloned(),
        };
        let Some(booking) = chosen else {
            return Ok(CancelOutcome::NotFound { upcoming });
        };
        let apis = self.apis();
        let deleted = self
            .with_token(|token| {
                let (calendar_id, id) = (booking.calendar_id.clone(), booking.event_id.clone());
                async move { apis.calendar.delete(&token, &calendar_id, &id).await }
            })
            .await?;
        match deleted {
            // Already gone from the calendar: it is cancelled either way.
            Ok(()) => {}
            Err(e) if e.status == 404 => {}
            Err(e) => return Err(super::google_error(e)),
        }
        self.store_handle()
            .cancel_booking(self.tenant_id(), &booking)
            .await?;
        tracing::info!(call_id = %booking.call_id, "appointment cancelled");
        Ok(CancelOutcome::Cancelled(Booking {
            status: BookingStatus::Cancelled,
            ..booking
        }))
    }
}

/// Failures after which Google may have acted: the request is retried later, not abandoned.
fn retry_later(e: &GoogleError) -> bool {
    e.status == 0 || e.status == 429 || e.status >= 500
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_base32hex_and_stable_per_call_and_start() {
        let t = DateTime::parse_from_rfc3339("2026-11-02T14:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let id = event_id("tenant", "call", t);
        assert_eq!(id.len(), 32);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b))
        );
        assert_eq!(id, event_id("tenant", "call", t));
        assert_ne!(id, event_id("tenant", "other call", t));
        assert_ne!(id, event_id("tenant", "call", t + Duration::minutes(30)));
    }

    #[test]
    fn titles_are_cleaned() {
        assert_eq!(clean("  Dental\n check-up\t"), "Dental check-up");
        assert_eq!(clean(&"x".repeat(500)).len(), MAX_TEXT);
    }
}
