//! Outbound calls against the Twilio simulator: what is sent to Twilio, the call record moving
//! through status callbacks, refusals before any Twilio call, error mapping, history paging,
//! caller ID by mode, and isolation.

use std::time::Duration;

use e2e_tests::client::{Session, email};
use e2e_tests::twilio_sim::TwilioSim;
use e2e_tests::{Client, Options, SYSTEM_NUMBER, TestStack, twiml};
use reqwest::Method;
use serde_json::json;

fn calls_created(sim: &TwilioSim) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/Calls.json"))
        .count()
}

async fn call_done(c: &Client, s: &Session, sim: &TwilioSim, call_id: &str) -> serde_json::Value {
    let record = c
        .get(&format!("/calls/{call_id}"), Some(&s.access_token))
        .await
        .body;
    let sid = record["call_sid"].as_str().unwrap().to_string();
    sim.wait_for_call_done(&sid, Duration::from_secs(10)).await;
    c.get(&format!("/calls/{call_id}"), Some(&s.access_token))
        .await
        .body
}

#[tokio::test]
async fn an_outbound_call_is_placed_recorded_and_tracked_to_completion() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(Options::default().development_calls(&sim)).await;
    let c = stack.client();
    let s = c.register(&email("out")).await;
    let t = Some(s.access_token.as_str());

    let placed = c
        .get("/make-call/%2B14155550123/appointment_reminder", t)
        .await;
    assert_eq!(placed.status, 200, "{}", placed.text);
    assert_eq!(placed.body["status"], "success");
    assert_eq!(placed.body["from_number"], SYSTEM_NUMBER);
    let call_id = placed.body["call_id"].as_str().unwrap().to_string();
    let tenant_id = c.get("/users/me", t).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let sent = sim.calls();
    assert_eq!(sent.len(), 1);
    let form = &sent[0].form;
    let get = |k: &str| {
        form.iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(get("To"), ["+14155550123"]);
    assert_eq!(get("From"), [SYSTEM_NUMBER]);
    assert_eq!(get("Record"), ["true"]);
    assert_eq!(get("RecordingChannels"), ["dual"]);
    // Callbacks name the tenant and the call, so they find it before the SID is stored.
    let ours = format!("tenant_id={tenant_id}&call_id={call_id}");
    assert_eq!(
        get("StatusCallback"),
        [format!("{}/twilio/call-status?{ours}", stack.public_url)]
    );
    assert_eq!(
        get("RecordingStatusCallback"),
        [format!(
            "{}/twilio/recording-status?{ours}",
            stack.public_url
        )]
    );
    assert_eq!(
        get("StatusCallbackEvent"),
        ["initiated", "ringing", "answered", "completed"]
    );
    let xml = get("Twiml")[0];
    let url = twiml::attribute(xml, "Stream", "url").unwrap();
    assert_eq!(url, "wss://bridge.test/twilio");
    assert!(
        !url.contains('?'),
        "per-call data never goes in the stream URL"
    );
    assert!(
        xml.find("<Say>").unwrap() < xml.find("<Connect>").unwrap(),
        "recording notice first"
    );
    let claims = twiml::claims(&twiml::parameter(xml, "token").unwrap());
    assert_eq!(claims["call_id"], call_id.as_str());
    assert_eq!(claims["scenario"], "appointment_reminder");
    assert_eq!(claims["direction"], "outbound");
    assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() <= 600);

    let done = call_done(&c, &s, &sim, &call_id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["duration_seconds"], 7);
    assert!(done["recording_sid"].as_str().unwrap().starts_with("RE"));
    assert_eq!(done["recording_duration_seconds"], 7);
    assert_eq!(done["direction"], "outbound");
    let listed = c.get("/calls?status=completed&direction=outbound", t).await;
    assert_eq!(listed.body["calls"][0]["call_id"], call_id.as_str());
    assert_eq!(
        c.get("/onboarding/check-step/welcome_call", t).await.body["completed"],
        true
    );

    // Another tenant sees nothing and can touch nothing.
    let other = c.register(&email("peek")).await;
    let o = Some(other.access_token.as_str());
    assert_eq!(c.get(&format!("/calls/{call_id}"), o).await.status, 404);
    assert_eq!(
        c.json(
            Method::POST,
            &format!("/calls/{call_id}/hangup"),
            o,
            &json!({})
        )
        .await
        .status,
        404
    );
    assert_eq!(c.get("/calls", o).await.body["calls"], json!([]));
    // A finished call cannot be hung up.
    assert_eq!(
        c.json(
            Method::POST,
            &format!("/calls/{call_id}/hangup"),
            t,
            &json!({})
        )
        .await
        .status,
        409
    );
}

#[tokio::test]
async fn refusals_happen_before_any_twilio_call() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(
        Options::default()
            .development_calls(&sim)
            .env("DAILY_OUTBOUND_CALL_CAP", "1"),
    )
    .await;
    let c = stack.client();
    let s = c.register(&email("refuse")).await;
    let other = c.register(&email("refuse-other")).await;
    let t = Some(s.access_token.as_str());
    let theirs = c
        .post(
            "/realtime/custom-scenario",
            Some(&other.access_token),
            &json!({"persona": "Someone else's persona", "prompt": "Someone else's private prompt.", "voice_type": "marin"}),
        )
        .await
        .body["scenario_id"]
        .as_str()
        .unwrap()
        .to_string();

    for (path, status, field) in [
        ("/make-call/%2B14155550123/no_such_scenario", 404, None),
        (
            &format!("/make-custom-call/%2B14155550123/{theirs}") as &str,
            404,
            None,
        ),
        ("/make-custom-call/%2B14155550123/default", 404, None),
        ("/make-call/911/default", 400, Some("phone_number")),
        ("/make-call/112/default", 400, Some("phone_number")),
        (
            "/make-call/%2B19005550100/default",
            400,
            Some("phone_number"),
        ),
        (
            "/make-call/%2B18765550100/default",
            400,
            Some("phone_number"),
        ),
        (
            "/make-call/%2B442071838750/default",
            400,
            Some("phone_number"),
        ),
        ("/make-call/not-a-number/default", 422, Some("phone_number")),
    ] {
        let r = c.get(path, t).await;
        assert_eq!(r.status, status, "{path}: {}", r.text);
        if let Some(f) = field {
            assert_eq!(r.error_fields(), [f], "{path}");
        }
    }
    assert_eq!(calls_created(&sim), 0, "no refusal reached Twilio");
    assert_eq!(c.get("/calls", t).await.body["calls"], json!([]));

    assert_eq!(
        c.get("/make-call/4155550123/default", t).await.status,
        200,
        "10-digit NANP accepted"
    );
    let capped = c.get("/make-call/%2B14155550124/default", t).await;
    assert_eq!(capped.status, 429, "{}", capped.text);
    assert!(capped.header("retry-after").is_some());
    assert_eq!(calls_created(&sim), 1);
}

#[tokio::test]
async fn twilio_errors_become_clear_problems_and_failed_records() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(Options::default().development_calls(&sim)).await;
    let c = stack.client();
    let s = c.register(&email("err")).await;
    let t = Some(s.access_token.as_str());

    sim.fail_next_call(
        400,
        21211,
        "The 'To' number +14155550199 is not a valid phone number.",
    );
    let bad = c.get("/make-call/%2B14155550199/default", t).await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert!(
        bad.body["detail"]
            .as_str()
            .unwrap()
            .contains("not a valid phone number")
    );
    assert_eq!(bad.error_fields(), ["phone_number"]);

    sim.fail_next_call(503, 20503, "Service unavailable");
    let down = c.get("/make-call/%2B14155550198/default", t).await;
    assert_eq!(down.status, 502, "{}", down.text);
    assert!(
        !down.text.contains("20503"),
        "internal details stay internal"
    );

    let history = c.get("/calls", t).await.body;
    let calls = history["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    for call in calls {
        assert_eq!(call["status"], "failed");
        assert!(call["error"].is_string());
        assert!(call["call_sid"].is_null());
    }
    assert_eq!(calls_created(&sim), 2, "a create-call is never retried");
}

#[tokio::test]
async fn production_mode_calls_from_the_tenants_own_number() {
    let sim = TwilioSim::start().await;
    let calendar = crate::calendar::calendar_stack_with(
        Options::default()
            .twilio(&sim)
            .env("TWILIO_PHONE_NUMBER", SYSTEM_NUMBER),
    )
    .await;
    let c = calendar.stack.client();
    let t = Some(calendar.token());
    let none = c.get("/make-call/%2B14155550123/default", t).await;
    assert_eq!(none.status, 400, "{}", none.text);
    assert!(
        none.body["detail"]
            .as_str()
            .unwrap()
            .contains("No phone number available")
    );
    assert_eq!(calls_created(&sim), 0);

    c.post(
        "/twilio/provision-number",
        t,
        &json!({"phone_number": "+13125550100"}),
    )
    .await;
    let created = c
        .post(
            "/realtime/custom-scenario",
            t,
            &json!({"persona": "A florist's assistant", "prompt": "Confirm the delivery time with the customer.", "voice_type": "marin"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let custom = created.body["scenario_id"].as_str().unwrap().to_string();
    e2e_tests::calendar_rig::connect(
        &calendar.stack,
        calendar.token(),
        e2e_tests::google_sim::DEFAULT_ACCOUNT,
    )
    .await;
    // Every way of placing a call.
    for path in [
        "/make-call/%2B14155550123/default".to_string(),
        format!("/make-custom-call/%2B14155550123/{custom}"),
        "/google-calendar/make-calendar-call/%2B14155550123".to_string(),
    ] {
        let placed = c.get(&path, t).await;
        assert_eq!(placed.status, 200, "{path}: {}", placed.text);
        assert_eq!(placed.body["from_number"], "+13125550100", "{path}");
    }
    let calls = sim.calls();
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|call| call.from == "+13125550100"));
    let history = c.get("/calls", t).await.body;
    let mut scenarios: Vec<&str> = history["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|call| call["scenario"].as_str().unwrap())
        .collect();
    scenarios.sort();
    let mut expected = vec![
        "default",
        custom.as_str(),
        shared::domain::scenarios::CALENDAR,
    ];
    expected.sort();
    assert_eq!(scenarios, expected);
}

#[tokio::test]
async fn history_pages_with_an_opaque_cursor_and_filters() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(Options::default().development_calls(&sim)).await;
    let c = stack.client();
    let s = c.register(&email("page")).await;
    let t = Some(s.access_token.as_str());
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = c
            .get(&format!("/make-call/%2B1415555012{i}/default"), t)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        ids.push(r.body["call_id"].as_str().unwrap().to_string());
    }
    ids.reverse(); // newest first
    let first = c.get("/calls?limit=2", t).await;
    let page: Vec<&str> = first.body["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(page, [ids[0].as_str(), ids[1].as_str()]);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = c.get(&format!("/calls?limit=2&cursor={cursor}"), t).await;
    assert_eq!(second.body["calls"][0]["call_id"], ids[2].as_str());
    assert!(second.body["next_cursor"].is_null());

    assert_eq!(
        c.get("/calls?direction=inbound", t).await.body["calls"],
        json!([])
    );
    assert_eq!(
        c.get(
            "/calls?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z",
            t
        )
        .await
        .body["calls"],
        json!([])
    );
    assert_eq!(
        c.get("/calls?from=2000-01-01T00:00:00Z", t).await.body["calls"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=500", "limit"),
        ("status=exploded", "status"),
        ("direction=sideways", "direction"),
        ("from=yesterday", "from"),
        ("cursor=not-a-cursor", "cursor"),
    ] {
        let r = c.get(&format!("/calls?{query}"), t).await;
        assert_eq!(r.status, 422, "{query}: {}", r.text);
        assert_eq!(r.error_fields(), [field], "{query}");
    }
    // A cursor resumes only the listing it came from: not another tenant's, not other filters.
    let other = c.register(&email("page-other")).await;
    let theirs = c
        .get(
            &format!("/calls?cursor={cursor}"),
            Some(&other.access_token),
        )
        .await;
    assert_eq!(theirs.status, 422, "{}", theirs.text);
    assert_eq!(theirs.error_fields(), ["cursor"]);
    let refiltered = c
        .get(
            &format!("/calls?limit=2&direction=outbound&cursor={cursor}"),
            t,
        )
        .await;
    assert_eq!(refiltered.status, 422, "{}", refiltered.text);
}

#[tokio::test]
async fn busy_and_unanswered_calls_end_in_their_status() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(Options::default().development_calls(&sim)).await;
    let c = stack.client();
    let s = c.register(&email("busy")).await;
    sim.set_call_outcome(e2e_tests::twilio_sim::CallOutcome::Busy);
    let r = c
        .get("/make-call/%2B14155550123/default", Some(&s.access_token))
        .await;
    let done = call_done(&c, &s, &sim, r.body["call_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "busy");
    assert!(done["recording_sid"].is_null());
    sim.set_call_outcome(e2e_tests::twilio_sim::CallOutcome::NoAnswer);
    let r = c
        .get("/make-call/%2B14155550124/default", Some(&s.access_token))
        .await;
    let done = call_done(&c, &s, &sim, r.body["call_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "no-answer");
}

#[tokio::test]
async fn calls_are_paced_to_the_accounts_calls_per_second() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(
        Options::default()
            .development_calls(&sim)
            .env("TWILIO_CALLS_PER_SECOND", "1"),
    )
    .await;
    let c = stack.client();
    let s = c.register(&email("cps")).await;
    let started = std::time::Instant::now();
    let (a, b, d) = tokio::join!(
        c.get("/make-call/%2B14155550131/default", Some(&s.access_token)),
        c.get("/make-call/%2B14155550132/default", Some(&s.access_token)),
        c.get("/make-call/%2B14155550133/default", Some(&s.access_token)),
    );
    assert_eq!((a.status, b.status, d.status), (200, 200, 200));
    // Three calls at one per second need three distinct seconds: more than one second apart.
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(calls_created(&sim), 3);
}
