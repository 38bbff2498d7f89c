//! Checks Google Calendar v3 requests (and the simulator's answers) against Google's discovery
//! document.
//!
//! The platform's calendar client is tested against [`crate::google_sim`], not Google. A
//! simulator written from memory would agree with whatever the client gets wrong, so the
//! simulator checks every request with [`validate_request`] against the document Google publishes
//! and generates its own client libraries from (`specs/google_calendar_v3.json`, vendored), and
//! its own tests check its answers with [`validate_response`]. The document is parsed once per
//! process, on first use.
//!
//! What the document says, and so what is checked:
//! - a method is found by HTTP method and path template, each `{param}` one path segment
//!   (percent-decoded); an empty segment is a missing required path parameter;
//! - query parameters are the method's `location: query` ones plus the API-wide ones (`alt`,
//!   `fields`, `key`, `prettyPrint`, `quotaUser`, ...); each is typed (`integer` with
//!   `minimum`/`maximum`, `boolean`, `enum`, `format: date-time`), only `repeated` ones may
//!   appear twice, and `required` ones must appear;
//! - a body is sent exactly when the method has a `request`, and is checked against that schema.
//!
//! How the document is read where it is not plain JSON Schema:
//! - **Objects are closed** when they list `properties` and no `additionalProperties`: Google
//!   rejects unknown fields ("Invalid JSON payload received. Unknown name"). A map such as
//!   `extendedProperties.private` is an `additionalProperties` schema and takes any key.
//! - **Required body fields are per method**: the document has no JSON Schema `required`; it
//!   annotates properties with the methods that need them (`Event.start` carries
//!   `annotations.required: [calendar.events.insert, ...]`, so `events.patch` may omit it).
//! - `null` is accepted anywhere in a body: Google reads it as "not set".
//! - A body `date-time` may be a local time without an offset: `EventDateTime` allows that when
//!   its `timeZone` names the zone (the simulator enforces the pairing). Query `date-time`s
//!   (`timeMin`, ...) need the offset: Google answers 400 without one.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::{Map, Value};

/// The vendored discovery document (`specs/` at the repository root).
pub const SPEC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../specs/google_calendar_v3.json"
);

/// How deep `$ref`s may nest before the checker gives up (guards against cycles).
const MAX_DEPTH: usize = 32;

/// A request matched to a method: its id and its path parameters, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub id: &'static str,
    pub params: Vec<(&'static str, String)>,
}

impl Route {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Checks one request below the API base (`calendars/primary/events`, leading slash optional,
/// segments percent-encoded) and returns the method's id, or every problem found, each naming
/// the offending parameter or property in backticks.
pub fn validate_request(
    method: &str,
    path: &str,
    query: &[(String, String)],
    body: Option<&Value>,
) -> Result<&'static str, Vec<String>> {
    let spec = spec();
    let segments = decode_path(path).map_err(|e| vec![e])?;
    let Some((found, params)) = spec.find(method, &segments) else {
        return Err(vec![format!(
            "no method `{} {}` in the discovery document",
            method.to_ascii_uppercase(),
            path.trim_start_matches('/')
        )]);
    };
    let mut errors = Vec::new();
    check_path_params(found, &params, &mut errors);
    spec.check_query(found, query, &mut errors);
    spec.check_request_body(found, body, &mut errors);
    if errors.is_empty() {
        Ok(&found.id)
    } else {
        Err(errors)
    }
}

/// Checks a response body against the `response` schema of the method `method_id`.
pub fn validate_response(method_id: &str, body: &Value) -> Vec<String> {
    let spec = spec();
    let Some(found) = spec.methods.iter().find(|m| m.id == method_id) else {
        return vec![format!("no method `{method_id}` in the discovery document")];
    };
    let Some(schema) = &found.response else {
        return vec![format!("`{method_id}` has no response body")];
    };
    let mut checker = BodyCheck::new(spec, None);
    checker.check(&reference(schema), body, "", 0);
    checker.errors
}

/// The method a request path names (its parameters may be empty: [`validate_request`] reports
/// those), or `None` for a path no method has.
pub fn route(method: &str, path: &str) -> Option<Route> {
    let spec = spec();
    let segments = decode_path(path).ok()?;
    let (found, params) = spec.find(method, &segments)?;
    Some(Route {
        id: &found.id,
        params,
    })
}

/// The OAuth scopes that each allow the method (any one is enough).
pub fn method_scopes(method_id: &str) -> &'static [String] {
    spec()
        .methods
        .iter()
        .find(|m| m.id == method_id)
        .map_or(&[], |m| m.scopes.as_slice())
}

/// Whether `scope` is one of the API's OAuth scopes (`auth.oauth2.scopes`).
pub fn is_scope(scope: &str) -> bool {
    spec().scopes.iter().any(|s| s == scope)
}

struct Spec {
    methods: Vec<Method>,
    /// Parameters every method takes (`alt`, `fields`, `key`, ...).
    global: Map<String, Value>,
    schemas: Map<String, Value>,
    scopes: Vec<String>,
}

struct Method {
    id: String,
    http_method: String,
    template: Vec<Segment>,
    parameters: Map<String, Value>,
    request: Option<String>,
    response: Option<String>,
    scopes: Vec<String>,
}

enum Segment {
    Literal(String),
    Param(String),
}

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = std::fs::read_to_string(SPEC_PATH)
            .unwrap_or_else(|e| panic!("read the discovery document at {SPEC_PATH}: {e}"));
        let root: Value = serde_json::from_str(&text).expect("the discovery document is JSON");
        Spec::parse(root)
    })
}

impl Spec {
    fn parse(mut root: Value) -> Spec {
        let mut methods = Vec::new();
        collect_methods(&root["resources"], &mut methods);
        let scopes = root["auth"]["oauth2"]["scopes"]
            .as_object()
            .map(|scopes| scopes.keys().cloned().collect())
            .unwrap_or_default();
        Spec {
            methods,
            global: take_object(&mut root["parameters"]),
            schemas: take_object(&mut root["schemas"]),
            scopes,
        }
    }

    /// The method for `method` and decoded `segments`; when two templates match, the one with
    /// more literal segments (`events/watch` over `events/{eventId}`).
    fn find(
        &'static self,
        method: &str,
        segments: &[String],
    ) -> Option<(&'static Method, Vec<(&'static str, String)>)> {
        self.methods
            .iter()
            .filter(|m| m.http_method.eq_ignore_ascii_case(method))
            .filter_map(|m| Some((m, m.matches(segments)?)))
            .max_by_key(|(m, _)| m.literal_count())
    }

    fn check_query(&self, method: &Method, query: &[(String, String)], errors: &mut Vec<String>) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (name, value) in query {
            let Some(param) = method
                .parameters
                .get(name)
                .filter(|p| p["location"] == "query")
                .or_else(|| self.global.get(name))
            else {
                errors.push(format!("unknown query parameter `{name}`"));
                continue;
            };
            let count = seen.entry(name).or_default();
            *count += 1;
            if *count == 2 && param["repeated"] != Value::Bool(true) {
                errors.push(format!("query parameter `{name}` given more than once"));
            }
            if let Err(problem) = check_parameter(param, value) {
                errors.push(format!("query parameter `{name}`: {problem}"));
            }
        }
        for (name, param) in &method.parameters {
            if param["location"] == "query"
                && param["required"] == Value::Bool(true)
                && !seen.contains_key(name.as_str())
            {
                errors.push(format!("missing required query parameter `{name}`"));
            }
        }
    }

    fn check_request_body(&self, method: &Method, body: Option<&Value>, errors: &mut Vec<String>) {
        match (&method.request, body) {
            (None, None) => {}
            (None, Some(_)) => errors.push(format!("`{}` takes no request body", method.id)),
            (Some(schema), None) => {
                errors.push(format!("`{}` needs a `{schema}` request body", method.id))
            }
            (Some(schema), Some(body)) => {
                let mut checker = BodyCheck::new(self, Some(&method.id));
                checker.check(&reference(schema), body, "", 0);
                errors.append(&mut checker.errors);
            }
        }
    }
}

fn collect_methods(resources: &Value, out: &mut Vec<Method>) {
    let Some(resources) = resources.as_object() else {
        return;
    };
    for resource in resources.values() {
        for method in resource["methods"]
            .as_object()
            .into_iter()
            .flat_map(Map::values)
        {
            out.push(Method::parse(method));
        }
        collect_methods(&resource["resources"], out);
    }
}

fn take_object(value: &mut Value) -> Map<String, Value> {
    match value.take() {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn reference(schema_name: &str) -> Value {
    serde_json::json!({ "$ref": schema_name })
}

impl Method {
    fn parse(method: &Value) -> Method {
        let text = |key: &str| method[key].as_str().unwrap_or_default().to_string();
        let schema_ref = |key: &str| method[key]["$ref"].as_str().map(str::to_string);
        let template = text("path")
            .split('/')
            .map(
                |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => Segment::Param(name.to_string()),
                    None => Segment::Literal(segment.to_string()),
                },
            )
            .collect();
        Method {
            id: text("id"),
            http_method: text("httpMethod"),
            template,
            parameters: method["parameters"]
                .as_object()
                .cloned()
                .unwrap_or_default(),
            request: schema_ref("request"),
            response: schema_ref("response"),
            scopes: method["scopes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect(),
        }
    }

    /// The path parameters when `segments` fit the template.
    fn matches(&'static self, segments: &[String]) -> Option<Vec<(&'static str, String)>> {
        if segments.len() != self.template.len() {
            return None;
        }
        let mut params = Vec::new();
        for (part, segment) in self.template.iter().zip(segments) {
            match part {
                Segment::Literal(literal) if literal == segment => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => params.push((name.as_str(), segment.clone())),
            }
        }
        Some(params)
    }

    fn literal_count(&self) -> usize {
        self.template
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count()
    }
}

fn check_path_params(method: &Method, params: &[(&str, String)], errors: &mut Vec<String>) {
    for (name, value) in params {
        if value.is_empty() {
            errors.push(format!("missing required path parameter `{name}`"));
        } else if let Err(problem) =
            check_parameter(method.parameters.get(*name).unwrap_or(&Value::Null), value)
        {
            errors.push(format!("path parameter `{name}`: {problem}"));
        }
    }
}

/// Splits a path into segments and percent-decodes each (after splitting, so an encoded `/`
/// stays inside its segment).
fn decode_path(path: &str) -> Result<Vec<String>, String> {
    path.trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect()
}

/// Decodes `%XX` escapes (a path segment, or a whole path for display and matching).
pub fn percent_decode(segment: &str) -> Result<String, String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let byte = bytes
                .get(i + 1..i + 3)
                .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
                .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok())
                .ok_or_else(|| format!("malformed percent-encoding in path segment `{segment}`"))?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("path segment `{segment}` is not UTF-8"))
}

/// One query or path value against its parameter's `type`, bounds, `enum` and `format`.
fn check_parameter(param: &Value, value: &str) -> Result<(), String> {
    match param["type"].as_str().unwrap_or_default() {
        "integer" => {
            let n: i64 = value
                .parse()
                .map_err(|_| format!("`{value}` is not an integer"))?;
            check_integer(param, n).map_err(|problem| format!("`{value}` {problem}"))
        }
        "boolean" if value != "true" && value != "false" => {
            Err(format!("`{value}` is not `true` or `false`"))
        }
        "string" => {
            check_enum(param, value)?;
            match param["format"].as_str() {
                Some(format) => check_format(format, value, true),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// `format: int32` range and the `minimum`/`maximum` bounds (strings in discovery documents).
fn check_integer(schema: &Value, n: i64) -> Result<(), String> {
    if schema["format"] == "int32" && i32::try_from(n).is_err() {
        return Err("is out of the int32 range".into());
    }
    let bound = |key: &str| schema[key].as_str().and_then(|b| b.parse::<i64>().ok());
    if let Some(min) = bound("minimum").filter(|min| n < *min) {
        return Err(format!("is below the minimum `{min}`"));
    }
    if let Some(max) = bound("maximum").filter(|max| n > *max) {
        return Err(format!("is above the maximum `{max}`"));
    }
    Ok(())
}

fn check_enum(schema: &Value, value: &str) -> Result<(), String> {
    let Some(allowed) = schema["enum"].as_array() else {
        return Ok(());
    };
    if allowed.iter().any(|a| a == value) {
        return Ok(());
    }
    let names: Vec<String> = allowed
        .iter()
        .filter_map(Value::as_str)
        .map(|a| format!("`{a}`"))
        .collect();
    Err(format!("`{value}` is not one of {}", names.join(", ")))
}

/// A string `format`: `date-time` (RFC 3339; the offset optional when `offset_required` is
/// false, see the module docs), `date` (`YYYY-MM-DD`), `int64` (a decimal in a string).
fn check_format(format: &str, value: &str, offset_required: bool) -> Result<(), String> {
    let ok = match format {
        "date-time" => is_date_time(value, offset_required),
        "date" => value.len() == 10 && NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok(),
        "int64" => value.parse::<i64>().is_ok(),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        let expected = match format {
            "date-time" if offset_required => "an RFC 3339 date-time with an offset",
            "date-time" => "an RFC 3339 date-time",
            "date" => "a `YYYY-MM-DD` date",
            _ => "a 64-bit integer",
        };
        Err(format!("`{value}` is not {expected}"))
    }
}

fn is_date_time(value: &str, offset_required: bool) -> bool {
    let separated = matches!(value.as_bytes().get(10), Some(b'T' | b't'));
    separated
        && (DateTime::parse_from_rfc3339(value).is_ok()
            || (!offset_required
                && NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f").is_ok()))
}

/// Checks a JSON body against a schema, collecting one line per problem.
struct BodyCheck<'s> {
    spec: &'s Spec,
    /// The method the body is sent to (requests only): whose `annotations.required` apply.
    method_id: Option<&'s str>,
    errors: Vec<String>,
}

impl<'s> BodyCheck<'s> {
    fn new(spec: &'s Spec, method_id: Option<&'s str>) -> Self {
        BodyCheck {
            spec,
            method_id,
            errors: Vec::new(),
        }
    }

    fn check(&mut self, schema: &Value, value: &Value, path: &str, depth: usize) {
        if value.is_null() {
            return;
        }
        if depth > MAX_DEPTH {
            self.errors
                .push(format!("`{}`: schema nesting too deep", shown(path)));
            return;
        }
        if let Some(name) = schema["$ref"].as_str() {
            match self.spec.schemas.get(name) {
                Some(target) => self.check(target, value, path, depth + 1),
                None => self
                    .errors
                    .push(format!("`{}`: unknown schema `{name}`", shown(path))),
            }
            return;
        }
        let kind = schema["type"].as_str().unwrap_or("any");
        if !type_matches(kind, value) {
            self.errors.push(format!(
                "`{}`: expected {kind}, found {}",
                shown(path),
                json_type(value)
            ));
            return;
        }
        match value {
            Value::String(text) => self.check_string(schema, text, path),
            Value::Number(number) => self.check_number(schema, number, path),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.check(&schema["items"], item, &format!("{path}[{i}]"), depth + 1);
                }
            }
            Value::Object(object) => self.check_object(schema, object, path, depth),
            Value::Bool(_) | Value::Null => {}
        }
    }

    fn check_string(&mut self, schema: &Value, text: &str, path: &str) {
        let format = schema["format"].as_str();
        let result = check_enum(schema, text)
            .and_then(|()| format.map_or(Ok(()), |f| check_format(f, text, false)));
        if let Err(problem) = result {
            self.errors.push(format!("`{}`: {problem}", shown(path)));
        }
    }

    fn check_number(&mut self, schema: &Value, number: &serde_json::Number, path: &str) {
        if schema["type"] != "integer" {
            return;
        }
        let problem = match number.as_i64() {
            Some(n) => check_integer(schema, n).err(),
            None => Some("is out of range".into()),
        };
        if let Some(problem) = problem {
            self.errors
                .push(format!("`{}`: `{number}` {problem}", shown(path)));
        }
    }

    fn check_object(
        &mut self,
        schema: &Value,
        object: &Map<String, Value>,
        path: &str,
        depth: usize,
    ) {
        let properties = schema["properties"].as_object();
        let additional = schema.get("additionalProperties");
        for (key, value) in object {
            let child = join(path, key);
            match (properties.and_then(|p| p.get(key)), additional) {
                (Some(property), _) | (None, Some(property)) => {
                    self.check(property, value, &child, depth + 1)
                }
                (None, None) if properties.is_some() => {
                    self.errors.push(format!("unknown property `{child}`"))
                }
                (None, None) => {}
            }
        }
        let Some(method_id) = self.method_id else {
            return;
        };
        for (key, property) in properties.into_iter().flatten() {
            let required = property["annotations"]["required"]
                .as_array()
                .is_some_and(|methods| methods.iter().any(|m| m == method_id));
            if required && object.get(key).is_none_or(Value::is_null) {
                self.errors.push(format!(
                    "missing required property `{}` (required by `{method_id}`)",
                    join(path, key)
                ));
            }
        }
    }
}

fn type_matches(kind: &str, value: &Value) -> bool {
    match kind {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn shown(path: &str) -> &str {
    if path.is_empty() { "body" } else { path }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The problems of a request that must be refused (panics if it is accepted).
    fn problems(
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Vec<String> {
        match validate_request(method, path, &pairs(query), body.as_ref()) {
            Ok(id) => panic!("{method} {path} was accepted as {id}"),
            Err(problems) => problems,
        }
    }

    fn assert_mentions(problems: &[String], needle: &str) {
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "no problem mentions {needle}: {problems:?}"
        );
    }

    fn booking() -> Value {
        json!({
            "id": "call0a1b2c3d4e5f6g7h8i9j",
            "summary": "Dentist appointment",
            "description": "Booked by phone",
            "start": {"dateTime": "2026-11-02T09:00:00-05:00", "timeZone": "America/New_York"},
            "end": {"dateTime": "2026-11-02T09:30:00", "timeZone": "America/New_York"},
            "attendees": [{"email": "caller@example.com", "displayName": "Caller"}],
            "reminders": {"useDefault": false, "overrides": [{"method": "popup", "minutes": 10}]},
            "extendedProperties": {"private": {"tenant": "t-1", "call_id": "c-42"}},
            "transparency": "opaque",
        })
    }

    #[test]
    fn accepts_a_realistic_events_list() {
        let query = pairs(&[
            ("timeMin", "2026-11-02T00:00:00Z"),
            ("timeMax", "2026-11-03T00:00:00+01:00"),
            ("singleEvents", "true"),
            ("orderBy", "startTime"),
            ("maxResults", "50"),
            ("privateExtendedProperty", "tenant=t-1"),
            ("privateExtendedProperty", "call_id=c-42"),
            ("timeZone", "America/New_York"),
            ("fields", "items(id,start,end),nextPageToken"),
        ]);
        let id = validate_request("GET", "/calendars/owner%40sim.test/events", &query, None);
        assert_eq!(id, Ok("calendar.events.list"));
        let found = route("GET", "calendars/owner%40sim.test/events").expect("routed");
        assert_eq!(found.param("calendarId"), Some("owner@sim.test"));
    }

    #[test]
    fn accepts_a_realistic_events_insert() {
        let query = pairs(&[("sendUpdates", "none")]);
        let id = validate_request("POST", "calendars/primary/events", &query, Some(&booking()));
        assert_eq!(id, Ok("calendar.events.insert"));
    }

    #[test]
    fn accepts_events_delete_get_freebusy_and_calendar_list() {
        let delete = validate_request(
            "DELETE",
            "calendars/primary/events/call0a1b2c3d",
            &pairs(&[("sendUpdates", "none")]),
            None,
        );
        assert_eq!(delete, Ok("calendar.events.delete"));
        let get = validate_request("GET", "calendars/primary/events/call0a1b2c3d", &[], None);
        assert_eq!(get, Ok("calendar.events.get"));
        let free_busy = json!({
            "timeMin": "2026-11-02T00:00:00Z",
            "timeMax": "2026-11-09T00:00:00Z",
            "timeZone": "UTC",
            "items": [{"id": "primary"}, {"id": "team@sim.test"}],
        });
        let query = validate_request("POST", "freeBusy", &[], Some(&free_busy));
        assert_eq!(query, Ok("calendar.freebusy.query"));
        let list = validate_request(
            "GET",
            "users/me/calendarList",
            &pairs(&[("minAccessRole", "writer"), ("maxResults", "10")]),
            None,
        );
        assert_eq!(list, Ok("calendar.calendarList.list"));
    }

    #[test]
    fn refuses_an_unknown_query_parameter() {
        let found = problems(
            "GET",
            "calendars/primary/events",
            &[("startTime", "x")],
            None,
        );
        assert_mentions(&found, "unknown query parameter `startTime`");
    }

    #[test]
    fn refuses_a_repeated_parameter_that_is_not_repeated() {
        let query = [("maxResults", "5"), ("maxResults", "6")];
        let found = problems("GET", "calendars/primary/events", &query, None);
        assert_mentions(&found, "`maxResults` given more than once");
    }

    #[test]
    fn refuses_bad_integers() {
        let found = problems(
            "GET",
            "calendars/primary/events",
            &[("maxResults", "ten")],
            None,
        );
        assert_mentions(&found, "`ten` is not an integer");
        let found = problems(
            "GET",
            "calendars/primary/events",
            &[("maxResults", "0")],
            None,
        );
        assert_mentions(&found, "below the minimum `1`");
        let found = problems(
            "POST",
            "calendars/primary/events",
            &[("conferenceDataVersion", "2")],
            Some(booking()),
        );
        assert_mentions(&found, "above the maximum `1`");
    }

    #[test]
    fn refuses_a_bad_boolean_and_a_bad_enum() {
        let query = [("singleEvents", "yes"), ("orderBy", "start")];
        let found = problems("GET", "calendars/primary/events", &query, None);
        assert_mentions(&found, "`yes` is not `true` or `false`");
        assert_mentions(&found, "`start` is not one of `startTime`, `updated`");
    }

    #[test]
    fn refuses_query_date_times_without_an_offset() {
        for bad in ["2026-11-02", "2026-11-02T00:00:00", "2026-11-02 00:00:00Z"] {
            let found = problems("GET", "calendars/primary/events", &[("timeMin", bad)], None);
            assert_mentions(&found, "query parameter `timeMin`");
        }
    }

    #[test]
    fn refuses_unknown_body_properties() {
        let mut event = booking();
        event["startTime"] = json!("2026-11-02T09:00:00Z");
        event["start"]["tz"] = json!("UTC");
        let found = problems("POST", "calendars/primary/events", &[], Some(event));
        assert_mentions(&found, "unknown property `startTime`");
        assert_mentions(&found, "unknown property `start.tz`");
    }

    #[test]
    fn refuses_wrong_body_types_and_formats() {
        let mut event = booking();
        event["summary"] = json!(5);
        event["attendees"] = json!({"email": "a@b.c"});
        event["reminders"]["overrides"][0]["minutes"] = json!("10");
        event["extendedProperties"]["private"]["n"] = json!(1);
        event["end"] = json!({"date": "2026-11-31"});
        let found = problems("POST", "calendars/primary/events", &[], Some(event));
        assert_mentions(&found, "`summary`: expected string, found integer");
        assert_mentions(&found, "`attendees`: expected array, found object");
        assert_mentions(&found, "`reminders.overrides[0].minutes`: expected integer");
        assert_mentions(&found, "`extendedProperties.private.n`: expected string");
        assert_mentions(
            &found,
            "`end.date`: `2026-11-31` is not a `YYYY-MM-DD` date",
        );
        let bad_time = json!({"timeMin": "tomorrow", "timeMax": "2026-11-09T00:00:00Z"});
        let found = problems("POST", "freeBusy", &[], Some(bad_time));
        assert_mentions(&found, "`timeMin`: `tomorrow` is not an RFC 3339 date-time");
    }

    #[test]
    fn refuses_a_missing_path_parameter_and_an_unknown_path() {
        let found = problems("GET", "calendars//events", &[], None);
        assert_mentions(&found, "missing required path parameter `calendarId`");
        let found = problems("GET", "calendars/primary/appointments", &[], None);
        assert_mentions(&found, "no method `GET calendars/primary/appointments`");
        let found = problems("PUT", "freeBusy", &[], None);
        assert_mentions(&found, "no method `PUT freeBusy`");
    }

    #[test]
    fn refuses_missing_required_query_parameters() {
        let found = problems("POST", "calendars/primary/events/quickAdd", &[], None);
        assert_mentions(&found, "missing required query parameter `text`");
    }

    #[test]
    fn bodies_go_exactly_where_the_method_has_a_request() {
        let found = problems("POST", "calendars/primary/events", &[], None);
        assert_mentions(
            &found,
            "`calendar.events.insert` needs a `Event` request body",
        );
        let found = problems(
            "DELETE",
            "calendars/primary/events/abcde",
            &[],
            Some(json!({})),
        );
        assert_mentions(&found, "`calendar.events.delete` takes no request body");
    }

    #[test]
    fn start_and_end_are_required_by_insert_but_not_by_patch() {
        let event = json!({"summary": "No times"});
        let found = problems("POST", "calendars/primary/events", &[], Some(event.clone()));
        assert_mentions(&found, "missing required property `start`");
        assert_mentions(&found, "missing required property `end`");
        let patch = validate_request("PATCH", "calendars/primary/events/abcde", &[], Some(&event));
        assert_eq!(patch, Ok("calendar.events.patch"));
    }

    #[test]
    fn literal_segments_win_over_parameters() {
        let watch = route("POST", "calendars/primary/events/watch").expect("routed");
        assert_eq!(watch.id, "calendar.events.watch");
        let get = route("GET", "calendars/primary/events/watch").expect("routed");
        assert_eq!(get.id, "calendar.events.get");
        assert_eq!(get.param("eventId"), Some("watch"));
    }

    #[test]
    fn checks_responses() {
        let events = json!({
            "kind": "calendar#events",
            "items": [{"id": "abcde", "start": {"date": "2026-11-01"}, "end": {"date": "2026-11-02"}}],
        });
        assert_eq!(
            validate_response("calendar.events.list", &events),
            Vec::<String>::new()
        );
        let wrong = json!({"kind": "calendar#events", "items": [{"start": "2026-11-01"}]});
        let found = validate_response("calendar.events.list", &wrong);
        assert_mentions(&found, "`items[0].start`: expected object, found string");
        assert_mentions(
            &validate_response("calendar.events.delete", &json!({})),
            "`calendar.events.delete` has no response body",
        );
    }

    #[test]
    fn knows_scopes() {
        assert!(is_scope("https://www.googleapis.com/auth/calendar.events"));
        assert!(!is_scope("https://www.googleapis.com/auth/gmail.readonly"));
        let insert = method_scopes("calendar.events.insert");
        assert!(insert.iter().any(|s| s.ends_with("/calendar.events.owned")));
        assert!(!insert.iter().any(|s| s.ends_with("readonly")));
    }
}
