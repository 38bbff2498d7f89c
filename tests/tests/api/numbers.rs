//! Phone numbers against the Twilio simulator: search, provision (wired to our webhooks),
//! inbound routing to the owner's scenario, limits, uniqueness, release, isolation.

use e2e_tests::client::email;
use e2e_tests::twilio_sim::TwilioSim;
use e2e_tests::{Options, TestStack, twiml};
use reqwest::Method;
use serde_json::json;

async fn stack_with(sim: &TwilioSim, options: Options) -> TestStack {
    TestStack::start_with(options.twilio(sim)).await
}

#[tokio::test]
async fn provision_then_an_inbound_call_reaches_the_owners_scenario() {
    let sim = TwilioSim::start().await;
    let stack = stack_with(&sim, Options::default()).await;
    let c = stack.client();
    let owner = c.register(&email("own")).await;
    let other = c.register(&email("oth")).await;
    let t = Some(owner.access_token.as_str());

    let found = c
        .post(
            "/twilio/search-numbers",
            t,
            &json!({"area_code": "415", "limit": 3}),
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.text);
    let numbers = found.body["availableNumbers"].as_array().unwrap();
    assert_eq!(numbers.len(), 3);
    let number = numbers[0]["phoneNumber"].as_str().unwrap().to_string();
    assert!(number.starts_with("+1415"));

    let bought = c
        .post(
            "/twilio/provision-number",
            t,
            &json!({"phone_number": number}),
        )
        .await;
    assert_eq!(bought.status, 201, "{}", bought.text);
    assert!(bought.body["sid"].as_str().unwrap().starts_with("PN"));
    let sim_number = sim
        .numbers()
        .into_iter()
        .find(|n| n.phone_number == number)
        .unwrap();
    assert_eq!(
        sim_number.voice_url.as_deref(),
        Some(format!("{}/twilio/voice/inbound", stack.base_url).as_str())
    );
    assert_eq!(sim_number.voice_method.as_deref(), Some("POST"));
    assert_eq!(
        sim_number.status_callback.as_deref(),
        Some(format!("{}/twilio/call-status", stack.base_url).as_str())
    );
    assert_eq!(
        c.get("/onboarding/check-step/phone_setup", t).await.body["completed"],
        true
    );
    let listed = c.get("/twilio/user-numbers", t).await;
    assert_eq!(listed.body[0]["phoneNumber"], number);
    assert_eq!(listed.body[0]["isActive"], true);
    assert_eq!(
        c.get("/twilio/user-primary-number", t).await.body["phoneNumber"],
        number
    );

    // The owner picks a custom scenario for inbound calls.
    let scenario = c
        .post(
            "/realtime/custom-scenario",
            t,
            &json!({"persona": "Riley, the front desk", "prompt": "Answer questions about opening hours.", "voice_type": "marin"}),
        )
        .await
        .body["scenario_id"]
        .as_str()
        .unwrap()
        .to_string();
    let set = c
        .json(
            Method::PUT,
            "/twilio/inbound-scenario",
            t,
            &json!({"scenario": scenario}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text);
    let theirs = c
        .json(
            Method::PUT,
            "/twilio/inbound-scenario",
            Some(&other.access_token),
            &json!({"scenario": scenario}),
        )
        .await;
    assert_eq!(
        theirs.status, 404,
        "another tenant's scenario cannot be chosen"
    );

    let answered = sim.inbound_call("+14155559876", &number).await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    let xml = &answered.body;
    assert_eq!(
        twiml::attribute(xml, "Stream", "url").as_deref(),
        Some("wss://bridge.test/twilio")
    );
    assert!(xml.contains("<Connect>") && xml.contains("<Hangup/>"));
    assert!(
        xml.contains("<Start><Recording"),
        "inbound calls are recorded through TwiML: {xml}"
    );
    assert!(
        xml.find("<Say>").unwrap() < xml.find("<Connect>").unwrap(),
        "the notice plays before the agent"
    );
    let token = twiml::parameter(xml, "token").unwrap();
    let claims = twiml::claims(&token);
    let owner_id = c.get("/users/me", t).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(claims["tid"], owner_id.as_str());
    assert_eq!(claims["scenario"], scenario.as_str());
    assert_eq!(claims["direction"], "inbound");
    assert_eq!(claims["aud"], "media-stream");

    let history = c.get("/calls", t).await;
    let calls = history.body["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{}", history.text);
    assert_eq!(calls[0]["direction"], "inbound");
    assert_eq!(calls[0]["call_sid"], answered.call_sid.as_str());
    assert_eq!(calls[0]["scenario"], scenario.as_str());
    assert_eq!(claims["call_id"], calls[0]["call_id"]);
    assert_eq!(
        c.get("/calls", Some(&other.access_token)).await.body["calls"],
        json!([])
    );
}

#[tokio::test]
async fn limits_uniqueness_release_and_isolation() {
    let sim = TwilioSim::start().await;
    let stack = stack_with(&sim, Options::default().env("MAX_NUMBERS_PER_TENANT", "1")).await;
    let c = stack.client();
    let a = c.register(&email("na")).await;
    let b = c.register(&email("nb")).await;
    let ta = Some(a.access_token.as_str());
    let tb = Some(b.access_token.as_str());

    assert_eq!(
        c.post(
            "/twilio/provision-number",
            ta,
            &json!({"phone_number": "+14155550101"})
        )
        .await
        .status,
        201
    );
    let second = c
        .post(
            "/twilio/provision-number",
            ta,
            &json!({"phone_number": "+14155550102"}),
        )
        .await;
    assert_eq!(second.status, 400, "{}", second.text);
    assert!(
        second.body["detail"]
            .as_str()
            .unwrap()
            .contains("Maximum number of phone numbers")
    );
    let taken = c
        .post(
            "/twilio/provision-number",
            tb,
            &json!({"phone_number": "+14155550101"}),
        )
        .await;
    assert_eq!(
        taken.status, 409,
        "one number can never belong to two tenants"
    );

    // B cannot see, release or use A's number.
    assert_eq!(c.get("/twilio/user-numbers", tb).await.body, json!([]));
    assert_eq!(c.get("/twilio/user-primary-number", tb).await.status, 404);
    let steal = c
        .json(
            Method::DELETE,
            "/twilio/release-number/%2B14155550101",
            tb,
            &json!({}),
        )
        .await;
    assert_eq!(steal.status, 404);
    assert_eq!(sim.numbers().len(), 1, "nothing was released at Twilio");

    let released = c
        .json(
            Method::DELETE,
            "/twilio/release-number/%2B14155550101",
            ta,
            &json!({}),
        )
        .await;
    assert_eq!(released.status, 200, "{}", released.text);
    assert!(sim.numbers().is_empty());
    assert_eq!(c.get("/twilio/user-numbers", ta).await.body, json!([]));
    // A released number can be provisioned again, by anyone.
    assert_eq!(
        c.post(
            "/twilio/provision-number",
            tb,
            &json!({"phone_number": "+14155550101"})
        )
        .await
        .status,
        201
    );
    // Twilio refusing a purchase gives the slot back.
    let refused = c
        .post(
            "/twilio/provision-number",
            ta,
            &json!({"phone_number": "+14155550101"}),
        )
        .await;
    assert_eq!(refused.status, 409);
    let unavailable = c
        .post(
            "/twilio/provision-number",
            ta,
            &json!({"phone_number": "+442071838750"}),
        )
        .await;
    assert_eq!(unavailable.status, 400, "{}", unavailable.text);
    assert_eq!(
        c.post(
            "/twilio/provision-number",
            ta,
            &json!({"phone_number": "+14155550109"})
        )
        .await
        .status,
        201
    );
}

#[tokio::test]
async fn search_and_provision_validate_their_input() {
    let sim = TwilioSim::start().await;
    let stack = stack_with(&sim, Options::default()).await;
    let c = stack.client();
    let s = c.register(&email("sv")).await;
    let t = Some(s.access_token.as_str());
    for (body, field) in [
        (json!({"limit": 0}), "limit"),
        (json!({"limit": 31}), "limit"),
        (json!({"area_code": "41"}), "area_code"),
        (json!({"area_code": "abc"}), "area_code"),
        (json!({"contains": "55-5"}), "contains"),
        (json!({"country": "GB"}), "country"),
    ] {
        let r = c.post("/twilio/search-numbers", t, &body).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert_eq!(r.error_fields(), [field]);
    }
    let found = c
        .post(
            "/twilio/search-numbers",
            t,
            &json!({"area_code": 212, "contains": "5550*1"}),
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.text);
    for n in found.body["availableNumbers"].as_array().unwrap() {
        assert!(n["phoneNumber"].as_str().unwrap().starts_with("+1212555"));
    }
    for body in [
        json!({}),
        json!({"phone_number": "not a number"}),
        json!({"phone_number": 5}),
    ] {
        let r = c.post("/twilio/provision-number", t, &body).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert_eq!(r.error_fields(), ["phone_number"]);
    }
    let account = c.get("/twilio/account", t).await;
    assert_eq!(account.status, 200);
    assert_eq!(account.body["telephonyConfigured"], true);
    assert!(
        account.body["platformAccount"].is_null(),
        "a tenant never sees the platform's balance"
    );
    assert!(!account.text.contains("42.17") && !account.text.contains(&sim.auth_token));
    assert!(
        sim.requests()
            .iter()
            .all(|r| !r.path.ends_with("Balance.json"))
    );
}

#[tokio::test]
async fn telephony_endpoints_answer_503_when_twilio_is_not_configured() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let s = c.register(&email("nc")).await;
    let t = Some(s.access_token.as_str());
    assert_eq!(
        c.post("/twilio/search-numbers", t, &json!({})).await.status,
        503
    );
    assert_eq!(
        c.get("/make-call/%2B14155550100/default", t).await.status,
        503
    );
    assert_eq!(
        c.get("/twilio/account", t).await.body["telephonyConfigured"],
        false
    );
}
