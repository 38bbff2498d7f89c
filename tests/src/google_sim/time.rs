//! When events happen, and when an account is busy, computed the way Google does.
//!
//! Availability is where a booking platform is most easily wrong without noticing: an all-day
//! event is not "24 hours from 00:00 UTC" but midnight to midnight in the calendar's own time
//! zone (23 or 25 hours across a DST change), a local `dateTime` is read in its event's
//! `timeZone`, and free/busy leaves out what does not block time (cancelled and transparent
//! events, invitations the account declined). The simulator does all of it with the IANA
//! database (chrono-tz), so tests in `America/New_York` across the November change see what
//! Google would answer.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use super::ApiError;

/// A half-open period `[start, end)`.
pub(super) type Period = (DateTime<Utc>, DateTime<Utc>);

/// When an event starts and ends; `zone` (the calendar's) places all-day events. Refuses what
/// `events.insert` refuses, with Google's messages.
pub(super) fn span(event: &Map<String, Value>, zone: Tz) -> Result<Period, ApiError> {
    let start = instant(event.get("start"), zone, "start")?;
    let end = instant(event.get("end"), zone, "end")?;
    if is_all_day(&event["start"]) != is_all_day(&event["end"]) {
        return Err(ApiError::invalid(
            "Start and end times must either both be date or both be dateTime.",
        ));
    }
    if end <= start {
        return Err(ApiError::new(
            400,
            "timeRangeEmpty",
            "The specified time range is empty.",
        ));
    }
    Ok((start, end))
}

fn is_all_day(when: &Value) -> bool {
    when.get("date").is_some_and(Value::is_string)
}

/// One `EventDateTime` as an instant: a `date` at local midnight in `zone`, a `dateTime` with
/// its offset, or a local `dateTime` in the event's `timeZone`.
fn instant(when: Option<&Value>, zone: Tz, side: &str) -> Result<DateTime<Utc>, ApiError> {
    let missing = || ApiError::new(400, "required", format!("Missing {side} time."));
    let when = when.filter(|w| w.is_object()).ok_or_else(missing)?;
    let own_zone = match when["timeZone"].as_str() {
        Some(name) => Some(name.parse::<Tz>().map_err(|_| {
            ApiError::invalid(format!("Invalid time zone definition for {side} time."))
        })?),
        None => None,
    };
    let malformed = || ApiError::invalid(format!("Invalid {side} time."));
    match (when["date"].as_str(), when["dateTime"].as_str()) {
        (Some(date), None) => {
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| malformed())?;
            Ok(local(zone, date.and_time(chrono::NaiveTime::MIN)))
        }
        (None, Some(text)) => {
            if let Ok(at) = DateTime::parse_from_rfc3339(text) {
                return Ok(at.with_timezone(&Utc));
            }
            let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .map_err(|_| malformed())?;
            let own_zone = own_zone.ok_or_else(|| {
                ApiError::new(
                    400,
                    "required",
                    format!("Missing time zone definition for {side} time."),
                )
            })?;
            Ok(local(own_zone, naive))
        }
        (Some(_), Some(_)) => Err(malformed()),
        (None, None) => Err(missing()),
    }
}

/// A wall-clock time in `zone`: the earlier instant when the clock repeats it (autumn), the
/// time an hour later when the clock skips it (spring), as Google resolves them.
fn local(zone: Tz, naive: NaiveDateTime) -> DateTime<Utc> {
    let resolved = match zone.from_local_datetime(&naive) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Some(at),
        LocalResult::None => zone
            .from_local_datetime(&(naive + Duration::hours(1)))
            .earliest(),
    };
    resolved.map_or_else(
        || Utc.from_utc_datetime(&naive),
        |at| at.with_timezone(&Utc),
    )
}

/// `at` as Google writes an event time: RFC 3339 with `zone`'s offset, whole seconds.
pub(super) fn in_zone(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The busy periods of a calendar (owned by `owner`, in `zone`) within `window`: merged,
/// sorted, clipped.
pub(super) fn busy(events: &[Value], zone: Tz, owner: &str, window: Period) -> Vec<Period> {
    let mut periods: Vec<Period> = events
        .iter()
        .filter(|event| blocks_time(event, owner))
        .filter_map(|event| span(event.as_object()?, zone).ok())
        .map(|(start, end)| (start.max(window.0), end.min(window.1)))
        .filter(|(start, end)| start < end)
        .collect();
    periods.sort();
    let mut merged: Vec<Period> = Vec::new();
    for (start, end) in periods {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// Whether an event makes its calendar's owner busy: not cancelled, not `transparent`, not an
/// invitation the owner declined.
fn blocks_time(event: &Value, owner: &str) -> bool {
    let declined = event["attendees"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|a| (a["self"] == true || a["email"] == owner) && a["responseStatus"] == "declined");
    event["status"] != "cancelled" && event["transparency"] != "transparent" && !declined
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn span_of(event: Value, zone: Tz) -> Result<Period, ApiError> {
        span(event.as_object().expect("object"), zone)
    }

    #[test]
    fn all_day_events_run_midnight_to_midnight_in_the_calendar_zone() {
        let event = json!({"start": {"date": "2026-11-01"}, "end": {"date": "2026-11-02"}});
        let (start, end) = span_of(event, chrono_tz::America::New_York).expect("span");
        assert_eq!(start, utc("2026-11-01T04:00:00Z"));
        assert_eq!(end, utc("2026-11-02T05:00:00Z"));
    }

    #[test]
    fn local_date_times_need_a_zone_and_skip_the_spring_gap() {
        let event = json!({
            "start": {"dateTime": "2026-03-08T02:30:00", "timeZone": "America/New_York"},
            "end": {"dateTime": "2026-03-08T04:00:00-04:00"},
        });
        let (start, _) = span_of(event, chrono_tz::UTC).expect("span");
        assert_eq!(start, utc("2026-03-08T07:30:00Z"));
        let no_zone = json!({
            "start": {"dateTime": "2026-03-08T02:30:00"},
            "end": {"dateTime": "2026-03-08T04:00:00Z"},
        });
        let refused = span_of(no_zone, chrono_tz::UTC).expect_err("no zone");
        assert_eq!(
            refused.message,
            "Missing time zone definition for start time."
        );
    }

    #[test]
    fn refuses_empty_and_mixed_ranges() {
        let empty = json!({
            "start": {"dateTime": "2026-11-02T10:00:00Z"},
            "end": {"dateTime": "2026-11-02T10:00:00Z"},
        });
        assert_eq!(
            span_of(empty, chrono_tz::UTC).expect_err("empty").reason,
            "timeRangeEmpty"
        );
        let mixed =
            json!({"start": {"date": "2026-11-02"}, "end": {"dateTime": "2026-11-03T00:00:00Z"}});
        assert_eq!(
            span_of(mixed, chrono_tz::UTC).expect_err("mixed").reason,
            "invalid"
        );
    }

    #[test]
    fn busy_periods_merge_and_clip() {
        let at = |start: &str, end: &str| json!({"start": {"dateTime": start}, "end": {"dateTime": end}});
        let events = [
            at("2026-11-02T09:00:00Z", "2026-11-02T10:00:00Z"),
            at("2026-11-02T09:30:00Z", "2026-11-02T11:00:00Z"),
            at("2026-11-02T11:00:00Z", "2026-11-02T11:30:00Z"),
            at("2026-11-02T07:00:00Z", "2026-11-02T08:30:00Z"),
        ];
        let window = (utc("2026-11-02T08:00:00Z"), utc("2026-11-02T18:00:00Z"));
        let periods = busy(&events, chrono_tz::UTC, "owner@sim.test", window);
        assert_eq!(
            periods,
            vec![
                (utc("2026-11-02T08:00:00Z"), utc("2026-11-02T08:30:00Z")),
                (utc("2026-11-02T09:00:00Z"), utc("2026-11-02T11:30:00Z")),
            ]
        );
    }
}
