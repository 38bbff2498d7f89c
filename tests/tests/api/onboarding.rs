//! Onboarding: response shapes, detection from live state, step completion rules, isolation.

use e2e_tests::TestStack;
use e2e_tests::client::email;
use serde_json::json;
use shared::store::keys;

async fn tenant_id(c: &e2e_tests::Client, token: &str) -> String {
    c.get("/users/me", Some(token)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_new_tenant_starts_at_phone_setup() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let s = c.register(&email("onb")).await;
    let t = Some(s.access_token.as_str());
    let status = c.get("/onboarding/status", t).await;
    assert_eq!(status.status, 200, "{}", status.text);
    let b = &status.body;
    assert_eq!(b["userId"], tenant_id(&c, &s.access_token).await);
    assert_eq!(b["currentStep"], "phone_setup");
    assert_eq!(b["completionPercentage"], 0.0);
    assert_eq!(b["isComplete"], false);
    assert!(b["startedAt"].is_string());
    assert!(b["completedAt"].is_null());
    for (step, available) in [
        ("phoneSetup", true),
        ("calendar", false),
        ("scenarios", false),
        ("welcomeCall", false),
    ] {
        assert_eq!(b["steps"][step]["completed"], false, "{step}");
        assert_eq!(b["steps"][step]["available"], available, "{step}");
        assert!(b["steps"][step]["title"].is_string());
        assert!(b["steps"][step]["description"].is_string());
    }
    assert_eq!(b["steps"]["phoneSetup"]["title"], "Set Up Phone Number");

    let next = c.get("/onboarding/next-action", t).await;
    assert_eq!(
        next.body,
        json!({"title": "Set Up Your Phone Number", "description": "Choose and provision a phone number for your AI assistant",
               "action": "setup_phone", "endpoint": "/twilio/search-numbers", "priority": "high"})
    );
    let init = c.post("/onboarding/initialize", t, &json!({})).await;
    assert_eq!(init.status, 200);
    assert_eq!(
        init.body["startedAt"], b["startedAt"],
        "initialize keeps the record"
    );
    for path in [
        "/onboarding/status",
        "/onboarding/next-action",
        "/onboarding/check-step/calendar",
    ] {
        assert_eq!(c.get(path, None).await.status, 401, "{path}");
    }
}

#[tokio::test]
async fn steps_are_detected_from_live_state() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let s = c.register(&email("live")).await;
    let t = Some(s.access_token.as_str());
    let tid = tenant_id(&c, &s.access_token).await;

    let check = |step: &'static str| {
        let c = stack.client();
        let token = s.access_token.clone();
        async move {
            c.get(&format!("/onboarding/check-step/{step}"), Some(&token))
                .await
                .body
        }
    };
    assert_eq!(
        check("scenarios").await,
        json!({"step": "scenarios", "completed": false})
    );

    let created = c
        .post(
            "/realtime/custom-scenario",
            t,
            &json!({"persona": "A friendly receptionist", "prompt": "Answer questions about opening hours.", "voice_type": "marin"}),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(check("scenarios").await["completed"], true);

    // The telephony and calendar contexts write these items; detection reads them.
    stack
        .put_item(
            keys::tenant(&tid),
            format!("{}+15551230000", keys::NUMBER_PREFIX),
            &[],
        )
        .await;
    assert_eq!(check("phone_setup").await["completed"], true);
    let status = c.get("/onboarding/status", t).await.body;
    assert_eq!(status["currentStep"], "calendar");
    assert_eq!(status["completionPercentage"], 50.0);
    assert_eq!(status["steps"]["welcomeCall"]["available"], true);
    assert_eq!(
        c.get("/onboarding/next-action", t).await.body["action"],
        "connect_calendar"
    );

    // A revoked connection is not a live one; a connected one is.
    stack
        .put_item(
            keys::tenant(&tid),
            keys::CALENDAR.to_string(),
            &[("status", "revoked")],
        )
        .await;
    assert_eq!(check("calendar").await["completed"], false);
    stack
        .put_item(
            keys::tenant(&tid),
            keys::CALENDAR.to_string(),
            &[("status", "connected")],
        )
        .await;
    // A failed attempt is not a first call; a completed one is.
    stack
        .put_item(
            keys::tenant(&tid),
            format!("{}01a", keys::CALL_PREFIX),
            &[("status", "failed")],
        )
        .await;
    assert_eq!(check("welcome_call").await["completed"], false);
    stack
        .put_item(
            keys::tenant(&tid),
            format!("{}01b", keys::CALL_PREFIX),
            &[("status", "completed")],
        )
        .await;
    let done = c.get("/onboarding/status", t).await.body;
    assert_eq!(done["currentStep"], "complete");
    assert_eq!(done["isComplete"], true);
    assert_eq!(done["completionPercentage"], 100.0);
    assert!(done["completedAt"].is_string());
    assert_eq!(
        c.get("/onboarding/next-action", t).await.body["action"],
        "explore"
    );
}

#[tokio::test]
async fn completing_steps_follows_the_rules() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let s = c.register(&email("steps")).await;
    let t = Some(s.access_token.as_str());

    let invalid = c
        .post(
            "/onboarding/complete-step",
            t,
            &json!({"step": "skydiving"}),
        )
        .await;
    assert_eq!(invalid.status, 400);
    assert!(
        invalid.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Invalid step. Must be one of:")
    );
    assert_eq!(invalid.error_fields(), ["step"]);
    assert_eq!(
        c.post("/onboarding/complete-step", t, &json!({}))
            .await
            .status,
        422
    );
    assert_eq!(
        c.post("/onboarding/complete-step", t, &json!({"step": 7}))
            .await
            .status,
        422
    );
    assert_eq!(
        c.get("/onboarding/check-step/skydiving", t).await.status,
        400
    );

    // What calling depends on cannot be self-certified.
    let phone = c
        .post(
            "/onboarding/complete-step",
            t,
            &json!({"step": "phone_setup"}),
        )
        .await;
    assert_eq!(phone.status, 409, "{}", phone.text);
    let scen = c
        .post(
            "/onboarding/complete-step",
            t,
            &json!({"step": "scenarios"}),
        )
        .await;
    assert_eq!(scen.status, 409);

    // The optional calendar step can be marked done (skipped) by the user.
    let cal = c
        .post("/onboarding/complete-step", t, &json!({"step": "calendar"}))
        .await;
    assert_eq!(cal.status, 200, "{}", cal.text);
    assert_eq!(cal.body["steps"]["calendar"]["completed"], true);
    assert_eq!(cal.body["currentStep"], "phone_setup");
    assert_eq!(cal.body["completionPercentage"], 25.0);
    let welcome = c
        .post(
            "/onboarding/complete-step",
            t,
            &json!({"step": "welcome_call"}),
        )
        .await;
    assert_eq!(welcome.body["steps"]["welcomeCall"]["completed"], true);
    assert_eq!(
        c.get("/onboarding/check-step/welcome_call", t).await.body,
        json!({"step": "welcome_call", "completed": true})
    );

    // Another tenant's progress is their own.
    let other = c.register(&email("steps-other")).await;
    let theirs = c
        .get("/onboarding/status", Some(&other.access_token))
        .await
        .body;
    assert_eq!(theirs["steps"]["calendar"]["completed"], false);
    assert_eq!(theirs["completionPercentage"], 0.0);
}
