//! Settings and reading the calendar: events, availability and free slots in the tenant's
//! zone, with Google's free/busy rules (transparent and declined events are free, all-day
//! events busy).

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use e2e_tests::calendar_rig::connect;
use e2e_tests::client::email;
use e2e_tests::google_sim::DEFAULT_ACCOUNT;
use serde_json::{Value, json};

use super::{CalendarStack, calendar_stack};

const ZONE: &str = "America/New_York";

fn zone() -> Tz {
    ZONE.parse().unwrap()
}

/// A day three days from now in New York: always in the future, always within a week.
fn day() -> NaiveDate {
    Utc::now().with_timezone(&zone()).date_naive() + Duration::days(3)
}

/// `hh:mm` on `day` in New York, as RFC 3339 with its offset.
fn local(day: NaiveDate, hour: u32, minute: u32) -> String {
    zone()
        .from_local_datetime(&day.and_hms_opt(hour, minute, 0).unwrap())
        .earliest()
        .unwrap()
        .to_rfc3339()
}

/// A connected tenant working every day 9-17 in New York, with 30-minute slots, and a day
/// of events: busy 10-11, transparent 12-13, declined 14-15, and the next day busy all day.
async fn busy_day() -> CalendarStack {
    let s = calendar_stack().await;
    s.google.add_account(DEFAULT_ACCOUNT, ZONE);
    connect(&s.stack, s.token(), DEFAULT_ACCOUNT).await;
    let settings = s
        .stack
        .client()
        .json(
            reqwest::Method::PUT,
            "/google-calendar/settings",
            Some(s.token()),
            &json!({
                "time_zone": ZONE,
                "working_days": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
                "working_hours": {"start": "09:00", "end": "17:00"},
                "slot_minutes": 30
            }),
        )
        .await;
    assert_eq!(settings.status, 200, "{}", settings.text);
    let d = day();
    let event = |summary: &str, from: u32, to: u32, extra: Value| {
        let mut e = json!({
            "summary": summary,
            "start": {"dateTime": local(d, from, 0)},
            "end": {"dateTime": local(d, to, 0)},
        });
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    };
    s.google
        .seed_event(DEFAULT_ACCOUNT, event("Board meeting", 10, 11, json!({})));
    s.google.seed_event(
        DEFAULT_ACCOUNT,
        event("Focus time", 12, 13, json!({"transparency": "transparent"})),
    );
    s.google.seed_event(
        DEFAULT_ACCOUNT,
        event(
            "Declined sync",
            14,
            15,
            json!({"attendees": [{"email": DEFAULT_ACCOUNT, "self": true, "responseStatus": "declined"}]}),
        ),
    );
    let next = d + Duration::days(1);
    s.google.seed_event(
        DEFAULT_ACCOUNT,
        json!({
            "summary": "Offsite",
            "start": {"date": next.to_string()},
            "end": {"date": (next + Duration::days(1)).to_string()},
        }),
    );
    s
}

#[tokio::test]
async fn free_slots_follow_the_tenants_zone_and_googles_free_busy_rules() {
    let s = busy_day().await;
    let c = s.stack.client();
    let d = day();
    let path = format!(
        "/google-calendar/find-slots?start_date={d}&end_date={}&max_results=50",
        d + Duration::days(1)
    );
    let reply = c.get(&path, Some(s.token())).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["time_zone"], ZONE);
    let starts: Vec<&str> = reply.body["free_slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap())
        .collect();
    // 16 half-hours from 9:00, less the two the board meeting takes; none the next day.
    assert_eq!(starts.len(), 14, "{starts:?}");
    assert_eq!(starts[0], local(d, 9, 0));
    assert!(!starts.contains(&local(d, 10, 0).as_str()));
    assert!(!starts.contains(&local(d, 10, 30).as_str()));
    assert!(
        starts.contains(&local(d, 12, 0).as_str()),
        "transparent is free"
    );
    assert!(
        starts.contains(&local(d, 14, 0).as_str()),
        "declined is free"
    );
    assert_eq!(*starts.last().unwrap(), local(d, 16, 30));
    let first = &reply.body["free_slots"][0];
    assert!(
        first["spoken"]
            .as_str()
            .unwrap()
            .ends_with("at 9:00 AM to 9:30 AM"),
        "{first}"
    );

    // A longer meeting and narrower hours for one search.
    let narrow = c
        .get(
            &format!("/google-calendar/find-slots?start_date={d}&end_date={d}&min_duration=60&start_hour=9&end_hour=12"),
            Some(s.token()),
        )
        .await;
    let slots = narrow.body["free_slots"].as_array().unwrap();
    assert_eq!(slots.len(), 2, "{}", narrow.text);
    assert_eq!(slots[1]["start"], local(d, 11, 0));

    for (query, field) in [
        ("start_date=tomorrow", "start_date"),
        ("min_duration=2", "min_duration"),
        ("max_results=0", "max_results"),
        ("start_hour=25", "start_hour"),
        (
            &format!("start_date={d}&end_date=2020-01-01")[..],
            "end_date",
        ),
    ] {
        let bad = c
            .get(
                &format!("/google-calendar/find-slots?{query}"),
                Some(s.token()),
            )
            .await;
        assert_eq!(bad.status, 422, "{query}: {}", bad.text);
        assert!(
            bad.error_fields().contains(&field.to_string()),
            "{query}: {}",
            bad.text
        );
    }
    s.assert_no_contract_violations();
}

#[tokio::test]
async fn availability_and_events_in_the_tenants_zone() {
    let s = busy_day().await;
    let c = s.stack.client();
    let d = day();
    for (start, free) in [
        (format!("{d}T10:15"), false),
        (format!("{d}T12:00"), true),
        (format!("{d}T14:00"), true),
        (format!("{}T09:00", d + Duration::days(1)), false),
    ] {
        let reply = c
            .get(
                &format!("/google-calendar/check-availability?start_time={start}"),
                Some(s.token()),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.body["is_available"], free, "{start}: {}", reply.text);
    }
    let missing = c
        .get("/google-calendar/check-availability", Some(s.token()))
        .await;
    assert_eq!(missing.status, 422);
    assert_eq!(missing.error_fields(), ["start_time"]);

    let events = c
        .get("/google-calendar/events?days_ahead=7", Some(s.token()))
        .await;
    assert_eq!(events.status, 200, "{}", events.text);
    let list = events.body.as_array().unwrap();
    assert_eq!(list.len(), 4, "{}", events.text);
    assert_eq!(list[0]["summary"], "Board meeting");
    assert_eq!(
        list[0]["start"],
        local(d, 10, 0),
        "times in the tenant's zone"
    );
    let offsite = list.iter().find(|e| e["summary"] == "Offsite").unwrap();
    assert_eq!(offsite["all_day"], true);
    assert_eq!(offsite["start"], (d + Duration::days(1)).to_string());
    let one = c
        .get("/google-calendar/events?max_results=1", Some(s.token()))
        .await;
    assert_eq!(one.body.as_array().unwrap().len(), 1);
    let soon = c
        .get("/google-calendar/events?days_ahead=2", Some(s.token()))
        .await;
    assert_eq!(
        soon.body.as_array().unwrap().len(),
        0,
        "days_ahead is honoured"
    );
    let bad = c
        .get(
            "/google-calendar/events?max_results=abc&days_ahead=0",
            Some(s.token()),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.error_fields(), ["max_results", "days_ahead"]);
    s.assert_no_contract_violations();
}

#[tokio::test]
async fn settings_are_validated_checked_against_google_and_per_tenant() {
    let s = calendar_stack().await;
    let c = s.stack.client();
    let defaults = c.get("/google-calendar/settings", Some(s.token())).await;
    assert_eq!(defaults.body["time_zone"], "UTC");
    assert_eq!(defaults.body["working_hours"]["start"], "09:00");
    let put = |body: Value| {
        let c = &c;
        let token = s.token();
        async move {
            c.json(
                reqwest::Method::PUT,
                "/google-calendar/settings",
                Some(token),
                &body,
            )
            .await
        }
    };
    let bad = put(json!({
        "time_zone": "Mars/Olympus_Mons",
        "working_days": ["funday"],
        "working_hours": {"start": "18:00", "end": "09:00"},
        "slot_minutes": 1,
        "buffer_minutes": 999,
    }))
    .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    let fields = bad.error_fields();
    for field in [
        "time_zone",
        "working_days",
        "working_hours.end",
        "slot_minutes",
        "buffer_minutes",
    ] {
        assert!(fields.contains(&field.to_string()), "{field} in {fields:?}");
    }
    let unknown = put(json!({"timezone": "UTC"})).await;
    assert_eq!(unknown.status, 422, "{}", unknown.text);

    connect(&s.stack, s.token(), DEFAULT_ACCOUNT).await;
    s.google.add_calendar(
        DEFAULT_ACCOUNT,
        "team@group.calendar.google.com",
        "Team",
        "UTC",
    );
    let foreign = put(json!({"calendar_id": "someone-else@group.calendar.google.com"})).await;
    assert_eq!(foreign.status, 422, "{}", foreign.text);
    assert_eq!(foreign.error_fields(), ["calendar_id"]);
    let team = put(json!({"calendar_id": "team@group.calendar.google.com", "time_zone": "Asia/Kolkata", "buffer_minutes": 15})).await;
    assert_eq!(team.status, 200, "{}", team.text);
    assert_eq!(team.body["calendar_id"], "team@group.calendar.google.com");
    let listed = c.get("/google-calendar/calendars", Some(s.token())).await;
    assert!(
        listed.text.contains("team@group.calendar.google.com"),
        "{}",
        listed.text
    );

    // Another tenant has its own (default) settings and none of this one's.
    let other = c.register(&email("other")).await;
    let theirs = c
        .get("/google-calendar/settings", Some(&other.access_token))
        .await;
    assert_eq!(theirs.body["time_zone"], "UTC");
    assert_eq!(theirs.body["calendar_id"], "primary");
    let mine = c.get("/google-calendar/settings", Some(s.token())).await;
    assert_eq!(mine.body["time_zone"], "Asia/Kolkata");
    s.assert_no_contract_violations();
}
