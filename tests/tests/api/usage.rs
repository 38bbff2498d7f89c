//! Usage metering: a call's minutes and tokens counted once, on the day it ended, by channel;
//! `GET /usage` for the tenant alone; the monthly minute cap refusing calls before they start
//! and bounding a call to the minutes left.

use std::time::Duration;

use bridge::Settings;
use e2e_tests::Options;
use e2e_tests::bridge_rig::BridgeRig;
use e2e_tests::client::{Client, Session, email};
use e2e_tests::media_sim::{CallScript, Segment};
use e2e_tests::realtime_sim::SimConfig;
use serde_json::{Value, json};
use shared::domain::calls::Direction;
use shared::domain::usage::{Tally, Tokens};
use shared::store::usage::Metered;

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

/// The tenant's usage today, once it has at least `calls` calls in all.
async fn usage_with_calls(c: &Client, s: &Session, calls: u64) -> Value {
    for _ in 0..100 {
        let usage = c.get("/usage", Some(&s.access_token)).await;
        assert_eq!(usage.status, 200, "{}", usage.text);
        let total = &usage.body["total"];
        let counted: u64 = ["phone_inbound", "phone_outbound", "browser"]
            .iter()
            .map(|channel| total[channel]["calls"].as_u64().unwrap())
            .sum();
        if counted >= calls {
            return usage.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the usage never counted {calls} calls");
}

#[tokio::test]
async fn a_call_is_metered_once_by_channel_with_its_tokens_and_an_estimated_cost() {
    let rig = BridgeRig::start_default().await;
    let c = rig.stack.client();
    let call = rig.place_call("default").await;
    let media = rig
        .stream(
            &call,
            CallScript {
                segments: vec![
                    Segment::Silence { ms: 1200 },
                    Segment::Speech { ms: 600 },
                    Segment::Silence { ms: 1500 },
                    Segment::Stop,
                ],
                speech_amplitude: 8000,
            },
        )
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(15)).await);
    let bridge = rig.bridge_summary(&call.call_id).await;

    let usage = usage_with_calls(&c, &rig.session, 1).await;
    let days = usage["days"].as_array().unwrap();
    assert_eq!(days.len(), 1, "{usage}");
    assert_eq!(days[0]["date"], today());
    let day = &days[0]["usage"];
    let seconds = bridge["stream_ms"].as_u64().unwrap().div_ceil(1000);
    assert_eq!(
        day["phone_outbound"],
        json!({"calls": 1, "seconds": seconds, "minutes": ((seconds as f64 / 60.0) * 100.0).round() / 100.0})
    );
    assert_eq!(day["phone_inbound"]["calls"], 0);
    assert_eq!(day["browser"]["calls"], 0);
    // The tokens OpenAI reported, by kind, as the call record has them.
    for (kind, recorded) in [
        ("input_text", "input_text_tokens"),
        ("input_audio", "input_audio_tokens"),
        ("output_text", "output_text_tokens"),
        ("output_audio", "output_audio_tokens"),
    ] {
        assert_eq!(day["tokens"][kind], bridge[recorded], "{kind}");
    }
    assert!(day["tokens"]["output_audio"].as_u64().unwrap() > 0, "{day}");
    assert!(day["estimated_cost_usd"].as_f64().unwrap() > 0.0, "{day}");
    assert_eq!(usage["total"], *day);
    assert_eq!(usage["month"]["minute_cap"], 1000);
    assert_eq!(usage["month"]["call_minutes"], day["call_minutes"]);

    // The call's end reported again (a retried write, a second bridge) counts nothing more.
    let store = rig.stack.second_instance().await.store;
    let tenant = c.tenant_id(&rig.session).await;
    let again = Tally::of_call(Direction::Outbound, 600, Tokens::default());
    let counted = store
        .meter(&tenant, &call.call_id, Metered::Call, &again)
        .await
        .unwrap();
    assert!(!counted, "a call is metered once");
    let after = c.get("/usage", Some(&rig.session.access_token)).await.body;
    assert_eq!(after["days"], usage["days"]);

    // Another tenant sees none of it.
    let other = c.register(&email("usage-other")).await;
    let theirs = c.get("/usage", Some(&other.access_token)).await;
    assert_eq!(theirs.status, 200, "{}", theirs.text);
    assert_eq!(theirs.body["days"], json!([]));
    assert_eq!(theirs.body["total"]["call_minutes"], 0.0);
    assert_eq!(theirs.body["total"]["estimated_cost_usd"], 0.0);
}

#[tokio::test]
async fn the_usage_range_is_checked() {
    let rig = BridgeRig::start_default().await;
    let c = rig.stack.client();
    let t = Some(rig.session.access_token.as_str());
    let ranged = c.get("/usage?from=2026-01-01&to=2026-01-31", t).await;
    assert_eq!(ranged.status, 200, "{}", ranged.text);
    assert_eq!(ranged.body["from"], "2026-01-01");
    assert_eq!(ranged.body["to"], "2026-01-31");
    for (query, field) in [
        ("from=2026-13-01", "from"),
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("from=2026-02-01&to=2026-01-31", "to"),
        ("from=2025-01-01&to=2026-01-31", "to"),
    ] {
        let refused = c.get(&format!("/usage?{query}"), t).await;
        assert_eq!(refused.status, 422, "{query}: {}", refused.text);
        assert_eq!(refused.error_fields(), [field], "{query}: {}", refused.text);
    }
    assert_eq!(c.get("/usage", None).await.status, 401);
}

/// A stack whose tenants get one call minute a month.
async fn one_minute_a_month() -> BridgeRig {
    BridgeRig::start(
        SimConfig::default(),
        Settings::default(),
        Options::default().env("MONTHLY_MINUTE_CAP", "1"),
    )
    .await
}

/// Places a call that is metered as having run `seconds` (outbound).
async fn a_call_that_ran(rig: &BridgeRig, seconds: u64) {
    let call = rig.place_call("default").await;
    let tenant = rig.stack.client().tenant_id(&rig.session).await;
    let store = rig.stack.second_instance().await.store;
    let ran = Tally::of_call(Direction::Outbound, seconds, Tokens::default());
    assert!(
        store
            .meter(&tenant, &call.call_id, Metered::Call, &ran)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn used_up_minutes_refuse_new_calls_until_the_month_ends() {
    let rig = one_minute_a_month().await;
    let c = rig.stack.client();
    let t = Some(rig.session.access_token.as_str());
    let number = "+13125550177";
    let bought = c
        .post(
            "/twilio/provision-number",
            t,
            &json!({"phone_number": number}),
        )
        .await;
    assert_eq!(bought.status, 201, "{}", bought.text);
    // A first call, allowed; it ran a whole minute.
    a_call_that_ran(&rig, 60).await;

    let calls_before = rig.twilio.calls().len();
    let refused = c.get("/make-call/%2B14155550123/default", t).await;
    refused.assert_problem(429, &["call minutes are used up (1 minutes)"], "make-call");
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(
        retry_after > 0 && retry_after <= 31 * 86_400,
        "{retry_after}"
    );
    assert_eq!(
        rig.twilio.calls().len(),
        calls_before,
        "Twilio was never asked"
    );

    // An inbound call is not answered by the agent: the caller hears an apology.
    let answered = rig.twilio.inbound_call("+14155559876", number).await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert!(
        answered.body.contains("<Say>") && answered.body.contains("<Hangup/>"),
        "{}",
        answered.body
    );
    assert!(!answered.body.contains("<Connect>"), "{}", answered.body);
    let inbound = c.get("/calls?direction=inbound", t).await.body;
    let recorded = &inbound["calls"][0];
    assert!(
        recorded["error"]
            .as_str()
            .unwrap()
            .contains("minutes are used up"),
        "{inbound}"
    );

    // A browser session is refused too.
    let browser = c
        .post("/realtime/session", t, &json!({"scenario": "default"}))
        .await;
    browser.assert_problem(429, &["minutes are used up"], "browser session");

    let usage = c.get("/usage", t).await.body;
    assert_eq!(usage["month"]["minute_cap"], 1);
    assert_eq!(usage["month"]["minutes_left"], 0.0);
}

#[tokio::test]
async fn a_call_runs_only_for_the_minutes_left_when_it_started() {
    let rig = one_minute_a_month().await;
    let c = rig.stack.client();
    let t = Some(rig.session.access_token.as_str());
    // 56 of the month's 60 seconds are used.
    a_call_that_ran(&rig, 56).await;

    // A browser session is told it has the 4 seconds left, not the longest call.
    let session = c
        .post("/realtime/session", t, &json!({"scenario": "default"}))
        .await;
    assert_eq!(session.status, 201, "{}", session.text);
    assert_eq!(session.body["max_duration_seconds"], 4);

    // Twilio is asked to end the call after them, and the bridge ends the agent's part there.
    let call = rig.place_call("default").await;
    let placed = rig.twilio.call(&call.call_sid).unwrap();
    let time_limit = placed.form.iter().find(|(k, _)| k == "TimeLimit");
    assert_eq!(time_limit.map(|(_, v)| v.as_str()), Some("4"));
    let caller = CallScript {
        segments: vec![
            Segment::Silence { ms: 1000 },
            Segment::Speech { ms: 500 },
            Segment::Silence { ms: 20_000 },
            Segment::Stop,
        ],
        speech_amplitude: 8000,
    };
    let media = rig.stream(&call, caller).await.expect("admitted");
    assert!(
        media.wait_closed(Duration::from_secs(12)).await,
        "the bridge ended the call when its minutes ran out"
    );
    let summary = rig.bridge_summary(&call.call_id).await;
    assert_eq!(summary["end_reason"], "minutes_used_up", "{summary}");
    let ran = summary["stream_ms"].as_u64().unwrap();
    assert!(ran >= 4_000, "the call had its 4 seconds, it ran {ran} ms");
}
