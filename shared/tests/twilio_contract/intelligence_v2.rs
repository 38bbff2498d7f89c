//! The Voice Intelligence client against `twilio_intelligence_v2.json`.

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use shared::twilio::Transport;
use shared::twilio::intelligence::{Intelligence, PageCursor, Participant};
use shared::twilio::transport::Request;

use crate::validator::*;

const SPEC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../specs/twilio_intelligence_v2.json"
);

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| load(SPEC_PATH))
}

const SERVICE_SID: &str = "GA0123456789abcdef0123456789abcdef";
const TRANSCRIPT_SID: &str = "GT0123456789abcdef0123456789abcdef";
const RECORDING_SID: &str = "RE0123456789abcdef0123456789abcdef";

fn client() -> Intelligence {
    let transport = Transport::new(
        "https://intelligence.twilio.com",
        "AC0123456789abcdef0123456789abcdef",
        "token",
        Duration::from_secs(5),
    );
    Intelligence::new(transport, SERVICE_SID)
}

fn assert_valid(req: &Request) {
    if let Err(problems) = validate(spec(), req) {
        panic!(
            "{} {} breaks the Voice Intelligence spec:\n  - {}\nrequest: {req:#?}",
            req.method,
            req.path,
            problems.join("\n  - ")
        );
    }
}

fn form<'a>(req: &'a Request, key: &str) -> Vec<&'a str> {
    req.form
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn create_transcript_request_matches_spec() {
    let req = client().create_transcript_request(
        RECORDING_SID,
        &Participant::of_call("+14155550123"),
        "01j0000000000000000000000a",
    );
    assert_eq!(req.method, Method::POST);
    assert!(!req.idempotent, "a create is never retried blindly");
    assert_valid(&req);
    // Channel is a JSON string naming our recording and who is on which channel.
    let channel: Value = serde_json::from_str(form(&req, "Channel")[0]).unwrap();
    assert_eq!(channel["media_properties"]["source_sid"], RECORDING_SID);
    let participants = channel["participants"].as_array().unwrap();
    assert_eq!(participants[0]["channel_participant"], 1);
    assert_eq!(participants[0]["role"], "Customer");
    assert_eq!(participants[0]["media_participant_id"], "+14155550123");
    assert_eq!(participants[1]["channel_participant"], 2);
    assert_eq!(participants[1]["role"], "Agent");
    assert_eq!(form(&req, "CustomerKey"), ["01j0000000000000000000000a"]);
    assert!(form(&req, "CustomerKey")[0].len() <= 64);
}

#[test]
fn read_requests_match_spec() {
    let c = client();
    for req in [
        c.transcript_request(TRANSCRIPT_SID),
        c.transcripts_of_recording_request(RECORDING_SID),
        c.sentences_request(TRANSCRIPT_SID, None),
        c.sentences_request(
            TRANSCRIPT_SID,
            Some(&PageCursor {
                page: "1".into(),
                token: "PAGX1".into(),
            }),
        ),
    ] {
        assert_eq!(req.method, Method::GET);
        assert!(req.idempotent);
        assert_valid(&req);
    }
}

#[test]
fn delete_transcript_request_matches_spec() {
    let req = client().delete_transcript_request(TRANSCRIPT_SID);
    assert_eq!(req.method, Method::DELETE);
    assert_valid(&req);
}

#[test]
fn the_validator_catches_voice_intelligence_mistakes() {
    let mut req = client().create_transcript_request(RECORDING_SID, &[], "k");
    req.form.retain(|(k, _)| k != "Channel");
    let problems = validate(spec(), &req).expect_err("Channel is required");
    assert!(
        problems.iter().any(|p| p.contains("`Channel`")),
        "{problems:?}"
    );
    let mut req = client().sentences_request(TRANSCRIPT_SID, None);
    req.query.push(("Limit".into(), "10".into()));
    assert!(validate(spec(), &req).is_err());
    let bad_sid = client().transcript_request("GT123");
    assert!(validate(spec(), &bad_sid).is_err());
}
