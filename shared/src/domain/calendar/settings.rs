//! A tenant's calendar settings: the zone every time is read and said in, the working week,
//! meeting length and buffer, and the calendar bookings go into.
//!
//! Stored as validated values; the input type takes what a client sends and names every bad
//! field, so nothing half-valid reaches the store.

use chrono::Weekday;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

pub const SLOT_MINUTES: std::ops::RangeInclusive<u32> = 5..=480;
pub const BUFFER_MINUTES: std::ops::RangeInclusive<u32> = 0..=240;
/// Google's calendar ids are e-mail-like; anything longer is not one.
pub const MAX_CALENDAR_ID: usize = 255;

/// The validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarSettings {
    pub time_zone: Tz,
    /// Monday first, no repeats, never empty.
    pub working_days: Vec<Weekday>,
    /// Minutes after local midnight; the end is exclusive and may be 1440 (midnight).
    pub day_start: u32,
    pub day_end: u32,
    pub slot_minutes: u32,
    pub buffer_minutes: u32,
    /// `primary` or a calendar id of the connected account.
    pub calendar_id: String,
}

impl Default for CalendarSettings {
    fn default() -> Self {
        CalendarSettings {
            time_zone: Tz::UTC,
            working_days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            day_start: 9 * 60,
            day_end: 17 * 60,
            slot_minutes: 30,
            buffer_minutes: 0,
            calendar_id: "primary".into(),
        }
    }
}

impl CalendarSettings {
    pub fn works_on(&self, day: Weekday) -> bool {
        self.working_days.contains(&day)
    }

    pub fn slot_length(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.slot_minutes))
    }

    pub fn buffer(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.buffer_minutes))
    }
}

/// Working hours, `HH:MM` in the tenant's zone; the end is exclusive.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursInput {
    #[schema(example = "09:00")]
    pub start: Option<String>,
    #[schema(example = "17:00")]
    pub end: Option<String>,
}

/// What `PUT /google-calendar/settings` takes. Fields left out take their defaults.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    /// An IANA zone, e.g. `America/New_York` (default `UTC`).
    #[schema(example = "America/New_York")]
    pub time_zone: Option<String>,
    /// Day names, e.g. `["monday", "tuesday"]` (default Monday to Friday).
    #[schema(min_items = 1, max_items = 7)]
    pub working_days: Option<Vec<String>>,
    /// Default 09:00 to 17:00.
    pub working_hours: Option<HoursInput>,
    /// Meeting length in minutes, 5 to 480 (default 30).
    #[schema(minimum = 5, maximum = 480)]
    pub slot_minutes: Option<u32>,
    /// Free minutes kept before and after every meeting, 0 to 240 (default 0).
    #[schema(maximum = 240)]
    pub buffer_minutes: Option<u32>,
    /// The calendar bookings go into (default `primary`).
    pub calendar_id: Option<String>,
}

fn parse_day(name: &str) -> Option<Weekday> {
    match name.trim().to_ascii_lowercase().as_str() {
        "monday" | "mon" => Some(Weekday::Mon),
        "tuesday" | "tue" => Some(Weekday::Tue),
        "wednesday" | "wed" => Some(Weekday::Wed),
        "thursday" | "thu" => Some(Weekday::Thu),
        "friday" | "fri" => Some(Weekday::Fri),
        "saturday" | "sat" => Some(Weekday::Sat),
        "sunday" | "sun" => Some(Weekday::Sun),
        _ => None,
    }
}

pub fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

/// Minutes after midnight of `HH:MM`, 00:00 to 24:00.
pub fn parse_hour(value: &str) -> Option<u32> {
    let (h, m) = value.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

impl SettingsInput {
    pub fn validate(self) -> Result<CalendarSettings, Vec<FieldError>> {
        let defaults = CalendarSettings::default();
        let mut errors = Vec::new();
        let time_zone = match self.time_zone {
            None => defaults.time_zone,
            Some(name) => name.trim().parse::<Tz>().unwrap_or_else(|_| {
                errors.push(FieldError::new(
                    "time_zone",
                    "must be an IANA time zone such as America/New_York",
                ));
                defaults.time_zone
            }),
        };
        let working_days = match self.working_days {
            None => defaults.working_days.clone(),
            Some(names) => {
                let mut days = Vec::new();
                for name in &names {
                    match parse_day(name) {
                        Some(day) if days.contains(&day) => errors.push(FieldError::new(
                            "working_days",
                            format!("lists {} twice", day_name(day)),
                        )),
                        Some(day) => days.push(day),
                        None => errors.push(FieldError::new(
                            "working_days",
                            format!("{name:?} is not a day name such as monday"),
                        )),
                    }
                }
                if names.is_empty() {
                    errors.push(FieldError::new(
                        "working_days",
                        "must name at least one day",
                    ));
                }
                days.sort_by_key(|d| d.num_days_from_monday());
                days
            }
        };
        let (mut day_start, mut day_end) = (defaults.day_start, defaults.day_end);
        if let Some(hours) = self.working_hours {
            if let Some(start) = hours.start {
                match parse_hour(&start).filter(|t| *t < 24 * 60) {
                    Some(t) => day_start = t,
                    None => errors.push(FieldError::new(
                        "working_hours.start",
                        "must be a time of day as HH:MM, e.g. 09:00",
                    )),
                }
            }
            if let Some(end) = hours.end {
                match parse_hour(&end).filter(|t| *t > 0) {
                    Some(t) => day_end = t,
                    None => errors.push(FieldError::new(
                        "working_hours.end",
                        "must be a time of day as HH:MM, e.g. 17:00",
                    )),
                }
            }
        }
        if day_end <= day_start {
            errors.push(FieldError::new(
                "working_hours.end",
                "must be after working_hours.start",
            ));
        }
        let slot_minutes = self.slot_minutes.unwrap_or(defaults.slot_minutes);
        if !SLOT_MINUTES.contains(&slot_minutes) {
            errors.push(FieldError::new(
                "slot_minutes",
                format!(
                    "must be between {} and {}",
                    SLOT_MINUTES.start(),
                    SLOT_MINUTES.end()
                ),
            ));
        } else if day_end > day_start && day_end - day_start < slot_minutes {
            errors.push(FieldError::new(
                "slot_minutes",
                "is longer than the working day",
            ));
        }
        let buffer_minutes = self.buffer_minutes.unwrap_or(defaults.buffer_minutes);
        if !BUFFER_MINUTES.contains(&buffer_minutes) {
            errors.push(FieldError::new(
                "buffer_minutes",
                format!(
                    "must be between {} and {}",
                    BUFFER_MINUTES.start(),
                    BUFFER_MINUTES.end()
                ),
            ));
        }
        let calendar_id = self
            .calendar_id
            .map(|id| id.trim().to_string())
            .unwrap_or(defaults.calendar_id);
        if calendar_id.is_empty()
            || calendar_id.len() > MAX_CALENDAR_ID
            || calendar_id
                .chars()
                .any(|c| c.is_control() || c.is_whitespace())
        {
            errors.push(FieldError::new(
                "calendar_id",
                format!("must be primary or a calendar id (at most {MAX_CALENDAR_ID} characters, no spaces)"),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(CalendarSettings {
            time_zone,
            working_days,
            day_start,
            day_end,
            slot_minutes,
            buffer_minutes,
            calendar_id,
        })
    }
}

/// How settings are shown and stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SettingsView {
    pub time_zone: String,
    pub working_days: Vec<String>,
    pub working_hours: HoursView,
    pub slot_minutes: u32,
    pub buffer_minutes: u32,
    pub calendar_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HoursView {
    pub start: String,
    pub end: String,
}

fn hour_text(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl From<&CalendarSettings> for SettingsView {
    fn from(s: &CalendarSettings) -> Self {
        SettingsView {
            time_zone: s.time_zone.name().to_string(),
            working_days: s
                .working_days
                .iter()
                .map(|d| day_name(*d).to_string())
                .collect(),
            working_hours: HoursView {
                start: hour_text(s.day_start),
                end: hour_text(s.day_end),
            },
            slot_minutes: s.slot_minutes,
            buffer_minutes: s.buffer_minutes,
            calendar_id: s.calendar_id.clone(),
        }
    }
}

impl From<SettingsView> for SettingsInput {
    fn from(v: SettingsView) -> Self {
        SettingsInput {
            time_zone: Some(v.time_zone),
            working_days: Some(v.working_days),
            working_hours: Some(HoursInput {
                start: Some(v.working_hours.start),
                end: Some(v.working_hours.end),
            }),
            slot_minutes: Some(v.slot_minutes),
            buffer_minutes: Some(v.buffer_minutes),
            calendar_id: Some(v.calendar_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn defaults_are_a_utc_office_week() {
        let s = SettingsInput::default().validate().unwrap();
        assert_eq!(s, CalendarSettings::default());
        assert_eq!(s.working_days.len(), 5);
    }

    #[test]
    fn every_bad_field_is_named() {
        let input = SettingsInput {
            time_zone: Some("Mars/Olympus".into()),
            working_days: Some(vec!["monday".into(), "funday".into(), "Mon".into()]),
            working_hours: Some(HoursInput {
                start: Some("9am".into()),
                end: Some("25:00".into()),
            }),
            slot_minutes: Some(2),
            buffer_minutes: Some(500),
            calendar_id: Some("has space".into()),
        };
        let errors = input.validate().unwrap_err();
        let named = fields(&errors);
        for field in [
            "time_zone",
            "working_days",
            "working_hours.start",
            "working_hours.end",
            "slot_minutes",
            "buffer_minutes",
            "calendar_id",
        ] {
            assert!(named.contains(&field), "{field} not named in {named:?}");
        }
    }

    #[test]
    fn hours_must_hold_a_slot_and_round_trip() {
        let short = SettingsInput {
            working_hours: Some(HoursInput {
                start: Some("09:00".into()),
                end: Some("09:20".into()),
            }),
            ..Default::default()
        };
        assert_eq!(fields(&short.validate().unwrap_err()), ["slot_minutes"]);
        let late = SettingsInput {
            time_zone: Some("Asia/Kolkata".into()),
            working_days: Some(vec!["sunday".into(), "saturday".into()]),
            working_hours: Some(HoursInput {
                start: Some("18:30".into()),
                end: Some("24:00".into()),
            }),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(late.working_days, [Weekday::Sat, Weekday::Sun]);
        let view = SettingsView::from(&late);
        assert_eq!(view.working_hours.end, "24:00");
        assert_eq!(SettingsInput::from(view).validate().unwrap(), late);
    }
}
