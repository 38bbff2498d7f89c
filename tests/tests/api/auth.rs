//! Register, login (JSON and form), /token, refresh rotation with reuse detection, logout.

use e2e_tests::client::email;
use e2e_tests::{TestStack, VALID_CAPTCHA};
use serde_json::json;

#[tokio::test]
async fn register_signs_in_and_normalises_the_email() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let address = email("Reg").replace("reg", "ReG");
    let r = c
        .post(
            "/auth/register",
            None,
            &json!({"email": format!("  {address} "), "password": "a-good-password-1", "captcha_token": VALID_CAPTCHA}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["token_type"], "bearer");
    assert!(r.body["expires_in"].as_u64().unwrap() > 0);
    let me = c.get("/users/me", r.body["access_token"].as_str()).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["email"], address.to_lowercase());
    assert_eq!(me.body["is_active"], true);
    assert_eq!(me.body["is_admin"], false);

    // The same address in another case is the same account.
    let dup = c
        .post(
            "/auth/register",
            None,
            &json!({"email": address.to_uppercase(), "password": "another-password-2", "captcha_token": VALID_CAPTCHA}),
        )
        .await;
    assert_eq!(dup.status, 409, "{}", dup.text);
    assert_eq!(dup.body["detail"], "Email already registered");
    // ...and the original password still works: nothing was overwritten.
    let login = c
        .post(
            "/auth/login",
            None,
            &json!({"email": address, "password": "a-good-password-1", "captcha_token": VALID_CAPTCHA}),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.text);
}

#[tokio::test]
async fn register_validates_each_field() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let cases = [
        (json!({"password": "a-good-password-1"}), "email"),
        (
            json!({"email": "not-an-email", "password": "a-good-password-1"}),
            "email",
        ),
        (
            json!({"email": 42, "password": "a-good-password-1"}),
            "email",
        ),
        (json!({"email": email("v")}), "password"),
        (
            json!({"email": email("v"), "password": "short1"}),
            "password",
        ),
        (
            json!({"email": email("v"), "password": "onlylettershere"}),
            "password",
        ),
        (
            json!({"email": email("v"), "password": "x1".repeat(65)}),
            "password",
        ),
    ];
    for (mut body, field) in cases {
        body["captcha_token"] = json!(VALID_CAPTCHA);
        let r = c.post("/auth/register", None, &body).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert!(
            r.error_fields().contains(&field.to_string()),
            "{body}: {}",
            r.text
        );
        assert_eq!(r.body["status"], 422);
        assert_eq!(r.body["title"], "Unprocessable Entity");
    }
    // Not JSON at all.
    let r = c
        .send(
            c.request(reqwest::Method::POST, "/auth/register")
                .header("content-type", "application/json")
                .body("{nope"),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_fields(), ["body"]);
    let r = c
        .send(
            c.request(reqwest::Method::POST, "/auth/register")
                .body("email=a"),
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn captcha_is_required_and_verified_on_register_and_login() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let address = email("cap");
    let missing = c
        .post(
            "/auth/register",
            None,
            &json!({"email": address, "password": "a-good-password-1"}),
        )
        .await;
    assert_eq!(missing.status, 400, "{}", missing.text);
    assert_eq!(missing.body["detail"], "CAPTCHA verification required");
    assert_eq!(missing.error_fields(), ["captcha_token"]);
    let wrong = c
        .post(
            "/auth/register",
            None,
            &json!({"email": address, "password": "a-good-password-1", "captcha_token": "forged"}),
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.body["detail"], "CAPTCHA verification failed");
    // Neither attempt created the account.
    let session = c.register(&address).await;

    let login = |token: Option<&'static str>| {
        let mut body = json!({"email": session.email, "password": session.password});
        if let Some(t) = token {
            body["captcha_token"] = json!(t);
        }
        body
    };
    assert_eq!(c.post("/auth/login", None, &login(None)).await.status, 400);
    assert_eq!(
        c.post("/auth/login", None, &login(Some("forged")))
            .await
            .status,
        400
    );
    assert_eq!(
        c.post("/auth/login", None, &login(Some(VALID_CAPTCHA)))
            .await
            .status,
        200
    );
    let token = c
        .form(
            "/token",
            &[
                ("username", &session.email),
                ("password", &session.password),
            ],
        )
        .await;
    assert_eq!(token.status, 400, "{}", token.text);
}

#[tokio::test]
async fn captcha_verifier_outage_refuses_rather_than_letting_through() {
    let stack = TestStack::start_with(
        e2e_tests::Options::default().env("CAPTCHA_VERIFY_URL", "http://127.0.0.1:9/siteverify"),
    )
    .await;
    let r = stack
        .client()
        .post(
            "/auth/register",
            None,
            &json!({"email": email("down"), "password": "a-good-password-1", "captcha_token": VALID_CAPTCHA}),
        )
        .await;
    assert_eq!(r.status, 502, "{}", r.text);
}

#[tokio::test]
async fn login_accepts_json_and_the_oauth2_form() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let s = c.register(&email("login")).await;
    let json_login = c
        .post(
            "/auth/login",
            None,
            &json!({"email": s.email.to_uppercase(), "password": s.password, "captcha_token": VALID_CAPTCHA}),
        )
        .await;
    assert_eq!(json_login.status, 200, "{}", json_login.text);
    assert!(json_login.body["refresh_token"].is_string());
    let form_login = c
        .form(
            "/auth/login",
            &[
                ("username", &s.email),
                ("password", &s.password),
                ("captcha_response", VALID_CAPTCHA),
            ],
        )
        .await;
    assert_eq!(form_login.status, 200, "{}", form_login.text);
    let token = c
        .form(
            "/token",
            &[
                ("username", &s.email),
                ("password", &s.password),
                ("captcha_token", VALID_CAPTCHA),
            ],
        )
        .await;
    assert_eq!(token.status, 200, "{}", token.text);
    let me = c
        .get("/users/me", token.body["access_token"].as_str())
        .await;
    assert_eq!(me.body["email"], s.email);

    let wrong = c
        .post(
            "/auth/login",
            None,
            &json!({"email": s.email, "password": "wrong-password-9", "captcha_token": VALID_CAPTCHA}),
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body["detail"], "Incorrect username or password");
    let unknown = c
        .post(
            "/auth/login",
            None,
            &json!({"email": email("nobody"), "password": "wrong-password-9", "captcha_token": VALID_CAPTCHA}),
        )
        .await;
    assert_eq!(unknown.status, 401);
    assert_eq!(unknown.body["detail"], wrong.body["detail"]);
    let token_wrong = c
        .form(
            "/token",
            &[
                ("username", &s.email),
                ("password", "nope-nope-1"),
                ("captcha_token", VALID_CAPTCHA),
            ],
        )
        .await;
    assert_eq!(token_wrong.status, 401);
    assert_eq!(token_wrong.body["detail"], "Incorrect email or password");

    let missing = c
        .post(
            "/auth/login",
            None,
            &json!({"captcha_token": VALID_CAPTCHA}),
        )
        .await;
    assert_eq!(missing.status, 422);
    assert_eq!(missing.error_fields(), ["email", "password"]);
    let form_missing = c.form("/token", &[("captcha_token", VALID_CAPTCHA)]).await;
    assert_eq!(form_missing.status, 422);
    let token_json = c.post("/token", None, &json!({"username": s.email})).await;
    assert_eq!(token_json.status, 400, "/token takes the OAuth2 form");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let s = c.register(&email("rot")).await;

    let first = c
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": s.refresh_token}),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let second_token = first.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second_token, s.refresh_token);
    assert_eq!(
        c.get("/users/me", first.body["access_token"].as_str())
            .await
            .status,
        200
    );

    let second = c
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": second_token}),
        )
        .await;
    assert_eq!(second.status, 200);
    let third_token = second.body["refresh_token"].as_str().unwrap().to_string();

    // The first token again: reuse. It fails, and so does the newest token of its family.
    let reuse = c
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": s.refresh_token}),
        )
        .await;
    assert_eq!(reuse.status, 401);
    assert_eq!(reuse.body["detail"], "Invalid refresh token");
    let revoked = c
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": third_token}),
        )
        .await;
    assert_eq!(revoked.status, 401, "family must be revoked after reuse");

    // Another session of the same user is untouched.
    let other = c
        .post(
            "/auth/login",
            None,
            &json!({"email": s.email, "password": s.password, "captcha_token": VALID_CAPTCHA}),
        )
        .await;
    let fresh = c
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": other.body["refresh_token"]}),
        )
        .await;
    assert_eq!(fresh.status, 200);

    assert_eq!(c.post("/auth/refresh", None, &json!({})).await.status, 422);
    assert_eq!(
        c.post("/auth/refresh", None, &json!({"refresh_token": "made-up"}))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn concurrent_use_of_one_refresh_token_succeeds_at_most_once() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let s = c.register(&email("race")).await;
    let body = json!({"refresh_token": s.refresh_token});
    let (a, b) = tokio::join!(
        c.post("/auth/refresh", None, &body),
        c.post("/auth/refresh", None, &body)
    );
    let ok = [a.status, b.status].iter().filter(|s| **s == 200).count();
    assert!(ok <= 1, "{} / {}", a.text, b.text);
}

#[tokio::test]
async fn logout_revokes_the_session() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let s = c.register(&email("out")).await;
    let rotated = c
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": s.refresh_token}),
        )
        .await;
    let current = rotated.body["refresh_token"].as_str().unwrap();
    let out = c
        .post("/auth/logout", None, &json!({"refresh_token": current}))
        .await;
    assert_eq!(out.status, 200);
    assert_eq!(out.body["detail"], "Logged out successfully");
    let after = c
        .post("/auth/refresh", None, &json!({"refresh_token": current}))
        .await;
    assert_eq!(after.status, 401);
    // Logging out with an unknown token reveals nothing.
    assert_eq!(
        c.post("/auth/logout", None, &json!({"refresh_token": "unknown"}))
            .await
            .status,
        200
    );
    assert_eq!(c.post("/auth/logout", None, &json!({})).await.status, 422);
}
