//! Browser voice sessions: the signalling endpoints, the media bridge on the call's sideband
//! (tools, the maximum duration, hanging up, the call record), tenancy, and bad input, with
//! the OpenAI simulators (the SDP exchange and the sideband socket).

use std::time::Duration;

use bridge::Settings;
use e2e_tests::Options;
use e2e_tests::bridge_rig::BridgeRig;
use e2e_tests::client::{Session, email};
use e2e_tests::realtime_sim::{Fault, FunctionCallScript, SimConfig, UpgradeFault};
use serde_json::{Value, json};

/// A real Chromium offer (a fake microphone and the `oai-events` data channel).
const OFFER: &str = include_str!("../../fixtures/chromium-offer.sdp");

async fn rig(settings: Settings, options: Options) -> BridgeRig {
    BridgeRig::start(SimConfig::default(), settings, options).await
}

/// Starts a session with `scenario` and exchanges the offer; returns the signal's answer.
async fn start_call(rig: &BridgeRig, session: &Session, scenario: &str) -> Value {
    let c = rig.stack.client();
    let token = Some(session.access_token.as_str());
    let created = c
        .post("/realtime/session", token, &json!({"scenario": scenario}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let signal = c
        .post(
            "/realtime/signal",
            token,
            &json!({"session_id": created.body["session_id"], "type": "offer", "sdp": OFFER}),
        )
        .await;
    assert_eq!(signal.status, 200, "{}", signal.text);
    signal.body
}

/// The `rtc_…` id of the latest WebRTC call at the simulator, once the bridge watches it.
async fn attached_rtc_call(rig: &BridgeRig) -> String {
    for _ in 0..100 {
        if let Some(call) = rig.openai_http.rtc_calls().last()
            && call.sidebands > 0
        {
            return call.call_id.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the bridge never attached to the browser call");
}

/// Waits for the call to reach a final status; returns its record.
async fn finished(rig: &BridgeRig, session: &Session, call_id: &str) -> Value {
    let c = rig.stack.client();
    for _ in 0..150 {
        let record = c
            .get(&format!("/calls/{call_id}"), Some(&session.access_token))
            .await;
        if record.body["status"] == "completed" && !record.body["bridge"].is_null() {
            return record.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the browser call {call_id} never completed");
}

#[tokio::test]
async fn a_browser_session_gets_an_answer_runs_its_tools_once_and_is_recorded() {
    let settings = Settings {
        goodbye_grace: Duration::from_millis(300),
        ..Settings::default()
    };
    let rig = rig(settings, Options::default()).await;
    rig.openai.set_function_calls(vec![FunctionCallScript {
        on_user_turn: 1,
        name: "end_call".into(),
        arguments: r#"{"reason":"done"}"#.into(),
        repeat_done: true,
        interrupted: false,
    }]);
    let c = rig.stack.client();
    let token = Some(rig.session.access_token.as_str());

    // A user id in the body is ignored: the session is the token's tenant's.
    let created = c
        .post(
            "/realtime/session",
            token,
            &json!({"scenario": "appointment_reminder", "user_id": "someone-else"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let session_id = created.body["session_id"].as_str().unwrap().to_string();
    assert_eq!(created.body["call_id"], session_id);
    assert_eq!(created.body["max_duration_seconds"], 1800);
    assert!(created.body["expires_at"].as_str().unwrap().ends_with('Z'));

    let offer = json!({"session_id": session_id, "type": "offer", "sdp": OFFER});
    let signal = c.post("/realtime/signal", token, &offer).await;
    assert_eq!(signal.status, 200, "{}", signal.text);
    assert_eq!(signal.body["type"], "answer");
    assert_eq!(signal.body["call_id"], session_id);
    let answer = signal.body["sdp"].as_str().unwrap();
    assert!(
        answer.starts_with("v=0\r\n") && answer.contains("a=setup:active"),
        "{answer}"
    );
    // The platform's key never reaches the browser.
    for reply in [&created, &signal] {
        assert!(!reply.text.contains(&rig.openai.api_key));
    }
    // One offer per session.
    let again = c.post("/realtime/signal", token, &offer).await;
    assert_eq!(again.status, 409, "{}", again.text);

    // OpenAI got the scenario's instructions and voice in a spec-valid request.
    let calls = rig.openai_http.rtc_calls();
    assert_eq!(calls.len(), 1);
    let session = &calls[0].session;
    assert!(
        session["instructions"]
            .as_str()
            .unwrap()
            .contains("web browser"),
        "{session}"
    );
    assert!(session["audio"]["output"]["voice"].is_string());
    assert!(
        rig.openai_http.violations().is_empty(),
        "{:?}",
        rig.openai_http.violations()
    );

    // The bridge attaches, configures the tools and greets; the call is in progress.
    let rtc = attached_rtc_call(&rig).await;
    let live = c.get(&format!("/calls/{session_id}"), token).await;
    assert_eq!(live.body["direction"], "browser");
    for _ in 0..50 {
        let sideband = rig
            .openai
            .sessions()
            .into_iter()
            .find(|s| s.rtc_call_id.as_deref() == Some(rtc.as_str()));
        if sideband.is_some_and(|s| s.responses_created >= 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The person speaks; the model ends the call (its `done` twice: the tool runs once).
    assert!(rig.openai.rtc_calls().caller_turn(&rtc));
    let record = finished(&rig, &rig.session, &session_id).await;
    assert_eq!(record["direction"], "browser");
    assert_eq!(record["bridge"]["end_reason"], "agent_ended");
    assert!(
        record["bridge"]["responses"].as_u64().unwrap() >= 2,
        "{record}"
    );
    assert!(
        record["bridge"]["output_audio_tokens"].as_u64().unwrap() > 0,
        "{record}"
    );
    assert!(record["duration_seconds"].as_u64().is_some(), "{record}");
    assert!(
        rig.openai_http.rtc_calls()[0].hung_up,
        "the bridge hung up at OpenAI"
    );

    let sideband = rig
        .openai
        .sessions()
        .into_iter()
        .find(|s| s.rtc_call_id.as_deref() == Some(rtc.as_str()))
        .expect("a sideband session");
    assert_eq!(
        sideband.function_outputs.len(),
        1,
        "{:?}",
        sideband.function_outputs
    );
    let update = sideband
        .events
        .iter()
        .find(|e| e["type"] == "session.update")
        .expect("the tools were configured");
    assert_eq!(update["session"]["tools"][0]["name"], "end_call");
    assert_eq!(sideband.append_count, 0, "no audio goes over the sideband");
    rig.assert_no_spec_violations();

    // Nor into a log line of the API.
    let logs = rig.stack.logs.contents();
    assert!(logs.contains("browser call started"), "{logs}");
    assert!(
        !logs.contains(&rig.openai.api_key),
        "the platform key was logged"
    );

    // The history lists it, filterable by direction.
    let history = c.get("/calls?direction=browser", token).await;
    assert_eq!(history.status, 200, "{}", history.text);
    assert_eq!(
        history.body["calls"][0]["call_id"], session_id,
        "{}",
        history.text
    );

    // Its minutes and tokens count in the tenant's usage, as a browser call.
    let mut usage = Value::Null;
    for _ in 0..50 {
        usage = c.get("/usage", token).await.body;
        if usage["total"]["browser"]["calls"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let browser = &usage["total"]["browser"];
    assert_eq!(browser["calls"], 1, "{usage}");
    assert_eq!(browser["seconds"], record["duration_seconds"], "{usage}");
    assert_eq!(usage["total"]["phone_outbound"]["calls"], 0, "{usage}");
    assert_eq!(
        usage["total"]["tokens"]["output_audio"], record["bridge"]["output_audio_tokens"],
        "{usage}"
    );
}

#[tokio::test]
async fn a_browser_session_cannot_be_transferred_and_the_model_is_told_why() {
    let rig = rig(Settings::default(), Options::default()).await;
    rig.openai.set_function_calls(vec![FunctionCallScript {
        on_user_turn: 1,
        name: "transfer_call".into(),
        arguments: "{}".into(),
        repeat_done: false,
        interrupted: false,
    }]);
    let c = rig.stack.client();
    let token = Some(rig.session.access_token.as_str());
    let created = c
        .post(
            "/realtime/custom-scenario",
            token,
            &json!({"persona": "The front desk of a dental practice", "prompt": "Help callers; hand them to a colleague when asked", "voice_type": "marin", "transfer_number": "+14155550199"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let scenario = created.body["scenario_id"].as_str().unwrap().to_string();
    start_call(&rig, &rig.session, &scenario).await;
    let rtc = attached_rtc_call(&rig).await;
    let sideband = || {
        rig.openai
            .sessions()
            .into_iter()
            .find(|s| s.rtc_call_id.as_deref() == Some(rtc.as_str()))
    };
    for _ in 0..50 {
        if sideband().is_some_and(|s| s.responses_created >= 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(rig.openai.rtc_calls().caller_turn(&rtc));
    let mut outputs = Vec::new();
    for _ in 0..50 {
        outputs = sideband().map(|s| s.function_outputs).unwrap_or_default();
        if !outputs.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    let output: Value = serde_json::from_str(&outputs[0].1).unwrap();
    assert_eq!(
        output["error"],
        bridge::tools::NOT_ON_A_PHONE_LINE,
        "{output}"
    );
    // Nothing was asked of Twilio.
    assert!(
        !rig.twilio
            .requests()
            .iter()
            .any(|r| r.path.contains("/Calls")),
        "{:?}",
        rig.twilio.requests()
    );
}

#[tokio::test]
async fn a_browser_call_past_its_maximum_duration_is_hung_up() {
    let options = Options::default().env("MAX_CALL_DURATION_SECONDS", "2");
    let rig = rig(Settings::default(), options).await;
    let answer = start_call(&rig, &rig.session, "default").await;
    let call_id = answer["call_id"].as_str().unwrap();
    let rtc = attached_rtc_call(&rig).await;
    let record = finished(&rig, &rig.session, call_id).await;
    assert_eq!(record["bridge"]["end_reason"], "max_duration");
    let stream_ms = record["bridge"]["stream_ms"].as_u64().unwrap();
    assert!((1_900..10_000).contains(&stream_ms), "{record}");
    let sideband = &rig.openai.sessions()[0];
    assert!(
        crate::bridge::told_to_wrap_up(&sideband.events),
        "the agent was told to say goodbye before the end"
    );
    assert!(
        rig.openai_http
            .rtc_calls()
            .iter()
            .any(|c| c.call_id == rtc && c.hung_up)
    );
}

/// Sideband connections the simulator saw for the WebRTC call `rtc_call_id`, once `n` of them.
async fn sidebands(rig: &BridgeRig, rtc_call_id: &str, n: usize) -> Vec<Option<u16>> {
    for _ in 0..100 {
        let seen: Vec<_> = rig
            .openai
            .sessions()
            .into_iter()
            .filter(|s| s.rtc_call_id.as_deref() == Some(rtc_call_id))
            .map(|s| s.refused)
            .collect();
        if seen.len() >= n {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the bridge never opened {n} sidebands for {rtc_call_id}");
}

/// Starts a browser call whose first sideband socket breaks soon after it is attached (the
/// sidebands after it do not); returns our call id and OpenAI's.
async fn call_whose_first_sideband_breaks(rig: &BridgeRig) -> (String, String) {
    rig.openai.set_faults(vec![Fault::DisconnectAfterMs(400)]);
    let answer = start_call(rig, &rig.session, "default").await;
    let rtc = attached_rtc_call(rig).await;
    rig.openai.set_faults(vec![]);
    (answer["call_id"].as_str().unwrap().to_string(), rtc)
}

#[tokio::test]
async fn a_broken_sideband_is_reopened_and_the_call_stays_watched() {
    let rig = rig(Settings::default(), Options::default()).await;
    let (call_id, rtc) = call_whose_first_sideband_breaks(&rig).await;
    let call_id = call_id.as_str();
    assert_eq!(
        sidebands(&rig, &rtc, 2).await,
        [None, None],
        "reopened once"
    );

    // Still watched: hanging up through the API ends it, recorded as usual.
    let c = rig.stack.client();
    let hung_up = c
        .post(
            &format!("/calls/{call_id}/hangup"),
            Some(&rig.session.access_token),
            &json!({}),
        )
        .await;
    assert_eq!(hung_up.status, 200, "{}", hung_up.text);
    let record = finished(&rig, &rig.session, call_id).await;
    assert_eq!(record["bridge"]["end_reason"], "caller_hung_up");
    assert_eq!(record["bridge"]["session_rotations"], 1);
}

#[tokio::test]
async fn a_sideband_that_cannot_be_reopened_ends_the_call_and_says_why() {
    let rig = rig(Settings::default(), Options::default()).await;
    let (call_id, rtc) = call_whose_first_sideband_breaks(&rig).await;
    let call_id = call_id.as_str();
    rig.openai
        .fail_next_upgrades(&[UpgradeFault::Refuse(503); 3]);

    let record = finished(&rig, &rig.session, call_id).await;
    assert_eq!(record["bridge"]["end_reason"], "openai_unavailable");
    assert_eq!(
        record["bridge"]["end_detail"],
        "the sideband was lost and could not be reopened: \
         OpenAI refused the connection with HTTP 503 (3 attempts)"
    );
    assert_eq!(sidebands(&rig, &rtc, 4).await[1..], [Some(503); 3]);
    // Unwatched, it would run on without its tools or limit: it was hung up at OpenAI.
    let at_openai = rig.openai_http.rtc_calls();
    assert!(
        at_openai.iter().any(|c| c.call_id == rtc && c.hung_up),
        "{at_openai:?}"
    );
}

#[tokio::test]
async fn hanging_up_a_browser_call_ends_it_at_openai_and_completes_the_record() {
    let rig = rig(Settings::default(), Options::default()).await;
    let answer = start_call(&rig, &rig.session, "default").await;
    let call_id = answer["call_id"].as_str().unwrap();
    attached_rtc_call(&rig).await;
    let c = rig.stack.client();
    let path = format!("/calls/{call_id}/hangup");
    let hung_up = c
        .post(&path, Some(&rig.session.access_token), &json!({}))
        .await;
    assert_eq!(hung_up.status, 200, "{}", hung_up.text);
    let record = finished(&rig, &rig.session, call_id).await;
    assert_eq!(record["bridge"]["end_reason"], "caller_hung_up");
    let again = c
        .post(&path, Some(&rig.session.access_token), &json!({}))
        .await;
    assert_eq!(again.status, 409, "{}", again.text);
}

#[tokio::test]
async fn another_tenant_cannot_use_or_see_a_browser_session() {
    let rig = rig(Settings::default(), Options::default()).await;
    let c = rig.stack.client();
    let owner = Some(rig.session.access_token.as_str());
    let other = c.register(&email("other")).await;
    let other = Some(other.access_token.as_str());
    let custom = c
        .post(
            "/realtime/custom-scenario",
            owner,
            &json!({"persona": "A friendly receptionist", "prompt": "Help callers book a visit", "voice_type": "marin"}),
        )
        .await;
    assert!(
        custom.status == 200 || custom.status == 201,
        "{}",
        custom.text
    );
    let scenario_id = custom.body["scenario_id"]
        .as_str()
        .expect("scenario id")
        .to_string();

    // Another tenant's scenario does not exist for them.
    let theirs = c
        .post(
            "/realtime/session",
            other,
            &json!({"scenario": scenario_id}),
        )
        .await;
    assert_eq!(theirs.status, 404, "{}", theirs.text);

    // Nor does another tenant's session, and a failed try does not use it up.
    let created = c
        .post(
            "/realtime/session",
            owner,
            &json!({"scenario": scenario_id}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let offer = json!({"session_id": created.body["session_id"], "type": "offer", "sdp": OFFER});
    let stolen = c.post("/realtime/signal", other, &offer).await;
    assert_eq!(stolen.status, 404, "{}", stolen.text);
    let signal = c.post("/realtime/signal", owner, &offer).await;
    assert_eq!(signal.status, 200, "{}", signal.text);
    let call_id = signal.body["call_id"].as_str().unwrap();

    // The call is invisible to the other tenant and cannot be hung up by them.
    let seen = c.get(&format!("/calls/{call_id}"), other).await;
    assert_eq!(seen.status, 404);
    let hang_up = c
        .post(&format!("/calls/{call_id}/hangup"), other, &json!({}))
        .await;
    assert_eq!(hang_up.status, 404);
    let listed = c.get("/calls", other).await;
    assert_eq!(listed.body["calls"], json!([]), "{}", listed.text);
    attached_rtc_call(&rig).await;
    assert!(!rig.openai_http.rtc_calls()[0].hung_up);
}

#[tokio::test]
async fn bad_sessions_and_offers_get_clear_errors_and_change_nothing() {
    let rig = rig(Settings::default(), Options::default()).await;
    let c = rig.stack.client();
    let token = Some(rig.session.access_token.as_str());
    let unauthenticated = c
        .post("/realtime/session", None, &json!({"scenario": "default"}))
        .await;
    assert_eq!(unauthenticated.status, 401);
    for (body, field) in [
        (json!({}), "scenario"),
        (json!({"scenario": "  "}), "scenario"),
        (json!({"scenario": "x".repeat(65)}), "scenario"),
    ] {
        let reply = c.post("/realtime/session", token, &body).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text);
        assert_eq!(
            reply.error_fields(),
            vec![field.to_string()],
            "{}",
            reply.text
        );
    }
    let unknown = c
        .post(
            "/realtime/session",
            token,
            &json!({"scenario": "custom_01jz0000000000000000000000"}),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);

    let created = c
        .post("/realtime/session", token, &json!({"scenario": "default"}))
        .await;
    let session_id = created.body["session_id"].clone();
    for (body, field) in [
        (json!({"type": "offer", "sdp": OFFER}), "session_id"),
        (
            json!({"session_id": "nope", "type": "offer", "sdp": OFFER}),
            "session_id",
        ),
        (
            json!({"session_id": session_id, "type": "answer", "sdp": OFFER}),
            "type",
        ),
        (json!({"session_id": session_id, "type": "offer"}), "sdp"),
        (
            json!({"session_id": session_id, "type": "offer", "sdp": "hello"}),
            "sdp",
        ),
        (
            json!({"session_id": session_id, "type": "offer", "sdp": "v=0\r\n".repeat(8000)}),
            "sdp",
        ),
    ] {
        let reply = c.post("/realtime/signal", token, &body).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text);
        assert_eq!(
            reply.error_fields(),
            vec![field.to_string()],
            "{}",
            reply.text
        );
    }
    // None of that used the session or reached OpenAI.
    assert!(rig.openai_http.rtc_calls().is_empty());

    // OpenAI failing: a clear 502, no call recorded, the session used up.
    rig.openai_http.fail_next(500);
    let offer = json!({"session_id": session_id, "type": "offer", "sdp": OFFER});
    let failed = c.post("/realtime/signal", token, &offer).await;
    assert_eq!(failed.status, 502, "{}", failed.text);
    let history = c.get("/calls", token).await;
    assert_eq!(history.body["calls"], json!([]), "{}", history.text);
    let again = c.post("/realtime/signal", token, &offer).await;
    assert_eq!(again.status, 409, "{}", again.text);

    // An expired session takes no offer.
    let created = c
        .post("/realtime/session", token, &json!({"scenario": "default"}))
        .await;
    let session_id = created.body["session_id"].as_str().unwrap();
    let me = c.get("/users/me", token).await;
    let tenant_id = me.body["id"].as_str().unwrap();
    rig.stack
        .dynamodb()
        .await
        .update_item()
        .table_name(&rig.stack.table)
        .key(
            "PK",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("TENANT#{tenant_id}")),
        )
        .key(
            "SK",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("RTCSESSION#{session_id}")),
        )
        .update_expression("SET expires_at = :past")
        .expression_attribute_values(
            ":past",
            aws_sdk_dynamodb::types::AttributeValue::N("1000".into()),
        )
        .send()
        .await
        .unwrap();
    let offer = json!({"session_id": session_id, "type": "offer", "sdp": OFFER});
    let expired = c.post("/realtime/signal", token, &offer).await;
    assert_eq!(expired.status, 409, "{}", expired.text);
    assert!(expired.text.contains("expired"), "{}", expired.text);
}

#[tokio::test]
async fn browser_sessions_are_rate_limited_per_user() {
    let options = Options {
        real_rate_limits: true,
        ..Options::default()
    };
    let rig = rig(Settings::default(), options).await;
    let c = rig.stack.client();
    let token = Some(rig.session.access_token.as_str());
    for _ in 0..5 {
        let ok = c
            .post("/realtime/session", token, &json!({"scenario": "default"}))
            .await;
        assert_eq!(ok.status, 201, "{}", ok.text);
    }
    let limited = c
        .post("/realtime/session", token, &json!({"scenario": "default"}))
        .await;
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert!(limited.header("retry-after").is_some());
}
