//! Predefined templates, custom scenario CRUD, validation, the 20-per-tenant limit under
//! concurrency, and tenant isolation.

use e2e_tests::TestStack;
use e2e_tests::client::email;
use reqwest::Method;
use serde_json::{Value, json};

fn body(persona: &str) -> Value {
    json!({
        "persona": persona,
        "prompt": "Confirm tomorrow's appointment and offer to reschedule.",
        "voice_type": "marin",
        "temperature": 0.6
    })
}

#[tokio::test]
async fn predefined_templates_are_legitimate_and_readable() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let s = c.register(&email("pre")).await;
    let t = Some(s.access_token.as_str());
    let list = c.get("/scenarios", t).await;
    assert_eq!(list.status, 200);
    let keys: Vec<&str> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"default"));
    assert!(keys.len() >= 5);
    for banned in [
        "sister_emergency",
        "mother_emergency",
        "gameshow_host",
        "instigator",
        "yacht_party",
    ] {
        assert!(!keys.contains(&banned));
        assert_eq!(c.get(&format!("/scenarios/{banned}"), t).await.status, 404);
    }
    let default = c.get("/scenarios/default", t).await;
    assert_eq!(default.status, 200);
    assert!(default.body["persona"].is_string());
    assert!(default.body["prompt"].is_string());
    assert!(default.body["voice_config"]["voice"].is_string());
    assert!(default.body["voice_config"]["temperature"].is_number());
    let inbound = default.body["instructions"]["inbound"].as_str().unwrap();
    let outbound = default.body["instructions"]["outbound"].as_str().unwrap();
    assert!(inbound.contains("Greet the caller") && outbound.contains("outbound call"));
    for text in [inbound, outbound] {
        assert!(text.contains("say honestly that you are an AI"));
    }
    assert_eq!(c.get("/scenarios", None).await.status, 401);
}

#[tokio::test]
async fn custom_scenario_lifecycle() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let s = c.register(&email("crud")).await;
    let t = Some(s.access_token.as_str());

    let first = c
        .post(
            "/realtime/custom-scenario",
            t,
            &body("First persona, a receptionist"),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(
        first.body["message"],
        "Custom scenario created successfully"
    );
    let id1 = first.body["scenario_id"].as_str().unwrap().to_string();
    let mut legacy = body("Second persona, uses a legacy voice key");
    legacy["voice_type"] = json!("professional_neutral");
    let second = c.post("/realtime/custom-scenario", t, &legacy).await;
    assert_eq!(second.status, 201, "{}", second.text);
    assert_eq!(second.body["scenario"]["voice"], "alloy");
    let id2 = second.body["scenario_id"].as_str().unwrap().to_string();

    let list = c.get("/custom-scenarios", t).await;
    let ids: Vec<&str> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scenario_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id2.as_str(), id1.as_str()], "newest first");

    let got = c.get(&format!("/custom-scenarios/{id1}"), t).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["persona"], "First persona, a receptionist");
    assert_eq!(got.body["temperature"], 0.6);
    assert!(
        got.body["instructions"]["outbound"]
            .as_str()
            .unwrap()
            .contains("First persona, a receptionist")
    );

    let mut changed = body("Changed persona, now a concierge");
    changed["temperature"] = json!(0.9);
    changed["voice_type"] = json!("cedar");
    let put = c
        .json(
            Method::PUT,
            &format!("/custom-scenarios/{id1}"),
            t,
            &changed,
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    let got = c.get(&format!("/custom-scenarios/{id1}"), t).await;
    assert_eq!(got.body["persona"], "Changed persona, now a concierge");
    assert_eq!(got.body["voice_type"], "cedar");
    assert_eq!(got.body["temperature"], 0.9);

    let del = c
        .json(
            Method::DELETE,
            &format!("/custom-scenarios/{id1}"),
            t,
            &json!({}),
        )
        .await;
    assert_eq!(del.status, 200);
    assert_eq!(
        c.get(&format!("/custom-scenarios/{id1}"), t).await.status,
        404
    );
    let again = c
        .json(
            Method::DELETE,
            &format!("/custom-scenarios/{id1}"),
            t,
            &json!({}),
        )
        .await;
    assert_eq!(again.status, 404);
    let put_missing = c
        .json(
            Method::PUT,
            &format!("/custom-scenarios/{id1}"),
            t,
            &changed,
        )
        .await;
    assert_eq!(put_missing.status, 404);
    assert_eq!(
        c.get("/custom-scenarios", t)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn custom_scenario_fields_are_validated() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let s = c.register(&email("val")).await;
    let t = Some(s.access_token.as_str());
    let cases: [(&str, Value); 7] = [
        ("persona", json!("short")),
        ("persona", json!("x".repeat(5001))),
        ("prompt", json!("tiny")),
        ("voice_type", json!("robotic")),
        ("temperature", json!(1.5)),
        ("temperature", json!(-0.1)),
        ("temperature", json!("hot")),
    ];
    for (field, value) in cases {
        let mut b = body("A valid persona for the test");
        b[field] = value;
        let r = c.post("/realtime/custom-scenario", t, &b).await;
        assert_eq!(r.status, 422, "{field}: {}", r.text);
        assert_eq!(r.error_fields(), [field], "{}", r.text);
    }
    let r = c.post("/realtime/custom-scenario", t, &json!({})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.error_fields(), ["persona", "prompt", "voice_type"]);
    // Nothing was written by any of them.
    assert_eq!(c.get("/custom-scenarios", t).await.body, json!([]));
    assert_eq!(
        c.post("/realtime/custom-scenario", None, &body("No token persona"))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn twenty_five_concurrent_creations_leave_exactly_twenty() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let s = c.register(&email("limit")).await;
    let token = s.access_token.clone();
    let attempts = (0..25).map(|i| {
        let c = stack.client();
        let token = token.clone();
        async move {
            c.post(
                "/realtime/custom-scenario",
                Some(&token),
                &body(&format!("Concurrent persona number {i}")),
            )
            .await
        }
    });
    let replies = join_all(attempts).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let refused: Vec<_> = replies.iter().filter(|r| r.status != 201).collect();
    assert_eq!(
        created,
        20,
        "{:?}",
        refused.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for r in &refused {
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("maximum limit of 20")
        );
    }
    let list = c.get("/custom-scenarios", Some(&token)).await;
    assert_eq!(list.body.as_array().unwrap().len(), 20);

    // Deleting one frees exactly one slot.
    let id = list.body[0]["scenario_id"].as_str().unwrap();
    c.json(
        Method::DELETE,
        &format!("/custom-scenarios/{id}"),
        Some(&token),
        &json!({}),
    )
    .await;
    assert_eq!(
        c.post(
            "/realtime/custom-scenario",
            Some(&token),
            &body("Refilled persona slot")
        )
        .await
        .status,
        201
    );
    assert_eq!(
        c.post(
            "/realtime/custom-scenario",
            Some(&token),
            &body("One too many persona")
        )
        .await
        .status,
        400
    );
}

/// Runs the futures concurrently (each on its own task) and collects their outputs in order.
async fn join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn another_tenant_gets_404_and_changes_nothing() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let owner = c.register(&email("owner")).await;
    let intruder = c.register(&email("intruder")).await;
    let o = Some(owner.access_token.as_str());
    let i = Some(intruder.access_token.as_str());
    let created = c
        .post(
            "/realtime/custom-scenario",
            o,
            &body("Owner's private persona"),
        )
        .await;
    let id = created.body["scenario_id"].as_str().unwrap().to_string();
    let path = format!("/custom-scenarios/{id}");

    assert_eq!(c.get(&path, i).await.status, 404);
    assert_eq!(
        c.json(Method::PUT, &path, i, &body("Intruder's rewritten persona"))
            .await
            .status,
        404
    );
    assert_eq!(
        c.json(Method::DELETE, &path, i, &json!({})).await.status,
        404
    );
    assert_eq!(c.get("/custom-scenarios", i).await.body, json!([]));

    let still = c.get(&path, o).await;
    assert_eq!(still.status, 200);
    assert_eq!(still.body["persona"], "Owner's private persona");
    assert_eq!(
        c.get("/custom-scenarios", o)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
