//! Rate limits: 429 with `Retry-After`, counted in DynamoDB so they hold across instances.

use e2e_tests::client::email;
use e2e_tests::{Options, TestStack, VALID_CAPTCHA};
use serde_json::json;

#[tokio::test]
async fn login_is_limited_across_instances_sharing_the_table() {
    // Two "Lambda instances": two servers over one table.
    let first = TestStack::start_with(Options {
        real_rate_limits: true,
        ..Default::default()
    })
    .await;
    let second = TestStack::start_with(Options {
        real_rate_limits: true,
        env: vec![("TABLE_NAME".into(), first.table.clone())],
        ..Default::default()
    })
    .await;
    let body = json!({"email": email("rl"), "password": "wrong-password-1", "captcha_token": VALID_CAPTCHA});
    let mut statuses = Vec::new();
    for i in 0..6 {
        let stack = if i % 2 == 0 { &first } else { &second };
        let r = stack.client().post("/auth/login", None, &body).await;
        statuses.push(r.status);
        if i == 5 {
            assert_eq!(r.status, 429, "{statuses:?} {}", r.text);
            let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=60).contains(&retry));
            assert!(
                r.body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("Rate limit exceeded")
            );
            assert_eq!(r.header("content-type"), Some("application/problem+json"));
        }
    }
    assert_eq!(&statuses[..5], &[401; 5]);
}

#[tokio::test]
async fn register_token_and_refresh_are_limited() {
    let stack = TestStack::start_with(Options {
        real_rate_limits: true,
        ..Default::default()
    })
    .await;
    let c = stack.client();
    // Windows are fixed minutes: a run that straddles a minute boundary starts counting
    // again, so each limit gets twice its budget to show a 429.
    let mut register = Vec::new();
    for _ in 0..12 {
        register.push(
            c.post(
                "/auth/register",
                None,
                &json!({"email": "bad", "password": "x", "captcha_token": VALID_CAPTCHA}),
            )
            .await
            .status,
        );
    }
    assert!(register.contains(&429), "register: {register:?}");
    let mut token = Vec::new();
    for _ in 0..12 {
        token.push(
            c.form("/token", &[("username", "a@b.co"), ("password", "x")])
                .await
                .status,
        );
    }
    assert!(token.contains(&429), "token: {token:?}");
    let mut refresh = Vec::new();
    for _ in 0..22 {
        refresh.push(
            c.post("/auth/refresh", None, &json!({"refresh_token": "nope"}))
                .await
                .status,
        );
    }
    assert!(refresh.contains(&429), "refresh: {refresh:?}");
}

#[tokio::test]
async fn scenario_creation_is_limited_per_user() {
    let stack =
        TestStack::start_with(Options::default().env("RATE_LIMIT_SCENARIO_CREATE_PER_MINUTE", "2"))
            .await;
    let c = stack.client();
    let a = c.register(&email("rla")).await;
    let b = c.register(&email("rlb")).await;
    let body = json!({"persona": "A persona for limits", "prompt": "A prompt for limits", "voice_type": "marin"});
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(
                c.post("/realtime/custom-scenario", Some(&a.access_token), &body)
                    .await
                    .status,
            );
        }
        v
    };
    assert_eq!(statuses, [201, 201, 429]);
    // Another user behind the same IP has their own budget.
    assert_eq!(
        c.post("/realtime/custom-scenario", Some(&b.access_token), &body)
            .await
            .status,
        201
    );
    assert_eq!(
        c.get("/custom-scenarios", Some(&a.access_token))
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn buying_and_releasing_numbers_are_limited_per_user() {
    let sim = e2e_tests::twilio_sim::TwilioSim::start().await;
    let stack = TestStack::start_with(
        Options::default()
            .twilio(&sim)
            .env("RATE_LIMIT_NUMBERS_PER_MINUTE", "2"),
    )
    .await;
    let c = stack.client();
    let a = c.register(&email("rln")).await;
    let t = Some(a.access_token.as_str());
    let mut bought = Vec::new();
    for i in 0..3 {
        bought.push(
            c.post(
                "/twilio/provision-number",
                t,
                &json!({"phone_number": format!("+1312555018{i}")}),
            )
            .await
            .status,
        );
    }
    assert_eq!(bought, [201, 201, 429]);
    assert_eq!(
        sim.numbers().len(),
        2,
        "the refused purchase never reached Twilio"
    );
    let mut released = Vec::new();
    for i in 0..3 {
        released.push(
            c.json(
                reqwest::Method::DELETE,
                &format!("/twilio/release-number/%2B1312555018{i}"),
                t,
                &json!({}),
            )
            .await
            .status,
        );
    }
    assert_eq!(released, [200, 200, 429]);
}
