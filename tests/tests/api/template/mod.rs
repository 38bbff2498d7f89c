//! template.yaml against the code, one concern per module: the functions' timeouts
//! (`timeouts`), what happens to events that cannot be handled (`events`), the bridge's
//! exposure, image, drain and scaling (`media_bridge`), the functions' code, routes and
//! configuration (`functions`), the operator parameters and secrets (`parameters`), logs,
//! alarms, network and outputs (`operations`), and the IAM grants (`permissions`).

mod events;
mod functions;
mod media_bridge;
mod operations;
mod parameters;
mod permissions;
mod timeouts;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use serde_yaml::Value;
use serde_yaml::value::TaggedValue;
use shared::calling;
use shared::twilio::Transport;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).expect("template.yaml")).unwrap()
}

fn resource<'a>(t: &'a Value, name: &str) -> &'a Value {
    let r = &t["Resources"][name];
    assert!(!r.is_null(), "template.yaml has no resource {name}");
    r
}

/// Every resource of a type, with its logical id.
fn resources_of<'a>(t: &'a Value, kind: &str) -> Vec<(String, &'a Value)> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(name, r)| (name.as_str().unwrap().to_string(), r))
        .collect()
}

fn parameter<'a>(t: &'a Value, name: &str) -> &'a Value {
    let p = &t["Parameters"][name];
    assert!(!p.is_null(), "template.yaml has no parameter {name}");
    p
}

/// A parameter's bound (`MinValue`, `MaxValue`).
fn bound(t: &Value, name: &str, which: &str) -> u64 {
    parameter(t, name)[which]
        .as_u64()
        .unwrap_or_else(|| panic!("parameter {name} has no {which}"))
}

/// A parameter's default as the deployed environment variable would read it.
fn parameter_default(t: &Value, name: &str) -> Option<String> {
    match &t["Parameters"][name]["Default"] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A function's timeout, its own or the global one.
fn timeout(t: &Value, function: &str) -> Duration {
    let own = &resource(t, function)["Properties"]["Timeout"];
    let secs = own
        .as_u64()
        .or_else(|| t["Globals"]["Function"]["Timeout"].as_u64())
        .expect("a timeout");
    Duration::from_secs(secs)
}

/// `!Tag value` as (tag, value).
fn tagged(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => {
            let TaggedValue { tag, value } = t.as_ref();
            Some((tag.to_string(), value))
        }
        _ => None,
    }
}

fn get_att(v: &Value) -> Option<&str> {
    tagged(v).and_then(|(tag, value)| (tag == "!GetAtt").then(|| value.as_str()).flatten())
}

fn reference(v: &Value) -> Option<&str> {
    tagged(v).and_then(|(tag, value)| (tag == "!Ref").then(|| value.as_str()).flatten())
}

/// The functions' environment (Globals), as written in the template.
fn global_env(t: &Value) -> BTreeMap<String, Value> {
    t["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_string(), v.clone()))
        .collect()
}

/// The bridge container's environment, as written in the template.
fn bridge_env(t: &Value) -> BTreeMap<String, Value> {
    resource(t, "BridgeTaskDefinition")["Properties"]["ContainerDefinitions"][0]["Environment"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| (e["Name"].as_str().unwrap().to_string(), e["Value"].clone()))
        .collect()
}

/// What `!Ref` and `!GetAtt` resolve to in a deployment, for reading the template's settings
/// the way a function would see them: parameters at their defaults, the required ones at
/// plausible production values.
fn deployed_value(t: &Value, v: &Value) -> String {
    // Tags first: `as_str` sees through them.
    match tagged(v) {
        Some((tag, inner)) => match (tag.as_str(), inner.as_str().unwrap_or_default()) {
            ("!Ref", "PublicUrl") => "https://api.acme-phone.io".into(),
            ("!Ref", "BridgeUrl") => "wss://bridge.acme-phone.io/twilio".into(),
            ("!Ref", "FrontendUrl") => "https://app.acme-phone.io".into(),
            ("!Ref", "JobsQueue") => "https://sqs.us-east-1.amazonaws.com/210987654321/jobs".into(),
            ("!Ref", "TwilioIntelligenceServiceSid") => format!("GA{}", "0".repeat(32)),
            ("!Ref", "TwilioPhoneNumber") => "+14155550100".into(),
            ("!Sub", s) => s.replace("${PublicUrl}", "https://api.acme-phone.io"),
            ("!GetAtt", s) if s.ends_with("Role.Arn") => {
                "arn:aws:iam::210987654321:role/scheduler".into()
            }
            ("!GetAtt", s) if s.ends_with("Function.Arn") => {
                "arn:aws:lambda:us-east-1:210987654321:function:runner".into()
            }
            ("!GetAtt", s) if s.ends_with("Queue.Arn") => {
                "arn:aws:sqs:us-east-1:210987654321:dead-letter".into()
            }
            ("!Ref", name) if !t["Parameters"][name].is_null() => parameter_default(t, name)
                .unwrap_or_else(|| panic!("parameter {name} has no default: give it a value here")),
            ("!Ref", other) => format!("{other}-value"),
            _ => String::new(),
        },
        None => v.as_str().unwrap_or_default().to_string(),
    }
}

/// The secret's keys once put-secrets.sh has filled it (JWT_SECRET generated by the stack).
fn filled_secret() -> Vec<(&'static str, String)> {
    vec![
        ("JWT_SECRET", "j".repeat(64)),
        ("CAPTCHA_SECRET", "captcha".to_string()),
        ("TWILIO_ACCOUNT_SID", format!("AC{}", "0".repeat(32))),
        ("TWILIO_AUTH_TOKEN", "token".to_string()),
        ("OPENAI_API_KEY", "sk-test".to_string()),
        (
            "GOOGLE_CLIENT_ID",
            "id.apps.googleusercontent.com".to_string(),
        ),
        ("GOOGLE_CLIENT_SECRET", "GOCSPX-x".to_string()),
        ("CALENDAR_TOKEN_KEY", "c".repeat(40)),
    ]
}

/// An environment as a deployed process sees it: the template's values resolved, the secret's
/// keys layered over them.
fn deployed_environment<'a>(
    t: &Value,
    vars: impl IntoIterator<Item = (&'a String, &'a Value)>,
) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = vars
        .into_iter()
        .map(|(k, v)| (k.clone(), deployed_value(t, v)))
        .collect();
    env.remove("APP_SECRET_ARN");
    env.retain(|_, v| !v.is_empty());
    for (k, v) in filled_secret() {
        env.insert(k.to_string(), v);
    }
    env
}

/// The crate a function's prebuilt artifact comes from: `CodeUri` must be exactly
/// `target/lambda/<crate>/`.
fn function_crate(code_uri: &Value) -> Option<&str> {
    code_uri
        .as_str()?
        .strip_prefix("target/lambda/")?
        .strip_suffix('/')
        .filter(|c| !c.is_empty() && !c.contains('/'))
}

/// API Gateway matches `/x` and `/x/` alike; the code serves a few reference paths with the slash.
fn route_key(path: &str) -> String {
    match path.trim_end_matches('/') {
        "" => "/".to_string(),
        p => p.to_string(),
    }
}

/// Every route the code serves, as (method, path).
fn code_routes() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (_, router) in platform::contexts() {
        let doc = serde_json::to_value(router.into_openapi()).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                routes.insert((method.to_ascii_uppercase(), route_key(path)));
            }
        }
    }
    routes
}
