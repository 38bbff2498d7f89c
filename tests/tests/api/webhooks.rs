//! Twilio webhooks: forged, unsigned and replayed-with-altered-parameters requests are refused
//! with 403 and change nothing; genuine repeated deliveries are idempotent; unknown numbers get
//! polite TwiML.

use std::time::Duration;

use e2e_tests::client::email;
use e2e_tests::twilio_sim::TwilioSim;
use e2e_tests::{Client, Options, TestStack};
use serde_json::json;
use shared::twilio::signature;

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// POSTs a form webhook with the given signature header (or none).
async fn post_webhook(
    c: &Client,
    path: &str,
    form: &[(String, String)],
    signature: Option<&str>,
) -> e2e_tests::client::Reply {
    let mut request = c.request(reqwest::Method::POST, path).form(form);
    if let Some(sig) = signature {
        request = request.header("x-twilio-signature", sig);
    }
    c.send(request).await
}

#[tokio::test]
async fn forged_unsigned_and_altered_webhooks_change_nothing() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(Options::default().development_calls(&sim)).await;
    let c = stack.client();
    let s = c.register(&email("hook")).await;
    let t = Some(s.access_token.as_str());
    let placed = c.get("/make-call/%2B14155550123/default", t).await;
    let call_id = placed.body["call_id"].as_str().unwrap().to_string();
    let sid = placed.body["call_sid"].as_str().unwrap().to_string();
    sim.wait_for_call_done(&sid, Duration::from_secs(10)).await;
    let before = c.get(&format!("/calls/{call_id}"), t).await.body;
    assert_eq!(before["status"], "completed");

    let status_url = format!("{}/twilio/call-status", stack.public_url);
    let genuine = pairs(&[
        ("AccountSid", &sim.account_sid),
        ("CallSid", &sid),
        ("CallStatus", "in-progress"),
        ("CallDuration", "1"),
    ]);
    let good_signature = signature::sign(&sim.auth_token, &status_url, &genuine);
    let mut altered = genuine.clone();
    altered[2].1 = "failed".into();
    let forged = signature::sign("not-the-auth-token", &status_url, &altered);
    let wrong_url = signature::sign(
        &sim.auth_token,
        "https://evil.example/twilio/call-status",
        &altered,
    );

    for (name, form, sig) in [
        ("unsigned", &altered, None),
        ("forged key", &altered, Some(forged.as_str())),
        ("signed for another URL", &altered, Some(wrong_url.as_str())),
        (
            "replayed with an altered parameter",
            &altered,
            Some(good_signature.as_str()),
        ),
        ("garbage signature", &altered, Some("AAAA")),
    ] {
        let r = post_webhook(&c, "/twilio/call-status", form, sig).await;
        assert_eq!(r.status, 403, "{name}: {}", r.text);
    }
    // A Host header pointing elsewhere does not change the URL that is checked.
    let spoofed = c
        .send(
            c.request(reqwest::Method::POST, "/twilio/call-status")
                .header("host", "evil.example")
                .header("x-twilio-signature", wrong_url.as_str())
                .form(&altered),
        )
        .await;
    assert_eq!(spoofed.status, 403);
    let recording = pairs(&[
        ("CallSid", &sid),
        ("RecordingSid", "RE00000000000000000000000000000000"),
        ("RecordingStatus", "completed"),
    ]);
    assert_eq!(
        post_webhook(&c, "/twilio/recording-status", &recording, None)
            .await
            .status,
        403
    );
    let inbound = pairs(&[
        ("CallSid", "CA11111111111111111111111111111111"),
        ("From", "+14155559999"),
        ("To", "+14155550000"),
    ]);
    assert_eq!(
        post_webhook(&c, "/twilio/voice/inbound", &inbound, Some("AAAA"))
            .await
            .status,
        403
    );

    assert_eq!(
        c.get(&format!("/calls/{call_id}"), t).await.body,
        before,
        "nothing changed"
    );
    assert_eq!(
        c.get("/calls", t).await.body["calls"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A genuine but late `in-progress` after `completed` does not move the call backwards.
    let late = post_webhook(&c, "/twilio/call-status", &genuine, Some(&good_signature)).await;
    assert_eq!(late.status, 204, "{}", late.text);
    assert_eq!(
        c.get(&format!("/calls/{call_id}"), t).await.body["status"],
        "completed"
    );
}

#[tokio::test]
async fn repeated_deliveries_are_idempotent() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(Options::default().development_calls(&sim)).await;
    let c = stack.client();
    let s = c.register(&email("again")).await;
    let t = Some(s.access_token.as_str());
    let placed = c.get("/make-call/%2B14155550123/default", t).await;
    let call_id = placed.body["call_id"].as_str().unwrap().to_string();
    let sid = placed.body["call_sid"].as_str().unwrap().to_string();
    let call = sim.wait_for_call_done(&sid, Duration::from_secs(10)).await;
    let after_first = c.get(&format!("/calls/{call_id}"), t).await.body;
    assert!(call.callbacks.len() >= 4, "{:?}", call.callbacks);

    // Twilio delivers every callback again, exactly as signed the first time.
    for delivered in &call.callbacks {
        let path = delivered.url.strip_prefix(&stack.public_url).unwrap();
        let sig = signature::sign(&sim.auth_token, &delivered.url, &delivered.params);
        let r = post_webhook(&c, path, &delivered.params, Some(&sig)).await;
        assert_eq!(r.status, 204, "{path}: {}", r.text);
    }
    let after_second = c.get(&format!("/calls/{call_id}"), t).await.body;
    for key in [
        "status",
        "duration_seconds",
        "recording_sid",
        "recording_duration_seconds",
    ] {
        assert_eq!(after_second[key], after_first[key], "{key}");
    }

    // The inbound webhook delivered twice for one call records one call.
    c.post(
        "/twilio/provision-number",
        t,
        &json!({"phone_number": "+14155550150"}),
    )
    .await;
    let url = format!("{}/twilio/voice/inbound", stack.public_url);
    let form = pairs(&[
        ("CallSid", "CA22222222222222222222222222222222"),
        ("From", "+14155559999"),
        ("To", "+14155550150"),
        ("CallStatus", "ringing"),
    ]);
    let sig = signature::sign(&sim.auth_token, &url, &form);
    let first = post_webhook(&c, "/twilio/voice/inbound", &form, Some(&sig)).await;
    let second = post_webhook(&c, "/twilio/voice/inbound", &form, Some(&sig)).await;
    assert_eq!((first.status, second.status), (200, 200));
    let inbound = c.get("/calls?direction=inbound", t).await.body;
    assert_eq!(inbound["calls"].as_array().unwrap().len(), 1, "{inbound}");
    let call_id_param = |xml: &str| e2e_tests::twiml::parameter(xml, "call_id");
    assert_eq!(call_id_param(&first.text), call_id_param(&second.text));
}

#[tokio::test]
async fn calls_to_unknown_numbers_get_polite_twiml() {
    let sim = TwilioSim::start().await;
    let stack = TestStack::start_with(Options::default().twilio(&sim)).await;
    let c = stack.client();
    let url = format!("{}/twilio/voice/inbound", stack.public_url);
    let form = pairs(&[
        ("CallSid", "CA33333333333333333333333333333333"),
        ("From", "+14155559999"),
        ("To", "+14155550177"),
    ]);
    let sig = signature::sign(&sim.auth_token, &url, &form);
    let r = post_webhook(&c, "/twilio/voice/inbound", &form, Some(&sig)).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/xml"));
    assert!(
        r.text.contains("<Say>") && r.text.contains("<Hangup/>") && !r.text.contains("<Connect>")
    );
}
