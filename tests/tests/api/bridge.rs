//! The media bridge with both simulators: audio both ways, barge-in accuracy, tools run once,
//! OpenAI failures, admission, draining, session rotation and the call record.

use std::time::Duration;

use bridge::Settings;
use e2e_tests::Options;
use e2e_tests::bridge_rig::{BridgeRig, PlacedCall};
use e2e_tests::media_sim::{CallScript, ConnectError, Segment};
use e2e_tests::realtime_sim::{Fault, FunctionCallScript, SimConfig, UpgradeFault};
use shared::domain::calls::Direction;
use shared::store::calls::CallRecord;

fn script(segments: Vec<Segment>) -> CallScript {
    CallScript {
        segments,
        speech_amplitude: 8000,
    }
}

async fn rig(sim: SimConfig, settings: Settings) -> BridgeRig {
    BridgeRig::start(sim, settings, Options::default()).await
}

#[tokio::test]
async fn audio_flows_both_ways_and_the_call_record_is_written() {
    let rig = rig(SimConfig::default(), Settings::default()).await;
    let call = rig.place_call("appointment_reminder").await;
    let media = rig
        .stream(
            &call,
            script(vec![
                Segment::Silence { ms: 1500 },
                Segment::Speech { ms: 600 },
                Segment::Silence { ms: 1800 },
                Segment::Stop,
            ]),
        )
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(15)).await);
    let report = media.report();
    assert!(report.bad_frames.is_empty(), "{:?}", report.bad_frames);
    assert!(
        report.media_received >= 50,
        "the caller heard the agent: {report:?}"
    );
    assert!(report.marks_echoed.iter().any(|m| m.contains(':')));

    // Every caller frame reached the model, the ones sent while OpenAI connected included.
    let mut sessions = rig.openai.sessions();
    for _ in 0..50 {
        if sessions[0].append_count >= report.frames_sent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        sessions = rig.openai.sessions();
    }
    assert_eq!(sessions.len(), 1);
    let session = &sessions[0];
    assert!(session.authorized);
    assert_eq!(
        session.append_count, report.frames_sent,
        "no caller audio was dropped"
    );
    assert!(
        session.append_count >= 100,
        "the model heard the caller: {}",
        session.append_count
    );
    assert!(session.responses_created >= 1, "the agent spoke first");
    let update = session
        .events
        .iter()
        .find(|e| e["type"] == "session.update")
        .expect("session.update");
    assert_eq!(
        update["session"]["audio"]["input"]["format"]["type"],
        "audio/pcmu"
    );
    assert_eq!(update["session"]["audio"]["output"]["voice"], "coral");
    let instructions = update["session"]["instructions"].as_str().unwrap();
    assert!(
        instructions.contains("outbound call")
            && instructions.contains("honestly that you are an AI")
    );

    let summary = rig.bridge_summary(&call.call_id).await;
    assert_eq!(summary["end_reason"], "caller_hung_up");
    assert!(summary["responses"].as_u64().unwrap() >= 2);
    assert!(summary["output_audio_tokens"].as_u64().unwrap() > 0);
    assert!(summary["agent_audio_ms"].as_u64().unwrap() >= 1000);

    // The bridge's metrics saw the call and timed the relay both ways (they are per process,
    // and other tests' calls run in this process too, hence the lower bounds).
    let http = rig
        .bridge_url
        .replace("ws://", "http://")
        .replace("/twilio", "/metrics");
    let metrics = reqwest::get(&http).await.unwrap().text().await.unwrap();
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name) && !l.starts_with('#'))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1.0)
    };
    assert!(value("bridge_active_calls ") >= 0.0, "{metrics}");
    assert!(value("bridge_calls_total ") >= 1.0);
    // Frames sent while OpenAI connected are flushed from the buffer, not timed.
    assert!(value("bridge_inbound_relay_seconds_count ") >= (report.frames_sent / 2) as f64);
    assert!(value("bridge_outbound_relay_seconds_count ") >= 1.0);
    assert!(
        !metrics.contains(&call.call_id),
        "no per-call data in metrics"
    );
    // Health answers one request per connection: a connection kept alive by a load balancer
    // for health checks must never carry a stream's upgrade past the stream path's routing.
    let health = reqwest::get(http.replace("/metrics", "/health"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["connection"], "close");
    rig.assert_no_spec_violations();
}

#[tokio::test]
async fn barge_in_clears_truncates_to_what_was_heard_and_drops_late_audio() {
    let sim = SimConfig {
        response_audio_ms: 4000,
        late_deltas_after_barge_in: 3,
        ..SimConfig::default()
    };
    let rig = rig(sim, Settings::default()).await;
    let call = rig.place_call("default").await;
    let media = rig
        .stream(
            &call,
            script(vec![
                Segment::Silence { ms: 1400 },
                Segment::Speech { ms: 500 },
                Segment::Silence { ms: 1500 },
                Segment::Stop,
            ]),
        )
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(15)).await);
    let report = media.report();
    assert!(
        !report.clears.is_empty(),
        "Twilio was told to clear: {report:?}"
    );
    let truncates = rig.openai.sessions()[0].truncates.clone();
    assert_eq!(truncates.len(), 1, "{truncates:?}");
    let truncate = &truncates[0];
    assert!(truncate.accepted);
    let heard = report.clears[0]
        .heard_ms_by_item
        .get(&truncate.item_id)
        .copied()
        .unwrap_or(0);
    let diff = truncate.audio_end_ms.abs_diff(heard);
    assert!(
        diff <= 40,
        "truncated at {} ms, the caller heard {heard} ms",
        truncate.audio_end_ms
    );
    assert!(truncate.audio_end_ms < truncate.item_audio_ms);
    assert!(
        report.audio_after_clear.is_empty(),
        "stale audio: {:?}",
        report.audio_after_clear
    );
    assert_eq!(rig.bridge_summary(&call.call_id).await["barge_ins"], 1);
    rig.assert_no_spec_violations();
}

#[tokio::test]
async fn a_tool_runs_once_even_when_its_done_event_repeats() {
    let rig = rig(SimConfig::default(), Settings::default()).await;
    rig.openai.set_function_calls(vec![FunctionCallScript {
        on_user_turn: 1,
        name: "end_call".into(),
        arguments: r#"{"reason":"caller said goodbye"}"#.into(),
        repeat_done: true,
        interrupted: false,
    }]);
    let call = rig.place_call("default").await;
    let media = rig
        .stream(
            &call,
            script(vec![
                Segment::Silence { ms: 1300 },
                Segment::Speech { ms: 500 },
            ]),
        )
        .await
        .expect("admitted");
    assert!(
        media.wait_closed(Duration::from_secs(15)).await,
        "the agent hung up"
    );
    assert!(media.report().closed_by_server);
    let outputs = rig.openai.sessions()[0].function_outputs.clone();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    assert_eq!(
        rig.bridge_summary(&call.call_id).await["end_reason"],
        "agent_ended"
    );
    rig.assert_no_spec_violations();
}

#[tokio::test]
async fn an_openai_disconnect_recovers_with_a_new_session() {
    let rig = rig(SimConfig::default(), Settings::default()).await;
    rig.openai.set_faults(vec![Fault::DisconnectAfterMs(1200)]);
    let call = rig.place_call("default").await;
    let media = rig
        .stream(
            &call,
            script(vec![
                Segment::Silence { ms: 1600 },
                Segment::Speech { ms: 500 },
                Segment::Silence { ms: 1500 },
                Segment::Stop,
            ]),
        )
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(15)).await);
    let sessions = rig.openai.sessions();
    assert!(sessions.len() >= 2, "a new session took over");
    assert!(sessions[1].append_count > 0, "the caller kept being heard");
    let summary = rig.bridge_summary(&call.call_id).await;
    assert_eq!(summary["end_reason"], "caller_hung_up");
    assert!(summary["session_rotations"].as_u64().unwrap() >= 1);
    rig.assert_no_spec_violations();
}

/// Waits until the simulator has seen `n` upgrades.
async fn upgrades(rig: &BridgeRig, n: usize) {
    for _ in 0..100 {
        if rig.openai.sessions().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("OpenAI never saw {n} upgrades");
}

#[tokio::test]
async fn a_reconnect_refused_or_left_unanswered_is_tried_again_and_the_call_goes_on() {
    let settings = Settings {
        openai_connect_timeout: Duration::from_millis(600),
        ..Settings::default()
    };
    let rig = rig(SimConfig::default(), settings).await;
    rig.openai.set_faults(vec![Fault::DisconnectAfterMs(1000)]);
    let call = rig.place_call("default").await;
    let media = rig
        .stream(
            &call,
            script(vec![
                Segment::Silence { ms: 4500 },
                Segment::Speech { ms: 500 },
                Segment::Silence { ms: 1500 },
                Segment::Stop,
            ]),
        )
        .await
        .expect("admitted");
    upgrades(&rig, 1).await;
    // Only the first session is dropped; the next two upgrades fail in two ways.
    rig.openai.set_faults(vec![]);
    rig.openai
        .fail_next_upgrades(&[UpgradeFault::Refuse(503), UpgradeFault::Silent]);
    assert!(media.wait_closed(Duration::from_secs(20)).await);
    let sessions = rig.openai.sessions();
    assert_eq!(sessions.len(), 4, "first, refused, silent, replacement");
    assert_eq!(sessions[1].refused, Some(503));
    assert!(
        sessions[2].events.is_empty(),
        "the silent one was given up on"
    );
    assert!(sessions[3].append_count > 0, "the caller was heard again");
    assert!(
        !media.report().closed_by_server,
        "the caller hung up, not us"
    );
    let summary = rig.bridge_summary(&call.call_id).await;
    assert_eq!(summary["end_reason"], "caller_hung_up");
    assert_eq!(summary["session_rotations"], 1);
    assert!(summary.get("end_detail").is_none(), "{summary}");
    rig.assert_no_spec_violations();
}

#[tokio::test]
async fn a_call_openai_keeps_refusing_ends_and_the_record_says_why() {
    let rig = rig(SimConfig::default(), Settings::default()).await;
    rig.openai.set_faults(vec![Fault::DisconnectAfterMs(800)]);
    let call = rig.place_call("default").await;
    let media = rig
        .stream(&call, script(vec![Segment::Silence { ms: 10_000 }]))
        .await
        .expect("admitted");
    upgrades(&rig, 1).await;
    rig.openai.set_faults(vec![]);
    rig.openai
        .fail_next_upgrades(&[UpgradeFault::Refuse(429); 3]);
    assert!(media.wait_closed(Duration::from_secs(10)).await);
    assert!(media.report().closed_by_server);
    let refused: Vec<_> = rig.openai.sessions().iter().map(|s| s.refused).collect();
    assert_eq!(
        refused,
        [None, Some(429), Some(429), Some(429)],
        "three tries, no more"
    );
    let summary = rig.bridge_summary(&call.call_id).await;
    assert_eq!(summary["end_reason"], "openai_unavailable");
    assert_eq!(
        summary["end_detail"],
        "the OpenAI session was lost and none could replace it: \
         OpenAI refused the connection with HTTP 429 (3 attempts)"
    );
}

#[tokio::test]
async fn a_refusal_that_would_repeat_is_not_tried_again() {
    let rig = rig(SimConfig::default(), Settings::default()).await;
    rig.openai.fail_next_upgrades(&[UpgradeFault::Refuse(401)]);
    let call = rig.place_call("default").await;
    let media = rig
        .stream(&call, script(vec![Segment::Silence { ms: 5000 }]))
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(10)).await);
    assert!(media.report().closed_by_server);
    assert_eq!(rig.openai.sessions().len(), 1, "a wrong key is not retried");
    let summary = rig.bridge_summary(&call.call_id).await;
    assert_eq!(summary["end_reason"], "openai_unavailable");
    assert_eq!(
        summary["end_detail"],
        "OpenAI refused the connection with HTTP 401"
    );
}

#[tokio::test]
async fn a_keypad_press_reaches_the_model_as_text_it_answers() {
    let rig = rig(SimConfig::default(), Settings::default()).await;
    let call = rig.place_call("default").await;
    let media = rig
        .stream(
            &call,
            script(vec![
                Segment::Silence { ms: 2500 },
                Segment::Digit('1'),
                Segment::Digit('x'),
                Segment::Silence { ms: 1500 },
                Segment::Stop,
            ]),
        )
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(10)).await);
    let events = rig.openai.sessions()[0].events.clone();
    let pressed = events
        .iter()
        .position(|e| {
            e["type"] == "conversation.item.create"
                && e["item"]["content"][0]["text"]
                    == "[The caller pressed 1 on the phone's keypad.]"
        })
        .expect("the press reached the model");
    assert!(
        events[pressed + 1..]
            .iter()
            .any(|e| e["type"] == "response.create"),
        "and the model was asked to answer it: {events:?}"
    );
    let presses = events
        .iter()
        .filter(|e| e["type"] == "conversation.item.create")
        .count();
    assert_eq!(presses, 1, "a key no keypad has is ignored");
    rig.assert_no_spec_violations();
}

#[tokio::test]
async fn a_fatal_openai_error_ends_the_call_cleanly() {
    let rig = rig(SimConfig::default(), Settings::default()).await;
    rig.openai
        .set_faults(vec![Fault::SessionExpiredAfterMs(800)]);
    let call = rig.place_call("default").await;
    let media = rig
        .stream(&call, script(vec![Segment::Silence { ms: 5000 }]))
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(10)).await);
    assert!(media.report().closed_by_server);
    let summary = rig.bridge_summary(&call.call_id).await;
    assert_eq!(summary["end_reason"], "openai_error");
    assert_eq!(summary["end_detail"], "OpenAI error session_expired");
    rig.assert_no_spec_violations();
}

#[tokio::test]
async fn unsigned_upgrades_and_bad_tokens_never_reach_openai() {
    let rig = rig(SimConfig::default(), Settings::default()).await;
    let call = rig.place_call("default").await;

    let mut unsigned = rig.connect_options(&call);
    unsigned.auth_token = None;
    let refused = e2e_tests::media_sim::MediaCall::connect(unsigned, script(vec![])).await;
    assert!(
        matches!(refused, Err(ConnectError::Refused(403))),
        "{:?}",
        refused.err()
    );
    let mut forged = rig.connect_options(&call);
    forged.auth_token = Some("not-the-auth-token".into());
    assert!(matches!(
        e2e_tests::media_sim::MediaCall::connect(forged, script(vec![])).await,
        Err(ConnectError::Refused(403))
    ));

    for token in ["garbage", &format!("{}x", call.token)] {
        let mut bad = rig.connect_options(&call);
        bad.custom_parameters = vec![("token".into(), token.to_string())];
        let media = e2e_tests::media_sim::MediaCall::connect(bad, script(vec![]))
            .await
            .expect("upgrade");
        assert!(media.wait_closed(Duration::from_secs(5)).await);
        assert_eq!(media.report().close_code, Some(1008));
    }
    // A valid token streamed for another Call SID is refused too.
    let mut other_sid = rig.connect_options(&call);
    other_sid.call_sid = "CA00000000000000000000000000000000".into();
    let media = e2e_tests::media_sim::MediaCall::connect(other_sid, script(vec![]))
        .await
        .expect("upgrade");
    assert!(media.wait_closed(Duration::from_secs(5)).await);
    assert_eq!(media.report().close_code, Some(1008));

    assert!(
        rig.openai.sessions().is_empty(),
        "no OpenAI session was opened"
    );
    // The genuine stream is still admitted once, and only once.
    let genuine = rig
        .stream(
            &call,
            script(vec![Segment::Silence { ms: 300 }, Segment::Stop]),
        )
        .await
        .expect("admitted");
    assert!(genuine.wait_closed(Duration::from_secs(10)).await);
    let replay = rig.stream(&call, script(vec![])).await.expect("upgrade");
    assert!(replay.wait_closed(Duration::from_secs(5)).await);
    assert_eq!(replay.report().close_code, Some(1008));
    assert_eq!(rig.openai.sessions().len(), 1);
    rig.assert_no_spec_violations();
}

#[tokio::test]
async fn sigterm_drains_then_ends_live_calls() {
    let settings = Settings {
        drain_timeout: Duration::from_millis(800),
        ..Settings::default()
    };
    let mut rig = rig(SimConfig::default(), settings).await;
    let call = rig.place_call("default").await;
    let media = rig
        .stream(&call, script(vec![Segment::Silence { ms: 20_000 }]))
        .await
        .expect("admitted");
    tokio::time::sleep(Duration::from_millis(500)).await;

    let http = format!(
        "http://{}",
        rig.bridge_url
            .trim_start_matches("ws://")
            .trim_end_matches("/twilio")
    );
    let terminate = {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let started = std::time::Instant::now();
        let terminator = rig.terminator();
        let waiter = async {
            let result = terminator.await;
            let _ = tx.send(started.elapsed());
            result
        };
        let probe = async {
            // Until the bridge has taken the signal in (a loaded machine may take a moment).
            let mut ready = Ok(200);
            for _ in 0..12 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                ready = reqwest::get(format!("{http}/ready"))
                    .await
                    .map(|r| r.status().as_u16());
                if ready.as_ref().is_ok_and(|s| *s == 503) {
                    break;
                }
            }
            let second = rig.place_call("default").await;
            let refused = e2e_tests::media_sim::MediaCall::connect(
                rig.connect_options(&second),
                script(vec![]),
            )
            .await;
            (ready, refused.err().map(|e| format!("{e:?}")))
        };
        let (result, (ready, refused)) = tokio::join!(waiter, probe);
        (result, ready, refused, rx.await.unwrap_or_default())
    };
    let (result, ready, refused, took) = terminate;
    assert!(result.is_ok());
    assert_eq!(ready.ok(), Some(503), "not ready while draining");
    assert_eq!(
        refused.as_deref(),
        Some("Refused(503)"),
        "new streams refused while draining"
    );
    assert!(
        took >= Duration::from_millis(700),
        "live calls got the drain timeout: {took:?}"
    );
    assert!(media.wait_closed(Duration::from_secs(5)).await);
    assert!(media.report().closed_by_server);
    assert_eq!(
        rig.bridge_summary(&call.call_id).await["end_reason"],
        "shutdown"
    );
    rig.assert_no_spec_violations();
}

#[tokio::test]
async fn a_new_session_takes_over_between_turns() {
    // Due after the first exchange (greeting, caller turn, answer), before the second. The
    // caller first lets the whole greeting (1 s) play even when the session is slow to open
    // on a loaded machine: speaking over it would be a barge-in, and cut it short.
    let settings = Settings {
        rotate_after: Duration::from_millis(4000),
        ..Settings::default()
    };
    let rig = rig(SimConfig::default(), settings).await;
    let call = rig.place_call("default").await;
    let media = rig
        .stream(
            &call,
            script(vec![
                Segment::Silence { ms: 2500 },
                Segment::Speech { ms: 500 },
                Segment::Silence { ms: 3000 },
                Segment::Speech { ms: 500 },
                Segment::Silence { ms: 1800 },
                Segment::Stop,
            ]),
        )
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(20)).await);
    let report = media.report();
    let sessions = rig.openai.sessions();
    assert!(sessions.len() >= 2, "rotated");
    assert!(
        sessions[1].responses_created == 0,
        "the new session was not asked to greet again"
    );
    assert!(
        report.media_received >= 150,
        "the caller heard every answer: {}",
        report.media_received
    );
    let seeded = sessions[1]
        .events
        .iter()
        .filter(|e| e["type"] == "conversation.item.create")
        .count();
    assert!(
        seeded >= 2,
        "the conversation was carried over: {:?}",
        sessions[1].events
    );
    assert!(
        sessions[1].append_count > 0,
        "the new session hears the caller"
    );
    let summary = rig.bridge_summary(&call.call_id).await;
    assert!(summary["session_rotations"].as_u64().unwrap() >= 1);
    assert_eq!(summary["end_reason"], "caller_hung_up");
    rig.assert_no_spec_violations();
}

#[tokio::test]
async fn the_maximum_call_duration_ends_the_call() {
    let rig = BridgeRig::start(
        SimConfig::default(),
        Settings::default(),
        Options::default().env("MAX_CALL_DURATION_SECONDS", "2"),
    )
    .await;
    let call = rig.place_call("default").await;
    let media = rig
        .stream(&call, script(vec![Segment::Silence { ms: 10_000 }]))
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(6)).await);
    assert_eq!(
        rig.bridge_summary(&call.call_id).await["end_reason"],
        "max_duration"
    );
    // Before the end the agent was told to say goodbye (a quarter of this short call ahead).
    assert!(
        told_to_wrap_up(&rig.openai.sessions()[0].events),
        "no wrap-up notice"
    );
    rig.assert_no_spec_violations();
}

/// Whether the model was told that the call's time is nearly up.
pub fn told_to_wrap_up(events: &[serde_json::Value]) -> bool {
    events.iter().any(|e| {
        e["type"] == "conversation.item.create"
            && e["item"]["content"][0]["text"]
                .as_str()
                .is_some_and(|t| t.contains("time is nearly up"))
    })
}

/// The keyless local call: API, bridge, Twilio and OpenAI all on this machine, no accounts.
/// Twilio (simulated) places the call, fetches nothing but the TwiML it was given, opens the
/// Media Stream it names, and a scripted caller talks to the simulated model through the bridge.
#[tokio::test]
async fn a_whole_call_runs_on_this_machine_with_no_accounts() {
    let rig = rig(SimConfig::default(), Settings::default()).await;
    rig.twilio.stream_calls(script(vec![
        Segment::Silence { ms: 1400 },
        Segment::Speech { ms: 600 },
        Segment::Silence { ms: 1600 },
        Segment::Stop,
    ]));
    let c = rig.stack.client();
    let placed = c
        .get(
            "/make-call/%2B14155550123/reservation_booking",
            Some(&rig.session.access_token),
        )
        .await;
    assert_eq!(placed.status, 200, "{}", placed.text);
    let sid = placed.body["call_sid"].as_str().unwrap().to_string();
    let call_id = placed.body["call_id"].as_str().unwrap().to_string();
    rig.twilio
        .wait_for_call_done(&sid, Duration::from_secs(20))
        .await;

    let heard = rig.twilio.media_report(&sid).expect("the stream ran");
    assert!(
        heard.media_received >= 50,
        "the caller heard the model: {heard:?}"
    );
    assert!(heard.bad_frames.is_empty());
    assert!(
        rig.openai.sessions()[0].append_count >= 100,
        "the model heard the caller"
    );
    let record = rig.call_record(&call_id).await;
    assert_eq!(record["status"], "completed");
    let summary = rig.bridge_summary(&call_id).await;
    assert_eq!(summary["end_reason"], "caller_hung_up");
    rig.assert_no_spec_violations();
}

/// The bridge's logs say what happened to a call without any audio, token or key in them.
#[tokio::test]
async fn bridge_logs_hold_no_audio_or_secret() {
    use shared::telemetry::{Capture, Format};
    let logs = Capture::default();
    // The bridge runs on this (single-threaded) test runtime, so a thread-default subscriber
    // sees all of its events.
    let _guard =
        tracing::subscriber::set_default(shared::telemetry::subscriber(Format::Json, logs.clone()));
    let rig = rig(SimConfig::default(), Settings::default()).await;
    rig.openai.set_function_calls(vec![FunctionCallScript {
        on_user_turn: 1,
        name: "end_call".into(),
        arguments: "{}".into(),
        repeat_done: false,
        interrupted: false,
    }]);
    let call = rig.place_call("default").await;
    let media = rig
        .stream(
            &call,
            script(vec![
                Segment::Silence { ms: 1300 },
                Segment::Speech { ms: 500 },
            ]),
        )
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(15)).await);
    rig.bridge_summary(&call.call_id).await;
    let text = logs.contents();
    assert!(
        text.contains("call connected") && text.contains("call ended"),
        "{text}"
    );
    for secret in [&rig.openai.api_key, &rig.twilio.auth_token, &call.token] {
        assert!(!text.contains(secret.as_str()), "a secret reached the logs");
    }
    // μ-law silence and the caller's tone, base64: no audio is ever logged.
    for audio in ["////////", "\"payload\"", "\"audio\"", "\"delta\""] {
        assert!(!text.contains(audio), "audio reached the logs: {audio}");
    }
    rig.assert_no_spec_violations();
}

#[tokio::test]
async fn a_tool_call_of_an_interrupted_response_never_runs() {
    let rig = rig(SimConfig::default(), Settings::default()).await;
    rig.openai.set_function_calls(vec![FunctionCallScript {
        on_user_turn: 1,
        name: "end_call".into(),
        arguments: "{}".into(),
        repeat_done: false,
        interrupted: true,
    }]);
    let call = rig.place_call("default").await;
    let media = rig
        .stream(
            &call,
            script(vec![
                Segment::Silence { ms: 1300 },
                Segment::Speech { ms: 500 },
                Segment::Silence { ms: 1500 },
                Segment::Stop,
            ]),
        )
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(15)).await);
    assert!(
        rig.openai.sessions()[0].function_outputs.is_empty(),
        "the interrupted call did not run"
    );
    assert_eq!(
        rig.bridge_summary(&call.call_id).await["end_reason"],
        "caller_hung_up",
        "end_call never ran"
    );
    rig.assert_no_spec_violations();
}

/// Twilio can start the media stream before the create request has answered (and so before
/// the platform stored the SID): the bridge links the SID itself instead of refusing the call.
#[tokio::test]
async fn a_stream_that_beats_the_stored_sid_is_admitted_and_links_it() {
    let rig = rig(SimConfig::default(), Settings::default()).await;
    let state = rig.stack.second_instance().await;
    let tenant = rig
        .stack
        .client()
        .get("/users/me", Some(&rig.session.access_token))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let record = CallRecord::new(
        Direction::Outbound,
        e2e_tests::SYSTEM_NUMBER,
        "+14155550123",
        "default",
    );
    state.store.create_call(&tenant, &record).await.unwrap();
    let token = state
        .stream_tokens
        .issue(
            &tenant,
            &record.call_id,
            "default",
            Direction::Outbound,
            shared::allowance::CallLength {
                limit: Duration::from_secs(1800),
                by_cap: false,
            },
        )
        .unwrap();
    let call = PlacedCall {
        call_id: record.call_id.clone(),
        call_sid: format!("CA{}", "7".repeat(32)),
        token,
    };
    let media = rig
        .stream(
            &call,
            script(vec![Segment::Silence { ms: 300 }, Segment::Stop]),
        )
        .await
        .expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(10)).await);
    assert_eq!(rig.openai.sessions().len(), 1, "the call went through");
    let stored = state.store.call(&tenant, &call.call_id).await.unwrap();
    assert_eq!(stored.call_sid.as_deref(), Some(call.call_sid.as_str()));
    assert_eq!(
        state.store.call_by_sid(&call.call_sid).await.unwrap(),
        Some((tenant, call.call_id.clone()))
    );
}

#[tokio::test]
async fn the_start_up_check_reaches_the_table_within_the_bridges_grant_and_fails_without_it() {
    let stack = e2e_tests::TestStack::start().await;
    let bridge_state = infra::permissions::guarded_as(&stack.second_instance().await, "bridge");
    bridge_state
        .store
        .check_reachable()
        .await
        .expect("the table answers the bridge");
    let missing = shared::store::Store::new(stack.dynamodb().await, "no-such-table");
    assert!(missing.check_reachable().await.is_err());
}
