//! Calendar v3: the requests the platform makes (events list/get/insert/delete, freeBusy,
//! calendarList) as values, the answers it reads, and the client that sends them with a
//! tenant's access token.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{GoogleError, send};

/// A request below the Calendar API's base URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: Method,
    /// E.g. `calendars/primary/events`, segments percent-encoded.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

/// One path segment, percent-encoded (calendar ids are e-mail addresses).
fn segment(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Which events to list.
#[derive(Debug, Clone)]
pub struct EventQuery<'a> {
    pub calendar_id: &'a str,
    pub time_min: DateTime<Utc>,
    pub time_max: Option<DateTime<Utc>>,
    pub max_results: u32,
    /// Google answers times in this IANA zone.
    pub time_zone: &'a str,
    /// `key=value` private extended properties every event must carry.
    pub private_properties: Vec<(String, String)>,
}

/// `events.list`: recurring events expanded, ordered by start.
pub fn list_events(query: &EventQuery) -> Request {
    let mut params = vec![
        ("timeMin".to_string(), rfc3339(query.time_min)),
        ("maxResults".to_string(), query.max_results.to_string()),
        ("singleEvents".to_string(), "true".to_string()),
        ("orderBy".to_string(), "startTime".to_string()),
        ("timeZone".to_string(), query.time_zone.to_string()),
    ];
    if let Some(max) = query.time_max {
        params.push(("timeMax".to_string(), rfc3339(max)));
    }
    for (key, value) in &query.private_properties {
        params.push((
            "privateExtendedProperty".to_string(),
            format!("{key}={value}"),
        ));
    }
    Request {
        method: Method::GET,
        path: format!("calendars/{}/events", segment(query.calendar_id)),
        query: params,
        body: None,
    }
}

/// `events.get`.
pub fn get_event(calendar_id: &str, event_id: &str) -> Request {
    Request {
        method: Method::GET,
        path: format!(
            "calendars/{}/events/{}",
            segment(calendar_id),
            segment(event_id)
        ),
        query: Vec::new(),
        body: None,
    }
}

/// An event to create, with an id of ours so that creating it twice creates it once.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// base32hex (`0-9a-v`), 5-1024 characters.
    pub id: &'a str,
    pub summary: &'a str,
    pub description: &'a str,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub time_zone: &'a str,
    pub private_properties: &'a [(&'a str, &'a str)],
}

/// `events.insert`, without notifying attendees (there are none).
pub fn insert_event(calendar_id: &str, event: &NewEvent) -> Request {
    let private: serde_json::Map<String, Value> = event
        .private_properties
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    Request {
        method: Method::POST,
        path: format!("calendars/{}/events", segment(calendar_id)),
        query: vec![("sendUpdates".to_string(), "none".to_string())],
        body: Some(json!({
            "id": event.id,
            "summary": event.summary,
            "description": event.description,
            "start": {"dateTime": rfc3339(event.start), "timeZone": event.time_zone},
            "end": {"dateTime": rfc3339(event.end), "timeZone": event.time_zone},
            "extendedProperties": {"private": private},
            "reminders": {"useDefault": true},
        })),
    }
}

/// `events.delete`, without notifying attendees.
pub fn delete_event(calendar_id: &str, event_id: &str) -> Request {
    Request {
        method: Method::DELETE,
        path: format!(
            "calendars/{}/events/{}",
            segment(calendar_id),
            segment(event_id)
        ),
        query: vec![("sendUpdates".to_string(), "none".to_string())],
        body: None,
    }
}

/// `freebusy.query` for one calendar.
pub fn free_busy(
    calendar_id: &str,
    time_min: DateTime<Utc>,
    time_max: DateTime<Utc>,
    time_zone: &str,
) -> Request {
    Request {
        method: Method::POST,
        path: "freeBusy".to_string(),
        query: Vec::new(),
        body: Some(json!({
            "timeMin": rfc3339(time_min),
            "timeMax": rfc3339(time_max),
            "timeZone": time_zone,
            "items": [{"id": calendar_id}],
        })),
    }
}

/// `calendarList.list`.
pub fn list_calendars() -> Request {
    Request {
        method: Method::GET,
        path: "users/me/calendarList".to_string(),
        query: vec![("minAccessRole".to_string(), "writer".to_string())],
        body: None,
    }
}

/// An event's start or end: a time, or a date for all-day events.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EventTime {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_time: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub start: EventTime,
    #[serde(default)]
    pub end: EventTime,
    #[serde(default)]
    pub extended_properties: Option<ExtendedProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExtendedProperties {
    #[serde(default)]
    pub private: HashMap<String, String>,
}

impl Event {
    pub fn private_property(&self, key: &str) -> Option<&str> {
        self.extended_properties
            .as_ref()
            .and_then(|p| p.private.get(key))
            .map(String::as_str)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Events {
    #[serde(default)]
    items: Vec<Event>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
struct FreeBusy {
    #[serde(default)]
    calendars: HashMap<String, CalendarBusy>,
}

#[derive(Debug, Deserialize)]
struct CalendarBusy {
    #[serde(default)]
    busy: Vec<Period>,
    #[serde(default)]
    errors: Vec<Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CalendarEntry {
    pub id: String,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub primary: bool,
}

#[derive(Debug, Deserialize)]
struct CalendarList {
    #[serde(default)]
    items: Vec<CalendarEntry>,
}

/// The Calendar API at a base URL.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
}

impl Client {
    pub fn new(base_url: &str, timeout: std::time::Duration) -> Self {
        Client {
            http: super::http_client(timeout),
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        access_token: &str,
        request: &Request,
    ) -> Result<Option<T>, GoogleError> {
        let url = format!("{}/{}", self.base_url, request.path);
        send(|| {
            let mut builder = self
                .http
                .request(request.method.clone(), &url)
                .bearer_auth(access_token)
                .query(&request.query);
            if let Some(body) = &request.body {
                builder = builder.json(body);
            }
            builder
        })
        .await
    }

    async fn expect<T: serde::de::DeserializeOwned>(
        &self,
        access_token: &str,
        request: &Request,
    ) -> Result<T, GoogleError> {
        self.send(access_token, request)
            .await?
            .ok_or_else(|| GoogleError::transport("Google answered nothing"))
    }

    pub async fn events(
        &self,
        token: &str,
        query: &EventQuery<'_>,
    ) -> Result<Vec<Event>, GoogleError> {
        let events: Events = self.expect(token, &list_events(query)).await?;
        Ok(events.items)
    }

    pub async fn event(
        &self,
        token: &str,
        calendar_id: &str,
        event_id: &str,
    ) -> Result<Event, GoogleError> {
        self.expect(token, &get_event(calendar_id, event_id)).await
    }

    pub async fn insert(
        &self,
        token: &str,
        calendar_id: &str,
        event: &NewEvent<'_>,
    ) -> Result<Event, GoogleError> {
        self.expect(token, &insert_event(calendar_id, event)).await
    }

    /// Deletes an event; one already deleted (410) counts as deleted.
    pub async fn delete(
        &self,
        token: &str,
        calendar_id: &str,
        event_id: &str,
    ) -> Result<(), GoogleError> {
        match self
            .send::<Value>(token, &delete_event(calendar_id, event_id))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.status == 410 => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The busy periods of one calendar, in UTC, as Google counts them (transparent and
    /// declined events are free, all-day events busy in the calendar's own zone).
    pub async fn busy(
        &self,
        token: &str,
        calendar_id: &str,
        time_min: DateTime<Utc>,
        time_max: DateTime<Utc>,
        time_zone: &str,
    ) -> Result<Vec<Period>, GoogleError> {
        let answer: FreeBusy = self
            .expect(
                token,
                &free_busy(calendar_id, time_min, time_max, time_zone),
            )
            .await?;
        let calendar = answer
            .calendars
            .into_iter()
            .find(|(id, _)| id == calendar_id)
            .map(|(_, c)| c);
        match calendar {
            Some(c) if c.errors.is_empty() => Ok(c.busy),
            _ => Err(GoogleError {
                status: 404,
                reason: Some("notFound".into()),
                message: "the calendar is not available to this account".into(),
            }),
        }
    }

    pub async fn calendars(&self, token: &str) -> Result<Vec<CalendarEntry>, GoogleError> {
        let list: CalendarList = self.expect(token, &list_calendars()).await?;
        Ok(list.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_ids_are_one_encoded_segment() {
        let r = get_event("team@group.calendar.google.com", "abc123");
        assert_eq!(
            r.path,
            "calendars/team%40group.calendar.google.com/events/abc123"
        );
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn all_day_and_timed_events_are_read() {
        let e: Event = serde_json::from_str(
            r#"{"id":"x1","start":{"date":"2026-11-02"},"end":{"date":"2026-11-03"},
               "extendedProperties":{"private":{"aipa_call":"c1"}}}"#,
        )
        .unwrap();
        assert_eq!(e.start.date, NaiveDate::from_ymd_opt(2026, 11, 2));
        assert_eq!(e.private_property("aipa_call"), Some("c1"));
        let t: Event = serde_json::from_str(
            r#"{"id":"x2","start":{"dateTime":"2026-11-02T09:00:00-05:00","timeZone":"America/New_York"},"end":{"dateTime":"2026-11-02T09:30:00-05:00"}}"#,
        )
        .unwrap();
        assert!(t.start.date_time.is_some() && t.start.date.is_none());
    }
}
