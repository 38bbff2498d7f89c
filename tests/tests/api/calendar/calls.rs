//! Calendar calls: the agent gets the tenant's availability in its instructions and books
//! and cancels through the bridge's calendar tools, idempotently and only for the caller.

use std::time::Duration;

use bridge::Settings;
use chrono::{NaiveDate, Utc};
use e2e_tests::Options;
use e2e_tests::bridge_rig::{BridgeRig, PlacedCall};
use e2e_tests::calendar_rig::{connect, google_sim};
use e2e_tests::google_sim::{DEFAULT_ACCOUNT, GoogleSim};
use e2e_tests::media_sim::{CallScript, Segment};
use e2e_tests::realtime_sim::{FunctionCallScript, SimConfig};
use serde_json::{Value, json};

use e2e_tests::twilio_sim::TwilioSim;

use super::calendar_stack_with;

const CALLER: &str = "+14155550123";
const OTHER_CALLER: &str = "+14155550199";

/// A bridge rig whose tenant has connected the simulator's calendar and works every day
/// 9-17 UTC in 30-minute slots.
async fn calendar_rig(settings: Settings) -> (GoogleSim, BridgeRig) {
    let google = google_sim().await;
    let rig = BridgeRig::start(
        SimConfig::default(),
        settings,
        Options::default().google(&google),
    )
    .await;
    connect(&rig.stack, &rig.session.access_token, DEFAULT_ACCOUNT).await;
    let put = rig
        .stack
        .client()
        .json(
            reqwest::Method::PUT,
            "/google-calendar/settings",
            Some(&rig.session.access_token),
            &json!({
                "time_zone": "UTC",
                "working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "working_hours": {"start": "09:00", "end": "17:00"},
                "slot_minutes": 30
            }),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    (google, rig)
}

/// Two days from now (UTC): bookable whatever the time of day.
fn day() -> NaiveDate {
    Utc::now().date_naive() + chrono::Duration::days(2)
}

fn tool(turn: usize, name: &str, arguments: Value) -> FunctionCallScript {
    FunctionCallScript {
        on_user_turn: turn,
        name: name.into(),
        arguments: arguments.to_string(),
        repeat_done: false,
        interrupted: false,
    }
}

/// The caller speaks `turns` times, then hangs up.
fn turns(turns: usize) -> CallScript {
    let mut segments = vec![Segment::Silence { ms: 1300 }];
    for _ in 0..turns {
        segments.push(Segment::Speech { ms: 500 });
        segments.push(Segment::Silence { ms: 1800 });
    }
    segments.push(Segment::Stop);
    CallScript {
        segments,
        speech_amplitude: 8000,
    }
}

async fn calendar_call(rig: &BridgeRig, to: &str) -> PlacedCall {
    rig.place(&format!(
        "/google-calendar/make-calendar-call/{}",
        to.replace('+', "%2B")
    ))
    .await
}

/// Runs `call` with the caller speaking `n` times; the outputs the bridge gave the model.
async fn run(rig: &BridgeRig, call: &PlacedCall, n: usize) -> Vec<Value> {
    let sessions_before = rig.openai.sessions().len();
    let media = rig.stream(call, turns(n)).await.expect("admitted");
    assert!(
        media.wait_closed(Duration::from_secs(30)).await,
        "the call ended"
    );
    rig.bridge_summary(&call.call_id).await;
    rig.openai.sessions()[sessions_before..]
        .iter()
        .flat_map(|s| s.function_outputs.clone())
        .map(|(_, output)| serde_json::from_str(&output).expect("JSON output"))
        .collect()
}

/// The live (not cancelled) events of the simulated calendar.
fn live_events(google: &GoogleSim) -> Vec<Value> {
    google
        .events(DEFAULT_ACCOUNT)
        .into_iter()
        .filter(|e| e["status"] != "cancelled")
        .collect()
}

#[tokio::test]
async fn the_agent_finds_a_slot_and_books_it_once_even_when_the_call_is_replayed() {
    let (google, rig) = calendar_rig(Settings::default()).await;
    let d = day();
    let booking =
        json!({"start": format!("{d}T09:00"), "purpose": "Consultation", "caller_name": "Jane"});
    rig.openai.set_function_calls(vec![
        tool(
            1,
            "find_free_slots",
            json!({"from_date": d.to_string(), "max_results": 3}),
        ),
        FunctionCallScript {
            repeat_done: true,
            ..tool(2, "book_appointment", booking.clone())
        },
        // The model asks again (a replay): nothing new may be booked.
        tool(3, "book_appointment", booking),
    ]);
    let call = calendar_call(&rig, CALLER).await;
    let outputs = run(&rig, &call, 3).await;
    assert_eq!(outputs.len(), 3, "{outputs:#?}");
    assert_eq!(outputs[0]["time_zone"], "UTC");
    assert_eq!(
        outputs[0]["slots"][0]["start"],
        format!("{d}T09:00:00+00:00"),
        "{}",
        outputs[0]
    );
    assert_eq!(outputs[1]["booked"], true, "{}", outputs[1]);
    assert_eq!(
        outputs[1]["appointment"]["start"],
        format!("{d}T09:00:00+00:00")
    );
    assert_eq!(outputs[2]["booked"], true, "{}", outputs[2]);
    assert_eq!(outputs[2]["already_booked"], true, "{}", outputs[2]);

    // Exactly one event, for this caller and this call.
    let events = live_events(&google);
    assert_eq!(events.len(), 1, "{events:#?}");
    let description = events[0]["description"].as_str().unwrap();
    assert!(
        description.contains(CALLER) && description.contains(&call.call_id),
        "{description}"
    );
    assert!(
        events[0]["summary"]
            .as_str()
            .unwrap()
            .starts_with("Consultation with Jane")
    );

    // The call lists what was booked during it.
    let record = rig.call_record(&call.call_id).await;
    let bookings = record["bookings"].as_array().expect("bookings");
    assert_eq!(bookings.len(), 1, "{record}");
    assert_eq!(bookings[0]["status"], "booked");
    assert_eq!(bookings[0]["start"], format!("{d}T09:00:00Z"));
    assert_eq!(bookings[0]["event_id"], events[0]["id"]);

    // What the model was told: the calendar in the instructions, the tools offered.
    let update = rig.openai.sessions()[0]
        .events
        .iter()
        .find(|e| e["type"] == "session.update")
        .cloned()
        .expect("session.update");
    let instructions = update["session"]["instructions"].as_str().unwrap();
    assert!(
        instructions.contains("Calendar: all times are in UTC"),
        "{instructions}"
    );
    assert!(
        instructions.contains("Free 30-minute slots"),
        "{instructions}"
    );
    assert!(
        !instructions.contains("\\n"),
        "real newlines, not backslash-n"
    );
    let tools: Vec<&str> = update["session"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for name in [
        "book_appointment",
        "cancel_appointment",
        "check_availability",
        "find_free_slots",
        "end_call",
    ] {
        assert!(tools.contains(&name), "{name} in {tools:?}");
    }
    rig.assert_no_spec_violations();
    assert!(google.violations().is_empty(), "{:#?}", google.violations());
}

#[tokio::test]
async fn only_the_caller_an_appointment_was_booked_for_can_cancel_it() {
    let (google, rig) = calendar_rig(Settings::default()).await;
    let start = format!("{}T11:00", day());
    rig.openai.set_function_calls(vec![tool(
        1,
        "book_appointment",
        json!({"start": start, "purpose": "Check-up"}),
    )]);
    let booked_call = calendar_call(&rig, CALLER).await;
    let booked = run(&rig, &booked_call, 1).await;
    assert_eq!(booked[0]["booked"], true, "{}", booked[0]);

    // Someone else asks to cancel: they have nothing to cancel, and nothing is.
    rig.openai
        .set_function_calls(vec![tool(1, "cancel_appointment", json!({"start": start}))]);
    let stranger = calendar_call(&rig, OTHER_CALLER).await;
    let refused = run(&rig, &stranger, 1).await;
    assert_eq!(refused[0]["cancelled"], false, "{}", refused[0]);
    assert_eq!(live_events(&google).len(), 1);

    // The caller it was booked for can.
    let owner = calendar_call(&rig, CALLER).await;
    let cancelled = run(&rig, &owner, 1).await;
    assert_eq!(cancelled[0]["cancelled"], true, "{}", cancelled[0]);
    assert!(live_events(&google).is_empty());
    let record = rig.call_record(&booked_call.call_id).await;
    assert_eq!(record["bookings"][0]["status"], "cancelled", "{record}");
    assert!(google.violations().is_empty(), "{:#?}", google.violations());
}

#[tokio::test]
async fn a_slow_calendar_gives_the_model_an_error_not_silence() {
    let settings = Settings {
        tool_timeout: Duration::from_millis(800),
        ..Settings::default()
    };
    let (google, rig) = calendar_rig(settings).await;
    rig.openai.set_function_calls(vec![tool(
        1,
        "check_availability",
        json!({"start": format!("{}T10:00", day())}),
    )]);
    let call = calendar_call(&rig, CALLER).await;
    let media = rig.stream(&call, turns(1)).await.expect("admitted");
    // Once the call is set up (its instructions read the calendar), the next free/busy
    // request is slow.
    for _ in 0..100 {
        let ready = rig
            .openai
            .sessions()
            .first()
            .is_some_and(|s| s.events.iter().any(|e| e["type"] == "session.update"));
        if ready {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    google.delay_next("freeBusy", Duration::from_secs(3));
    assert!(media.wait_closed(Duration::from_secs(30)).await);
    let outputs = rig.openai.sessions()[0].function_outputs.clone();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    assert!(
        outputs[0].1.contains("did not finish in time"),
        "{outputs:?}"
    );
    assert!(
        rig.openai.sessions()[0].responses_created >= 2,
        "the model was asked to speak after the error"
    );
}

#[tokio::test]
async fn calendar_calls_and_schedules_need_a_connected_calendar() {
    let twilio = TwilioSim::start().await;
    let s = calendar_stack_with(Options::default().development_calls(&twilio)).await;
    let c = s.stack.client();
    let at = (Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let schedule = |body: Value| {
        let c = &c;
        let token = s.token();
        async move {
            c.post("/google-calendar/schedule", Some(token), &body)
                .await
        }
    };
    let not_connected = schedule(json!({"phone_number": CALLER, "scheduled_time": at})).await;
    assert_eq!(not_connected.status, 409, "{}", not_connected.text);
    let call = c
        .get(
            "/google-calendar/make-calendar-call/%2B14155550123",
            Some(s.token()),
        )
        .await;
    assert_eq!(call.status, 409, "{}", call.text);

    connect(&s.stack, s.token(), DEFAULT_ACCOUNT).await;
    let wrong =
        schedule(json!({"phone_number": CALLER, "scheduled_time": at, "scenario": "default"}))
            .await;
    assert_eq!(wrong.status, 422, "{}", wrong.text);
    assert_eq!(wrong.error_fields(), ["scenario"]);
    let scheduled = schedule(json!({"phone_number": CALLER, "scheduled_time": at})).await;
    assert_eq!(scheduled.status, 201, "{}", scheduled.text);
    assert_eq!(scheduled.body["scenario"], "calendar");
    // The same scheduled-call path as every other: listed with the rest.
    let listed = c.get("/scheduled-calls", Some(s.token())).await;
    assert!(
        listed
            .text
            .contains(scheduled.body["id"].as_str().unwrap_or("?")),
        "{}",
        listed.text
    );
}

/// Buys a number for `token`'s tenant through the API and returns it.
async fn buy_number(rig: &BridgeRig, token: &str) -> String {
    let c = rig.stack.client();
    let found = c
        .post(
            "/twilio/search-numbers",
            Some(token),
            &json!({"area_code": "415", "limit": 1}),
        )
        .await;
    let number = found.body["availableNumbers"][0]["phoneNumber"]
        .as_str()
        .expect("a number")
        .to_string();
    let bought = c
        .post(
            "/twilio/provision-number",
            Some(token),
            &json!({"phone_number": number}),
        )
        .await;
    assert_eq!(bought.status, 201, "{}", bought.text);
    number
}

#[tokio::test]
async fn inbound_calls_to_a_calendar_number_get_the_tools_and_no_one_elses_calendar() {
    let (google, rig) = calendar_rig(Settings::default()).await;
    let c = rig.stack.client();
    let token = rig.session.access_token.clone();
    let number = buy_number(&rig, &token).await;
    let set = c
        .json(
            reqwest::Method::PUT,
            "/twilio/inbound-scenario",
            Some(&token),
            &json!({"scenario": "calendar"}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text);

    // Another tenant without a calendar cannot choose the calendar scenario, and its inbound
    // calls never reach this tenant's calendar.
    let other = c.register(&e2e_tests::client::email("other")).await;
    let other_number = buy_number(&rig, &other.access_token).await;
    let refused = c
        .json(
            reqwest::Method::PUT,
            "/twilio/inbound-scenario",
            Some(&other.access_token),
            &json!({"scenario": "calendar"}),
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.text);

    let start = format!("{}T13:00", day());
    rig.openai.set_function_calls(vec![tool(
        1,
        "book_appointment",
        json!({"start": start, "purpose": "Callback"}),
    )]);
    let answered = rig.twilio.inbound_call(OTHER_CALLER, &number).await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    let call = PlacedCall {
        call_id: e2e_tests::twiml::claims(
            &e2e_tests::twiml::parameter(&answered.body, "token").unwrap(),
        )["call_id"]
            .as_str()
            .unwrap()
            .to_string(),
        token: e2e_tests::twiml::parameter(&answered.body, "token").unwrap(),
        call_sid: answered.call_sid.clone(),
    };
    let outputs = run(&rig, &call, 1).await;
    assert_eq!(outputs[0]["booked"], true, "{}", outputs[0]);
    let events = live_events(&google);
    assert_eq!(events.len(), 1);
    assert!(
        events[0]["description"]
            .as_str()
            .unwrap()
            .contains(OTHER_CALLER),
        "booked for the person who called in"
    );

    // The other tenant's inbound call: its default scenario, no calendar tools.
    let before = rig.openai.sessions().len();
    rig.openai.set_function_calls(Vec::new());
    let answered = rig.twilio.inbound_call(CALLER, &other_number).await;
    let token = e2e_tests::twiml::parameter(&answered.body, "token").unwrap();
    let claims = e2e_tests::twiml::claims(&token);
    assert_eq!(claims["scenario"], "default");
    let other_call = PlacedCall {
        call_id: claims["call_id"].as_str().unwrap().to_string(),
        token,
        call_sid: answered.call_sid.clone(),
    };
    // (Its record is the other tenant's, so the stream is run without reading it.)
    let media = rig.stream(&other_call, turns(1)).await.expect("admitted");
    assert!(media.wait_closed(Duration::from_secs(30)).await);
    let update = rig.openai.sessions()[before]
        .events
        .iter()
        .find(|e| e["type"] == "session.update")
        .cloned()
        .unwrap();
    let tools = update["session"]["tools"].to_string();
    assert!(!tools.contains("book_appointment"), "{tools}");
    assert!(
        !update["session"]["instructions"]
            .as_str()
            .unwrap()
            .contains("Calendar:")
    );
    assert_eq!(
        live_events(&google).len(),
        1,
        "nothing more in this tenant's calendar"
    );
}
