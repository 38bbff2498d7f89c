//! The Lambda path: API Gateway HTTP API (v2) events converted by `lambda_http`, as on AWS,
//! reach the same router; the client IP for rate limits is API Gateway's `sourceIp`.

use e2e_tests::{Options, VALID_CAPTCHA, in_process_app};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

fn event(method: &str, path: &str, source_ip: &str, body: Option<&Value>) -> String {
    json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "api.example.com", "x-forwarded-for": "203.0.113.99"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
            "domainPrefix": "api", "requestId": "req", "routeKey": format!("{method} {path}"),
            "stage": "$default", "time": "25/Nov/2026:12:00:00 +0000", "timeEpoch": 1_795_608_000_000_u64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip, "userAgent": "test"}
        },
        "body": body.map(Value::to_string),
        "isBase64Encoded": false
    })
    .to_string()
}

async fn call(app: &axum::Router, event: &str) -> (u16, Value) {
    let request = lambda_http::request::from_str(event).expect("valid API Gateway v2 event");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn api_gateway_events_are_served_and_limited_by_source_ip() {
    let app = in_process_app(Options {
        real_rate_limits: true,
        ..Default::default()
    })
    .await;
    let (status, body) = call(&app, &event("GET", "/health", "198.51.100.7", None)).await;
    assert_eq!((status, body["status"].clone()), (200, json!("ok")));

    let login = json!({"email": "nobody@example.com", "password": "wrong-password-1", "captcha_token": VALID_CAPTCHA});
    for _ in 0..5 {
        let (status, _) = call(
            &app,
            &event("POST", "/auth/login", "198.51.100.7", Some(&login)),
        )
        .await;
        assert_eq!(status, 401);
    }
    let (status, body) = call(
        &app,
        &event("POST", "/auth/login", "198.51.100.7", Some(&login)),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    // A forged X-Forwarded-For changes nothing, but a different source address has its own budget.
    let (status, _) = call(
        &app,
        &event("POST", "/auth/login", "192.0.2.1", Some(&login)),
    )
    .await;
    assert_eq!(status, 401);

    let (status, body) = call(&app, &event("GET", "/users/me", "198.51.100.7", None)).await;
    assert_eq!(status, 401);
    assert_eq!(body["detail"], "Not authenticated");
}
