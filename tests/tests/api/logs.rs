//! Log hygiene: a whole register / login / refresh / logout run, with the signing key and the
//! CAPTCHA secret read from Secrets Manager, leaves no password, token or secret in the logs.

use e2e_tests::client::email;
use e2e_tests::{CAPTCHA_SECRET, Options, TestStack, VALID_CAPTCHA};
use serde_json::json;

#[tokio::test]
async fn no_secret_reaches_a_log_line() {
    let mut stack = TestStack::start_with(Options {
        secrets_in_secrets_manager: true,
        ..Default::default()
    })
    .await;
    let c = stack.client();
    let address = email("logs");
    let password = "Correct-Horse-Battery-42";
    let mut secrets = vec![
        password.to_string(),
        stack.jwt_secret.clone(),
        CAPTCHA_SECRET.to_string(),
        VALID_CAPTCHA.to_string(),
    ];

    let reg = c
        .post(
            "/auth/register",
            None,
            &json!({"email": address, "password": password, "captcha_token": VALID_CAPTCHA}),
        )
        .await;
    assert_eq!(reg.status, 201, "{}", reg.text);
    let login = c
        .form(
            "/auth/login",
            &[
                ("username", &address),
                ("password", password),
                ("captcha_token", VALID_CAPTCHA),
            ],
        )
        .await;
    assert_eq!(login.status, 200);
    let failed = c
        .post("/auth/login", None, &json!({"email": address, "password": "Wrong-Password-99", "captcha_token": VALID_CAPTCHA}))
        .await;
    assert_eq!(failed.status, 401);
    secrets.push("Wrong-Password-99".into());
    let refresh = c
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": login.body["refresh_token"]}),
        )
        .await;
    assert_eq!(refresh.status, 200);
    let me = c
        .get("/users/me", refresh.body["access_token"].as_str())
        .await;
    assert_eq!(me.status, 200, "the signing key came from Secrets Manager");
    let reuse = c
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": login.body["refresh_token"]}),
        )
        .await;
    assert_eq!(reuse.status, 401);
    let out = c
        .post(
            "/auth/logout",
            None,
            &json!({"refresh_token": refresh.body["refresh_token"]}),
        )
        .await;
    assert_eq!(out.status, 200);
    for reply in [&reg, &login, &refresh] {
        for key in ["access_token", "refresh_token"] {
            secrets.push(reply.body[key].as_str().unwrap().to_string());
        }
    }

    stack.stop();
    let logs = stack.logs.contents();
    assert!(logs.lines().count() >= 8, "the run was logged:\n{logs}");
    assert!(logs.contains("/auth/refresh"), "{logs}");
    assert!(logs.contains("refresh token reused"), "{logs}");
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret leaked into the logs:\n{logs}"
        );
    }
    // No JWT of any kind, and every line is JSON (the Lambda format).
    assert!(!logs.contains("eyJ"), "{logs}");
    for line in logs.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|_| panic!("not JSON: {line}"));
    }
}
