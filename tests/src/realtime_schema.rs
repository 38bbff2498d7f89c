//! Validates OpenAI Realtime (GA) events against the shared OpenAPI spec.
//!
//! The simulator in [`crate::realtime_sim`] checks every client event the bridge sends with
//! [`validate_client_event`], and its own tests check the events it sends with
//! [`validate_server_event`]. The spec (`specs/openai_openapi.yaml`, vendored with its license)
//! is parsed once per process, lazily: a run that never validates never pays for it.
//!
//! The event schema is picked by the event's `type` (the union's discriminator). The value is
//! then checked with a JSON-Schema subset: `$ref`, `type` (single or array), `nullable`, `enum`,
//! `const`, `properties`, `required`, `additionalProperties`, `items`, `allOf`, `anyOf`/`oneOf`
//! (valid when any branch is), `minimum`/`maximum`, `minLength`/`maxLength`, `minItems`/`maxItems`.
//! `format`, `pattern` and `discriminator` are ignored.
//!
//! **Objects are closed.** The spec never says `additionalProperties: false` on the Realtime
//! shapes, but the live API rejects unknown parameters. So an object schema that lists
//! `properties` and says nothing about `additionalProperties` accepts no other keys here. This
//! is what catches beta-shaped events (`input_audio_format`, `modalities`, ...). An object schema
//! without `properties` (tool `parameters`, `metadata`) stays open.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The vendored spec (`specs/` at the repository root).
pub const SPEC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/openai_openapi.yaml");

/// How deep `$ref`s may nest before the validator gives up (guards against cycles).
const MAX_DEPTH: usize = 64;

/// Checks one client event (the JSON a client sends over the Realtime WebSocket).
/// The errors name the offending path, e.g. `session.input_audio_format: unknown property`.
pub fn validate_client_event(event: &Value) -> Result<(), Vec<String>> {
    let spec = spec();
    validate_event(spec, &spec.client_events, "client", event)
}

/// Checks one server event (what the simulator, or OpenAI, sends).
pub fn validate_server_event(event: &Value) -> Result<(), Vec<String>> {
    let spec = spec();
    validate_event(spec, &spec.server_events, "server", event)
}

/// Checks a value against a named schema of `components.schemas`.
pub fn validate_against(schema_name: &str, value: &Value) -> Result<(), Vec<String>> {
    let spec = spec();
    let Some(schema) = spec.schemas.get(schema_name) else {
        return Err(vec![format!("no schema named {schema_name}")]);
    };
    into_result(spec.check_root(schema, value))
}

/// The client event types the spec knows (`session.update`, ...), sorted.
pub fn client_event_types() -> Vec<String> {
    let mut types: Vec<String> = spec().client_events.keys().cloned().collect();
    types.sort();
    types
}

fn validate_event(
    spec: &Spec,
    events: &HashMap<String, String>,
    side: &str,
    event: &Value,
) -> Result<(), Vec<String>> {
    let Some(kind) = event.get("type").and_then(Value::as_str) else {
        return Err(vec![format!("{side} event without a string `type`")]);
    };
    let Some(schema) = events.get(kind).and_then(|name| spec.schemas.get(name)) else {
        return Err(vec![format!("unknown {side} event type {kind}")]);
    };
    into_result(spec.check_root(schema, event))
}

fn into_result(errors: Vec<String>) -> Result<(), Vec<String>> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The parsed spec: the component schemas plus, per union, event type → schema name.
struct Spec {
    schemas: Map<String, Value>,
    client_events: HashMap<String, String>,
    server_events: HashMap<String, String>,
}

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = std::fs::read_to_string(SPEC_PATH)
            .unwrap_or_else(|e| panic!("read the OpenAI spec at {SPEC_PATH}: {e}"));
        Spec::parse(&text)
    })
}

impl Spec {
    fn parse(text: &str) -> Spec {
        let text = widen_big_integers(text);
        let yaml: serde_yaml::Value = serde_yaml::from_str(&text).expect("the OpenAI spec is YAML");
        let mut root = yaml_to_json(yaml);
        let schemas = match root.pointer_mut("/components/schemas").map(Value::take) {
            Some(Value::Object(map)) => map,
            _ => panic!("the OpenAI spec has no components.schemas"),
        };
        let client_events = event_map(&schemas, "RealtimeClientEvent");
        let server_events = event_map(&schemas, "RealtimeServerEvent");
        Spec {
            schemas,
            client_events,
            server_events,
        }
    }

    fn check_root(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(schema, value, "", 0, &mut errors);
        errors
    }

    fn resolve(&self, reference: &str) -> Option<&Value> {
        let name = reference.strip_prefix("#/components/schemas/")?;
        self.schemas.get(name)
    }

    /// Validates `value` against `schema`, appending one line per problem to `errors`.
    fn check(
        &self,
        schema: &Value,
        value: &Value,
        path: &str,
        depth: usize,
        errors: &mut Vec<String>,
    ) {
        self.check_in(schema, value, path, depth, errors, &[]);
    }

    /// [`Spec::check`] for a schema that is one member of an `allOf`: the properties its
    /// siblings declare (`inherited`) are not unknown to it.
    fn check_in(
        &self,
        schema: &Value,
        value: &Value,
        path: &str,
        depth: usize,
        errors: &mut Vec<String>,
        inherited: &[String],
    ) {
        if depth > MAX_DEPTH {
            errors.push(format!("{}: schema nesting too deep", shown(path)));
            return;
        }
        let schema = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => {
                errors.push(format!("{}: no value allowed here", shown(path)));
                return;
            }
            Value::Object(schema) => schema,
            _ => return,
        };
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            match self.resolve(reference) {
                Some(target) => self.check_in(target, value, path, depth + 1, errors, inherited),
                None => errors.push(format!("{}: unresolvable $ref {reference}", shown(path))),
            }
        }
        if value.is_null() && schema.get("nullable") == Some(&Value::Bool(true)) {
            return;
        }
        if !self.check_type(schema, value, path, errors) {
            return;
        }
        check_literals(schema, value, path, errors);
        check_bounds(schema, value, path, errors);
        match value {
            Value::Object(object) => {
                self.check_object(schema, object, path, depth, errors, inherited)
            }
            Value::Array(items) => self.check_items(schema, items, path, depth, errors),
            _ => {}
        }
        if let Some(Value::Array(all)) = schema.get("allOf") {
            let mut siblings: Vec<String> = inherited.to_vec();
            self.all_of_properties(schema, depth, &mut siblings);
            for branch in all {
                self.check_in(branch, value, path, depth + 1, errors, &siblings);
            }
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = schema.get(keyword) {
                self.check_alternatives(branches, value, path, depth, errors);
            }
        }
    }

    /// `type`; false when it does not match (deeper checks would only add noise).
    fn check_type(
        &self,
        schema: &Map<String, Value>,
        value: &Value,
        path: &str,
        errors: &mut Vec<String>,
    ) -> bool {
        let allowed: Vec<&str> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => return true,
        };
        let nullable = schema.get("nullable") == Some(&Value::Bool(true));
        if allowed.iter().any(|t| type_matches(t, value)) || (nullable && value.is_null()) {
            return true;
        }
        errors.push(format!(
            "{}: expected {}, got {}",
            shown(path),
            allowed.join(" or "),
            json_type(value)
        ));
        false
    }

    fn check_object(
        &self,
        schema: &Map<String, Value>,
        object: &Map<String, Value>,
        path: &str,
        depth: usize,
        errors: &mut Vec<String>,
        inherited: &[String],
    ) {
        if let Some(Value::Array(required)) = schema.get("required") {
            for key in required.iter().filter_map(Value::as_str) {
                if !object.contains_key(key) {
                    errors.push(format!(
                        "{}: required property `{key}` missing",
                        shown(path)
                    ));
                }
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        let known = self.known_properties(schema);
        for (key, item) in object {
            let child = join(path, key);
            if let Some(property) = properties.and_then(|p| p.get(key)) {
                self.check(property, item, &child, depth + 1, errors);
                continue;
            }
            if known.contains(&key.as_str()) || inherited.iter().any(|k| k == key) {
                continue; // declared by an allOf member, checked there
            }
            match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    errors.push(format!("{child}: unknown property"));
                }
                Some(extra @ Value::Object(_)) => {
                    self.check(extra, item, &child, depth + 1, errors);
                }
                Some(_) => {}
                None if properties.is_some() => {
                    errors.push(format!("{child}: unknown property"));
                }
                None => {}
            }
        }
    }

    /// Every property the `allOf` members of `schema` declare, through `$ref`s and nested
    /// `allOf`s: what one member may carry because another declares it.
    fn all_of_properties(&self, schema: &Map<String, Value>, depth: usize, out: &mut Vec<String>) {
        if depth > MAX_DEPTH {
            return;
        }
        let Some(Value::Array(all)) = schema.get("allOf") else {
            return;
        };
        for member in all {
            let member = match member.get("$ref").and_then(Value::as_str) {
                Some(reference) => match self.resolve(reference) {
                    Some(target) => target,
                    None => continue,
                },
                None => member,
            };
            let Some(member) = member.as_object() else {
                continue;
            };
            if let Some(props) = member.get("properties").and_then(Value::as_object) {
                out.extend(props.keys().cloned());
            }
            self.all_of_properties(member, depth + 1, out);
        }
    }

    /// Property names declared by this schema and by its `allOf` members.
    fn known_properties<'s>(&'s self, schema: &'s Map<String, Value>) -> Vec<&'s str> {
        let mut known: Vec<&str> = Vec::new();
        let mut add = |schema: &'s Value| {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                known.extend(props.keys().map(String::as_str));
            }
        };
        if let Some(Value::Array(all)) = schema.get("allOf") {
            for member in all {
                match member.get("$ref").and_then(Value::as_str) {
                    Some(reference) => {
                        if let Some(target) = self.resolve(reference) {
                            add(target);
                        }
                    }
                    None => add(member),
                }
            }
        }
        known
    }

    fn check_items(
        &self,
        schema: &Map<String, Value>,
        items: &[Value],
        path: &str,
        depth: usize,
        errors: &mut Vec<String>,
    ) {
        let Some(item_schema) = schema.get("items") else {
            return;
        };
        for (index, item) in items.iter().enumerate() {
            let child = format!("{}[{index}]", path);
            self.check(item_schema, item, &child, depth + 1, errors);
        }
    }

    /// `anyOf`/`oneOf`: valid if any branch is. Otherwise the errors of the closest branch:
    /// one whose `type` discriminator matches the value if there is one, else the branch with
    /// the fewest errors.
    fn check_alternatives(
        &self,
        branches: &[Value],
        value: &Value,
        path: &str,
        depth: usize,
        errors: &mut Vec<String>,
    ) {
        let mut best: Option<(bool, Vec<String>)> = None;
        for branch in branches {
            let mut branch_errors = Vec::new();
            self.check(branch, value, path, depth + 1, &mut branch_errors);
            if branch_errors.is_empty() {
                return;
            }
            let discriminated = self.discriminator_matches(branch, value);
            let better = match &best {
                None => true,
                Some((best_discriminated, best_errors)) => {
                    (discriminated && !best_discriminated)
                        || (discriminated == *best_discriminated
                            && branch_errors.len() < best_errors.len())
                }
            };
            if better {
                best = Some((discriminated, branch_errors));
            }
        }
        if let Some((_, best_errors)) = best {
            errors.push(format!(
                "{}: matches none of {} alternatives; closest:",
                shown(path),
                branches.len()
            ));
            errors.extend(best_errors.into_iter().map(|e| format!("  {e}")));
        }
    }

    /// Whether `branch` is an object schema whose `type` property admits the value's `type`.
    fn discriminator_matches(&self, branch: &Value, value: &Value) -> bool {
        let Some(kind) = value.get("type") else {
            return false;
        };
        let branch = match branch.get("$ref").and_then(Value::as_str) {
            Some(reference) => match self.resolve(reference) {
                Some(target) => target,
                None => return false,
            },
            None => branch,
        };
        branch
            .pointer("/properties/type")
            .and_then(literal_values)
            .is_some_and(|values| values.contains(&kind))
    }
}

/// event type → schema name, from the union's `anyOf`/`oneOf` list of `$ref`s.
fn event_map(schemas: &Map<String, Value>, union: &str) -> HashMap<String, String> {
    let union_schema = schemas
        .get(union)
        .unwrap_or_else(|| panic!("the spec has no {union}"));
    let branches = union_schema
        .get("anyOf")
        .or_else(|| union_schema.get("oneOf"))
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{union} is not an anyOf/oneOf"));
    let mut map = HashMap::new();
    for reference in branches.iter().filter_map(|b| b.get("$ref")?.as_str()) {
        let name = reference.trim_start_matches("#/components/schemas/");
        let kind = schemas
            .get(name)
            .and_then(|s| s.pointer("/properties/type"))
            .and_then(literal_values)
            .and_then(|values| {
                values
                    .into_iter()
                    .find_map(|v| v.as_str().map(String::from))
            });
        if let Some(kind) = kind {
            map.insert(kind, name.to_string());
        }
    }
    map
}

/// The literal(s) a property schema pins: `const`, else `enum`, else `default`.
fn literal_values(schema: &Value) -> Option<Vec<&Value>> {
    if let Some(value) = schema.get("const") {
        return Some(vec![value]);
    }
    if let Some(Value::Array(values)) = schema.get("enum") {
        return Some(values.iter().collect());
    }
    schema.get("default").map(|value| vec![value])
}

fn check_literals(
    schema: &Map<String, Value>,
    value: &Value,
    path: &str,
    errors: &mut Vec<String>,
) {
    if let Some(expected) = schema.get("const")
        && !json_equal(expected, value)
    {
        errors.push(format!("{}: expected {expected}, got {value}", shown(path)));
    }
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !allowed.iter().any(|a| json_equal(a, value))
    {
        let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
        errors.push(format!(
            "{}: {value} is not one of [{}]",
            shown(path),
            list.join(", ")
        ));
    }
}

fn check_bounds(schema: &Map<String, Value>, value: &Value, path: &str, errors: &mut Vec<String>) {
    let limit = |key: &str| schema.get(key).and_then(Value::as_f64);
    if let Some(number) = value.as_f64() {
        if let Some(min) = limit("minimum")
            && number < min
        {
            errors.push(format!(
                "{}: {value} is below the minimum {min}",
                shown(path)
            ));
        }
        if let Some(max) = limit("maximum")
            && number > max
        {
            errors.push(format!(
                "{}: {value} is above the maximum {max}",
                shown(path)
            ));
        }
    }
    let length = match value {
        Value::String(s) => Some((s.chars().count(), "minLength", "maxLength")),
        Value::Array(items) => Some((items.len(), "minItems", "maxItems")),
        _ => None,
    };
    if let Some((len, min_key, max_key)) = length {
        if let Some(min) = limit(min_key)
            && (len as f64) < min
        {
            errors.push(format!(
                "{}: length {len} is below {min_key} {min}",
                shown(path)
            ));
        }
        if let Some(max) = limit(max_key)
            && (len as f64) > max
        {
            errors.push(format!(
                "{}: length {len} is above {max_key} {max}",
                shown(path)
            ));
        }
    }
}

fn type_matches(kind: &str, value: &Value) -> bool {
    match kind {
        "string" => value.is_string(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "null" => value.is_null(),
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

/// Equality that treats `1` and `1.0` alike (YAML and JSON may disagree on number kinds).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
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
    if path.is_empty() { "(event)" } else { path }
}

/// serde_yaml refuses integers beyond 64 bits (the spec bounds `seed` with ±9223372036854776000):
/// rewrites such `key: 123…` scalars as floats (`123….0`), which is what JSON makes of them anyway.
fn widen_big_integers(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let body = line.trim_end();
        let value = body.rsplit_once(": ").map_or("", |(_, v)| v);
        let digits = value.strip_prefix('-').unwrap_or(value);
        let oversized = digits.len() >= 19
            && digits.bytes().all(|b| b.is_ascii_digit())
            && value.parse::<i64>().is_err()
            && value.parse::<u64>().is_err();
        if oversized {
            out.push_str(body);
            out.push_str(".0");
            out.push_str(&line[body.len()..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// YAML → JSON. Non-string mapping keys (response codes such as `200`) become strings.
fn yaml_to_json(value: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(mapping) => Value::Object(
            mapping
                .into_iter()
                .map(|(k, v)| (yaml_key(k), yaml_to_json(v)))
                .collect(),
        ),
        Y::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

fn yaml_key(key: serde_yaml::Value) -> String {
    match key {
        serde_yaml::Value::String(s) => s,
        other => match yaml_to_json(other) {
            Value::String(s) => s,
            json => json.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors_of(event: Value) -> Vec<String> {
        validate_client_event(&event).expect_err("should be invalid")
    }

    fn ga_session() -> Value {
        json!({
            "type": "realtime",
            "model": "gpt-realtime",
            "output_modalities": ["audio"],
            "instructions": "You are a helpful receptionist.",
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "noise_reduction": {"type": "near_field"},
                    "turn_detection": {
                        "type": "server_vad",
                        "threshold": 0.5,
                        "prefix_padding_ms": 300,
                        "silence_duration_ms": 500,
                        "create_response": true,
                        "interrupt_response": true,
                        "idle_timeout_ms": 8000
                    },
                    "transcription": {"model": "gpt-4o-mini-transcribe", "language": "en"}
                },
                "output": {"format": {"type": "audio/pcmu"}, "voice": "marin", "speed": 1.0}
            },
            "tools": [{
                "type": "function",
                "name": "check_availability",
                "description": "Free slots on a day",
                "parameters": {"type": "object", "properties": {"day": {"type": "string"}}}
            }],
            "tool_choice": "auto",
            "truncation": {"type": "retention_ratio", "retention_ratio": 0.8},
            "max_output_tokens": "inf"
        })
    }

    #[test]
    fn knows_the_ga_client_events() {
        let types = client_event_types();
        for kind in [
            "session.update",
            "input_audio_buffer.append",
            "conversation.item.truncate",
            "response.create",
            "response.cancel",
        ] {
            assert!(types.iter().any(|t| t == kind), "{kind} in {types:?}");
        }
    }

    #[test]
    fn accepts_an_append() {
        let event = json!({"type": "input_audio_buffer.append", "event_id": "e1", "audio": "//8="});
        assert_eq!(validate_client_event(&event), Ok(()));
    }

    #[test]
    fn accepts_a_ga_session_update() {
        let event = json!({"type": "session.update", "session": ga_session()});
        assert_eq!(validate_client_event(&event), Ok(()));
        let minimal = json!({"type": "session.update", "session": {
            "type": "realtime",
            "output_modalities": ["audio"],
            "instructions": "Be brief.",
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "turn_detection": {"type": "server_vad"},
                    "transcription": {"model": "gpt-4o-mini-transcribe"}
                },
                "output": {"format": {"type": "audio/pcmu"}, "voice": "marin"}
            },
            "tools": [],
            "tool_choice": "auto"
        }});
        assert_eq!(validate_client_event(&minimal), Ok(()));
    }

    #[test]
    fn accepts_a_truncate() {
        let event = json!({
            "type": "conversation.item.truncate",
            "item_id": "item_002",
            "content_index": 0,
            "audio_end_ms": 1500
        });
        assert_eq!(validate_client_event(&event), Ok(()));
    }

    #[test]
    fn accepts_a_function_call_output_item() {
        let event = json!({
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": "call_001", "output": "{\"ok\":true}"}
        });
        assert_eq!(validate_client_event(&event), Ok(()));
        let greeting = json!({
            "type": "conversation.item.create",
            "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Greet the caller"}]}
        });
        assert_eq!(validate_client_event(&greeting), Ok(()));
    }

    #[test]
    fn accepts_response_create() {
        assert_eq!(
            validate_client_event(&json!({"type": "response.create"})),
            Ok(())
        );
        let with_params = json!({"type": "response.create", "response": {
            "instructions": "Greet the caller",
            "conversation": "auto",
            "output_modalities": ["audio"],
            "metadata": {"turn": "1"}
        }});
        assert_eq!(validate_client_event(&with_params), Ok(()));
    }

    #[test]
    fn rejects_a_beta_session_update() {
        let errors = errors_of(json!({"type": "session.update", "session": {
            "modalities": ["text", "audio"],
            "voice": "alloy",
            "input_audio_format": "g711_ulaw",
            "output_audio_format": "g711_ulaw",
            "turn_detection": {"type": "server_vad"},
            "input_audio_transcription": {"model": "whisper-1"},
            "temperature": 0.8
        }}));
        let text = errors.join("\n");
        assert!(
            text.contains("session.input_audio_format: unknown property"),
            "{text}"
        );
        assert!(text.contains("required property `type` missing"), "{text}");
    }

    #[test]
    fn rejects_ga_session_with_a_beta_key() {
        let mut session = ga_session();
        session["input_audio_format"] = json!("g711_ulaw");
        let errors = errors_of(json!({"type": "session.update", "session": session}));
        assert!(
            errors
                .iter()
                .any(|e| e.contains("session.input_audio_format: unknown property")),
            "{errors:?}"
        );
    }

    #[test]
    fn rejects_an_append_without_audio() {
        let errors = errors_of(json!({"type": "input_audio_buffer.append"}));
        assert_eq!(errors, vec!["(event): required property `audio` missing"]);
    }

    #[test]
    fn rejects_an_unknown_type() {
        let errors = errors_of(json!({"type": "response.audio.delta", "delta": ""}));
        assert_eq!(
            errors,
            vec!["unknown client event type response.audio.delta"]
        );
    }

    #[test]
    fn rejects_a_truncate_with_a_string_end() {
        let errors = errors_of(json!({
            "type": "conversation.item.truncate",
            "item_id": "item_002",
            "content_index": 0,
            "audio_end_ms": "1500"
        }));
        assert_eq!(errors, vec!["audio_end_ms: expected integer, got string"]);
    }

    #[test]
    fn checks_bounds_and_enums() {
        let mut session = ga_session();
        session["audio"]["output"]["speed"] = json!(3.0);
        session["output_modalities"] = json!(["video"]);
        let text = errors_of(json!({"type": "session.update", "session": session})).join("\n");
        assert!(
            text.contains("session.audio.output.speed: 3.0 is above the maximum 1.5"),
            "{text}"
        );
        assert!(text.contains("session.output_modalities[0]"), "{text}");
    }

    #[test]
    fn validates_server_events() {
        let delta = json!({
            "type": "response.output_audio.delta",
            "event_id": "event_1",
            "response_id": "resp_1",
            "item_id": "item_1",
            "output_index": 0,
            "content_index": 0,
            "delta": "//8="
        });
        assert_eq!(validate_server_event(&delta), Ok(()));
        let beta = json!({"type": "response.audio.delta", "event_id": "e", "delta": ""});
        assert!(validate_server_event(&beta).is_err());
    }
}
