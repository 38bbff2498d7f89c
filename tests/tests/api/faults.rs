//! Local AWS failing under the API: DynamoDB throttling, internal errors and answers too slow
//! to wait for, injected by a proxy in front of moto on the writes of one kind of item. Every
//! endpoint answers with a clear error the client can retry (503, problem+json), never a 500,
//! and leaves the tenant's items exactly as they were (the table is compared before and
//! after); once the fault is gone, the same request succeeds. A write whose answer was lost
//! after it was made is not made twice, and a scheduled call EventBridge Scheduler refused is
//! withdrawn.

use std::time::{Duration, Instant};

use e2e_tests::aws_faults::{AwsFaults, Fault};
use e2e_tests::calendar_rig;
use e2e_tests::client::{Client, Reply, email};
use e2e_tests::platform_rig::PlatformRig;
use e2e_tests::{Options, TestStack};
use reqwest::Method;
use serde_json::{Value, json};

/// A stack whose AWS calls go through the fault proxy.
async fn stack(faults: &AwsFaults) -> TestStack {
    TestStack::start_with(Options::default().env("AWS_ENDPOINT_URL", &faults.url)).await
}

/// One request of a tenant, made again after the fault is gone.
struct Case {
    what: &'static str,
    method: Method,
    path: String,
    body: Value,
    /// What the item written carries in its key (the writes that fail).
    key: &'static str,
    /// The status once the fault is gone.
    then: u16,
}

async fn send(c: &Client, token: &str, case: &Case) -> Reply {
    c.json(case.method.clone(), &case.path, Some(token), &case.body)
        .await
}

fn assert_clear_503(reply: &Reply, what: &str) {
    reply.assert_problem(503, &["retry"], what);
}

#[tokio::test]
async fn writes_that_aws_refuses_answer_503_and_leave_nothing_behind() {
    let faults = AwsFaults::start(e2e_tests::moto_url()).await;
    let stack = stack(&faults).await;
    let c = stack.client();
    let s = c.register(&email("faults")).await;
    let token = s.access_token.as_str();
    let tenant_id = c.get("/users/me", Some(token)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let scenario = c
        .post(
            "/realtime/custom-scenario",
            Some(token),
            &json!({"persona": "A friendly receptionist", "prompt": "Help callers book a visit", "voice_type": "marin"}),
        )
        .await
        .body["scenario_id"]
        .as_str()
        .unwrap()
        .to_string();
    let in_an_hour = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let cases = [
        Case {
            what: "create a scenario",
            method: Method::POST,
            path: "/realtime/custom-scenario".into(),
            body: json!({"persona": "A second receptionist", "prompt": "Help callers book a visit", "voice_type": "cedar"}),
            key: "SCENARIO#",
            then: 201,
        },
        Case {
            what: "update a scenario",
            method: Method::PUT,
            path: format!("/custom-scenarios/{scenario}"),
            body: json!({"persona": "A changed receptionist", "prompt": "Help callers book a visit", "voice_type": "cedar"}),
            key: "SCENARIO#",
            then: 200,
        },
        Case {
            what: "schedule a call",
            method: Method::POST,
            path: "/schedule-call".into(),
            body: json!({"phone_number": "+14155550123", "scenario": "default", "scheduled_time": in_an_hour}),
            key: "SCHEDULE#",
            then: 201,
        },
        Case {
            what: "register a webhook",
            method: Method::POST,
            path: "/webhooks".into(),
            body: json!({"url": "https://hooks.example.com/faults"}),
            key: "WEBHOOK#",
            then: 201,
        },
        Case {
            what: "save calendar settings",
            method: Method::PUT,
            path: "/google-calendar/settings".into(),
            body: json!({"time_zone": "Europe/Paris"}),
            key: "calendar_settings",
            then: 200,
        },
        Case {
            what: "delete a scenario",
            method: Method::DELETE,
            path: format!("/custom-scenarios/{scenario}"),
            body: json!({}),
            key: "SCENARIO#",
            then: 200,
        },
    ];
    for fault in [Fault::Throttled, Fault::Internal] {
        for case in &cases {
            let what = format!("{} ({fault:?})", case.what);
            let before = stack.partition(&tenant_id).await;
            // Every call touching that kind of item fails, its reads included.
            faults.inject("", case.key, None, fault);
            let reply = send(&c, token, case).await;
            faults.clear();
            assert_clear_503(&reply, &what);
            assert_eq!(
                stack.partition(&tenant_id).await,
                before,
                "{what}: the table changed"
            );
            // Repeated when AWS is back, it works (the delete last: the others use the scenario).
            if fault == Fault::Internal {
                let again = send(&c, token, case).await;
                assert_eq!(again.status, case.then, "{what}, again: {}", again.text);
            }
        }
    }
}

#[tokio::test]
async fn registration_that_aws_refuses_answers_503_and_can_be_repeated() {
    let faults = AwsFaults::start(e2e_tests::moto_url()).await;
    let stack = stack(&faults).await;
    let c = stack.client();
    let address = email("faults-register");
    let body = json!({"email": address, "password": "a-long-enough-password-1", "captcha_token": e2e_tests::VALID_CAPTCHA});
    faults.inject("TransactWriteItems", "EMAIL#", None, Fault::Throttled);
    let refused = c.post("/auth/register", None, &body).await;
    faults.clear();
    assert_clear_503(&refused, "register");
    // No half-made account: the address is free, and registering again works.
    let again = c.post("/auth/register", None, &body).await;
    assert_eq!(again.status, 201, "{}", again.text);
}

#[tokio::test]
async fn a_table_too_slow_to_answer_is_a_503_within_the_operation_timeout() {
    let faults = AwsFaults::start(e2e_tests::moto_url()).await;
    let stack = stack(&faults).await;
    let c = stack.client();
    let s = c.register(&email("faults-slow")).await;
    let wait = shared::store::ATTEMPT_TIMEOUT + Duration::from_secs(2);
    faults.inject("", "SCENARIO#", None, Fault::Slow(wait));
    let started = Instant::now();
    let reply = c
        .post(
            "/realtime/custom-scenario",
            Some(&s.access_token),
            &json!({"persona": "A patient receptionist", "prompt": "Help callers book a visit", "voice_type": "marin"}),
        )
        .await;
    let took = started.elapsed();
    faults.clear();
    assert_clear_503(&reply, "create a scenario (slow table)");
    assert!(
        took < shared::store::OPERATION_TIMEOUT + Duration::from_secs(2),
        "the request waited {took:?}"
    );
    let listed = c.get("/custom-scenarios", Some(&s.access_token)).await;
    assert_eq!(listed.body, json!([]), "{}", listed.text);
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_succeeds_once() {
    let faults = AwsFaults::start(e2e_tests::moto_url()).await;
    let stack = stack(&faults).await;
    let c = stack.client();
    // Registration itself: its answer lost once, the account is there, once.
    let address = email("faults-lost");
    let password = "a-long-enough-password-1";
    faults.inject("TransactWriteItems", "EMAIL#", Some(1), Fault::AnswerLost);
    let registered = c
        .post(
            "/auth/register",
            None,
            &json!({"email": address, "password": password, "captcha_token": e2e_tests::VALID_CAPTCHA}),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    let token = registered.body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let t = Some(token.as_str());
    let in_an_hour = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let cases = [
        (
            "/webhooks",
            json!({"url": "https://hooks.example.com/lost"}),
            "WEBHOOK#",
            "/webhooks",
        ),
        (
            "/realtime/custom-scenario",
            json!({"persona": "A patient receptionist", "prompt": "Help callers book a visit", "voice_type": "marin"}),
            "SCENARIO#",
            "/custom-scenarios",
        ),
        (
            "/schedule-call",
            json!({"phone_number": "+14155550123", "scenario": "default", "scheduled_time": in_an_hour}),
            "SCHEDULE#",
            "/scheduled-calls",
        ),
    ];
    for (path, body, key, list) in cases {
        // The write is made, its answer lost; the SDK sends it again.
        faults.inject("", key, Some(1), Fault::AnswerLost);
        let reply = c.post(path, t, &body).await;
        faults.clear();
        assert_eq!(reply.status, 201, "{path}: {}", reply.text);
        let listed = c.get(list, t).await;
        assert_eq!(
            listed.body.as_array().map(Vec::len),
            Some(1),
            "{path}: {}",
            listed.text
        );
    }
}

#[tokio::test]
async fn a_schedule_eventbridge_refuses_is_withdrawn_with_a_503() {
    let faults = AwsFaults::start(e2e_tests::moto_url()).await;
    let platform =
        PlatformRig::start(Options::default().env("AWS_ENDPOINT_URL", &faults.url)).await;
    let stack = &platform.rig.stack;
    let c = stack.client();
    let s = c.register(&email("faults-scheduler")).await;
    let token = s.access_token.as_str();
    let tenant_id = c.get("/users/me", Some(token)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    platform
        .google
        .add_account("faults@gmail.com", "America/New_York");
    calendar_rig::connect(stack, token, "faults@gmail.com").await;
    let at = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let before = stack.partition(&tenant_id).await;
    for (path, body) in [
        (
            "/schedule-call",
            json!({"phone_number": "+14155550123", "scenario": "default", "scheduled_time": at}),
        ),
        (
            "/google-calendar/schedule",
            json!({"phone_number": "+14155550123", "scheduled_time": at}),
        ),
    ] {
        // EventBridge Scheduler's CreateSchedule (the only request with a flexible window).
        faults.inject("", "FlexibleTimeWindow", None, Fault::Internal);
        let reply = c.post(path, Some(token), &body).await;
        faults.clear();
        assert_clear_503(&reply, path);
        assert_eq!(
            stack.partition(&tenant_id).await,
            before,
            "{path}: the table changed"
        );
    }
    let listed = c.get("/scheduled-calls", Some(token)).await;
    assert_eq!(listed.body, json!([]), "{}", listed.text);
}
