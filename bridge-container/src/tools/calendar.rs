//! The calendar tools of a calendar call, run against that call's tenant's calendar only:
//! `check_availability`, `find_free_slots`, `book_appointment` and `cancel_appointment`.
//!
//! Times go both ways in the tenant's zone: the model is given local RFC 3339 starts and a
//! spoken form, and may pass back either a local `YYYY-MM-DDTHH:MM` or RFC 3339. A booking
//! runs in its own task, so one that outlives the tool's time budget still completes (and a
//! repeat of it then reports it as already booked) rather than being cut off half-way.

use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use shared::AppState;
use shared::calendar::booking::{BookingOutcome, BookingRequest, CancelOutcome};
use shared::calendar::{TenantCalendar, prompt};
use shared::domain::calendar::speech::{local_rfc3339, parse_time, say_slot};
use shared::domain::calendar::{Slot, SlotQuery};
use shared::domain::calls::Direction;
use shared::domain::phone::E164;
use shared::store::calendar::bookings::Booking;

use super::{Registry, Tool, ToolContext, ToolFuture, ToolOutput};

/// The calendar as one call uses it: the tenant's, for the person on the line.
pub struct CallCalendar {
    pub calendar: TenantCalendar,
    pub call_id: String,
    /// The other party's number (E.164), or `None` when it is withheld or not a number.
    pub caller: Option<E164>,
}

/// Gets a calendar call ready: the calendar block of its instructions and, when the tenant's
/// calendar is usable, the calendar for its tools. Reading the calendar is bounded by
/// `budget` (the caller is waiting for the greeting); past it, or if Google fails, the
/// instructions say the calendar could not be read and the tools can still try.
pub async fn prepare(
    app: &AppState,
    tenant_id: &str,
    call_id: &str,
    direction: Direction,
    budget: std::time::Duration,
) -> (String, Option<Arc<CallCalendar>>) {
    let calendar = match TenantCalendar::open(app, tenant_id).await {
        Ok(calendar) => calendar,
        Err(e) => {
            tracing::info!(call_id, reason = %e, "calendar call without a usable calendar");
            return (NOT_CONNECTED.to_string(), None);
        }
    };
    // The person on the line: who was called, or who called.
    let caller = match app.store.call(tenant_id, call_id).await {
        Ok(record) => {
            let number = match direction {
                Direction::Outbound => Some(record.to),
                Direction::Inbound => Some(record.from),
                // A browser session has no phone number to book under.
                Direction::Browser => None,
            };
            number.and_then(|n| E164::parse(&n, "caller").ok())
        }
        Err(e) => {
            tracing::warn!(call_id, error = %e, "could not read the call record for its caller");
            None
        }
    };
    let block = match tokio::time::timeout(budget, prompt::instructions_block(&calendar)).await {
        Ok(Ok(block)) => block,
        Ok(Err(e)) => {
            tracing::warn!(call_id, error = %e, "could not read the calendar for the instructions");
            prompt::UNAVAILABLE.to_string()
        }
        Err(_) => {
            tracing::warn!(
                call_id,
                "reading the calendar for the instructions took too long"
            );
            prompt::UNAVAILABLE.to_string()
        }
    };
    let call = CallCalendar {
        calendar,
        call_id: call_id.to_string(),
        caller,
    };
    (block, Some(Arc::new(call)))
}

/// Said when the tenant's calendar cannot be used at all on this call.
const NOT_CONNECTED: &str = "Calendar: the calendar is not available on this call. Do not offer, promise or cancel appointments; offer to take a message for the team instead.";

/// Adds the four calendar tools for `calendar` to a call's registry.
pub fn register(registry: &mut Registry, calendar: Arc<CallCalendar>) {
    registry.register(Arc::new(CheckAvailability(calendar.clone())));
    registry.register(Arc::new(FindFreeSlots(calendar.clone())));
    registry.register(Arc::new(BookAppointment(calendar.clone())));
    registry.register(Arc::new(CancelAppointment(calendar)));
}

const START_HINT: &str =
    "start must be a local time in the calendar's zone like 2026-11-02T09:00, or RFC 3339";
const MAX_SLOTS: u64 = 10;

fn slot_json(slot: &Slot, calendar: &TenantCalendar) -> Value {
    let zone = calendar.settings.time_zone;
    json!({"start": local_rfc3339(slot.start, zone), "spoken": say_slot(slot, zone)})
}

fn booking_json(booking: &Booking, calendar: &TenantCalendar) -> Value {
    let slot = Slot {
        start: booking.start,
        end: booking.end,
    };
    let mut value = slot_json(&slot, calendar);
    value["summary"] = json!(booking.summary);
    value
}

/// The optional `duration_minutes` argument.
fn minutes(arguments: &Value) -> Result<Option<u32>, ToolOutput> {
    match arguments.get("duration_minutes") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|m| u32::try_from(m).ok())
            .filter(|m| (5..=480).contains(m))
            .map(Some)
            .ok_or_else(|| ToolOutput::error("duration_minutes must be between 5 and 480")),
    }
}

fn text<'a>(arguments: &'a Value, key: &str) -> Option<&'a str> {
    arguments
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// What a platform error tells the model (never internals: the problem's detail).
fn failure(e: shared::Error) -> ToolOutput {
    ToolOutput::error(e.problem().detail)
}

fn start_time(
    arguments: &Value,
    calendar: &TenantCalendar,
) -> Result<chrono::DateTime<Utc>, ToolOutput> {
    text(arguments, "start")
        .and_then(|s| parse_time(s, calendar.settings.time_zone))
        .ok_or_else(|| ToolOutput::error(START_HINT))
}

fn start_property() -> Value {
    json!({"type": "string", "description": "Start, as a local time in the calendar's zone (2026-11-02T09:00) or RFC 3339"})
}

fn duration_property() -> Value {
    json!({"type": "integer", "minimum": 5, "maximum": 480, "description": "Meeting length in minutes; leave out for the usual length"})
}

pub struct CheckAvailability(Arc<CallCalendar>);

impl Tool for CheckAvailability {
    fn name(&self) -> &'static str {
        "check_availability"
    }

    fn description(&self) -> &'static str {
        "Check whether the calendar is free for a meeting starting at a given time. Returns alternatives when it is not."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"start": start_property(), "duration_minutes": duration_property()},
            "required": ["start"]
        })
    }

    fn run(&self, arguments: Value, _context: ToolContext) -> ToolFuture {
        let call = self.0.clone();
        Box::pin(async move {
            let calendar = &call.calendar;
            let start = match start_time(&arguments, calendar) {
                Ok(start) => start,
                Err(output) => return output,
            };
            let length = match minutes(&arguments) {
                Ok(m) => m.map_or_else(
                    || calendar.settings.slot_length(),
                    |m| Duration::minutes(i64::from(m)),
                ),
                Err(output) => return output,
            };
            let slot = Slot {
                start,
                end: start + length,
            };
            let reason =
                shared::domain::calendar::slots::outside_hours(&calendar.settings, start, length);
            let conflicts = match reason {
                Some(_) => Vec::new(),
                None => match calendar.conflicts(slot.start, slot.end).await {
                    Ok(c) => c,
                    Err(e) => return failure(e),
                },
            };
            let available = reason.is_none() && conflicts.is_empty() && start > Utc::now();
            let mut answer =
                json!({"available": available, "requested": slot_json(&slot, calendar)});
            if !available {
                answer["reason"] =
                    json!(reason.unwrap_or_else(|| "the calendar is busy then".into()));
                let alternatives = calendar
                    .free_slots(SlotQuery {
                        from: start.max(Utc::now()),
                        to: start.max(Utc::now()) + Duration::days(14),
                        not_before: Utc::now(),
                        length: Some(length),
                        day_start: None,
                        day_end: None,
                        max_results: 3,
                    })
                    .await;
                if let Ok(slots) = alternatives {
                    answer["alternatives"] = slots.iter().map(|s| slot_json(s, calendar)).collect();
                }
            }
            ToolOutput::reply(answer)
        })
    }
}

pub struct FindFreeSlots(Arc<CallCalendar>);

impl Tool for FindFreeSlots {
    fn name(&self) -> &'static str {
        "find_free_slots"
    }

    fn description(&self) -> &'static str {
        "Find free meeting slots in working hours, earliest first. Offer the caller two or three of them."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "from_date": {"type": "string", "description": "First day to look at, YYYY-MM-DD in the calendar's zone; default today"},
                "to_date": {"type": "string", "description": "Last day to look at, YYYY-MM-DD; default a week after from_date"},
                "duration_minutes": duration_property(),
                "max_results": {"type": "integer", "minimum": 1, "maximum": MAX_SLOTS, "description": "How many slots; default 3"}
            },
            "required": []
        })
    }

    fn run(&self, arguments: Value, _context: ToolContext) -> ToolFuture {
        let call = self.0.clone();
        Box::pin(async move {
            let calendar = &call.calendar;
            let zone = calendar.settings.time_zone;
            let day = |key: &str| -> Result<Option<chrono::DateTime<Utc>>, ToolOutput> {
                let Some(raw) = text(&arguments, key) else {
                    return Ok(None);
                };
                NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .and_then(|t| t.and_local_timezone(zone).earliest())
                    .map(|t| Some(t.with_timezone(&Utc)))
                    .ok_or_else(|| {
                        ToolOutput::error(format!("{key} must be a date like 2026-11-02"))
                    })
            };
            let (from, to) = match (day("from_date"), day("to_date")) {
                (Ok(from), Ok(to)) => (from, to),
                (Err(output), _) | (_, Err(output)) => return output,
            };
            let length = match minutes(&arguments) {
                Ok(m) => m.map(|m| Duration::minutes(i64::from(m))),
                Err(output) => return output,
            };
            let max = arguments
                .get("max_results")
                .and_then(Value::as_u64)
                .unwrap_or(3)
                .clamp(1, MAX_SLOTS) as usize;
            let from = from.unwrap_or_else(Utc::now).max(Utc::now());
            // The end date is inclusive: up to the midnight after it.
            let to = to.map_or(from + Duration::days(7), |t| t + Duration::days(1));
            if to <= from || to - from > Duration::days(60) {
                return ToolOutput::error(
                    "to_date must be after from_date and within 60 days of it",
                );
            }
            match calendar
                .free_slots(SlotQuery {
                    from,
                    to,
                    not_before: Utc::now(),
                    length,
                    day_start: None,
                    day_end: None,
                    max_results: max,
                })
                .await
            {
                Ok(slots) => ToolOutput::reply(json!({
                    "time_zone": zone.name(),
                    "slots": slots.iter().map(|s| slot_json(s, calendar)).collect::<Vec<_>>(),
                })),
                Err(e) => failure(e),
            }
        })
    }
}

pub struct BookAppointment(Arc<CallCalendar>);

impl Tool for BookAppointment {
    fn name(&self) -> &'static str {
        "book_appointment"
    }

    fn description(&self) -> &'static str {
        "Book an appointment for the caller once they confirmed the date, time and purpose. Tell the caller it is booked only if this returns booked: true."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "start": start_property(),
                "purpose": {"type": "string", "description": "What the appointment is for, in a few words"},
                "caller_name": {"type": "string", "description": "The caller's name, if they gave it"},
                "duration_minutes": duration_property()
            },
            "required": ["start", "purpose"]
        })
    }

    fn run(&self, arguments: Value, _context: ToolContext) -> ToolFuture {
        let call = self.0.clone();
        Box::pin(async move {
            let start = match start_time(&arguments, &call.calendar) {
                Ok(start) => start,
                Err(output) => return output,
            };
            let minutes = match minutes(&arguments) {
                Ok(m) => m,
                Err(output) => return output,
            };
            let request = BookingRequest {
                call_id: call.call_id.clone(),
                caller: call
                    .caller
                    .as_ref()
                    .map_or_else(|| "unknown".to_string(), |c| c.as_str().to_string()),
                start,
                minutes,
                purpose: text(&arguments, "purpose").unwrap_or_default().to_string(),
                caller_name: text(&arguments, "caller_name").map(str::to_string),
            };
            // Its own task: a booking past the time budget still finishes.
            let booking = tokio::spawn({
                let call = call.clone();
                async move { call.calendar.book(&request).await }
            });
            let outcome = match booking.await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(e)) => return failure(e),
                Err(_) => return ToolOutput::error("the booking failed; please try again"),
            };
            let calendar = &call.calendar;
            ToolOutput::reply(match outcome {
                BookingOutcome::Booked(b) => {
                    json!({"booked": true, "appointment": booking_json(&b, calendar)})
                }
                BookingOutcome::AlreadyBooked(b) => json!({
                    "booked": true,
                    "already_booked": true,
                    "appointment": booking_json(&b, calendar),
                }),
                BookingOutcome::Unavailable {
                    reason,
                    alternatives,
                } => json!({
                    "booked": false,
                    "reason": reason,
                    "alternatives": alternatives.iter().map(|s| slot_json(s, calendar)).collect::<Vec<_>>(),
                }),
            })
        })
    }
}

pub struct CancelAppointment(Arc<CallCalendar>);

impl Tool for CancelAppointment {
    fn name(&self) -> &'static str {
        "cancel_appointment"
    }

    fn description(&self) -> &'static str {
        "Cancel an upcoming appointment that was booked for this caller. Give its start if the caller has more than one."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"start": start_property()},
            "required": []
        })
    }

    fn run(&self, arguments: Value, _context: ToolContext) -> ToolFuture {
        let call = self.0.clone();
        Box::pin(async move {
            let calendar = &call.calendar;
            let Some(caller) = &call.caller else {
                return ToolOutput::error(
                    "the caller's number is withheld, so their appointments cannot be found; offer to take a message",
                );
            };
            let start = match text(&arguments, "start") {
                None => None,
                Some(_) => match start_time(&arguments, calendar) {
                    Ok(t) => Some(t),
                    Err(output) => return output,
                },
            };
            let list = |bookings: &[Booking]| -> Vec<Value> {
                bookings.iter().map(|b| booking_json(b, calendar)).collect()
            };
            match calendar.cancel(caller.as_str(), start).await {
                Ok(CancelOutcome::Cancelled(b)) => ToolOutput::reply(
                    json!({"cancelled": true, "appointment": booking_json(&b, calendar)}),
                ),
                Ok(CancelOutcome::NotFound { upcoming }) => ToolOutput::reply(json!({
                    "cancelled": false,
                    "reason": "no upcoming appointment booked for this caller at that time",
                    "appointments": list(&upcoming),
                })),
                Ok(CancelOutcome::Ambiguous(upcoming)) => ToolOutput::reply(json!({
                    "cancelled": false,
                    "reason": "the caller has several appointments: ask which one, then call again with its start",
                    "appointments": list(&upcoming),
                })),
                Err(e) => failure(e),
            }
        })
    }
}
