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
        Some(format!("{}/twilio/voice/inbound", stack.public_url).as_str())
    );
    assert_eq!(sim_number.voice_method.as_deref(), Some("POST"));
    assert_eq!(
        sim_number.status_callback.as_deref(),
        Some(format!("{}/twilio/call-status", stack.public_url).as_str())
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

#[tokio::test]
async fn a_purchase_whose_answer_was_lost_is_completed_by_reconciliation() {
    let sim = TwilioSim::start().await;
    let stack = stack_with(&sim, Options::default()).await;
    let c = stack.client();
    let s = c.register(&email("lost")).await;
    let t = Some(s.access_token.as_str());
    sim.lose_next_buy_answer();
    let bought = c
        .post(
            "/twilio/provision-number",
            t,
            &json!({"phone_number": "+13125550160"}),
        )
        .await;
    assert_eq!(bought.status, 201, "{}", bought.text);
    let at_twilio = sim.numbers();
    assert_eq!(at_twilio.len(), 1);
    assert_eq!(bought.body["sid"], at_twilio[0].sid.as_str());
    let listed = c.get("/twilio/user-numbers", t).await.body;
    assert_eq!(listed[0]["status"], "active", "{listed}");
    assert_eq!(listed[0]["sid"], at_twilio[0].sid.as_str());
}

/// What a provision function that stopped between buying and activating leaves: a
/// `provisioning` reservation with no SID, and a number the Twilio account owns.
async fn interrupted_purchase(stack: &TestStack, tenant_id: &str, number: &str, bought: bool) {
    let state = stack.second_instance().await;
    state
        .store
        .reserve_number(tenant_id, number, 3)
        .await
        .unwrap();
    if bought {
        state
            .twilio
            .as_ref()
            .unwrap()
            .buy_number(number, "https://x.test/voice", "https://x.test/status", "x")
            .await
            .unwrap();
    }
}

/// Ages a reservation past the longest a purchase can take.
async fn make_stale(stack: &TestStack, tenant_id: &str, number: &str) {
    let long_ago = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    stack
        .set_attributes(
            shared::store::keys::tenant(tenant_id),
            shared::store::keys::number(number),
            &[("created_at", &long_ago)],
        )
        .await;
}

#[tokio::test]
async fn interrupted_purchases_are_reconciled_against_twilio() {
    let sim = TwilioSim::start().await;
    let stack = stack_with(&sim, Options::default()).await;
    let c = stack.client();
    let s = c.register(&email("crash")).await;
    let t = Some(s.access_token.as_str());
    let tenant = c.get("/users/me", t).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let owned = |n: &str| sim.numbers().iter().any(|x| x.phone_number == n);

    // Bought, never activated: release finds it at Twilio by number and releases it there.
    interrupted_purchase(&stack, &tenant, "+13125550171", true).await;
    let early = c
        .json(
            Method::DELETE,
            "/twilio/release-number/%2B13125550171",
            t,
            &json!({}),
        )
        .await;
    assert_eq!(
        early.status, 409,
        "a purchase that may still be running: {}",
        early.text
    );
    make_stale(&stack, &tenant, "+13125550171").await;
    let released = c
        .json(
            Method::DELETE,
            "/twilio/release-number/%2B13125550171",
            t,
            &json!({}),
        )
        .await;
    assert_eq!(released.status, 200, "{}", released.text);
    assert!(!owned("+13125550171"), "released at Twilio too");

    // Bought, never activated: listing completes it.
    interrupted_purchase(&stack, &tenant, "+13125550172", true).await;
    make_stale(&stack, &tenant, "+13125550172").await;
    // Reserved, never bought: listing gives the reservation back.
    interrupted_purchase(&stack, &tenant, "+13125550173", false).await;
    make_stale(&stack, &tenant, "+13125550173").await;
    let listed = c.get("/twilio/user-numbers", t).await.body;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["phoneNumber"], "+13125550172");
    assert_eq!(listed[0]["status"], "active");
    assert!(listed[0]["sid"].as_str().unwrap().starts_with("PN"));
    // The number given back can be bought again, by anyone.
    let other = c.register(&email("crash-other")).await;
    let bought = c
        .post(
            "/twilio/provision-number",
            Some(&other.access_token),
            &json!({"phone_number": "+13125550173"}),
        )
        .await;
    assert_eq!(bought.status, 201, "{}", bought.text);

    // Buying again the number of one's own interrupted purchase completes it.
    interrupted_purchase(&stack, &tenant, "+13125550174", true).await;
    make_stale(&stack, &tenant, "+13125550174").await;
    let again = c
        .post(
            "/twilio/provision-number",
            t,
            &json!({"phone_number": "+13125550174"}),
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(
        sim.numbers()
            .iter()
            .filter(|n| n.phone_number == "+13125550174")
            .count(),
        1,
        "bought once"
    );
}
