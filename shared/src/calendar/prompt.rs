//! The calendar block of a calendar call's instructions: today's date, the busy times and
//! the free slots, all in the tenant's zone, with real newlines, and how to use the tools.
//!
//! Event titles stay private: the person on the line may be a customer, so the agent learns
//! when the calendar is busy, not what the tenant is doing.

use chrono::{Duration, Utc};

use super::TenantCalendar;
use crate::domain::calendar::SlotQuery;
use crate::domain::calendar::speech::{local_rfc3339, say_slot, say_time};
use crate::error::Result;

/// How many events and slots the instructions carry (the tools find more).
const EVENTS: u32 = 5;
const SLOTS: usize = 3;
const DAYS: u32 = 7;

/// Said when the calendar cannot be read as the call starts: the tools may still work.
pub const UNAVAILABLE: &str = "Calendar: the calendar could not be read as this call started. Use the calendar tools to check availability before offering any time, and never promise a booking they did not confirm.";

/// The block for `calendar`, read now.
pub async fn instructions_block(calendar: &TenantCalendar) -> Result<String> {
    let now = Utc::now();
    let zone = calendar.settings.time_zone;
    let (events, slots) = tokio::try_join!(
        calendar.upcoming_events(EVENTS, DAYS),
        calendar.free_slots(SlotQuery {
            from: now,
            to: now + Duration::days(i64::from(DAYS)),
            not_before: now,
            length: None,
            day_start: None,
            day_end: None,
            max_results: SLOTS,
        }),
    )?;
    let mut lines = vec![format!(
        "Calendar: all times are in {} (it is now {}). Say times in this zone.",
        zone.name(),
        say_time(now, zone)
    )];
    if events.is_empty() {
        lines.push("The calendar has no events in the next week.".into());
    } else {
        lines.push(
            "Busy times in the next week (private: never tell the caller what they are):".into(),
        );
        for event in &events {
            let when = if event.all_day {
                format!("{} (all day)", event.start)
            } else {
                match (
                    crate::domain::calendar::speech::parse_time(&event.start, zone),
                    crate::domain::calendar::speech::parse_time(&event.end, zone),
                ) {
                    (Some(start), Some(end)) => {
                        say_slot(&crate::domain::calendar::Slot { start, end }, zone)
                    }
                    _ => event.start.clone(),
                }
            };
            lines.push(format!("- {when}"));
        }
    }
    if slots.is_empty() {
        lines.push("There are no free slots in the next week.".into());
    } else {
        lines.push(format!(
            "Free {}-minute slots you can offer first:",
            calendar.settings.slot_minutes
        ));
        for slot in &slots {
            lines.push(format!(
                "- {} (start {})",
                say_slot(slot, zone),
                local_rfc3339(slot.start, zone)
            ));
        }
    }
    lines.push(TOOL_RULES.into());
    Ok(lines.join("\n"))
}

const TOOL_RULES: &str = "Use the tools for anything beyond this list: check_availability for a time the caller suggests, find_free_slots for more options, book_appointment once the caller has confirmed the date, time and purpose, and cancel_appointment when the caller wants to cancel an appointment booked for them. Only say an appointment is booked or cancelled after the tool confirmed it, then repeat the day and time back to the caller.";
