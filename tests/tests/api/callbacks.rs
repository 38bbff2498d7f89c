//! Twilio's callbacks reach their call whenever they arrive: before the create request has
//! answered (the simulator then plays the whole call out first), for inbound calls before the
//! voice webhook, twenty calls at once; and our ids in the callback URLs are covered by the
//! signature; a call whose SID cannot be stored is ended, not left ringing. Plus the account's
//! calls-per-second pacing, read off the simulator's clock.

use std::time::{Duration, Instant};

use e2e_tests::aws_faults::AwsFaults;
use e2e_tests::client::{Session, email};
use e2e_tests::twilio_sim::TwilioSim;
use e2e_tests::webhook_receiver::WebhookReceiver;
use e2e_tests::{Client, Options, TestStack};
use serde_json::{Value, json};
use shared::calling::{self, Outbound};
use shared::domain::phone::E164;
use shared::twilio::signature;

async fn record(c: &Client, s: &Session, call_id: &str) -> Value {
    c.get(&format!("/calls/{call_id}"), Some(&s.access_token))
        .await
        .body
}

fn assert_completed_with_recording(call: &Value) {
    assert_eq!(call["status"], "completed", "{call}");
    assert_eq!(call["duration_seconds"], 7, "{call}");
    assert!(
        call["recording_sid"]
            .as_str()
            .is_some_and(|sid| sid.starts_with("RE")),
        "{call}"
    );
    assert_eq!(call["recording_duration_seconds"], 7, "{call}");
    assert!(call["call_sid"].as_str().is_some(), "{call}");
}

/// Every callback reached the platform and was accepted.
fn assert_all_callbacks_accepted(sim: &TwilioSim, sid: &str) {
    let call = sim.call(sid).expect("call at the simulator");
    assert!(call.done);
    assert!(call.callbacks.len() >= 5, "{:?}", call.callbacks);
    for callback in &call.callbacks {
        assert_eq!(callback.response_status, 204, "{callback:?}");
    }
}

#[tokio::test]
async fn callbacks_that_beat_the_create_answer_complete_the_call() {
    let sim = TwilioSim::start().await;
    sim.callbacks_before_answers();
    let stack = TestStack::start_with(Options::default().development_calls(&sim)).await;
    let c = stack.client();
    let s = c.register(&email("early")).await;

    let placed = c
        .get("/make-call/%2B14155550123/default", Some(&s.access_token))
        .await;
    assert_eq!(placed.status, 200, "{}", placed.text);
    let sid = placed.body["call_sid"].as_str().unwrap().to_string();
    let call_id = placed.body["call_id"].as_str().unwrap().to_string();
    assert_all_callbacks_accepted(&sim, &sid);
    let call = record(&c, &s, &call_id).await;
    assert_completed_with_recording(&call);
    assert_eq!(call["call_sid"], sid.as_str());
    // The create answer's `queued` came last and did not move the call back.
    assert_eq!(
        c.get("/calls?status=completed", Some(&s.access_token))
            .await
            .body["calls"][0]["call_id"],
        call_id.as_str()
    );
}

/// No status callback ever comes and the recording's is the first the platform hears of the
/// call: it links the Call SID and the recording reaches the call all the same.
#[tokio::test]
async fn a_recording_callback_that_comes_first_links_the_call() {
    let sim = TwilioSim::start().await;
    sim.callbacks_before_answers();
    sim.lose_status_callbacks();
    let stack = TestStack::start_with(Options::default().development_calls(&sim)).await;
    let c = stack.client();
    let s = c.register(&email("recording-first")).await;

    let placed = c
        .get("/make-call/%2B14155550123/default", Some(&s.access_token))
        .await;
    assert_eq!(placed.status, 200, "{}", placed.text);
    let sid = placed.body["call_sid"].as_str().unwrap().to_string();
    let at_twilio = sim.call(&sid).expect("call at the simulator");
    assert_eq!(at_twilio.callbacks.len(), 1, "{:?}", at_twilio.callbacks);
    assert_eq!(at_twilio.callbacks[0].response_status, 204);
    let call = record(&c, &s, placed.body["call_id"].as_str().unwrap()).await;
    assert_eq!(call["call_sid"], sid.as_str());
    assert!(
        call["recording_sid"]
            .as_str()
            .is_some_and(|sid| sid.starts_with("RE")),
        "{call}"
    );
}

#[tokio::test]
async fn twenty_concurrent_calls_with_early_callbacks_all_complete() {
    let sim = TwilioSim::start().await;
    sim.callbacks_before_answers();
    let stack = TestStack::start_with(
        Options::default()
            .development_calls(&sim)
            .env("TWILIO_CALLS_PER_SECOND", "50"),
    )
    .await;
    let c = stack.client();
    let s = c.register(&email("early20")).await;
    let placed = futures_util::future::join_all((0..20).map(|i| {
        let (c, token) = (&c, s.access_token.clone());
        async move {
            c.get(
                &format!("/make-call/%2B141555501{i:02}/default"),
                Some(&token),
            )
            .await
        }
    }))
    .await;
    for reply in &placed {
        assert_eq!(reply.status, 200, "{}", reply.text);
        let sid = reply.body["call_sid"].as_str().unwrap();
        assert_all_callbacks_accepted(&sim, sid);
        let call = record(&c, &s, reply.body["call_id"].as_str().unwrap()).await;
        assert_completed_with_recording(&call);
    }
    assert_eq!(sim.calls().len(), 20);
}

#[tokio::test]
async fn an_inbound_call_whose_final_status_beats_its_webhook_ends_completed() {
    let sim = TwilioSim::start().await;
    let receiver = WebhookReceiver::start().await;
    // (Development mode takes the receiver's http:// URL.)
    let stack = TestStack::start_with(Options::default().development_calls(&sim).jobs(3)).await;
    let c = stack.client();
    let s = c.register(&email("early-in")).await;
    let subscribed = c
        .post(
            "/webhooks",
            Some(&s.access_token),
            &json!({"url": receiver.url, "events": ["call.completed"]}),
        )
        .await;
    assert_eq!(subscribed.status, 201, "{}", subscribed.text);
    let number = "+13125550142";
    let bought = c
        .post(
            "/twilio/provision-number",
            Some(&s.access_token),
            &json!({"phone_number": number}),
        )
        .await;
    assert_eq!(bought.status, 201, "{}", bought.text);

    sim.callbacks_before_answers();
    let answered = sim.inbound_call("+14155559876", number).await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert_all_callbacks_accepted_inbound(&sim, &answered.call_sid);
    let calls = c.get("/calls", Some(&s.access_token)).await.body;
    let call = &calls["calls"][0];
    assert_eq!(call["direction"], "inbound");
    assert_eq!(call["call_sid"], answered.call_sid.as_str());
    assert_completed_with_recording(call);
    // The call ended before it was recorded, and its tenant still hears of it, once.
    receiver.wait_for(1, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let events = receiver.received();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].json()["type"], "call.completed");
    assert_eq!(events[0].json()["data"]["call_id"], call["call_id"]);
}

/// An inbound call's callbacks: the number's final status and the TwiML's recording.
fn assert_all_callbacks_accepted_inbound(sim: &TwilioSim, sid: &str) {
    let call = sim.call(sid).expect("call at the simulator");
    assert_eq!(call.callbacks.len(), 2, "{:?}", call.callbacks);
    for callback in &call.callbacks {
        assert_eq!(callback.response_status, 204, "{callback:?}");
    }
}

#[tokio::test]
async fn the_ids_in_a_callback_url_are_covered_by_its_signature() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(Options::default().development_calls(&sim)).await;
    let c = stack.client();
    let victim = c.register(&email("victim")).await;
    let attacker = c.register(&email("attacker")).await;
    let theirs = c
        .get(
            "/make-call/%2B14155550123/default",
            Some(&victim.access_token),
        )
        .await;
    let mine = c
        .get(
            "/make-call/%2B14155550124/default",
            Some(&attacker.access_token),
        )
        .await;
    let (their_call, my_sid) = (
        theirs.body["call_id"].as_str().unwrap().to_string(),
        mine.body["call_sid"].as_str().unwrap().to_string(),
    );
    sim.wait_for_call_done(&my_sid, Duration::from_secs(10))
        .await;
    let their_sid = theirs.body["call_sid"].as_str().unwrap();
    sim.wait_for_call_done(their_sid, Duration::from_secs(10))
        .await;
    let before = record(&c, &victim, &their_call).await;

    // A genuine callback of my call, replayed with the URL pointing at their call.
    let genuine = sim.call(&my_sid).unwrap().callbacks[0].clone();
    let signed = signature::sign(&sim.auth_token, &genuine.url, &genuine.params);
    let victim_id = c.get("/users/me", Some(&victim.access_token)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/twilio/call-status?tenant_id={victim_id}&call_id={their_call}");
    let mut failed = genuine.params.clone();
    for (k, v) in failed.iter_mut() {
        if k == "CallStatus" {
            *v = "failed".into();
        }
    }
    let r = c
        .send(
            c.request(reqwest::Method::POST, &path)
                .header("x-twilio-signature", signed)
                .form(&failed),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(record(&c, &victim, &their_call).await, before);
}

/// Creates at least 1/CPS apart at Twilio, whichever instance makes them, including across
/// a second boundary (a burst starting mid-second would have got two creates a few
/// milliseconds apart with per-second counting).
#[tokio::test]
async fn creates_are_spaced_by_one_over_cps_across_instances() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(
        Options::default()
            .development_calls(&sim)
            .env("TWILIO_CALLS_PER_SECOND", "2"),
    )
    .await;
    let c = stack.client();
    let s = c.register(&email("cps")).await;
    let tenant_id = c.get("/users/me", Some(&s.access_token)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = stack.second_instance().await;
    // Start the burst mid-second.
    let into_second = chrono::Utc::now().timestamp_subsec_millis();
    tokio::time::sleep(Duration::from_millis(u64::from(
        (1750 - into_second) % 1000,
    )))
    .await;

    let started = Instant::now();
    let http = futures_util::future::join_all((0..3).map(|i| {
        let (c, token) = (&c, s.access_token.clone());
        async move {
            c.get(
                &format!("/make-call/%2B1415555013{i}/default"),
                Some(&token),
            )
            .await
            .status
        }
    }));
    let direct = futures_util::future::join_all((0..3).map(|i| {
        let (other, tenant) = (&other, tenant_id.clone());
        async move {
            calling::place_outbound(
                other,
                &tenant,
                Outbound {
                    to: E164::parse(&format!("+1415555014{i}"), "to").unwrap(),
                    scenario: "default".into(),
                    scheduled: None,
                },
            )
            .await
            .map(|_| ())
        }
    }));
    let (http, direct) = tokio::join!(http, direct);
    assert!(http.iter().all(|status| *status == 200), "{http:?}");
    assert!(direct.iter().all(Result::is_ok), "{direct:?}");

    let mut creates: Vec<Instant> = sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/Calls.json"))
        .map(|r| r.received_at)
        .collect();
    assert_eq!(creates.len(), 6);
    creates.sort();
    // Slots are 500 ms apart at two per second, the first no earlier than `started`, and no
    // create is sent before its slot, so the k-th create to arrive cannot arrive before the
    // k-th slot. (Gaps between two arrivals prove nothing here: a create's trip to the
    // simulator takes a busy host anything from 1 to 200 ms, so a late first arrival makes
    // the next gap look short.) A burst let through per second, mid-second, would break this
    // at the second create.
    let clock_rounding = Duration::from_millis(5);
    for (k, at) in creates.iter().enumerate() {
        let since_start = *at - started;
        assert!(
            since_start + clock_rounding >= Duration::from_millis(500) * k as u32,
            "create {k} came {since_start:?} after the burst began"
        );
    }
    assert!(started.elapsed() >= Duration::from_millis(2400));
}

/// Twilio accepted the call but its SID cannot be stored: the write is retried, and if it
/// keeps failing the call is ended at Twilio (never left ringing untracked) and the record
/// says why.
#[tokio::test]
async fn a_call_whose_sid_cannot_be_stored_is_retried_then_ended() {
    let sim = TwilioSim::start().await;
    let faults = AwsFaults::start(e2e_tests::moto_url()).await;
    let stack = TestStack::start_with(
        Options::default()
            .development_calls(&sim)
            .env("AWS_ENDPOINT_URL", &faults.url),
    )
    .await;
    let c = stack.client();
    let s = c.register(&email("sidfail")).await;
    let t = Some(s.access_token.as_str());

    // One failed write: retried, the call goes on.
    faults.fail("TransactWriteItems", "CALLSID#", Some(1));
    let placed = c.get("/make-call/%2B14155550151/default", t).await;
    assert_eq!(placed.status, 200, "{}", placed.text);
    let sid = placed.body["call_sid"].as_str().unwrap().to_string();
    sim.wait_for_call_done(&sid, Duration::from_secs(20)).await;
    let call_id = placed.body["call_id"].as_str().unwrap();
    assert_eq!(record(&c, &s, call_id).await["status"], "completed");
    assert!(!sim.call(&sid).unwrap().hung_up_by_api);
    assert_eq!(faults.injected(), 1);

    // Every write fails: the call is ended at Twilio and recorded as failed, with why.
    faults.fail("TransactWriteItems", "CALLSID#", None);
    let refused = c.get("/make-call/%2B14155550152/default", t).await;
    assert_eq!(refused.status, 503, "{}", refused.text);
    let ended = sim
        .calls()
        .into_iter()
        .find(|call| call.to == "+14155550152")
        .expect("Twilio accepted the call");
    assert!(ended.hung_up_by_api, "the call was ended at Twilio");
    let hang_up = sim
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path.ends_with(&format!("/Calls/{}.json", ended.sid)))
        .expect("an update of the call");
    assert_eq!(
        hang_up.form,
        [("Status".to_string(), "canceled".to_string())]
    );
    let history = c.get("/calls?limit=1", t).await.body;
    let failed = &history["calls"][0];
    assert_eq!(failed["to_number"], "+14155550152");
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("could not be recorded")),
        "{failed}"
    );
}

/// Twilio placed the call but the create request got a 500: the client is told the call may
/// still ring, and the callbacks, which name the call, bring the record to the truth.
#[tokio::test]
async fn a_call_placed_despite_a_failed_create_is_tracked_by_its_callbacks() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(Options::default().development_calls(&sim)).await;
    let c = stack.client();
    let s = c.register(&email("unconfirmed")).await;
    sim.lose_next_call_answer();
    let r = c
        .get("/make-call/%2B14155550153/default", Some(&s.access_token))
        .await;
    assert_eq!(r.status, 502, "{}", r.text);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("may still ring")
    );
    let placed = sim.calls().pop().expect("Twilio placed it");
    sim.wait_for_call_done(&placed.sid, Duration::from_secs(10))
        .await;
    let history = c.get("/calls", Some(&s.access_token)).await.body;
    let call = &history["calls"][0];
    assert_completed_with_recording(call);
    assert_eq!(call["call_sid"], placed.sid.as_str());
    assert!(
        call["error"]
            .as_str()
            .is_some_and(|e| e.contains("did not confirm")),
        "{call}"
    );
}
