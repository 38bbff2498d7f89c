//! Contract tests: every request the Twilio REST client builds is checked against Twilio's
//! published OpenAPI 3.0.1 document for API 2010-04-01 (`shared/specs/twilio_api_v2010.json`,
//! beside the repository root), without a network.
//!
//! A hand-written fake of Twilio would share the client's misunderstandings of the wire format;
//! the published spec does not. The small validator below checks what the spec can tell us:
//!
//! 1. the path matches one of the spec's path templates (`{X}` = one non-empty segment);
//! 2. the template declares an operation for the HTTP method;
//! 3. query parameters are declared `in: query`, and their values satisfy the schema
//!    (`enum`, `integer`, `boolean`);
//! 4. form parameters are properties of the `application/x-www-form-urlencoded` request body,
//!    repeated only when the property is an `array`, values satisfy the schema, and every
//!    `required` property is present;
//! 5. path parameters (`{AccountSid}`, `{Sid}`, ...) satisfy their declared `pattern`.
//!
//! The negative tests prove the validator actually catches the mistakes it is meant to catch,
//! so a green run means something. The spec is the authority: when a builder disagrees with it,
//! the client is what gets fixed.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use reqwest::Method;
use serde_json::Value;
use shared::twilio::client::{Client, NewCall, Request};

// ---------------------------------------------------------------------------------------------
// The spec
// ---------------------------------------------------------------------------------------------

/// Twilio's OpenAPI document, kept outside the repository (in `shared/` beside its root).
const SPEC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/specs/twilio_api_v2010.json"
);

/// The parsed spec; 1.8 MB, so it is read and parsed once for all tests.
fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = std::fs::read_to_string(SPEC_PATH)
            .unwrap_or_else(|e| panic!("cannot read the Twilio spec at {SPEC_PATH}: {e}"));
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("the Twilio spec at {SPEC_PATH} is not JSON: {e}"))
    })
}

// ---------------------------------------------------------------------------------------------
// The validator
// ---------------------------------------------------------------------------------------------

/// Checks `req` against the OpenAPI `spec`; on failure returns every problem found, each naming
/// the offending path, operation or parameter.
fn validate(spec: &Value, req: &Request) -> Result<(), Vec<String>> {
    let matched = match match_path(spec, &req.path) {
        Ok(matched) => matched,
        Err(problem) => return Err(vec![problem]),
    };
    let method = req.method.as_str().to_ascii_lowercase();
    let Some(operation) = matched.item.get(&method) else {
        return Err(vec![format!(
            "path `{}` declares no `{}` operation",
            matched.template, req.method
        )]);
    };
    let parameters = declared_parameters(spec, matched.item, operation);

    let mut problems = Vec::new();
    check_path_parameters(spec, &parameters, &matched.values, &mut problems);
    check_query(spec, &parameters, &req.query, &mut problems);
    check_form(spec, operation, &req.form, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// A spec path template that matched a concrete path.
struct MatchedPath<'a> {
    template: &'a str,
    item: &'a Value,
    /// `(name, value)` of each `{name}` placeholder, in path order.
    values: Vec<(String, String)>,
}

/// Finds the spec path template matching `path`. When several match (a literal segment such as
/// `Local.json` versus a placeholder `{Sid}.json`), the one with fewest placeholders wins.
fn match_path<'a>(spec: &'a Value, path: &str) -> Result<MatchedPath<'a>, String> {
    let paths = spec["paths"]
        .as_object()
        .ok_or("the spec has no `paths` object")?;
    let mut candidates: Vec<MatchedPath<'a>> = paths
        .iter()
        .filter_map(|(template, item)| {
            match_template(template, path).map(|values| MatchedPath {
                template,
                item,
                values,
            })
        })
        .collect();
    candidates.sort_by_key(|m| m.values.len());
    match candidates.as_slice() {
        [] => Err(format!("no spec path matches `{path}`")),
        [best, next, ..] if best.values.len() == next.values.len() => Err(format!(
            "path `{path}` is ambiguous: matches `{}` and `{}`",
            best.template, next.template
        )),
        _ => Ok(candidates.swap_remove(0)),
    }
}

/// Matches `path` against one template such as `/2010-04-01/Accounts/{AccountSid}/Calls.json`,
/// returning the placeholder values. A template segment is literal text with at most one
/// `{name}`, which stands for a non-empty run of characters; text around it must match exactly.
fn match_template(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let template_segments: Vec<&str> = template.split('/').collect();
    let path_segments: Vec<&str> = path.split('/').collect();
    if template_segments.len() != path_segments.len() {
        return None;
    }
    let mut values = Vec::new();
    for (pattern, actual) in template_segments.iter().zip(&path_segments) {
        match split_placeholder(pattern) {
            None if pattern == actual => {}
            None => return None,
            Some((prefix, name, suffix)) => {
                let middle = actual.strip_prefix(prefix)?.strip_suffix(suffix)?;
                if middle.is_empty() {
                    return None;
                }
                values.push((name.to_string(), middle.to_string()));
            }
        }
    }
    Some(values)
}

/// Splits `pre{Name}post` into `("pre", "Name", "post")`; `None` for a literal segment.
fn split_placeholder(segment: &str) -> Option<(&str, &str, &str)> {
    let open = segment.find('{')?;
    let close = open + segment[open..].find('}')?;
    Some((
        &segment[..open],
        &segment[open + 1..close],
        &segment[close + 1..],
    ))
}

/// Follows `$ref`s (`#/components/...`) until reaching a value that is not a reference.
fn resolve<'a>(spec: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return value;
        };
        value = reference
            .strip_prefix('#')
            .and_then(|pointer| spec.pointer(pointer))
            .unwrap_or_else(|| panic!("unresolvable $ref `{reference}` in the spec"));
    }
    panic!("$ref chain too long (cyclic?) in the spec");
}

/// One declared parameter, `$ref` resolved.
struct Parameter<'a> {
    name: &'a str,
    location: &'a str,
    required: bool,
    schema: &'a Value,
}

/// Parameters of an operation: those of the path item, overridden by the operation's own
/// (same name and location), all `$ref`s resolved.
fn declared_parameters<'a>(
    spec: &'a Value,
    item: &'a Value,
    operation: &'a Value,
) -> Vec<Parameter<'a>> {
    let mut by_key: BTreeMap<(&str, &str), Parameter<'a>> = BTreeMap::new();
    let lists = [&item["parameters"], &operation["parameters"]];
    for raw in lists.into_iter().filter_map(Value::as_array).flatten() {
        let parameter = resolve(spec, raw);
        let name = parameter["name"].as_str().unwrap_or_default();
        let location = parameter["in"].as_str().unwrap_or_default();
        by_key.insert(
            (name, location),
            Parameter {
                name,
                location,
                required: parameter["required"].as_bool().unwrap_or(false),
                schema: resolve(spec, &parameter["schema"]),
            },
        );
    }
    by_key.into_values().collect()
}

/// Path placeholders must be declared `in: path` and satisfy their schema and `pattern`.
fn check_path_parameters(
    spec: &Value,
    parameters: &[Parameter],
    values: &[(String, String)],
    problems: &mut Vec<String>,
) {
    for (name, value) in values {
        let Some(parameter) = parameters
            .iter()
            .find(|p| p.location == "path" && p.name == name)
        else {
            problems.push(format!("path parameter `{name}` is not declared"));
            continue;
        };
        if let Err(why) = check_value(spec, parameter.schema, value) {
            problems.push(format!("path parameter `{name}` = `{value}`: {why}"));
        }
        if let Some(pattern) = parameter.schema["pattern"].as_str() {
            match pattern_matches(pattern, value) {
                Ok(true) => {}
                Ok(false) => problems.push(format!(
                    "path parameter `{name}` = `{value}` does not match pattern `{pattern}`"
                )),
                Err(why) => problems.push(format!("path parameter `{name}`: {why}")),
            }
        }
    }
}

/// Query parameters must be declared `in: query`, appear once unless the schema is an array,
/// satisfy their schema; required ones must be present.
fn check_query(
    spec: &Value,
    parameters: &[Parameter],
    query: &[(String, String)],
    problems: &mut Vec<String>,
) {
    let sent = group_by_name(query);
    for (name, values) in &sent {
        let Some(parameter) = parameters
            .iter()
            .find(|p| p.location == "query" && p.name == *name)
        else {
            problems.push(format!("query parameter `{name}` is not declared"));
            continue;
        };
        check_values(spec, "query", name, parameter.schema, values, problems);
    }
    for parameter in parameters {
        if parameter.location == "query" && parameter.required && !sent.contains_key(parameter.name)
        {
            problems.push(format!(
                "required query parameter `{}` is missing",
                parameter.name
            ));
        }
    }
}

/// Form parameters must be properties of the form-encoded request body schema, appear once
/// unless the property is an array, satisfy the property schema; required ones must be present.
fn check_form(
    spec: &Value,
    operation: &Value,
    form: &[(String, String)],
    problems: &mut Vec<String>,
) {
    let body = resolve(spec, &operation["requestBody"]);
    let Some(schema) = body
        .pointer("/content/application~1x-www-form-urlencoded/schema")
        .map(|schema| resolve(spec, schema))
    else {
        if let Some((name, _)) = form.first() {
            problems.push(format!(
                "form parameter `{name}` sent, but the operation takes no form-encoded body"
            ));
        }
        return;
    };
    let title = schema["title"].as_str().unwrap_or("the request body");
    let sent = group_by_name(form);
    for (name, values) in &sent {
        let Some(property) = schema["properties"].get(*name) else {
            problems.push(format!(
                "form parameter `{name}` is not a property of {title}"
            ));
            continue;
        };
        check_values(
            spec,
            "form",
            name,
            resolve(spec, property),
            values,
            problems,
        );
    }
    for required in schema["required"].as_array().into_iter().flatten() {
        let required = required.as_str().unwrap_or_default();
        if !sent.contains_key(required) {
            problems.push(format!(
                "required form parameter `{required}` of {title} is missing"
            ));
        }
    }
}

/// Values sent under one name: repeats only for arrays, each value checked against the
/// schema (or, for arrays, against `items`).
fn check_values(
    spec: &Value,
    location: &str,
    name: &str,
    schema: &Value,
    values: &[&str],
    problems: &mut Vec<String>,
) {
    let is_array = schema["type"] == "array";
    if values.len() > 1 && !is_array {
        problems.push(format!(
            "{location} parameter `{name}` is repeated ({} times) but is not an array",
            values.len()
        ));
    }
    let element = if is_array {
        resolve(spec, &schema["items"])
    } else {
        schema
    };
    for value in values {
        if let Err(why) = check_value(spec, element, value) {
            problems.push(format!("{location} parameter `{name}` = `{value}`: {why}"));
        }
    }
}

/// Checks one textual value against a scalar schema: `enum`, `integer`, `number`, `boolean`.
fn check_value(spec: &Value, schema: &Value, value: &str) -> Result<(), String> {
    let schema = resolve(spec, schema);
    if let Some(allowed) = schema["enum"].as_array() {
        let allowed: Vec<String> = allowed.iter().map(enum_text).collect();
        if !allowed.iter().any(|a| a == value) {
            return Err(format!("not one of {allowed:?}"));
        }
    }
    match schema["type"].as_str() {
        Some("integer") if value.parse::<i64>().is_err() => Err("not an integer".into()),
        Some("number") if value.parse::<f64>().is_err() => Err("not a number".into()),
        Some("boolean") if value != "true" && value != "false" => {
            Err("not a boolean (`true` or `false`)".into())
        }
        _ => Ok(()),
    }
}

/// How an `enum` member looks on the wire: strings bare, anything else as JSON text.
fn enum_text(member: &Value) -> String {
    member
        .as_str()
        .map_or_else(|| member.to_string(), str::to_string)
}

/// Groups `(name, value)` pairs by name, keeping each name's values in order.
fn group_by_name(pairs: &[(String, String)]) -> BTreeMap<&str, Vec<&str>> {
    let mut grouped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, value) in pairs {
        grouped.entry(name).or_default().push(value);
    }
    grouped
}

// ---------------------------------------------------------------------------------------------
// A minimal matcher for the spec's `pattern`s
// ---------------------------------------------------------------------------------------------

/// One element of a pattern: a set of accepted characters, repeated `min..=max` times.
struct Atom {
    accepts: CharSet,
    min: usize,
    max: usize,
}

enum CharSet {
    Any,
    Literal(char),
    /// Inclusive ranges; a single character is a range of one.
    Ranges(Vec<(char, char)>),
}

impl CharSet {
    fn contains(&self, c: char) -> bool {
        match self {
            CharSet::Any => true,
            CharSet::Literal(l) => *l == c,
            CharSet::Ranges(ranges) => ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&c)),
        }
    }
}

/// Whether `text` matches the ECMA-style `pattern` (unanchored unless `^`/`$` are used).
///
/// Supports the subset Twilio's path parameters use (e.g. `^AC[0-9a-fA-F]{32}$`): literals,
/// `\`-escapes, `.`, `[...]` classes with ranges, and the quantifiers `{n}`, `{n,}`, `{n,m}`,
/// `?`, `*`, `+`. Anything else (groups, alternation) is reported as unsupported rather than
/// silently treated as a match.
fn pattern_matches(pattern: &str, text: &str) -> Result<bool, String> {
    let body = pattern.strip_prefix('^');
    let anchored_start = body.is_some();
    let body = body.unwrap_or(pattern);
    let (body, anchored_end) = match body.strip_suffix('$') {
        Some(body) if !body.ends_with('\\') => (body, true),
        _ => (body, false),
    };
    let atoms = parse_pattern(body).map_err(|why| format!("pattern `{pattern}`: {why}"))?;
    let text: Vec<char> = text.chars().collect();
    let starts = if anchored_start {
        0..=0
    } else {
        0..=text.len()
    };
    Ok(starts
        .into_iter()
        .any(|start| atoms_match(&atoms, &text[start..], anchored_end)))
}

fn parse_pattern(body: &str) -> Result<Vec<Atom>, String> {
    let mut chars = body.chars().peekable();
    let mut atoms = Vec::new();
    while let Some(c) = chars.next() {
        let accepts = match c {
            '.' => CharSet::Any,
            '\\' => escaped(chars.next().ok_or("trailing `\\`")?)?,
            '[' => {
                let mut ranges = Vec::new();
                loop {
                    let lo = match chars.next().ok_or("unclosed `[`")? {
                        ']' => break,
                        '^' if ranges.is_empty() => {
                            return Err("negated classes unsupported".into());
                        }
                        '\\' => chars.next().ok_or("trailing `\\`")?,
                        lo => lo,
                    };
                    if chars.peek() == Some(&'-') {
                        chars.next();
                        match chars.next().ok_or("unclosed `[`")? {
                            ']' => {
                                ranges.extend([(lo, lo), ('-', '-')]);
                                break;
                            }
                            hi => ranges.push((lo, hi)),
                        }
                    } else {
                        ranges.push((lo, lo));
                    }
                }
                CharSet::Ranges(ranges)
            }
            '(' | ')' | '|' | '^' | '$' | '{' | '}' | '?' | '*' | '+' => {
                return Err(format!("unsupported syntax `{c}`"));
            }
            literal => CharSet::Literal(literal),
        };
        let (min, max) = quantifier(&mut chars)?;
        atoms.push(Atom { accepts, min, max });
    }
    Ok(atoms)
}

fn escaped(c: char) -> Result<CharSet, String> {
    match c {
        'd' => Ok(CharSet::Ranges(vec![('0', '9')])),
        'w' => Ok(CharSet::Ranges(vec![
            ('a', 'z'),
            ('A', 'Z'),
            ('0', '9'),
            ('_', '_'),
        ])),
        c if c.is_ascii_alphanumeric() => Err(format!("unsupported escape `\\{c}`")),
        c => Ok(CharSet::Literal(c)),
    }
}

/// Reads an optional quantifier after an atom; `(1, 1)` when there is none.
fn quantifier(chars: &mut std::iter::Peekable<std::str::Chars>) -> Result<(usize, usize), String> {
    let bounds = match chars.peek() {
        Some('?') => (0, 1),
        Some('*') => (0, usize::MAX),
        Some('+') => (1, usize::MAX),
        Some('{') => {
            chars.next();
            let inner: String = chars.by_ref().take_while(|&c| c != '}').collect();
            let number = |s: &str| {
                s.trim()
                    .parse::<usize>()
                    .map_err(|_| format!("bad quantifier `{{{inner}}}`"))
            };
            return match inner.split_once(',') {
                None => number(&inner).map(|n| (n, n)),
                Some((lo, "")) => number(lo).map(|n| (n, usize::MAX)),
                Some((lo, hi)) => Ok((number(lo)?, number(hi)?)),
            };
        }
        _ => return Ok((1, 1)),
    };
    chars.next();
    Ok(bounds)
}

/// Backtracking match of `atoms` at the start of `text`; with `to_end`, all of `text`.
fn atoms_match(atoms: &[Atom], text: &[char], to_end: bool) -> bool {
    let Some((atom, rest)) = atoms.split_first() else {
        return !to_end || text.is_empty();
    };
    let available = text
        .iter()
        .take_while(|&&c| atom.accepts.contains(c))
        .count();
    let most = available.min(atom.max);
    (atom.min..=most)
        .rev()
        .any(|taken| atoms_match(rest, &text[taken..], to_end))
}

// ---------------------------------------------------------------------------------------------
// Fixtures and assertions
// ---------------------------------------------------------------------------------------------

const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
const NUMBER_SID: &str = "PN89abcdef0123456789abcdef01234567";
const CALL_SID: &str = "CAfedcba9876543210fedcba9876543210";

fn client() -> Client {
    Client::new(
        "https://api.twilio.com",
        ACCOUNT_SID,
        "token",
        std::time::Duration::from_secs(5),
    )
}

fn new_call(recording_status_callback: Option<&str>) -> NewCall {
    NewCall {
        to: "+14155550123".into(),
        from: "+14155550100".into(),
        twiml: r#"<Response><Connect><Stream url="wss://bridge.example.com/media"/></Connect></Response>"#
            .into(),
        status_callback: "https://hooks.example.com/twilio/call-status".into(),
        recording_status_callback: recording_status_callback.map(str::to_string),
        time_limit: 600,
        timeout: 30,
    }
}

/// A create-call request with recording on, the richest request the client builds.
fn recorded_call_request() -> Request {
    client().create_call_request(&new_call(Some(
        "https://hooks.example.com/twilio/recording-status",
    )))
}

fn assert_valid(req: &Request) {
    if let Err(problems) = validate(spec(), req) {
        panic!(
            "{} {} breaks Twilio's spec:\n  - {}\nrequest: {req:#?}",
            req.method,
            req.path,
            problems.join("\n  - ")
        );
    }
}

/// Asserts the validator rejects `req` with a problem naming `name` (in backticks), and
/// returns all problems for further checks.
fn assert_rejected_naming(req: &Request, name: &str) -> Vec<String> {
    let problems = match validate(spec(), req) {
        Ok(()) => panic!("expected the spec to reject {req:#?}"),
        Err(problems) => problems,
    };
    let quoted = format!("`{name}`");
    assert!(
        problems.iter().any(|p| p.contains(&quoted)),
        "no problem names {quoted}: {problems:#?}"
    );
    problems
}

fn rename_form_key(mut req: Request, from: &str, to: &str) -> Request {
    for (name, _) in req.form.iter_mut().filter(|(name, _)| name == from) {
        *name = to.to_string();
    }
    req
}

fn remove_form_key(mut req: Request, key: &str) -> Request {
    req.form.retain(|(name, _)| name != key);
    req
}

fn set_form_value(mut req: Request, key: &str, value: &str) -> Request {
    let mut found = false;
    for (_, v) in req.form.iter_mut().filter(|(name, _)| name == key) {
        *v = value.to_string();
        found = true;
    }
    assert!(found, "the request has no form parameter {key}: {req:#?}");
    req
}

fn form_values<'a>(req: &'a Request, key: &str) -> Vec<&'a str> {
    req.form
        .iter()
        .filter(|(name, _)| name == key)
        .map(|(_, value)| value.as_str())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Every builder satisfies the spec
// ---------------------------------------------------------------------------------------------

#[test]
fn search_local_request_matches_spec() {
    let req = client().search_local_request("US", Some(415), Some("555"), 20);
    assert_eq!(req.method, Method::GET);
    assert_valid(&req);
}

#[test]
fn search_local_request_without_filters_matches_spec() {
    assert_valid(&client().search_local_request("US", None, None, 1));
}

#[test]
fn buy_number_request_matches_spec() {
    let req = client().buy_number_request(
        "+14155550123",
        "https://hooks.example.com/twilio/voice",
        "https://hooks.example.com/twilio/number-status",
        "Scenario line 1",
    );
    assert_eq!(req.method, Method::POST);
    assert_valid(&req);
}

#[test]
fn find_number_request_matches_spec() {
    let req = client().find_number_request("+14155550123");
    assert_eq!(req.method, Method::GET);
    assert!(req.idempotent);
    assert_eq!(req.query[0], ("PhoneNumber".into(), "+14155550123".into()));
    assert_valid(&req);
}

#[test]
fn release_number_request_matches_spec() {
    let req = client().release_number_request(NUMBER_SID);
    assert_eq!(req.method, Method::DELETE);
    assert_valid(&req);
}

#[test]
fn account_request_matches_spec() {
    let req = client().account_request();
    assert_eq!(req.method, Method::GET);
    assert_valid(&req);
}

#[test]
fn balance_request_matches_spec() {
    let req = client().balance_request();
    assert_eq!(req.method, Method::GET);
    assert_valid(&req);
}

#[test]
fn create_call_request_with_recording_matches_spec() {
    let req = recorded_call_request();
    assert_eq!(req.method, Method::POST);
    // Make sure the recording parameters are really part of what was validated.
    assert_eq!(form_values(&req, "Record"), ["true"]);
    assert_eq!(form_values(&req, "StatusCallbackEvent").len(), 4);
    assert_valid(&req);
}

#[test]
fn create_call_request_without_recording_matches_spec() {
    let req = client().create_call_request(&new_call(None));
    assert!(form_values(&req, "Record").is_empty());
    assert_valid(&req);
}

#[test]
fn update_call_status_completed_matches_spec() {
    let req = client().update_call_status_request(CALL_SID, "completed");
    assert_eq!(req.method, Method::POST);
    assert_valid(&req);
}

#[test]
fn update_call_status_canceled_matches_spec() {
    assert_valid(&client().update_call_status_request(CALL_SID, "canceled"));
}

// ---------------------------------------------------------------------------------------------
// Retry safety
// ---------------------------------------------------------------------------------------------

#[test]
fn idempotent_flags_match_retry_safety() {
    let client = client();
    let idempotent = [
        (
            "search_local",
            client.search_local_request("US", Some(415), None, 20),
        ),
        ("release_number", client.release_number_request(NUMBER_SID)),
        ("account", client.account_request()),
        ("balance", client.balance_request()),
        (
            "update_call_status",
            client.update_call_status_request(CALL_SID, "completed"),
        ),
    ];
    for (builder, req) in &idempotent {
        assert!(req.idempotent, "{builder} must be retryable: {req:#?}");
    }
    let not_idempotent = [
        (
            "buy_number",
            client.buy_number_request(
                "+14155550123",
                "https://hooks.example.com/twilio/voice",
                "https://hooks.example.com/twilio/number-status",
                "Scenario line 1",
            ),
        ),
        ("create_call", recorded_call_request()),
        (
            "create_call (no recording)",
            client.create_call_request(&new_call(None)),
        ),
    ];
    for (builder, req) in &not_idempotent {
        assert!(!req.idempotent, "{builder} must never be retried: {req:#?}");
    }
}

// ---------------------------------------------------------------------------------------------
// The validator catches mistakes
// ---------------------------------------------------------------------------------------------

#[test]
fn rejects_misspelled_form_parameter() {
    let req = rename_form_key(
        recorded_call_request(),
        "StatusCallback",
        "StatusCallbackUrl",
    );
    let problems = assert_rejected_naming(&req, "StatusCallbackUrl");
    assert_eq!(problems.len(), 1, "{problems:#?}");
}

#[test]
fn rejects_invalid_enum_in_form() {
    // `StatusCallbackMethod` is declared `enum: [GET, POST]`.
    let req = set_form_value(recorded_call_request(), "StatusCallbackMethod", "PUT");
    assert_rejected_naming(&req, "StatusCallbackMethod");
}

#[test]
fn rejects_invalid_enum_behind_ref() {
    // `Status` is a `$ref` to `call_enum_update_status` (`canceled`, `completed`).
    let req = client().update_call_status_request(CALL_SID, "in-progress");
    assert_rejected_naming(&req, "Status");
}

#[test]
fn rejects_invalid_integer_and_boolean_form_values() {
    let req = set_form_value(recorded_call_request(), "Timeout", "30s");
    let req = set_form_value(req, "Record", "yes");
    let problems = validate(spec(), &req).expect_err("bad Timeout and Record must be rejected");
    assert!(
        problems.iter().any(|p| p.contains("`Timeout`")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("`Record`")),
        "{problems:#?}"
    );
}

#[test]
fn rejects_repeated_scalar_form_parameter() {
    let mut req = client().create_call_request(&new_call(None));
    req.form.push(("To".into(), "+14155550199".into()));
    assert_rejected_naming(&req, "To");
}

#[test]
fn rejects_missing_required_form_parameter() {
    let req = remove_form_key(recorded_call_request(), "To");
    let problems = assert_rejected_naming(&req, "To");
    assert!(problems[0].contains("missing"), "{problems:#?}");
}

#[test]
fn rejects_wrong_path() {
    let mut req = recorded_call_request();
    req.path = format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Call.json");
    assert_rejected_naming(&req, &req.path);
}

#[test]
fn rejects_path_without_json_suffix() {
    let mut req = recorded_call_request();
    req.path = format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Calls");
    assert_rejected_naming(&req, &req.path);
}

#[test]
fn rejects_undeclared_method() {
    let mut req = client().balance_request();
    req.method = Method::DELETE;
    let problems = validate(spec(), &req).expect_err("Balance.json cannot be deleted");
    assert!(problems[0].contains("DELETE"), "{problems:#?}");
}

#[test]
fn rejects_path_parameter_breaking_pattern() {
    let req = Client::new(
        "https://api.twilio.com",
        "AC123",
        "token",
        std::time::Duration::from_secs(5),
    )
    .balance_request();
    assert_rejected_naming(&req, "AccountSid");

    // A number SID where a call SID belongs.
    let req = client().update_call_status_request(NUMBER_SID, "completed");
    assert_rejected_naming(&req, "Sid");
}

#[test]
fn rejects_undeclared_query_parameter() {
    let mut req = client().search_local_request("US", Some(415), Some("555"), 20);
    req.query.push(("Limit".into(), "20".into()));
    let problems = assert_rejected_naming(&req, "Limit");
    assert_eq!(problems.len(), 1, "{problems:#?}");
}

#[test]
fn rejects_invalid_query_values() {
    let mut req = client().search_local_request("US", None, None, 20);
    req.query.push(("AreaCode".into(), "SF".into()));
    req.query.push(("SmsEnabled".into(), "yes".into()));
    let problems = validate(spec(), &req).expect_err("bad AreaCode and SmsEnabled");
    assert!(
        problems.iter().any(|p| p.contains("`AreaCode`")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("`SmsEnabled`")),
        "{problems:#?}"
    );
}

#[test]
fn rejects_form_on_operation_without_body() {
    let mut req = client().balance_request();
    req.form.push(("FriendlyName".into(), "x".into()));
    assert_rejected_naming(&req, "FriendlyName");
}

#[test]
fn reports_every_problem_at_once() {
    let req = remove_form_key(recorded_call_request(), "From");
    let req = rename_form_key(req, "Twiml", "TwiML");
    let req = set_form_value(req, "RecordingStatusCallbackMethod", "PATCH");
    let problems = validate(spec(), &req).expect_err("three mistakes");
    assert_eq!(problems.len(), 3, "{problems:#?}");
}

// ---------------------------------------------------------------------------------------------
// The validator's own building blocks
// ---------------------------------------------------------------------------------------------

#[test]
fn literal_segments_win_over_placeholders() {
    let path = format!("/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers/Local.json");
    let matched = match_path(spec(), &path).expect("a match");
    assert_eq!(
        matched.template,
        "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/Local.json"
    );
}

#[test]
fn placeholders_need_a_non_empty_value() {
    let template = "/2010-04-01/Accounts/{Sid}.json";
    assert!(match_template(template, "/2010-04-01/Accounts/.json").is_none());
    assert_eq!(
        match_template(template, "/2010-04-01/Accounts/AC1.json"),
        Some(vec![("Sid".to_string(), "AC1".to_string())])
    );
}

#[test]
fn pattern_matcher_handles_twilio_sid_patterns() {
    let sid = "^AC[0-9a-fA-F]{32}$";
    assert_eq!(pattern_matches(sid, ACCOUNT_SID), Ok(true));
    assert_eq!(
        pattern_matches(sid, &ACCOUNT_SID.replacen("AC", "ac", 1)),
        Ok(false)
    );
    assert_eq!(pattern_matches(sid, &format!("{ACCOUNT_SID}0")), Ok(false));
    assert_eq!(pattern_matches(sid, &ACCOUNT_SID[..33]), Ok(false));
    assert_eq!(pattern_matches("^a+b?$", "aaa"), Ok(true));
    assert_eq!(pattern_matches("b{2,3}", "abbbc"), Ok(true));
    assert!(pattern_matches("^(SM|MM)[0-9a-fA-F]{32}$", "SM").is_err());
}
