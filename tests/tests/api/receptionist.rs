//! What a good receptionist does besides talking: hand the caller to a person (`transfer_call`,
//! a `<Dial>` through Twilio, its outcome on the record) and leave a message on an answering
//! machine (asynchronous answering-machine detection).

use std::time::Duration;

use e2e_tests::bridge_rig::{BridgeRig, PlacedCall};
use e2e_tests::client::Session;
use e2e_tests::media_sim::{CallScript, MediaCall, Segment};
use e2e_tests::outage::Outage;
use e2e_tests::realtime_sim::FunctionCallScript;
use e2e_tests::twilio_sim::{AmdVerdict, DialOutcome};
use serde_json::{Value, json};
use shared::twilio::signature;

const PERSON: &str = "+14155550199";

/// Creates a custom scenario with `extra` fields; returns its id.
async fn scenario(rig: &BridgeRig, session: &Session, extra: Value) -> String {
    let mut body = json!({
        "persona": "The front desk of a dental practice",
        "prompt": "Help callers with appointments; hand them to a colleague when they ask",
        "voice_type": "marin",
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let created = rig
        .stack
        .client()
        .post(
            "/realtime/custom-scenario",
            Some(&session.access_token),
            &body,
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body["scenario_id"].as_str().unwrap().to_string()
}

/// A transfer asked for on the caller's first turn.
fn transfer_on_first_turn() -> Vec<FunctionCallScript> {
    vec![FunctionCallScript {
        on_user_turn: 1,
        name: "transfer_call".into(),
        arguments: r#"{"reason":"asked for a person"}"#.into(),
        repeat_done: false,
        interrupted: false,
    }]
}

/// Places a call with a scenario that transfers to [`PERSON`], and a caller who asks.
async fn call_that_asks_for_a_person(rig: &BridgeRig) -> (PlacedCall, MediaCall) {
    let id = scenario(rig, &rig.session, json!({"transfer_number": PERSON})).await;
    rig.openai.set_function_calls(transfer_on_first_turn());
    let call = rig
        .place(&format!("/make-custom-call/%2B14155550123/{id}"))
        .await;
    let caller = CallScript {
        segments: vec![
            Segment::Silence { ms: 1200 },
            Segment::Speech { ms: 600 },
            Segment::Silence { ms: 6000 },
            Segment::Stop,
        ],
        speech_amplitude: 8000,
    };
    let media = rig.stream(&call, caller).await.expect("admitted");
    (call, media)
}

/// Posts `form` to the stack's `path_and_query` as Twilio would: signed with its auth token
/// over the public URL.
async fn post_as_twilio(
    rig: &BridgeRig,
    path_and_query: &str,
    form: &[(String, String)],
) -> e2e_tests::client::Reply {
    let c = rig.stack.client();
    let url = format!("{}{path_and_query}", rig.stack.public_url);
    let signed = signature::sign(&rig.twilio.auth_token, &url, form);
    c.send(
        c.request(reqwest::Method::POST, path_and_query)
            .header("x-twilio-signature", signed)
            .form(form),
    )
    .await
}

/// What this month's usage says of transfers a person took.
async fn transferred_usage(rig: &BridgeRig) -> Value {
    let usage = rig
        .stack
        .client()
        .get("/usage", Some(&rig.session.access_token))
        .await;
    assert_eq!(usage.status, 200, "{}", usage.text);
    usage.body["total"]["transferred"].clone()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What our `<Dial>` action answered Twilio. The simulator keeps it once the answer is back,
/// a moment after the handler has written the outcome the test waited for.
async fn dial_answer(rig: &BridgeRig, call_sid: &str) -> (u16, String) {
    for _ in 0..100 {
        if let Some(answer) = rig.twilio.call(call_sid).and_then(|c| c.dial_answer) {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the <Dial> action of {call_sid} was never answered");
}

/// The call's record once its transfer has an outcome.
async fn transfer_outcome(rig: &BridgeRig, call_id: &str) -> Value {
    for _ in 0..100 {
        let record = rig.call_record(call_id).await;
        if record["transfer"]["status"]
            .as_str()
            .is_some_and(|s| s != "dialing")
        {
            return record;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the transfer of {call_id} never ended");
}

#[tokio::test]
async fn the_agent_hands_the_caller_to_a_person_through_twilio() {
    let rig = BridgeRig::start_default().await;
    let (call, media) = call_that_asks_for_a_person(&rig).await;
    assert!(
        media.wait_closed(Duration::from_secs(15)).await,
        "the stream ended"
    );
    let summary = rig.bridge_summary(&call.call_id).await;
    assert_eq!(summary["end_reason"], "transferred", "{summary}");

    // The model was offered the tool, and asked for it once.
    let session = &rig.openai.sessions()[0];
    let update = session
        .events
        .iter()
        .find(|e| e["type"] == "session.update")
        .unwrap();
    let tools: Vec<&str> = update["session"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["end_call", "transfer_call"]);
    assert_eq!(session.function_outputs.len(), 1);
    rig.assert_no_spec_violations();

    // Twilio was asked once to dial the person, with the platform's number as caller ID.
    let redirects: Vec<_> = rig
        .twilio
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with(&format!("/Calls/{}.json", call.call_sid)))
        .collect();
    assert_eq!(redirects.len(), 1, "{redirects:?}");
    let twiml = &redirects[0]
        .form
        .iter()
        .find(|(k, _)| k == "Twiml")
        .expect("new TwiML")
        .1;
    let placed = rig.twilio.call(&call.call_sid).unwrap();
    assert!(
        twiml.contains(&format!("<Number>{PERSON}</Number>")),
        "{twiml}"
    );
    assert!(
        twiml.contains(&format!(r#"callerId="{}""#, placed.from)),
        "{twiml}"
    );
    // The call keeps its recording: it was asked for on the call itself, not in the TwiML.
    assert!(
        placed
            .form
            .iter()
            .any(|(k, v)| k == "Record" && v == "true")
    );

    let record = transfer_outcome(&rig, &call.call_id).await;
    let transfer = &record["transfer"];
    assert_eq!(transfer["to"], PERSON);
    assert_eq!(transfer["status"], "completed", "{record}");
    assert_eq!(
        transfer["reason"], "asked for a person",
        "the model's reason"
    );
    assert_eq!(transfer["duration_seconds"], 25);
    let (status, answer) = dial_answer(&rig, &call.call_sid).await;
    assert_eq!(status, 200);
    assert!(
        answer.contains("<Hangup/>") && !answer.contains("<Say>"),
        "{answer}"
    );

    // The person's 25 seconds are metered once: Twilio repeating the action counts nothing more.
    let metered = json!({"calls": 1, "seconds": 25, "minutes": 0.42});
    assert_eq!(transferred_usage(&rig).await, metered);
    let tenant = rig.stack.client().tenant_id(&rig.session).await;
    let repeat = post_as_twilio(
        &rig,
        &format!(
            "/twilio/transfer-status?tenant_id={tenant}&call_id={}",
            call.call_id
        ),
        &pairs(&[
            ("CallSid", &call.call_sid),
            ("DialCallStatus", "completed"),
            ("DialCallDuration", "25"),
        ]),
    )
    .await;
    assert_eq!(repeat.status, 200, "{}", repeat.text);
    assert_eq!(transferred_usage(&rig).await, metered);
}

#[tokio::test]
async fn a_person_who_does_not_answer_leaves_the_caller_an_apology() {
    let rig = BridgeRig::start_default().await;
    rig.twilio.set_dial_outcome(DialOutcome::Busy);
    let (call, media) = call_that_asks_for_a_person(&rig).await;
    assert!(media.wait_closed(Duration::from_secs(15)).await);
    let record = transfer_outcome(&rig, &call.call_id).await;
    assert_eq!(record["transfer"]["status"], "busy", "{record}");
    assert!(record["transfer"]["duration_seconds"].is_null());
    assert_eq!(transferred_usage(&rig).await["calls"], 0, "nobody talked");
    let (_, answer) = dial_answer(&rig, &call.call_sid).await;
    assert!(
        answer.contains("<Say>") && answer.contains("<Hangup/>"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_transfer_twilio_refuses_leaves_the_call_with_the_agent() {
    let rig = BridgeRig::start_default().await;
    let id = scenario(&rig, &rig.session, json!({"transfer_number": PERSON})).await;
    rig.openai.set_function_calls(transfer_on_first_turn());
    let call = rig
        .place(&format!("/make-custom-call/%2B14155550123/{id}"))
        .await;
    rig.twilio.set_outage(Some(Outage::Status(500)));
    let caller = CallScript {
        segments: vec![
            Segment::Silence { ms: 1200 },
            Segment::Speech { ms: 600 },
            Segment::Silence { ms: 3000 },
            Segment::Stop,
        ],
        speech_amplitude: 8000,
    };
    let media = rig.stream(&call, caller).await.expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(15)).await);
    rig.twilio.set_outage(None);
    // The caller stayed with the agent until they hung up.
    let summary = rig.bridge_summary(&call.call_id).await;
    assert_eq!(summary["end_reason"], "caller_hung_up", "{summary}");
    let record = transfer_outcome(&rig, &call.call_id).await;
    assert_eq!(record["transfer"]["status"], "failed", "{record}");
    assert!(
        record["transfer"]["error"]
            .as_str()
            .unwrap()
            .contains("unavailable"),
        "{record}"
    );
    // The model heard why, and answered.
    let session = &rig.openai.sessions()[0];
    let told = session.events.iter().any(|e| {
        e["type"] == "conversation.item.create" && e.to_string().contains("did not go through")
    });
    assert!(told, "the model was not told the transfer failed");
}

#[tokio::test]
async fn a_transfer_number_follows_the_destination_rules() {
    let rig = BridgeRig::start_default().await;
    let c = rig.stack.client();
    let t = Some(rig.session.access_token.as_str());
    let base = json!({
        "persona": "The front desk of a dental practice",
        "prompt": "Help callers with appointments",
        "voice_type": "marin",
    });
    for number in ["911", "+19005550100", "+442071838750", "call me"] {
        let mut body = base.clone();
        body["transfer_number"] = json!(number);
        let refused = c.post("/realtime/custom-scenario", t, &body).await;
        assert_eq!(refused.status, 422, "{number}: {}", refused.text);
        assert_eq!(refused.error_fields(), ["transfer_number"], "{number}");
    }
    let mut body = base.clone();
    body["transfer_number"] = json!("(415) 555-0199");
    body["voicemail_message"] =
        json!("Hello, this is the dental practice calling about your visit.");
    let created = c.post("/realtime/custom-scenario", t, &body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["scenario_id"].as_str().unwrap();
    let got = c.get(&format!("/custom-scenarios/{id}"), t).await.body;
    assert_eq!(got["transfer_number"], PERSON);
    assert!(
        got["voicemail_message"]
            .as_str()
            .unwrap()
            .starts_with("Hello")
    );
    // A full replace without them removes them.
    let replaced = c
        .json(
            reqwest::Method::PUT,
            &format!("/custom-scenarios/{id}"),
            t,
            &base,
        )
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    let got = c.get(&format!("/custom-scenarios/{id}"), t).await.body;
    assert!(got["transfer_number"].is_null(), "{got}");
    assert!(got["voicemail_message"].is_null(), "{got}");
}

// ---------------------------------------------------------------------------------------------
// Answering machines
// ---------------------------------------------------------------------------------------------

fn amd(answered_by: &str, after_ms: u64) -> AmdVerdict {
    AmdVerdict {
        answered_by: answered_by.into(),
        after: Duration::from_millis(after_ms),
    }
}

fn caller(segments: Vec<Segment>) -> CallScript {
    CallScript {
        segments,
        speech_amplitude: 8000,
    }
}

/// The `response.create` events the bridge sent in the call's first session.
fn responses_asked(rig: &BridgeRig) -> Vec<Value> {
    rig.openai.sessions()[0]
        .events
        .iter()
        .filter(|e| e["type"] == "response.create")
        .cloned()
        .collect()
}

#[tokio::test]
async fn the_greeting_waits_for_twilio_to_say_a_person_answered() {
    let rig = BridgeRig::start_default().await;
    // The verdict comes after the callee hung up: the agent never spoke.
    rig.twilio.set_amd_verdict(amd("human", 2500));
    let call = rig.place_call("default").await;
    let placed = rig.twilio.call(&call.call_sid).unwrap();
    let asked = |name: &str| {
        placed
            .form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        asked("MachineDetection").as_deref(),
        Some("DetectMessageEnd")
    );
    assert_eq!(asked("AsyncAmd").as_deref(), Some("true"));
    let callback = asked("AsyncAmdStatusCallback").unwrap();
    assert!(
        callback.contains("/twilio/amd-status?") && callback.contains(&call.call_id),
        "{callback}"
    );
    let media = rig
        .stream(
            &call,
            caller(vec![Segment::Silence { ms: 1500 }, Segment::Stop]),
        )
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(10)).await);
    let summary = rig.bridge_summary(&call.call_id).await;
    assert_eq!(summary["responses"], 0, "{summary}");
    assert!(responses_asked(&rig).is_empty());

    // A person told apart at once is greeted, and the record says who answered.
    rig.twilio.set_amd_verdict(amd("human", 200));
    let call = rig.place_call("default").await;
    let media = rig
        .stream(
            &call,
            caller(vec![Segment::Silence { ms: 2500 }, Segment::Stop]),
        )
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(10)).await);
    assert!(media.report().media_received > 0, "the agent spoke");
    let summary = rig.bridge_summary(&call.call_id).await;
    assert_eq!(summary["end_reason"], "caller_hung_up");
    let record = rig.call_record(&call.call_id).await;
    assert_eq!(record["answered_by"], "human", "{record}");
    assert_eq!(record["voicemail_left"], false);
}

#[tokio::test]
async fn a_machine_hears_the_scenarios_message_after_its_beep_then_the_call_ends() {
    let rig = BridgeRig::start_default().await;
    let message =
        "Hello, this is the dental practice calling about your visit. Please call us back.";
    let id = scenario(&rig, &rig.session, json!({"voicemail_message": message})).await;
    // The machine's greeting plays, then its beep: Twilio's verdict.
    rig.twilio.set_amd_verdict(amd("machine_end_beep", 2000));
    let call = rig
        .place(&format!("/make-custom-call/%2B14155550123/{id}"))
        .await;
    let media = rig
        .stream(
            &call,
            caller(vec![
                Segment::Speech { ms: 1600 },
                Segment::Silence { ms: 12000 },
                Segment::Stop,
            ]),
        )
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(20)).await);
    let report = media.report();
    assert!(report.closed_by_server, "the agent hung up: {report:?}");
    assert!(report.media_received > 0, "the machine heard the message");

    let summary = rig.bridge_summary(&call.call_id).await;
    assert_eq!(summary["end_reason"], "voicemail_left", "{summary}");
    // No conversation with the machine's greeting: the message was the only response.
    assert_eq!(summary["responses"], 1, "{summary}");
    let asked = responses_asked(&rig);
    assert_eq!(asked.len(), 1, "{asked:?}");
    let instructions = asked[0]["response"]["instructions"].as_str().unwrap();
    assert!(instructions.contains(message), "{instructions}");
    rig.assert_no_spec_violations();

    let record = rig.call_record(&call.call_id).await;
    assert_eq!(record["answered_by"], "machine_end_beep", "{record}");
    assert_eq!(record["voicemail_left"], true, "{record}");
    let verdicts = rig.twilio.call(&call.call_sid).unwrap().amd_callbacks;
    assert_eq!(verdicts.len(), 1);
    assert_eq!(verdicts[0].response_status, 204);
}

#[tokio::test]
async fn without_a_message_of_its_own_the_agent_composes_one_from_the_scenario() {
    let rig = BridgeRig::start_default().await;
    rig.twilio.set_amd_verdict(amd("machine_end_silence", 1000));
    let call = rig.place_call("appointment_reminder").await;
    let media = rig
        .stream(
            &call,
            caller(vec![Segment::Silence { ms: 12000 }, Segment::Stop]),
        )
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(20)).await);
    assert_eq!(
        rig.bridge_summary(&call.call_id).await["end_reason"],
        "voicemail_left"
    );
    let asked = responses_asked(&rig);
    let instructions = asked[0]["response"]["instructions"].as_str().unwrap();
    let persona = shared::domain::scenarios::predefined("appointment_reminder")
        .unwrap()
        .persona;
    assert!(instructions.contains(persona), "{instructions}");
    assert!(
        instructions.contains("Leave a short voicemail"),
        "{instructions}"
    );
}

#[tokio::test]
async fn a_fax_ends_the_call_without_a_word() {
    let rig = BridgeRig::start_default().await;
    rig.twilio.set_amd_verdict(amd("fax", 300));
    let call = rig.place_call("default").await;
    let media = rig
        .stream(
            &call,
            caller(vec![Segment::Silence { ms: 8000 }, Segment::Stop]),
        )
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(10)).await);
    assert!(media.report().closed_by_server);
    let summary = rig.bridge_summary(&call.call_id).await;
    assert_eq!(summary["end_reason"], "not_a_person", "{summary}");
    assert_eq!(summary["responses"], 0);
    assert_eq!(rig.call_record(&call.call_id).await["answered_by"], "fax");
}

#[tokio::test]
async fn a_verdict_that_beats_the_create_answer_still_reaches_its_call() {
    let rig = BridgeRig::start_default().await;
    // The verdict is the first word of the call the platform hears: it links the SID.
    rig.twilio.lose_status_callbacks();
    rig.twilio.callbacks_before_answers();
    let c = rig.stack.client();
    let placed = c
        .get(
            "/make-call/%2B14155550123/default",
            Some(&rig.session.access_token),
        )
        .await;
    assert_eq!(placed.status, 200, "{}", placed.text);
    let call_id = placed.body["call_id"].as_str().unwrap();
    let record = rig.call_record(call_id).await;
    assert_eq!(record["answered_by"], "human", "{record}");
    assert_eq!(record["call_sid"], placed.body["call_sid"]);
}

#[tokio::test]
async fn forged_verdicts_and_transfer_outcomes_change_nothing() {
    let rig = BridgeRig::start_default().await;
    let c = rig.stack.client();
    let call = rig.place_call("default").await;
    let mut record = rig.call_record(&call.call_id).await;
    for _ in 0..50 {
        if record["answered_by"] == "human" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        record = rig.call_record(&call.call_id).await;
    }
    assert_eq!(record["answered_by"], "human", "{record}");
    let tenant = c.tenant_id(&rig.session).await;
    let query = format!("?tenant_id={tenant}&call_id={}", call.call_id);
    for (path, form) in [
        (
            "/twilio/amd-status",
            pairs(&[
                ("CallSid", &call.call_sid),
                ("AnsweredBy", "machine_end_beep"),
            ]),
        ),
        (
            "/twilio/transfer-status",
            pairs(&[("CallSid", &call.call_sid), ("DialCallStatus", "completed")]),
        ),
    ] {
        let elsewhere = signature::sign(&rig.twilio.auth_token, "https://evil.example/x", &form);
        for sig in [None, Some("AAAA"), Some(elsewhere.as_str())] {
            let mut request = c
                .request(reqwest::Method::POST, &format!("{path}{query}"))
                .form(&form);
            if let Some(sig) = sig {
                request = request.header("x-twilio-signature", sig);
            }
            let refused = c.send(request).await;
            assert_eq!(refused.status, 403, "{path} {sig:?}: {}", refused.text);
        }
        // Signed by Twilio's key over the URL, the same form is taken (the route is live).
        let taken = post_as_twilio(&rig, &format!("{path}{query}"), &form).await;
        assert!(
            taken.status == 200 || taken.status == 204,
            "{path}: {}",
            taken.text
        );
        if path == "/twilio/amd-status" {
            let after = rig.call_record(&call.call_id).await;
            assert_eq!(after["answered_by"], "machine_end_beep");
        }
    }
    // A transfer outcome, even signed, is no transfer on a call that never asked for one.
    let after = rig.call_record(&call.call_id).await;
    assert!(after["transfer"].is_null(), "{after}");
}
