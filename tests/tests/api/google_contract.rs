//! Contract tests: every request the Google client builds, checked against Google's Calendar
//! v3 discovery document (`specs/google_calendar_v3.json`) without a network. The simulator
//! checks the same on every request it receives in the end-to-end tests; these cover each
//! builder with its richest arguments, so a wrong parameter name or body field fails here
//! first, next to the builder that made it.

use chrono::{DateTime, Utc};
use e2e_tests::google_discovery::{is_scope, validate_request};
use shared::google::calendar::{
    EventQuery, NewEvent, Request, delete_event, free_busy, get_event, insert_event,
    list_calendars, list_events,
};
use shared::google::oauth::SCOPES;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The method id the request maps to, or a panic naming every problem.
fn valid(request: &Request) -> &'static str {
    validate_request(
        request.method.as_str(),
        &request.path,
        &request.query,
        request.body.as_ref(),
    )
    .unwrap_or_else(|problems| panic!("{request:#?} breaks the discovery document: {problems:#?}"))
}

#[test]
fn events_list_with_every_option() {
    let request = list_events(&EventQuery {
        calendar_id: "team@group.calendar.google.com",
        time_min: at("2026-11-02T00:00:00Z"),
        time_max: Some(at("2026-11-09T00:00:00Z")),
        max_results: 250,
        time_zone: "America/New_York",
        private_properties: vec![
            ("aipa_caller".into(), "+14155550123".into()),
            ("aipa_call_id".into(), "01JC".into()),
        ],
    });
    assert_eq!(valid(&request), "calendar.events.list");
}

#[test]
fn event_get_insert_and_delete() {
    assert_eq!(
        valid(&get_event("primary", "0123456789abcdef")),
        "calendar.events.get"
    );
    let event = NewEvent {
        id: "0123456789abcdef0123456789abcdef",
        summary: "Consultation with Jane (+14155550123)",
        description: "Booked by phone",
        start: at("2026-11-02T14:00:00Z"),
        end: at("2026-11-02T14:30:00Z"),
        time_zone: "America/New_York",
        private_properties: &[("aipa_call_id", "01JC"), ("aipa_caller", "+14155550123")],
    };
    assert_eq!(
        valid(&insert_event("primary", &event)),
        "calendar.events.insert"
    );
    assert_eq!(
        valid(&delete_event("owner@example.com", "0123456789abcdef")),
        "calendar.events.delete"
    );
}

#[test]
fn free_busy_and_calendar_list() {
    let request = free_busy(
        "primary",
        at("2026-11-02T00:00:00Z"),
        at("2026-11-09T00:00:00Z"),
        "Asia/Kolkata",
    );
    assert_eq!(valid(&request), "calendar.freebusy.query");
    assert_eq!(valid(&list_calendars()), "calendar.calendarList.list");
}

#[test]
fn the_requested_scopes_are_calendar_scopes() {
    for scope in SCOPES {
        assert!(is_scope(scope), "{scope} is not in the discovery document");
    }
}

#[test]
fn the_validator_catches_a_builder_gone_wrong() {
    // A request as a careless builder might make it: the Python client's snake_case names.
    let mut request = list_events(&EventQuery {
        calendar_id: "primary",
        time_min: at("2026-11-02T00:00:00Z"),
        time_max: None,
        max_results: 10,
        time_zone: "UTC",
        private_properties: Vec::new(),
    });
    request.query.push(("single_events".into(), "true".into()));
    let problems = validate_request("GET", &request.path, &request.query, None).unwrap_err();
    assert!(
        problems.iter().any(|p| p.contains("`single_events`")),
        "{problems:?}"
    );
    let mut body = insert_event(
        "primary",
        &NewEvent {
            id: "abcde",
            summary: "s",
            description: "d",
            start: at("2026-11-02T14:00:00Z"),
            end: at("2026-11-02T14:30:00Z"),
            time_zone: "UTC",
            private_properties: &[],
        },
    );
    body.body.as_mut().unwrap()["start"]["date_time"] = "2026-11-02T14:00:00Z".into();
    let problems =
        validate_request("POST", &body.path, &body.query, body.body.as_ref()).unwrap_err();
    assert!(
        problems.iter().any(|p| p.contains("date_time")),
        "{problems:?}"
    );
}
