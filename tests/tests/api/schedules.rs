//! Scheduled calls through EventBridge Scheduler (moto) and the local scheduler loop: the
//! schedule's shape, firing once, cancel, a repeated event placing one call, a runner that
//! died after claiming (taken over, never dialling twice), validation and isolation.

use std::time::Duration;

use e2e_tests::client::email;
use e2e_tests::twilio_sim::TwilioSim;
use e2e_tests::{Options, SYSTEM_NUMBER, TestStack};
use reqwest::Method;
use schedules::runner::{self, RunOutcome, ScheduledCallEvent};
use serde_json::json;
use shared::domain::calls::{CallStatus, Direction, ScheduleStatus};
use shared::domain::ids::CallId;
use shared::store::calls::CallRecord;
use shared::store::keys;

fn in_seconds(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339()
}

async fn wait_for_status(
    c: &e2e_tests::Client,
    token: &str,
    id: &str,
    status: &str,
) -> serde_json::Value {
    for _ in 0..100 {
        let s = c
            .get(&format!("/scheduled-calls/{id}"), Some(token))
            .await
            .body;
        if s["status"] == status {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("scheduled call {id} never reached {status}");
}

#[tokio::test]
async fn a_scheduled_call_fires_once_and_a_canceled_one_never() {
    let sim = TwilioSim::start().await;
    // Production mode: the runner calls from the tenant's own number.
    let stack = TestStack::start_with(
        Options::default()
            .twilio(&sim)
            .scheduler(Duration::from_millis(200)),
    )
    .await;
    let c = stack.client();
    let s = c.register(&email("sched")).await;
    let t = Some(s.access_token.as_str());
    let own_number = "+13125550100";
    let provisioned = c
        .post(
            "/twilio/provision-number",
            t,
            &json!({"phone_number": own_number}),
        )
        .await;
    assert_eq!(provisioned.status, 201, "{}", provisioned.text);

    let created = c
        .post("/schedule-call", t, &json!({"phone_number": "+14155550123", "scenario": "appointment_reminder", "scheduled_time": in_seconds(2)}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["status"], "pending");
    let fired_id = created.body["schedule_id"].as_str().unwrap().to_string();
    let canceled = c
        .post("/schedule-call", t, &json!({"phone_number": "+14155550124", "scenario": "default", "scheduled_time": in_seconds(2)}))
        .await;
    let canceled_id = canceled.body["schedule_id"].as_str().unwrap().to_string();

    // What EventBridge Scheduler was asked for.
    let state = stack.second_instance().await;
    let group = &state.config.telephony.scheduler.group;
    let schedule = state
        .scheduler
        .get_schedule()
        .name(format!("call-{fired_id}"))
        .group_name(group)
        .send()
        .await
        .expect("schedule exists");
    assert!(schedule.schedule_expression().unwrap().starts_with("at(20"));
    assert_eq!(schedule.schedule_expression_timezone(), Some("UTC"));
    assert_eq!(
        schedule.flexible_time_window().unwrap().mode().as_str(),
        "OFF"
    );
    assert_eq!(
        schedule.action_after_completion().unwrap().as_str(),
        "DELETE"
    );
    let target = schedule.target().unwrap();
    let configured = state.config.telephony.scheduler.target().unwrap();
    assert_eq!(target.arn(), configured.runner_arn);
    // Scheduler retries a failed delivery for a bounded time, then dead-letters it.
    let retry = target.retry_policy().expect("retry policy");
    assert_eq!(
        retry.maximum_retry_attempts(),
        Some(schedules::DELIVERY_RETRIES)
    );
    assert_eq!(
        retry.maximum_event_age_in_seconds(),
        Some(schedules::MAX_DELIVERY_DELAY_SECS)
    );
    assert_eq!(
        target.dead_letter_config().and_then(|d| d.arn()),
        Some(configured.dead_letter_arn.as_str())
    );
    let input: ScheduledCallEvent = serde_json::from_str(target.input().unwrap()).unwrap();
    assert_eq!(input.schedule_id, fired_id);

    let cancel = c
        .json(
            Method::DELETE,
            &format!("/scheduled-calls/{canceled_id}"),
            t,
            &json!({}),
        )
        .await;
    assert_eq!(cancel.status, 200, "{}", cancel.text);
    assert_eq!(cancel.body["status"], "canceled");
    let gone = state
        .scheduler
        .get_schedule()
        .name(format!("call-{canceled_id}"))
        .group_name(group)
        .send()
        .await;
    assert!(
        gone.is_err(),
        "the EventBridge schedule of a canceled call is deleted"
    );

    let placed = wait_for_status(&c, &s.access_token, &fired_id, "placed").await;
    let call_id = placed["call_id"].as_str().unwrap();
    let call = c.get(&format!("/calls/{call_id}"), t).await.body;
    assert_eq!(call["schedule_id"], fired_id.as_str());
    assert_eq!(call["scenario"], "appointment_reminder");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        sim.calls().len(),
        1,
        "fired once, and the canceled call never"
    );
    assert_eq!(sim.calls()[0].to, "+14155550123");
    assert_eq!(sim.calls()[0].from, own_number);
    assert_eq!(
        c.get(&format!("/scheduled-calls/{canceled_id}"), t)
            .await
            .body["status"],
        "canceled"
    );
    let again = c
        .json(
            Method::DELETE,
            &format!("/scheduled-calls/{fired_id}"),
            t,
            &json!({}),
        )
        .await;
    assert_eq!(again.status, 409, "a placed call cannot be canceled");
    let listed = c.get("/scheduled-calls", t).await.body;
    assert_eq!(listed.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_repeated_event_places_one_call() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(Options::default().development_calls(&sim)).await;
    let c = stack.client();
    let s = c.register(&email("dup")).await;
    let created = c
        .post("/schedule-call", Some(&s.access_token), &json!({"phone_number": "+14155550123", "scenario": "default", "scheduled_time": in_seconds(3600)}))
        .await;
    let schedule_id = created.body["schedule_id"].as_str().unwrap().to_string();
    let tenant_id = c.get("/users/me", Some(&s.access_token)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let event = ScheduledCallEvent {
        tenant_id,
        schedule_id: schedule_id.clone(),
    };

    // Two instances receive the same event at the same time, then a third later.
    let (one, two) = (stack.second_instance().await, stack.second_instance().await);
    let (a, b) = tokio::join!(runner::run(&one, &event), runner::run(&two, &event));
    let outcomes = [a.unwrap(), b.unwrap()];
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, RunOutcome::Placed { .. }))
            .count(),
        1,
        "{outcomes:?}"
    );
    // The other delivery finds a fresh claim: it asks to be delivered again later (the
    // claimant might die), and by then the call is placed.
    assert!(outcomes.contains(&RunOutcome::InProgress), "{outcomes:?}");
    assert_eq!(
        runner::run(&one, &event).await.unwrap(),
        RunOutcome::Skipped
    );
    assert_eq!(sim.calls().len(), 1);
    let done = c
        .get(
            &format!("/scheduled-calls/{schedule_id}"),
            Some(&s.access_token),
        )
        .await
        .body;
    assert_eq!(done["status"], "placed");
}

#[tokio::test]
async fn scheduling_validates_and_isolates() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(Options::default().development_calls(&sim)).await;
    let c = stack.client();
    let s = c.register(&email("sv")).await;
    let t = Some(s.access_token.as_str());
    let future = in_seconds(3600);
    for (body, status, field) in [
        (
            json!({"phone_number": "+14155550123", "scenario": "default", "scheduled_time": in_seconds(-60)}),
            422,
            "scheduled_time",
        ),
        (
            json!({"phone_number": "+14155550123", "scenario": "default", "scheduled_time": "2030-01-01T09:00:00"}),
            422,
            "scheduled_time",
        ),
        (
            json!({"phone_number": "+14155550123", "scenario": "default", "scheduled_time": "tomorrow"}),
            422,
            "scheduled_time",
        ),
        (
            json!({"phone_number": "+14155550123", "scenario": "default", "scheduled_time": "2099-01-01T09:00:00Z"}),
            422,
            "scheduled_time",
        ),
        (
            json!({"phone_number": "call me", "scenario": "default", "scheduled_time": future}),
            422,
            "phone_number",
        ),
        (
            json!({"scenario": "default", "scheduled_time": future}),
            422,
            "phone_number",
        ),
        (
            json!({"phone_number": "911", "scenario": "default", "scheduled_time": future}),
            400,
            "phone_number",
        ),
        (
            json!({"phone_number": "+14155550123", "scheduled_time": future}),
            422,
            "scenario",
        ),
    ] {
        let r = c.post("/schedule-call", t, &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert_eq!(r.error_fields(), [field], "{body}");
    }
    let unknown = c
        .post("/schedule-call", t, &json!({"phone_number": "+14155550123", "scenario": "custom_nope", "scheduled_time": future}))
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(c.get("/scheduled-calls", t).await.body, json!([]));

    // An offset is honoured: 09:00-05:00 is stored as 14:00 UTC.
    let offset = c
        .post("/schedule-call", t, &json!({"phone_number": "+14155550123", "scenario": "default", "scheduled_time": "2027-03-01T09:00:00-05:00"}))
        .await;
    assert_eq!(offset.status, 201, "{}", offset.text);
    assert_eq!(offset.body["scheduled_time"], "2027-03-01T14:00:00Z");
    let id = offset.body["schedule_id"].as_str().unwrap();

    let other = c.register(&email("sv-other")).await;
    let o = Some(other.access_token.as_str());
    assert_eq!(
        c.get(&format!("/scheduled-calls/{id}"), o).await.status,
        404
    );
    assert_eq!(
        c.json(
            Method::DELETE,
            &format!("/scheduled-calls/{id}"),
            o,
            &json!({})
        )
        .await
        .status,
        404
    );
    assert_eq!(c.get("/scheduled-calls", o).await.body, json!([]));
    assert_eq!(
        c.get(&format!("/scheduled-calls/{id}"), t).await.body["status"],
        "pending"
    );
}

/// A scheduled call and its tenant, created through the API, far in the future (the test
/// drives the runner itself).
async fn scheduled(stack: &TestStack, prefix: &str) -> (String, String) {
    let c = stack.client();
    let s = c.register(&email(prefix)).await;
    let created = c
        .post("/schedule-call", Some(&s.access_token), &json!({"phone_number": "+14155550123", "scenario": "default", "scheduled_time": in_seconds(3600)}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let tenant_id = c.get("/users/me", Some(&s.access_token)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    (
        tenant_id,
        created.body["schedule_id"].as_str().unwrap().to_string(),
    )
}

/// Leaves the scheduled call as a runner that claimed it `age` ago (for `call_id`) and then
/// died would have.
async fn died_after_claiming(
    stack: &TestStack,
    tenant_id: &str,
    schedule_id: &str,
    call_id: &str,
    age: chrono::Duration,
) {
    let claimed_at = (chrono::Utc::now() - age).to_rfc3339();
    stack
        .set_attributes(
            keys::tenant(tenant_id),
            keys::schedule(schedule_id),
            &[
                ("status", "dialing"),
                ("claimed_at", &claimed_at),
                ("call_id", call_id),
            ],
        )
        .await;
}

fn event(tenant_id: &str, schedule_id: &str) -> ScheduledCallEvent {
    ScheduledCallEvent {
        tenant_id: tenant_id.into(),
        schedule_id: schedule_id.into(),
    }
}

#[tokio::test]
async fn a_claim_left_by_a_dead_runner_is_taken_over_once() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(Options::default().development_calls(&sim)).await;
    let state = stack.second_instance().await;

    // Died before writing the call record: the call is placed now, under the claimed id.
    let (tenant, schedule) = scheduled(&stack, "dead1").await;
    let call_id = CallId::generate().into_string();
    died_after_claiming(
        &stack,
        &tenant,
        &schedule,
        &call_id,
        chrono::Duration::minutes(5),
    )
    .await;
    let ev = event(&tenant, &schedule);
    assert_eq!(
        runner::run(&state, &ev).await.unwrap(),
        RunOutcome::Placed {
            call_id: call_id.clone()
        }
    );
    assert_eq!(runner::run(&state, &ev).await.unwrap(), RunOutcome::Skipped);
    assert_eq!(sim.calls().len(), 1);

    // A claim that is not stale yet belongs to a runner that may still be working.
    let (tenant, schedule) = scheduled(&stack, "dead2").await;
    let fresh = CallId::generate().into_string();
    died_after_claiming(
        &stack,
        &tenant,
        &schedule,
        &fresh,
        chrono::Duration::seconds(5),
    )
    .await;
    let outcome = runner::run(&state, &event(&tenant, &schedule))
        .await
        .unwrap();
    assert_eq!(outcome, RunOutcome::InProgress);
    assert!(outcome.retry_later());
    assert_eq!(sim.calls().len(), 1);
}

/// A scheduled call whose runner wrote its call record, then died: the record, left
/// `initiating`, and the claim, minutes old. The caller adds what else the runner did.
async fn died_with_a_record(
    stack: &TestStack,
    state: &shared::AppState,
    prefix: &str,
) -> (String, String, CallRecord) {
    let (tenant, schedule) = scheduled(stack, prefix).await;
    let call = CallRecord::new(
        Direction::Outbound,
        SYSTEM_NUMBER,
        "+14155550123",
        "default",
    );
    state.store.create_call(&tenant, &call).await.unwrap();
    let age = chrono::Duration::minutes(5);
    died_after_claiming(stack, &tenant, &schedule, &call.call_id, age).await;
    (tenant, schedule, call)
}

#[tokio::test]
async fn a_dead_runner_that_may_have_dialled_is_never_retried() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(Options::default().development_calls(&sim)).await;
    let state = stack.second_instance().await;

    // It sent the create request, then died: nobody knows whether the phone rang.
    let (tenant, schedule, call) = died_with_a_record(&stack, &state, "dead3").await;
    state
        .store
        .mark_dialing(&tenant, &call.call_id)
        .await
        .unwrap();
    let outcome = runner::run(&state, &event(&tenant, &schedule))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RunOutcome::Failed {
            reason: runner::UNKNOWN_OUTCOME.into()
        }
    );
    assert!(sim.calls().is_empty(), "never dialled a second time");
    let record = state.store.call(&tenant, &call.call_id).await.unwrap();
    assert_eq!(record.status, CallStatus::Failed);
    assert_eq!(record.error.as_deref(), Some(runner::UNKNOWN_OUTCOME));
    let schedule = state.store.schedule(&tenant, &schedule).await.unwrap();
    assert_eq!(schedule.status, ScheduleStatus::Failed);

    // It died before asking Twilio: that record is closed and the call placed under a new id.
    let (tenant, schedule, unsent) = died_with_a_record(&stack, &state, "dead4").await;
    let RunOutcome::Placed { call_id } = runner::run(&state, &event(&tenant, &schedule))
        .await
        .unwrap()
    else {
        panic!("the unsent call is placed");
    };
    assert_ne!(call_id, unsent.call_id);
    assert_eq!(sim.calls().len(), 1);
    let closed = state.store.call(&tenant, &unsent.call_id).await.unwrap();
    assert_eq!(closed.status, CallStatus::Failed);

    // Twilio accepted it (its SID is stored) but the runner died before recording the
    // outcome: it is recorded as placed, without a second call.
    let (tenant, schedule, accepted) = died_with_a_record(&stack, &state, "dead5").await;
    let sid = format!("CA{}", "5".repeat(32));
    state
        .store
        .link_call_sid(&tenant, &accepted.call_id, &sid)
        .await
        .unwrap();
    assert_eq!(
        runner::run(&state, &event(&tenant, &schedule))
            .await
            .unwrap(),
        RunOutcome::Placed {
            call_id: accepted.call_id.clone()
        }
    );
    assert_eq!(sim.calls().len(), 1);
}
