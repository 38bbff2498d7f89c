//! Health, the OpenAPI document, the docs page, security headers, CORS and error shapes.

use e2e_tests::TestStack;
use reqwest::Method;

#[tokio::test]
async fn health_openapi_and_docs() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let health = c.get("/health", None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "ok");

    let spec = c.get("/openapi.json", None).await;
    assert_eq!(spec.status, 200);
    assert!(spec.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let expected = [
        ("post", "/auth/register"),
        ("post", "/auth/login"),
        ("post", "/auth/refresh"),
        ("post", "/auth/logout"),
        ("post", "/token"),
        ("get", "/users/me"),
        ("post", "/update-user-name"),
        ("get", "/protected"),
        ("get", "/auth/captcha-key"),
        ("get", "/scenarios"),
        ("get", "/scenarios/{key}"),
        ("post", "/realtime/custom-scenario"),
        ("get", "/custom-scenarios"),
        ("get", "/custom-scenarios/{scenario_id}"),
        ("put", "/custom-scenarios/{scenario_id}"),
        ("delete", "/custom-scenarios/{scenario_id}"),
        ("get", "/onboarding/status"),
        ("get", "/onboarding/next-action"),
        ("post", "/onboarding/complete-step"),
        ("post", "/onboarding/initialize"),
        ("get", "/onboarding/check-step/{step}"),
        ("get", "/health"),
        ("get", "/openapi.json"),
        ("get", "/docs"),
        ("get", "/docs/app.js"),
        ("get", "/twilio/account"),
        ("post", "/twilio/search-numbers"),
        ("post", "/twilio/provision-number"),
        ("get", "/twilio/user-numbers"),
        ("get", "/twilio/user-primary-number"),
        ("delete", "/twilio/release-number/{phone_number}"),
        ("get", "/twilio/inbound-scenario"),
        ("put", "/twilio/inbound-scenario"),
        ("get", "/make-call/{phone_number}/{scenario}"),
        ("get", "/make-custom-call/{phone_number}/{scenario_id}"),
        ("get", "/calls"),
        ("get", "/calls/{call_id}"),
        ("post", "/calls/{call_id}/hangup"),
        ("post", "/twilio/voice/inbound"),
        ("post", "/twilio/transfer-status"),
        ("post", "/twilio/amd-status"),
        ("post", "/twilio/call-status"),
        ("post", "/twilio/recording-status"),
        ("post", "/schedule-call"),
        ("get", "/scheduled-calls"),
        ("get", "/scheduled-calls/{schedule_id}"),
        ("delete", "/scheduled-calls/{schedule_id}"),
        ("post", "/twilio-transcripts/webhook-callback"),
        ("get", "/api/enhanced-transcripts/"),
        ("get", "/api/enhanced-transcripts/{transcript_sid}"),
        (
            "post",
            "/api/enhanced-transcripts/{transcript_sid}/re-enhance",
        ),
        ("post", "/api/enhanced-twilio-transcripts/fetch-and-store"),
        ("post", "/api/transcripts/fetch-and-store/{transcript_sid}"),
        ("post", "/api/import-twilio-transcripts"),
        ("delete", "/twilio-transcripts/{transcript_sid}"),
        ("get", "/stored-twilio-transcripts"),
        ("get", "/stored-twilio-transcripts/{transcript_sid}"),
        ("get", "/stored-transcripts/"),
        ("get", "/stored-transcripts/{transcript_sid}"),
        ("get", "/api/transcripts/{transcript_sid}"),
        ("post", "/api/transcripts/{transcript_sid}/summarize"),
        ("post", "/whisper/transcribe"),
        ("post", "/webhooks"),
        ("get", "/webhooks"),
        ("delete", "/webhooks/{webhook_id}"),
        ("get", "/webhooks/{webhook_id}/deliveries"),
        ("get", "/google-calendar/auth"),
        ("get", "/google-calendar/callback"),
        ("get", "/google-calendar/connection"),
        ("delete", "/google-calendar/connection"),
        ("get", "/google-calendar/settings"),
        ("put", "/google-calendar/settings"),
        ("get", "/google-calendar/calendars"),
        ("get", "/google-calendar/events"),
        ("get", "/google-calendar/check-availability"),
        ("get", "/google-calendar/find-slots"),
        ("get", "/google-calendar/make-calendar-call/{phone_number}"),
        ("post", "/google-calendar/schedule"),
        ("post", "/realtime/session"),
        ("post", "/realtime/signal"),
        ("get", "/usage"),
        ("get", "/admin/tenants"),
        ("post", "/admin/tenants/{tenant_id}/suspend"),
        ("post", "/admin/tenants/{tenant_id}/reinstate"),
        ("put", "/admin/tenants/{tenant_id}/minute-cap"),
        ("get", "/admin/twilio-account"),
        ("get", "/admin/audit-log"),
    ];
    let paths = spec.body["paths"].as_object().unwrap();
    let documented: usize = paths
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        expected.len(),
        "every route is documented, nothing else"
    );
    for (method, path) in expected {
        assert!(
            spec.body["paths"][path][method].is_object(),
            "{method} {path} missing"
        );
    }
    let schemas = spec.body["components"]["schemas"].as_object().unwrap();
    for schema in [
        "Problem",
        "FieldError",
        "TokenResponse",
        "CustomScenarioInput",
        "StatusView",
        "PredefinedView",
    ] {
        assert!(schemas.contains_key(schema), "{schema} missing");
    }
    assert!(spec.body["components"]["securitySchemes"]["bearer"].is_object());
    // Errors are documented as what they are: problem+json; bodies can be refused with 400/422.
    let register = &spec.body["paths"]["/auth/register"]["post"]["responses"];
    assert!(register["409"]["content"]["application/problem+json"].is_object());
    assert!(register["409"]["content"]["application/json"].is_null());
    let update = &spec.body["paths"]["/custom-scenarios/{scenario_id}"]["put"]["responses"];
    for status in ["400", "401", "404", "422"] {
        assert!(
            update[status]["content"]["application/problem+json"].is_object(),
            "{status}"
        );
    }
    let create = &spec.body["components"]["schemas"]["CustomScenarioInput"];
    assert_eq!(
        create["required"],
        serde_json::json!(["persona", "prompt", "voice_type"])
    );

    let docs = c.get("/docs", None).await;
    assert_eq!(docs.status, 200);
    assert!(
        docs.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(docs.text.contains("/docs/app.js"));
    let script = c.get("/docs/app.js", None).await;
    assert_eq!(script.status, 200);
    assert!(script.text.contains("/openapi.json"));
}

#[tokio::test]
async fn security_headers_cors_and_problem_bodies() {
    let stack = TestStack::start().await;
    let c = stack.client();
    for path in ["/health", "/no-such-route", "/users/me"] {
        let r = c.get(path, None).await;
        for (name, expected) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "strict-origin-when-cross-origin"),
            (
                "strict-transport-security",
                "max-age=31536000; includeSubDomains",
            ),
        ] {
            assert_eq!(r.header(name), Some(expected), "{path} {name}");
        }
        let csp = r.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
        assert!(
            r.header("permissions-policy")
                .unwrap()
                .contains("camera=()")
        );
    }
    let missing = c.get("/no-such-route", None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(missing.body["status"], 404);

    let wrong_method = c.send(c.request(Method::DELETE, "/health")).await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(
        wrong_method.header("content-type"),
        Some("application/problem+json")
    );

    let preflight = |origin: &'static str| {
        c.request(Method::OPTIONS, "/auth/login")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
    };
    let allowed = c.send(preflight("http://app.example.test")).await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("http://app.example.test")
    );
    let refused = c.send(preflight("https://evil.example")).await;
    assert_eq!(refused.header("access-control-allow-origin"), None);
}
