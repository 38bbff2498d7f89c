//! Times as a caller hears them and as the agent's instructions carry them: always in the
//! tenant's zone, never UTC unless that is the tenant's zone.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;

use super::Slot;

/// `Monday, November 2 at 9:00 AM`.
pub fn say_time(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone)
        .format("%A, %B %-d at %-I:%M %p")
        .to_string()
}

/// `Monday, November 2 at 9:00 AM to 9:30 AM`.
pub fn say_slot(slot: &Slot, zone: Tz) -> String {
    let end = slot.end.with_timezone(&zone).format("%-I:%M %p");
    format!("{} to {end}", say_time(slot.start, zone))
}

/// RFC 3339 with the zone's offset, e.g. `2026-11-02T09:00:00-05:00`: what the model passes
/// back to the booking tool.
pub fn local_rfc3339(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Reads a time the model or a client gave: RFC 3339 with an offset, or a local
/// `YYYY-MM-DDTHH:MM[:SS]` (also with a space) taken in the tenant's zone. A local time that
/// does not exist (the hour skipped in spring) is refused; one that exists twice takes the
/// earlier.
pub fn parse_time(text: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let normalised = text.replacen(' ', "T", 1);
    let local = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&normalised, f).ok())?;
    zone.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_said_and_read_in_the_tenants_zone() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let t = parse_time("2026-11-02T09:00", ny).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-02T14:00:00+00:00");
        assert_eq!(say_time(t, ny), "Monday, November 2 at 9:00 AM");
        assert_eq!(local_rfc3339(t, ny), "2026-11-02T09:00:00-05:00");
        assert_eq!(parse_time("2026-11-02T09:00:00-05:00", Tz::UTC), Some(t));
        assert_eq!(parse_time("2026-11-02 09:00:00", ny), Some(t));
        let slot = Slot {
            start: t,
            end: t + chrono::Duration::minutes(30),
        };
        assert_eq!(
            say_slot(&slot, ny),
            "Monday, November 2 at 9:00 AM to 9:30 AM"
        );
        // 2:30 on 8 March 2026 does not exist in New York.
        assert_eq!(parse_time("2026-03-08T02:30", ny), None);
        assert_eq!(parse_time("next tuesday", ny), None);
    }
}
