//! The REST API 2010-04-01 client against `twilio_api_v2010.json`.

use std::sync::OnceLock;

use reqwest::Method;
use serde_json::Value;
use shared::twilio::client::{Client, NewCall, Request};

use crate::validator::*;

// ---------------------------------------------------------------------------------------------
// The spec
// ---------------------------------------------------------------------------------------------

/// Twilio's OpenAPI document, vendored in `specs/` with its license.
const SPEC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../specs/twilio_api_v2010.json"
);

/// The parsed spec; 1.8 MB, so it is read and parsed once for all tests.
fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| load(SPEC_PATH))
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
        amd_status_callback: recording_status_callback
            .map(|_| "https://hooks.example.com/twilio/amd-status?tenant_id=t&call_id=c".into()),
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
    assert_eq!(form_values(&req, "MachineDetection"), ["DetectMessageEnd"]);
    assert_eq!(form_values(&req, "AsyncAmd"), ["true"]);
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

#[test]
fn redirect_call_to_a_dial_matches_spec() {
    let twiml = shared::twilio::twiml::dial(
        "+14155550199",
        "+14155550100",
        30,
        "https://hooks.example.com/twilio/transfer-status?tenant_id=t&call_id=c",
    );
    let req = client().redirect_call_request(CALL_SID, &twiml);
    assert_eq!(form_values(&req, "Twiml"), [twiml.as_str()]);
    assert!(!req.idempotent, "a repeated redirect would dial twice");
    assert_valid(&req);
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
