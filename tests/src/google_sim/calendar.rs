//! The Calendar v3 surface the platform uses: events list/get/insert/delete, freeBusy, and the
//! calendar list.
//!
//! Each request goes through the same gates as at Google, in an order that keeps test failures
//! readable: first the discovery document (a request Google would refuse is a contract
//! violation, recorded for the test to assert on, whatever else happens), then injected faults,
//! then the bearer token (401), its scopes against the method's (403), and the calendar's owner
//! (404 for a calendar the account cannot see). Answers are whole resources in Google's shapes,
//! checked against the discovery document by the simulator's own tests.
//!
//! Google renders an event's `dateTime` in the request's `timeZone`, else the event's own,
//! else the calendar's; so does the simulator, so a platform comparing time strings instead of
//! instants fails here too.

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

use super::time::{self, Period};
use super::{ApiError, Calendar, Hooks, Inner, State, oauth, param, timestamp};
use crate::google_discovery::{self, Route};

/// Google's default and largest `maxResults` for events.list.
const DEFAULT_PAGE: usize = 250;
const MAX_PAGE: usize = 2500;

/// A request below the API base.
pub(super) struct Request<'a> {
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) query: &'a [(String, String)],
    /// The body, if one was sent, as parsed.
    pub(super) body: Option<Result<Value, serde_json::Error>>,
    pub(super) headers: &'a HeaderMap,
}

pub(super) async fn handle(inner: &Inner, request: Request<'_>) -> Response {
    let checked = check_contract(inner, &request);
    let decoded =
        google_discovery::percent_decode(request.path).unwrap_or_else(|_| request.path.to_string());
    let (delay, failure) = {
        let mut state = inner.state();
        let hooks = &mut state.hooks;
        (
            Hooks::take(&mut hooks.delays, &decoded),
            Hooks::take(&mut hooks.failures, &decoded),
        )
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = failure {
        return injected(status).into_response();
    }
    let answer = checked.and_then(|(route, body)| {
        answer(
            &mut inner.state(),
            &route,
            request.query,
            request.headers,
            body,
        )
    });
    answer.unwrap_or_else(IntoResponse::into_response)
}

/// Checks the request against the discovery document, recording every problem as a violation.
fn check_contract(inner: &Inner, request: &Request) -> Result<(Route, Option<Value>), ApiError> {
    let label = format!("{} {}", request.method, request.path);
    let body = match &request.body {
        None => None,
        Some(Ok(body)) => Some(body.clone()),
        Some(Err(e)) => {
            let problem = format!("{label}: the body is not JSON ({e})");
            inner.state().violations.push(problem);
            return Err(ApiError::new(400, "parseError", "Parse Error"));
        }
    };
    let query = request.query;
    match google_discovery::validate_request(request.method, request.path, query, body.as_ref()) {
        Ok(_) => {
            let route = google_discovery::route(request.method, request.path)
                .expect("a validated request has a route");
            Ok((route, body))
        }
        Err(problems) => {
            let mut state = inner.state();
            let lines = problems.iter().map(|p| format!("{label}: {p}"));
            state.violations.extend(lines);
            if google_discovery::route(request.method, request.path).is_none() {
                return Err(ApiError::not_found());
            }
            Err(ApiError::new(400, "badRequest", problems.join("; ")))
        }
    }
}

/// The error a test injected with [`super::GoogleSim::fail_next`].
fn injected(status: u16) -> ApiError {
    match status {
        429 => ApiError {
            domain: "usageLimits",
            status: Some("RESOURCE_EXHAUSTED"),
            ..ApiError::new(429, "rateLimitExceeded", "Rate Limit Exceeded")
        },
        503 => ApiError::new(503, "backendError", "The service is currently unavailable."),
        _ => ApiError::new(status, "backendError", "Backend Error"),
    }
}

fn answer(
    state: &mut State,
    route: &Route,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: Option<Value>,
) -> Result<Response, ApiError> {
    let (email, scope) = oauth::bearer(state, headers).ok_or_else(unauthenticated)?;
    let allowed = google_discovery::method_scopes(route.id);
    if !scope.split(' ').any(|s| allowed.iter().any(|a| a == s)) {
        return Err(insufficient_scopes());
    }
    let calendar_id = route.param("calendarId").unwrap_or_default();
    let event_id = route.param("eventId").unwrap_or_default();
    let calendars = &mut state.calendars;
    match route.id {
        "calendar.events.list" => list_events(owned(calendars, &email, calendar_id)?, query),
        "calendar.events.get" => {
            let calendar = owned(calendars, &email, calendar_id)?;
            let event = calendar.event(event_id).ok_or_else(ApiError::not_found)?;
            ok(calendar.shown(event, asked_zone(query)?))
        }
        "calendar.events.insert" => {
            let calendar = owned(calendars, &email, calendar_id)?;
            let stored = calendar.insert(body.unwrap_or_default())?;
            ok(calendar.shown(&stored, None))
        }
        "calendar.events.delete" => {
            owned(calendars, &email, calendar_id)?.cancel(event_id)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        "calendar.freebusy.query" => free_busy(calendars, &email, &body.unwrap_or_default()),
        "calendar.calendarList.list" => {
            let items: Vec<Value> = calendars
                .iter()
                .filter(|c| c.owner == email)
                .map(Calendar::list_entry)
                .collect();
            ok(json!({"kind": "calendar#calendarList", "etag": etag(Utc::now()), "items": items}))
        }
        "calendar.calendarList.get" => ok(owned(calendars, &email, calendar_id)?.list_entry()),
        other => Err(ApiError::new(
            501,
            "notImplemented",
            format!("the simulator does not implement {other}"),
        )),
    }
}

fn ok(body: Value) -> Result<Response, ApiError> {
    Ok(Json(body).into_response())
}

fn unauthenticated() -> ApiError {
    ApiError {
        status: Some("UNAUTHENTICATED"),
        item_message: Some("Invalid Credentials"),
        header: Some("Authorization"),
        ..ApiError::new(
            401,
            "authError",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        )
    }
}

fn insufficient_scopes() -> ApiError {
    ApiError {
        status: Some("PERMISSION_DENIED"),
        item_message: Some("Insufficient Permission"),
        ..ApiError::new(
            403,
            "insufficientPermissions",
            "Request had insufficient authentication scopes.",
        )
    }
}

/// The calendar `id` (`primary`: the account's own) if `email` owns it.
fn owned<'c>(
    calendars: &'c mut [Calendar],
    email: &str,
    id: &str,
) -> Result<&'c mut Calendar, ApiError> {
    calendars
        .iter_mut()
        .find(|c| c.owner == email && (c.id == id || (id == "primary" && c.primary)))
        .ok_or_else(ApiError::not_found)
}

/// The `timeZone` query parameter, when given.
fn asked_zone(query: &[(String, String)]) -> Result<Option<Tz>, ApiError> {
    param(query, "timeZone")
        .map(|name| {
            name.parse::<Tz>()
                .map_err(|_| ApiError::invalid("Invalid time zone definition."))
        })
        .transpose()
}

fn list_events(calendar: &Calendar, query: &[(String, String)]) -> Result<Response, ApiError> {
    let flag = |name: &str| param(query, name) == Some("true");
    let order = param(query, "orderBy");
    if order == Some("startTime") && !flag("singleEvents") {
        return Err(ApiError::new(
            400,
            "badRequest",
            "The requested ordering is not available for the particular query.",
        ));
    }
    let bound = |name: &str| param(query, name).and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    let (time_min, time_max) = (bound("timeMin"), bound("timeMax"));
    let wanted = private_properties(query)?;
    let mut found: Vec<(&Value, Period)> = calendar
        .events
        .iter()
        .filter(|e| e["status"] != "cancelled" || flag("showDeleted"))
        .filter(|e| {
            wanted
                .iter()
                .all(|(k, v)| e["extendedProperties"]["private"][k] == *v)
        })
        .filter_map(|e| Some((e, calendar.span(e)?)))
        .filter(|(_, (start, end))| {
            time_min.is_none_or(|min| *end > min) && time_max.is_none_or(|max| *start < max)
        })
        .collect();
    match order {
        Some("startTime") => found.sort_by_key(|(_, (start, _))| *start),
        Some("updated") => {
            found.sort_by(|a, b| a.0["updated"].as_str().cmp(&b.0["updated"].as_str()))
        }
        _ => {}
    }
    let size = param(query, "maxResults")
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_PAGE)
        .min(MAX_PAGE);
    let offset = match param(query, "pageToken") {
        Some(token) => page_offset(token).ok_or_else(|| ApiError::invalid("Invalid pageToken."))?,
        None => 0,
    };
    let zone = asked_zone(query)?;
    let items: Vec<Value> = found
        .iter()
        .skip(offset)
        .take(size)
        .map(|(event, _)| calendar.shown(event, zone))
        .collect();
    let mut body = json!({
        "kind": "calendar#events",
        "etag": etag(Utc::now()),
        "summary": calendar.summary,
        "updated": calendar.updated(),
        "timeZone": zone.unwrap_or(calendar.zone).name(),
        "accessRole": "owner",
        "defaultReminders": [],
        "items": items,
    });
    if offset + size < found.len() {
        body["nextPageToken"] = URL_SAFE_NO_PAD
            .encode(format!("offset:{}", offset + size))
            .into();
    }
    ok(body)
}

/// The `privateExtendedProperty=key=value` constraints of a list request.
fn private_properties(query: &[(String, String)]) -> Result<Vec<(&str, &str)>, ApiError> {
    query
        .iter()
        .filter(|(name, _)| name == "privateExtendedProperty")
        .map(|(_, constraint)| {
            constraint
                .split_once('=')
                .ok_or_else(|| ApiError::invalid("Invalid value for: privateExtendedProperty"))
        })
        .collect()
}

fn page_offset(token: &str) -> Option<usize> {
    let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    decoded.strip_prefix("offset:")?.parse().ok()
}

/// `freeBusy`: the busy periods of each asked calendar the account owns, in UTC (the request's
/// `timeZone` is checked, not applied); another's calendar answers `notFound` in place.
fn free_busy(calendars: &[Calendar], email: &str, body: &Value) -> Result<Response, ApiError> {
    let bound = |name: &str| {
        let text = body[name]
            .as_str()
            .ok_or_else(|| ApiError::new(400, "required", format!("Missing {name} parameter.")))?;
        DateTime::parse_from_rfc3339(text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|_| ApiError::invalid(format!("Invalid value for: {name}")))
    };
    let window = (bound("timeMin")?, bound("timeMax")?);
    if window.1 <= window.0 {
        return Err(ApiError::new(
            400,
            "timeRangeEmpty",
            "The specified time range is empty.",
        ));
    }
    if let Some(name) = body["timeZone"].as_str() {
        name.parse::<Tz>()
            .map_err(|_| ApiError::invalid("Invalid time zone definition."))?;
    }
    let mut answers = Map::new();
    for item in body["items"].as_array().into_iter().flatten() {
        let id = item["id"].as_str().unwrap_or_default();
        let calendar = calendars
            .iter()
            .find(|c| c.owner == email && (c.id == id || (id == "primary" && c.primary)));
        let answer = match calendar {
            Some(calendar) => {
                let periods = time::busy(&calendar.events, calendar.zone, &calendar.owner, window);
                let busy: Vec<Value> = periods.iter().map(|p| period(*p)).collect();
                json!({ "busy": busy })
            }
            None => json!({"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}),
        };
        answers.insert(id.to_string(), answer);
    }
    ok(json!({
        "kind": "calendar#freeBusy",
        "timeMin": timestamp(window.0),
        "timeMax": timestamp(window.1),
        "calendars": answers,
    }))
}

fn period((start, end): Period) -> Value {
    let utc = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Secs, true);
    json!({"start": utc(start), "end": utc(end)})
}

/// Google's etags: a quoted number that changes with every write.
fn etag(at: DateTime<Utc>) -> String {
    format!("\"{}\"", at.timestamp_micros())
}

/// Event ids are base32hex (`0-9a-v`), 5 to 1024 characters.
fn is_event_id(id: &str) -> bool {
    (5..=1024).contains(&id.len()) && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'v'))
}

/// A fresh event id (hex digits are base32hex too).
fn new_event_id() -> String {
    shared::auth::sha256_hex(&shared::auth::random_token(16))[..26].to_string()
}

impl Calendar {
    fn event(&self, id: &str) -> Option<&Value> {
        self.events.iter().find(|e| e["id"] == id)
    }

    fn span(&self, event: &Value) -> Option<Period> {
        time::span(event.as_object()?, self.zone).ok()
    }

    /// Stores a new event as Google completes it (`events.insert`, and test seeding).
    pub(super) fn insert(&mut self, body: Value) -> Result<Value, ApiError> {
        let Value::Object(mut event) = body else {
            return Err(ApiError::invalid("An Event object is required."));
        };
        let id = match event.get("id") {
            None => new_event_id(),
            Some(Value::String(id)) if is_event_id(id) => id.clone(),
            Some(_) => return Err(ApiError::invalid("Invalid resource id value.")),
        };
        if self.event(&id).is_some() {
            return Err(ApiError::new(
                409,
                "duplicate",
                "The requested identifier already exists.",
            ));
        }
        time::span(&event, self.zone)?;
        let now = Utc::now();
        let eid = URL_SAFE_NO_PAD.encode(format!("{id} {}", self.id));
        let mut organizer = json!({"email": self.id, "self": true});
        if !self.primary {
            organizer["displayName"] = self.summary.clone().into();
        }
        let completed = [
            ("kind", json!("calendar#event")),
            ("etag", json!(etag(now))),
            ("id", json!(id)),
            (
                "htmlLink",
                json!(format!("https://www.google.com/calendar/event?eid={eid}")),
            ),
            ("created", json!(timestamp(now))),
            ("updated", json!(timestamp(now))),
            ("creator", json!({"email": self.owner, "self": true})),
            ("organizer", organizer),
            ("iCalUID", json!(format!("{id}@google.com"))),
            ("sequence", json!(0)),
        ];
        event.extend(completed.into_iter().map(|(k, v)| (k.to_string(), v)));
        for (key, default) in [
            ("status", json!("confirmed")),
            ("reminders", json!({"useDefault": true})),
            ("eventType", json!("default")),
        ] {
            event.entry(key).or_insert(default);
        }
        if event.get("transparency").is_some_and(|t| t == "opaque") {
            event.remove("transparency");
        }
        self.mark_attendees(&mut event);
        let stored = Value::Object(event);
        self.events.push(stored.clone());
        Ok(stored)
    }

    /// Attendees as Google returns them: a `responseStatus` each, `self` on the owner's entry.
    fn mark_attendees(&self, event: &mut Map<String, Value>) {
        let Some(Value::Array(attendees)) = event.get_mut("attendees") else {
            return;
        };
        for attendee in attendees.iter_mut().filter_map(Value::as_object_mut) {
            attendee
                .entry("responseStatus")
                .or_insert_with(|| json!("needsAction"));
            if attendee.get("email").is_some_and(|e| *e == self.owner) {
                attendee.insert("self".into(), json!(true));
            }
        }
    }

    /// `events.delete`: the event stays, `cancelled` (Google keeps it for sync and `showDeleted`).
    fn cancel(&mut self, id: &str) -> Result<(), ApiError> {
        let event = self
            .events
            .iter_mut()
            .find(|e| e["id"] == id)
            .ok_or_else(ApiError::not_found)?;
        if event["status"] == "cancelled" {
            return Err(ApiError::new(410, "deleted", "Resource has been deleted"));
        }
        let now = Utc::now();
        event["status"] = json!("cancelled");
        event["updated"] = json!(timestamp(now));
        event["etag"] = json!(etag(now));
        Ok(())
    }

    /// An event as Google answers it: `dateTime`s in the asked zone, else the event's, else
    /// the calendar's.
    fn shown(&self, event: &Value, asked: Option<Tz>) -> Value {
        let mut shown = event.clone();
        let Some((start, end)) = self.span(event) else {
            return shown;
        };
        for (side, at) in [("start", start), ("end", end)] {
            let when = &mut shown[side];
            if when.get("dateTime").is_none() {
                continue;
            }
            let own = when["timeZone"].as_str().and_then(|z| z.parse::<Tz>().ok());
            let zone = asked.or(own).unwrap_or(self.zone);
            when["dateTime"] = time::in_zone(at, zone).into();
        }
        shown
    }

    /// When anything in the calendar last changed.
    fn updated(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| e["updated"].as_str())
            .max()
            .map_or_else(|| timestamp(Utc::now()), str::to_string)
    }

    fn list_entry(&self) -> Value {
        let mut entry = json!({
            "kind": "calendar#calendarListEntry",
            "etag": etag(Utc::now()),
            "id": self.id,
            "summary": self.summary,
            "timeZone": self.zone.name(),
            "accessRole": "owner",
            "defaultReminders": [],
        });
        if self.primary {
            entry["primary"] = json!(true);
        }
        entry
    }
}
