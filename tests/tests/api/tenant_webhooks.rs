//! Tenant webhooks: `call.completed` and `transcript.ready` go through the job queue to the
//! tenant's endpoint, signed (Standard Webhooks: HMAC over id, timestamp and body, with the
//! secret shown once), retried with backoff, and logged; only public HTTPS URLs are taken;
//! another tenant can neither see nor touch an endpoint.

use std::time::Duration;

use e2e_tests::client::email;
use e2e_tests::intelligence_sim::{IntelligenceSim, WebhookStyle};
use e2e_tests::twilio_sim::TwilioSim;
use e2e_tests::webhook_receiver::WebhookReceiver;
use e2e_tests::{Options, TestStack};
use reqwest::Method;
use serde_json::json;
use shared::domain::webhooks::signature;

#[tokio::test]
async fn call_and_transcript_events_are_signed_delivered_and_logged() {
    let sim = TwilioSim::start().await;
    let vi = IntelligenceSim::start(&sim).await;
    let receiver = WebhookReceiver::start().await;
    let stack = TestStack::start_with(
        Options::default()
            .development_calls(&sim)
            .jobs(3)
            .env("TWILIO_INTELLIGENCE_SERVICE_SID", &vi.service_sid)
            .env("TWILIO_INTELLIGENCE_BASE_URL", &vi.base_url),
    )
    .await;
    vi.set_webhook(
        &format!("{}/twilio-transcripts/webhook-callback", stack.public_url),
        WebhookStyle::Json,
    );
    let c = stack.client();
    let s = c.register(&email("hooks")).await;
    let t = Some(s.access_token.as_str());

    let created = c.post("/webhooks", t, &json!({"url": receiver.url})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let secret = created.body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(
        created.body["events"],
        json!(["call.completed", "transcript.ready"])
    );
    let webhook_id = created.body["id"].as_str().unwrap().to_string();
    let listed = c.get("/webhooks", t).await.body;
    assert_eq!(listed[0]["id"], webhook_id.as_str());
    assert!(
        listed[0].get("secret").is_none(),
        "the secret is shown once"
    );

    let placed = c.get("/make-call/%2B14155550123/default", t).await;
    let call_id = placed.body["call_id"].as_str().unwrap().to_string();
    let got = receiver.wait_for(2, Duration::from_secs(20)).await;
    let by_type = |kind: &str| {
        got.iter()
            .find(|r| r.json()["type"] == kind)
            .unwrap_or_else(|| panic!("no {kind}: {got:?}"))
            .clone()
    };
    let completed = by_type("call.completed");
    assert_eq!(completed.id, format!("evt_call_completed_{call_id}"));
    assert_eq!(completed.json()["data"]["call_id"], call_id.as_str());
    assert_eq!(completed.json()["data"]["status"], "completed");
    let ready = by_type("transcript.ready");
    assert_eq!(ready.json()["data"]["call_id"], call_id.as_str());
    for delivery in [&completed, &ready] {
        assert_eq!(
            Some(delivery.signature.clone()),
            signature(&secret, &delivery.id, delivery.timestamp, &delivery.body),
            "signed with the secret shown at registration"
        );
        assert!((chrono::Utc::now().timestamp() - delivery.timestamp).abs() < 60);
    }

    let log = c
        .get(&format!("/webhooks/{webhook_id}/deliveries"), t)
        .await;
    assert_eq!(log.status, 200, "{}", log.text);
    let log = log.body.as_array().unwrap().clone();
    assert_eq!(log.len(), 2, "{log:?}");
    for entry in &log {
        assert_eq!(entry["outcome"], "delivered");
        assert_eq!(entry["attempt"], 1);
        assert_eq!(entry["http_status"], 200);
    }

    // Another tenant sees nothing and touches nothing; its calls are not delivered here.
    let other = c.register(&email("hooks-other")).await;
    let o = Some(other.access_token.as_str());
    assert_eq!(c.get("/webhooks", o).await.body, json!([]));
    assert_eq!(
        c.get(&format!("/webhooks/{webhook_id}/deliveries"), o)
            .await
            .status,
        404
    );
    assert_eq!(
        c.json(
            Method::DELETE,
            &format!("/webhooks/{webhook_id}"),
            o,
            &json!({})
        )
        .await
        .status,
        404
    );
    c.get("/make-call/%2B14155550124/default", o).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        receiver.received().len(),
        2,
        "another tenant's events never reach this endpoint"
    );

    let removed = c
        .json(
            Method::DELETE,
            &format!("/webhooks/{webhook_id}"),
            t,
            &json!({}),
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.text);
    assert_eq!(c.get("/webhooks", t).await.body, json!([]));
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_with_backoff_then_given_up() {
    let sim = TwilioSim::start().await;
    let receiver = WebhookReceiver::start().await;
    receiver.always(500);
    let stack = TestStack::start_with(
        Options::default()
            .development_calls(&sim)
            .jobs(3)
            .env("WEBHOOK_RETRY_SECONDS", "1")
            .env("WEBHOOK_MAX_ATTEMPTS", "3"),
    )
    .await;
    let c = stack.client();
    let s = c.register(&email("hooks-retry")).await;
    let t = Some(s.access_token.as_str());
    let created = c
        .post(
            "/webhooks",
            t,
            &json!({"url": receiver.url, "events": ["call.completed"]}),
        )
        .await;
    let webhook_id = created.body["id"].as_str().unwrap().to_string();
    c.get("/make-call/%2B14155550125/default", t).await;

    let got = receiver.wait_for(3, Duration::from_secs(30)).await;
    assert!(
        got.iter().all(|r| r.id == got[0].id),
        "one event, three tries"
    );
    let gaps: Vec<Duration> = got.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(gaps[0] >= Duration::from_millis(900), "{gaps:?}");
    assert!(
        gaps[1] >= Duration::from_millis(1900),
        "the delay doubles: {gaps:?}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.received().len(), 3, "no fourth try");
    let log = c
        .get(&format!("/webhooks/{webhook_id}/deliveries"), t)
        .await
        .body;
    let outcomes: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["failed", "retrying", "retrying"], "newest first");
    assert_eq!(log[0]["attempt"], 3);
    assert_eq!(log[0]["http_status"], 500);
}

#[tokio::test]
async fn only_public_https_endpoints_and_a_bounded_number_are_taken() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let s = c.register(&email("hooks-urls")).await;
    let t = Some(s.access_token.as_str());
    for (body, field) in [
        (json!({"url": "http://hooks.tenant-example.io/x"}), "url"),
        (json!({"url": "https://127.0.0.1/x"}), "url"),
        (json!({"url": "https://localhost/x"}), "url"),
        (json!({"url": "https://10.1.2.3/x"}), "url"),
        (
            json!({"url": "https://169.254.169.254/latest/meta-data"}),
            "url",
        ),
        (json!({"url": "https://[::1]/x"}), "url"),
        (json!({}), "url"),
        (
            json!({"url": "https://hooks.tenant-example.io/x", "events": ["call.started"]}),
            "events[0]",
        ),
        (
            json!({"url": "https://hooks.tenant-example.io/x", "events": []}),
            "events",
        ),
    ] {
        let r = c.post("/webhooks", t, &body).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert_eq!(r.error_fields(), [field], "{body}");
    }
    for i in 0..5 {
        let r = c
            .post(
                "/webhooks",
                t,
                &json!({"url": format!("https://hooks.tenant-example.io/{i}")}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let sixth = c
        .post(
            "/webhooks",
            t,
            &json!({"url": "https://hooks.tenant-example.io/6"}),
        )
        .await;
    assert_eq!(sixth.status, 400, "{}", sixth.text);
    assert_eq!(
        c.get("/webhooks", t).await.body.as_array().unwrap().len(),
        5
    );
    let bad_id = c
        .json(Method::DELETE, "/webhooks/not-an-id", t, &json!({}))
        .await;
    assert_eq!(bad_id.status, 422);
}
