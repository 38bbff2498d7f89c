//! Hostile input gets a clear 4xx naming what is wrong, and changes nothing: JSON bodies with
//! data after the document, time windows that end before they start, forged cursors, and ids
//! too long for a DynamoDB key (moto takes what real DynamoDB refuses, so these must be caught
//! before the store, or they are a 500 on AWS).

use e2e_tests::client::email;
use e2e_tests::twilio_sim::TwilioSim;
use e2e_tests::{Options, TestStack, VALID_CAPTCHA};
use reqwest::Method;
use serde_json::{Value, json};

/// Sends `body` followed by junk as `application/json`.
async fn trailing(
    c: &e2e_tests::Client,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> e2e_tests::client::Reply {
    let mut request = c
        .request(method, path)
        .header("content-type", "application/json")
        .body(format!("{body} trailing"));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    c.send(request).await
}

#[tokio::test]
async fn json_bodies_with_trailing_data_are_refused_and_change_nothing() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(Options::default().development_calls(&sim)).await;
    let c = stack.client();
    let s = c.register(&email("strict")).await;
    let t = Some(s.access_token.as_str());
    let scenario = json!({"persona": "A careful persona", "prompt": "A careful prompt", "voice_type": "marin"});
    let existing = c.post("/realtime/custom-scenario", t, &scenario).await;
    let existing_id = existing.body["scenario_id"].as_str().unwrap().to_string();
    let fresh = email("strict-new");
    let in_an_hour = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();

    let cases: Vec<(Method, String, Option<&str>, Value)> = vec![
        (
            Method::POST,
            "/auth/register".into(),
            None,
            json!({"email": fresh, "password": "Pw-long-enough-1", "captcha_token": VALID_CAPTCHA}),
        ),
        (
            Method::POST,
            "/auth/login".into(),
            None,
            json!({"username": s.email, "password": s.password, "captcha_token": VALID_CAPTCHA}),
        ),
        (
            Method::POST,
            "/auth/refresh".into(),
            None,
            json!({"refresh_token": s.refresh_token}),
        ),
        (
            Method::POST,
            "/auth/logout".into(),
            None,
            json!({"refresh_token": s.refresh_token}),
        ),
        (
            Method::POST,
            "/realtime/custom-scenario".into(),
            t,
            scenario.clone(),
        ),
        (
            Method::PUT,
            format!("/custom-scenarios/{existing_id}"),
            t,
            json!({"persona": "Changed persona", "prompt": "Changed prompt", "voice_type": "marin"}),
        ),
        (
            Method::POST,
            "/onboarding/complete-step".into(),
            t,
            json!({"step": "calendar"}),
        ),
        (
            Method::POST,
            "/twilio/search-numbers".into(),
            t,
            json!({"area_code": "415"}),
        ),
        (
            Method::POST,
            "/twilio/provision-number".into(),
            t,
            json!({"phone_number": "+13125550190"}),
        ),
        (
            Method::PUT,
            "/twilio/inbound-scenario".into(),
            t,
            json!({"scenario": existing_id}),
        ),
        (
            Method::POST,
            "/schedule-call".into(),
            t,
            json!({"phone_number": "+14155550123", "scenario": "default", "scheduled_time": in_an_hour}),
        ),
    ];
    for (method, path, token, body) in cases {
        let r = trailing(&c, method.clone(), &path, token, &body).await;
        assert_eq!(r.status, 400, "{method} {path}: {}", r.text);
        assert_eq!(r.error_fields(), ["body"], "{method} {path}");
    }

    // Nothing was written.
    assert_eq!(
        c.get("/onboarding/check-step/calendar", t).await.body["completed"],
        false
    );
    let scenarios = c.get("/custom-scenarios", t).await.body;
    assert_eq!(scenarios.as_array().unwrap().len(), 1);
    assert_eq!(scenarios[0]["persona"], "A careful persona");
    assert_eq!(c.get("/scheduled-calls", t).await.body, json!([]));
    assert_eq!(
        c.get("/twilio/inbound-scenario", t).await.body["scenario"],
        "default"
    );
    assert!(sim.numbers().is_empty());
    assert_eq!(
        c.post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": s.refresh_token})
        )
        .await
        .status,
        200,
        "the session was neither rotated nor revoked"
    );
    c.register(&fresh).await;
}

#[tokio::test]
async fn windows_cursors_and_oversized_ids_are_refused_before_the_store() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(Options::default().development_calls(&sim)).await;
    let c = stack.client();
    let s = c.register(&email("hostile")).await;
    let t = Some(s.access_token.as_str());
    for i in 0..3 {
        let r = c
            .get(&format!("/make-call/%2B1415555016{i}/default"), t)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }

    let backwards = c
        .get(
            "/calls?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            t,
        )
        .await;
    assert_eq!(backwards.status, 422, "{}", backwards.text);
    assert_eq!(backwards.error_fields(), ["to"]);

    // A cursor from one window used with another whose range does not hold its key.
    let page = c.get("/calls?limit=1", t).await.body;
    let cursor = page["next_cursor"].as_str().unwrap();
    let elsewhere = c
        .get(
            &format!(
                "/calls?limit=1&from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z&cursor={cursor}"
            ),
            t,
        )
        .await;
    assert_eq!(elsewhere.status, 422, "{}", elsewhere.text);
    assert_eq!(elsewhere.error_fields(), ["cursor"]);

    // Ids far over DynamoDB's key size limits: a clear 4xx, never a 500.
    let huge = "a".repeat(3000);
    for (method, path, status, field) in [
        (Method::GET, format!("/calls/{huge}"), 422, Some("call_id")),
        (
            Method::POST,
            format!("/calls/{huge}/hangup"),
            422,
            Some("call_id"),
        ),
        (
            Method::GET,
            format!("/custom-scenarios/custom_{huge}"),
            422,
            Some("scenario_id"),
        ),
        (
            Method::PUT,
            format!("/custom-scenarios/custom_{huge}"),
            422,
            Some("scenario_id"),
        ),
        (
            Method::DELETE,
            format!("/custom-scenarios/custom_{huge}"),
            422,
            Some("scenario_id"),
        ),
        (
            Method::GET,
            format!("/scheduled-calls/{huge}"),
            422,
            Some("schedule_id"),
        ),
        (
            Method::DELETE,
            format!("/scheduled-calls/{huge}"),
            422,
            Some("schedule_id"),
        ),
        (
            Method::GET,
            format!("/make-custom-call/%2B14155550123/custom_{huge}"),
            404,
            None,
        ),
    ] {
        let r = c
            .json(
                method.clone(),
                &path,
                t,
                &json!({"persona": "A persona", "prompt": "A prompt", "voice_type": "marin"}),
            )
            .await;
        assert_eq!(r.status, status, "{method} {}: {}", &path[..30], r.text);
        if let Some(field) = field {
            assert_eq!(r.error_fields(), [field]);
        }
    }
    for (path, body) in [
        (
            "/twilio/inbound-scenario",
            json!({"scenario": format!("custom_{huge}")}),
        ),
        (
            "/schedule-call",
            json!({"phone_number": "+14155550123", "scenario": format!("custom_{huge}"), "scheduled_time": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()}),
        ),
    ] {
        let method = if path == "/schedule-call" {
            Method::POST
        } else {
            Method::PUT
        };
        let r = c.json(method, path, t, &body).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
    }
    assert_eq!(sim.calls().len(), 3, "no refused request reached Twilio");
}
