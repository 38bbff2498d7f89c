//! Access-token failures on a protected route: missing, expired, tampered, `alg: none`, wrong
//! algorithm, wrong key, refresh token used as access token, and a deactivated user's tokens.

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use e2e_tests::TestStack;
use e2e_tests::client::email;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use shared::store::keys;

/// Every route that takes an access token.
pub const PROTECTED_ROUTES: [(&str, &str); 48] = [
    ("GET", "/users/me"),
    ("GET", "/scenarios"),
    ("GET", "/scenarios/default"),
    ("POST", "/realtime/custom-scenario"),
    ("GET", "/custom-scenarios"),
    ("GET", "/custom-scenarios/custom_x"),
    ("PUT", "/custom-scenarios/custom_x"),
    ("DELETE", "/custom-scenarios/custom_x"),
    ("GET", "/onboarding/status"),
    ("GET", "/onboarding/next-action"),
    ("POST", "/onboarding/complete-step"),
    ("POST", "/onboarding/initialize"),
    ("GET", "/onboarding/check-step/calendar"),
    ("GET", "/twilio/account"),
    ("POST", "/twilio/search-numbers"),
    ("POST", "/twilio/provision-number"),
    ("GET", "/twilio/user-numbers"),
    ("GET", "/twilio/user-primary-number"),
    ("DELETE", "/twilio/release-number/%2B14155550100"),
    ("GET", "/twilio/inbound-scenario"),
    ("PUT", "/twilio/inbound-scenario"),
    ("GET", "/make-call/%2B14155550100/default"),
    ("GET", "/make-custom-call/%2B14155550100/custom_x"),
    ("GET", "/calls"),
    ("GET", "/calls/call_x"),
    ("POST", "/calls/call_x/hangup"),
    ("POST", "/schedule-call"),
    ("GET", "/scheduled-calls"),
    ("GET", "/scheduled-calls/x"),
    ("DELETE", "/scheduled-calls/x"),
    ("GET", "/api/enhanced-transcripts/"),
    (
        "GET",
        "/api/enhanced-transcripts/GT00000000000000000000000000000000",
    ),
    (
        "POST",
        "/api/enhanced-transcripts/GT00000000000000000000000000000000/re-enhance",
    ),
    ("POST", "/api/enhanced-twilio-transcripts/fetch-and-store"),
    (
        "POST",
        "/api/transcripts/fetch-and-store/GT00000000000000000000000000000000",
    ),
    ("POST", "/api/import-twilio-transcripts"),
    (
        "DELETE",
        "/twilio-transcripts/GT00000000000000000000000000000000",
    ),
    ("GET", "/stored-twilio-transcripts"),
    (
        "GET",
        "/stored-twilio-transcripts/GT00000000000000000000000000000000",
    ),
    ("GET", "/stored-transcripts/"),
    (
        "GET",
        "/stored-transcripts/GT00000000000000000000000000000000",
    ),
    ("GET", "/api/transcripts/GT00000000000000000000000000000000"),
    (
        "POST",
        "/api/transcripts/GT00000000000000000000000000000000/summarize",
    ),
    ("POST", "/whisper/transcribe"),
    ("POST", "/webhooks"),
    ("GET", "/webhooks"),
    ("DELETE", "/webhooks/01j00000000000000000000000"),
    ("GET", "/webhooks/01j00000000000000000000000/deliveries"),
];

fn claims(sub: &str, exp_offset: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "sub": sub, "tid": sub, "email": "x@example.com",
        "iss": "ai-phone-agents", "aud": "ai-phone-agents-api",
        "iat": now, "exp": now + exp_offset, "typ": "access"
    })
}

fn sign(alg: Algorithm, secret: &str, claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn every_kind_of_bad_access_token_gets_401() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let session = c.register(&email("tok")).await;
    let me = c.get("/users/me", Some(&session.access_token)).await;
    assert_eq!(me.status, 200, "{}", me.text);
    let sub = me.body["id"].as_str().unwrap().to_string();

    // Missing.
    let r = c.get("/users/me", None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["detail"], "Not authenticated");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/problem+json")
    );

    // A correctly signed token for the right user proves the forging helpers are right...
    let good = sign(Algorithm::HS256, &stack.jwt_secret, &claims(&sub, 60));
    assert_eq!(c.get("/users/me", Some(&good)).await.status, 200);

    // ...so each of these fails for the reason named.
    let expired = sign(Algorithm::HS256, &stack.jwt_secret, &claims(&sub, -120));
    let wrong_alg = sign(Algorithm::HS512, &stack.jwt_secret, &claims(&sub, 60));
    let wrong_key = sign(Algorithm::HS256, &"k".repeat(40), &claims(&sub, 60));
    let payload = URL_SAFE_NO_PAD.encode(claims(&sub, 60).to_string());
    let alg_none = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
    );
    let mut parts: Vec<String> = session
        .access_token
        .split('.')
        .map(str::to_string)
        .collect();
    let mut other = claims(&sub, 600);
    other["tid"] = json!("someone-else");
    parts[1] = URL_SAFE_NO_PAD.encode(other.to_string());
    let tampered = parts.join(".");
    let mut refresh_typ = claims(&sub, 60);
    refresh_typ["typ"] = json!("refresh");
    let wrong_type = sign(Algorithm::HS256, &stack.jwt_secret, &refresh_typ);
    for (name, token) in [
        ("expired", expired),
        ("wrong algorithm", wrong_alg),
        ("wrong key", wrong_key),
        ("alg none", alg_none),
        ("tampered payload", tampered),
        ("not an access token", wrong_type),
        ("refresh token as bearer", session.refresh_token.clone()),
        ("garbage", "not.a.jwt".into()),
    ] {
        let r = c.get("/users/me", Some(&token)).await;
        assert_eq!(r.status, 401, "{name}: {}", r.text);
        assert_eq!(r.body["detail"], "Could not validate credentials", "{name}");
    }
    let basic = c
        .send(
            c.request(reqwest::Method::GET, "/users/me")
                .header("authorization", "Basic YTpi"),
        )
        .await;
    assert_eq!(basic.status, 401);
}

#[tokio::test]
async fn every_protected_route_refuses_missing_expired_and_forged_tokens() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let session = c.register(&email("guard")).await;
    let sub = c.get("/users/me", Some(&session.access_token)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let expired = sign(Algorithm::HS256, &stack.jwt_secret, &claims(&sub, -120));
    let forged = sign(Algorithm::HS256, &"f".repeat(40), &claims(&sub, 60));
    for (method, path) in PROTECTED_ROUTES {
        let method: reqwest::Method = method.parse().unwrap();
        for token in [None, Some(&expired), Some(&forged)] {
            let mut request = c
                .request(method.clone(), path)
                .json(&json!({"step": "calendar"}));
            if let Some(t) = token {
                request = request.bearer_auth(t);
            }
            let r = c.send(request).await;
            assert_eq!(r.status, 401, "{method} {path} with {token:?}: {}", r.text);
        }
    }
}

#[tokio::test]
async fn a_deactivated_users_tokens_stop_working_everywhere() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let session = c.register(&email("gone")).await;
    let t = Some(session.access_token.as_str());
    let created = c
        .post(
            "/realtime/custom-scenario",
            t,
            &json!({"persona": "A persona that stays", "prompt": "A prompt that stays", "voice_type": "marin"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let tenant = c.get("/users/me", t).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let set_active = |active: bool| {
        let (stack, tenant) = (&stack, tenant.clone());
        async move {
            stack
                .dynamodb()
                .await
                .update_item()
                .table_name(&stack.table)
                .key("PK", AttributeValue::S(keys::tenant(&tenant)))
                .key("SK", AttributeValue::S(keys::USER.into()))
                .update_expression("SET is_active = :active")
                .expression_attribute_values(":active", AttributeValue::Bool(active))
                .send()
                .await
                .unwrap();
        }
    };
    set_active(false).await;
    for (method, path) in PROTECTED_ROUTES {
        let method: reqwest::Method = method.parse().unwrap();
        let r = c
            .send(
                c.request(method.clone(), path)
                    .bearer_auth(&session.access_token)
                    .json(&json!({"persona": "Changed persona", "prompt": "Changed prompt", "voice_type": "marin", "step": "calendar"})),
            )
            .await;
        assert_eq!(r.status, 401, "{method} {path}: {}", r.text);
    }
    let own = format!(
        "/custom-scenarios/{}",
        created.body["scenario_id"].as_str().unwrap()
    );
    for method in [reqwest::Method::PUT, reqwest::Method::DELETE] {
        let r = c
            .json(
                method.clone(),
                &own,
                t,
                &json!({"persona": "Changed persona", "prompt": "Changed prompt", "voice_type": "marin"}),
            )
            .await;
        assert_eq!(r.status, 401, "{method} {own}: {}", r.text);
    }
    let refreshed = c
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": session.refresh_token}),
        )
        .await;
    assert_eq!(refreshed.status, 401, "{}", refreshed.text);
    // Nothing was changed meanwhile, and the session stays revoked once reactivated.
    set_active(true).await;
    let scenarios = c.get("/custom-scenarios", t).await.body;
    assert_eq!(scenarios.as_array().unwrap().len(), 1, "{scenarios}");
    assert_eq!(scenarios[0]["persona"], "A persona that stays");
    let again = c
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": session.refresh_token}),
        )
        .await;
    assert_eq!(again.status, 401, "{}", again.text);
}
