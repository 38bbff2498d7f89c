//! A small validator of requests against an OpenAPI 3.0 document (Twilio's published specs):
//! what each of the contract test modules checks its client's requests with.

use std::collections::BTreeMap;

use serde_json::Value;
use shared::twilio::transport::Request;

/// Reads and parses a spec (they are large: each is read once, by its module).
pub(crate) fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read the spec at {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("the spec at {path} is not JSON: {e}"))
}

// ---------------------------------------------------------------------------------------------
// The validator
// ---------------------------------------------------------------------------------------------

/// Checks `req` against the OpenAPI `spec`; on failure returns every problem found, each naming
/// the offending path, operation or parameter.
pub(crate) fn validate(spec: &Value, req: &Request) -> Result<(), Vec<String>> {
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
pub(crate) struct MatchedPath<'a> {
    pub(crate) template: &'a str,
    item: &'a Value,
    /// `(name, value)` of each `{name}` placeholder, in path order.
    values: Vec<(String, String)>,
}

/// Finds the spec path template matching `path`. When several match (a literal segment such as
/// `Local.json` versus a placeholder `{Sid}.json`), the one with fewest placeholders wins.
pub(crate) fn match_path<'a>(spec: &'a Value, path: &str) -> Result<MatchedPath<'a>, String> {
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
pub(crate) fn match_template(template: &str, path: &str) -> Option<Vec<(String, String)>> {
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
pub(crate) fn pattern_matches(pattern: &str, text: &str) -> Result<bool, String> {
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
