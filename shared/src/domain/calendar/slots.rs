//! Free meeting slots: fixed-length slots inside the working hours of working days, in the
//! tenant's zone, clear of every busy period by the buffer.
//!
//! Slots start at the working day's start and every slot length after it, counted in local
//! time, so a 9:00 start is 9:00 on both sides of a daylight-saving change; each local start
//! is then turned into an instant with the zone's rules (a start that does not exist that
//! day, in the hour skipped in spring, is not offered; one that exists twice takes the
//! earlier).

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Utc};

use super::CalendarSettings;
use crate::google::calendar::Period;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Where and how to look.
#[derive(Debug, Clone)]
pub struct SlotQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Nothing starting before this is offered (now, plus any notice required).
    pub not_before: DateTime<Utc>,
    /// Overrides the settings' slot length.
    pub length: Option<Duration>,
    /// Override the settings' working hours (minutes after local midnight).
    pub day_start: Option<u32>,
    pub day_end: Option<u32>,
    pub max_results: usize,
}

/// Whether `slot`, widened by `buffer` on both sides, touches a busy period.
pub fn conflicts(slot: Slot, busy: &[Period], buffer: Duration) -> bool {
    busy.iter()
        .any(|b| slot.start < b.end + buffer && b.start < slot.end + buffer)
}

/// The instant of local `minutes` after midnight on `day`, if it exists in the zone.
fn local_instant(
    settings: &CalendarSettings,
    day: NaiveDate,
    minutes: u32,
) -> Option<DateTime<Utc>> {
    let local = day.and_hms_opt(0, 0, 0)? + Duration::minutes(i64::from(minutes));
    match settings.time_zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, _) => Some(earlier.with_timezone(&Utc)),
        LocalResult::None => None,
    }
}

/// The free slots of `query`, earliest first, at most `max_results`.
pub fn free_slots(settings: &CalendarSettings, query: &SlotQuery, busy: &[Period]) -> Vec<Slot> {
    let length = query.length.unwrap_or_else(|| settings.slot_length());
    let minutes = length.num_minutes().max(1) as u32;
    let day_start = query.day_start.unwrap_or(settings.day_start);
    let day_end = query.day_end.unwrap_or(settings.day_end);
    let earliest = query.from.max(query.not_before);
    let zone = settings.time_zone;
    let mut day = query.from.with_timezone(&zone).date_naive();
    let last_day = query.to.with_timezone(&zone).date_naive();
    let mut slots = Vec::new();
    while day <= last_day && slots.len() < query.max_results {
        if settings.works_on(day.weekday()) {
            let mut offset = day_start;
            while offset + minutes <= day_end && slots.len() < query.max_results {
                let start = local_instant(settings, day, offset);
                offset += minutes;
                let Some(start) = start else { continue };
                let slot = Slot {
                    start,
                    end: start + length,
                };
                if slot.start >= earliest
                    && slot.end <= query.to
                    && !conflicts(slot, busy, settings.buffer())
                {
                    slots.push(slot);
                }
            }
        }
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    slots
}

/// Why a meeting at `start` lasting `length` cannot be booked under the settings, if it
/// cannot: it must be on a working day, inside working hours (local), and start in the future.
pub fn outside_hours(
    settings: &CalendarSettings,
    start: DateTime<Utc>,
    length: Duration,
) -> Option<String> {
    let zone = settings.time_zone;
    let local_start = start.with_timezone(&zone);
    let day = local_start.date_naive();
    if !settings.works_on(day.weekday()) {
        return Some(format!(
            "{} is not a working day",
            super::settings::day_name(day.weekday())
        ));
    }
    let opens = local_instant(settings, day, settings.day_start)?;
    let closes = local_instant(settings, day, settings.day_end).or_else(|| {
        // The day ends in the skipped hour: an hour later is the same wall-clock moment.
        local_instant(settings, day, settings.day_end + 60)
    })?;
    if start < opens || start + length > closes {
        return Some("it is outside working hours".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use chrono_tz::Tz;

    use super::*;
    use crate::domain::calendar::SettingsInput;
    use crate::domain::calendar::settings::HoursInput;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn period(start: &str, end: &str) -> Period {
        Period {
            start: utc(start),
            end: utc(end),
        }
    }

    fn settings(zone: &str, start: &str, end: &str, slot: u32, buffer: u32) -> CalendarSettings {
        SettingsInput {
            time_zone: Some(zone.into()),
            working_hours: Some(HoursInput {
                start: Some(start.into()),
                end: Some(end.into()),
            }),
            slot_minutes: Some(slot),
            buffer_minutes: Some(buffer),
            ..Default::default()
        }
        .validate()
        .unwrap()
    }

    fn query(from: &str, to: &str, max: usize) -> SlotQuery {
        SlotQuery {
            from: utc(from),
            to: utc(to),
            not_before: utc(from),
            length: None,
            day_start: None,
            day_end: None,
            max_results: max,
        }
    }

    fn starts(slots: &[Slot], zone: Tz) -> Vec<String> {
        slots
            .iter()
            .map(|s| {
                s.start
                    .with_timezone(&zone)
                    .format("%a %d %H:%M %:z")
                    .to_string()
            })
            .collect()
    }

    /// US daylight saving ends on Sunday 1 November 2026: 9:00 in New York is 13:00 UTC on
    /// Friday 30 October and 14:00 UTC on Monday 2 November. The weekend is skipped.
    #[test]
    fn new_york_across_the_november_dst_change() {
        let s = settings("America/New_York", "09:00", "17:00", 60, 0);
        let q = query("2026-10-30T00:00:00Z", "2026-11-04T00:00:00Z", 100);
        let slots = free_slots(&s, &q, &[]);
        let zone: Tz = "America/New_York".parse().unwrap();
        // Friday, Monday and Tuesday, 8 slots each.
        assert_eq!(slots.len(), 24);
        assert_eq!(slots[0].start, utc("2026-10-30T13:00:00Z"));
        assert_eq!(slots[7].end, utc("2026-10-30T21:00:00Z"));
        assert_eq!(slots[8].start, utc("2026-11-02T14:00:00Z"));
        assert_eq!(slots[23].end, utc("2026-11-03T22:00:00Z"));
        let local = starts(&slots, zone);
        assert_eq!(local[0], "Fri 30 09:00 -04:00");
        assert_eq!(local[8], "Mon 02 09:00 -05:00");
    }

    /// Busy periods that straddle the edges of the working day take the slots they touch; an
    /// all-day busy day (as freeBusy reports it: local midnight to midnight) takes the day.
    #[test]
    fn busy_periods_across_the_working_hours_edges() {
        let s = settings("America/New_York", "09:00", "17:00", 30, 0);
        let busy = [
            // 8:30-9:15 EST on Monday 2 November: the 9:00 slot goes, 9:30 stays.
            period("2026-11-02T13:30:00Z", "2026-11-02T14:15:00Z"),
            // 16:45-17:30: the 16:30 slot goes.
            period("2026-11-02T21:45:00Z", "2026-11-02T22:30:00Z"),
            // All of Tuesday 3 November, local.
            period("2026-11-03T05:00:00Z", "2026-11-04T05:00:00Z"),
        ];
        let q = query("2026-11-02T00:00:00Z", "2026-11-05T00:00:00Z", 100);
        let slots = free_slots(&s, &q, &busy);
        let zone: Tz = "America/New_York".parse().unwrap();
        let local = starts(&slots, zone);
        assert_eq!(local.first().unwrap(), "Mon 02 09:30 -05:00");
        assert!(!local.contains(&"Mon 02 16:30 -05:00".to_string()));
        assert!(local.contains(&"Mon 02 16:00 -05:00".to_string()));
        assert!(local.iter().all(|l| !l.starts_with("Tue")));
        assert!(local.contains(&"Wed 04 09:00 -05:00".to_string()));
        // 16 slots a day: Monday loses two, Tuesday all, Wednesday none (ends 19:00 local).
        assert_eq!(slots.len(), 14 + 16);
    }

    /// India is UTC+5:30 all year: a 9:00-17:00 day is 03:30-11:30 UTC, and the local day
    /// boundary is not UTC's.
    #[test]
    fn kolkata_far_from_utc_with_a_buffer() {
        let s = settings("Asia/Kolkata", "09:00", "17:00", 45, 15);
        // A meeting 10:00-11:00 local (04:30-05:30 UTC) on Wednesday 4 November.
        let busy = [period("2026-11-04T04:30:00Z", "2026-11-04T05:30:00Z")];
        // From 20:00 UTC on Tuesday, already Wednesday 01:30 in Kolkata.
        let q = query("2026-11-03T20:00:00Z", "2026-11-04T12:00:00Z", 100);
        let slots = free_slots(&s, &q, &busy);
        let zone: Tz = "Asia/Kolkata".parse().unwrap();
        let local = starts(&slots, zone);
        // 9:00-9:45 ends exactly the buffer before 10:00 (allowed); 9:45 and 10:30 overlap
        // the meeting or its buffer; 11:15 starts exactly the buffer after 11:00.
        assert_eq!(local[0], "Wed 04 09:00 +05:30");
        assert_eq!(local[1], "Wed 04 11:15 +05:30");
        assert_eq!(slots[0].start, utc("2026-11-04T03:30:00Z"));
        // ..., 15:45 (ends 16:30; a 16:30 start would end 17:15).
        assert_eq!(local.last().unwrap(), "Wed 04 15:45 +05:30");
        assert_eq!(slots.len(), 8);
    }

    #[test]
    fn not_before_overrides_and_max_results_are_honoured() {
        let s = settings("UTC", "09:00", "17:00", 30, 0);
        let mut q = query("2026-11-02T00:00:00Z", "2026-11-07T00:00:00Z", 3);
        q.not_before = utc("2026-11-02T10:07:00Z");
        q.length = Some(Duration::minutes(60));
        q.day_end = Some(12 * 60);
        let slots = free_slots(&s, &q, &[]);
        assert_eq!(
            slots.iter().map(|s| s.start).collect::<Vec<_>>(),
            [
                utc("2026-11-02T11:00:00Z"),
                utc("2026-11-03T09:00:00Z"),
                utc("2026-11-03T10:00:00Z")
            ]
        );
    }

    /// On 8 March 2026 New York skips 2:00-3:00: a slot grid through the night does not offer
    /// the start that does not exist.
    #[test]
    fn starts_in_the_skipped_hour_are_not_offered() {
        let mut s = settings("America/New_York", "01:00", "04:00", 60, 0);
        s.working_days = vec![chrono::Weekday::Sun];
        let q = query("2026-03-08T00:00:00Z", "2026-03-09T00:00:00Z", 10);
        let zone: Tz = "America/New_York".parse().unwrap();
        assert_eq!(
            starts(&free_slots(&s, &q, &[]), zone),
            ["Sun 08 01:00 -05:00", "Sun 08 03:00 -04:00"]
        );
    }

    #[test]
    fn bookings_must_fit_the_working_week() {
        let s = settings("America/New_York", "09:00", "17:00", 30, 0);
        let half_hour = Duration::minutes(30);
        assert_eq!(
            outside_hours(&s, utc("2026-11-02T14:00:00Z"), half_hour),
            None
        );
        assert!(outside_hours(&s, utc("2026-11-02T13:30:00Z"), half_hour).is_some());
        assert!(outside_hours(&s, utc("2026-11-02T21:45:00Z"), half_hour).is_some());
        assert!(
            outside_hours(&s, utc("2026-11-01T15:00:00Z"), half_hour)
                .unwrap()
                .contains("sunday")
        );
    }
}
