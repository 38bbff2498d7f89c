//! Connecting a calendar: PKCE, a single-use state bound to the tenant, tokens sealed and
//! refreshed, revocation, and disconnecting.

use aws_sdk_dynamodb::types::AttributeValue;
use e2e_tests::calendar_rig::{authorization_url, callback, connect, consent, query_value};
use e2e_tests::client::email;
use e2e_tests::google_sim::DEFAULT_ACCOUNT;
use e2e_tests::{Options, TestStack};
use shared::google::oauth::SCOPES;

use super::calendar_stack;

const FAILED: &str = "/scheduled-meetings?error=calendar_connection_failed";

fn connection_status(reply: &e2e_tests::client::Reply) -> &str {
    reply.body["status"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn connecting_uses_pkce_and_a_stored_state_then_reads_the_calendar() {
    let s = calendar_stack().await;
    let c = s.stack.client();
    let url = authorization_url(&s.stack, s.token()).await;
    assert!(url.starts_with(&s.google.auth_url()), "{url}");
    let query = url.split_once('?').unwrap().1;
    assert_eq!(
        query_value(query, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        query_value(query, "code_challenge").map(|c| c.len()),
        Some(43)
    );
    assert_eq!(
        query_value(query, "access_type").as_deref(),
        Some("offline")
    );
    assert_eq!(query_value(query, "scope").unwrap(), SCOPES.join(" "));
    let state = query_value(query, "state").unwrap();
    assert!(state.len() >= 43, "a random state, not a user id");
    let me = c.get("/users/me", Some(s.token())).await;
    assert!(!state.contains(me.body["id"].as_str().unwrap()));

    let before = c
        .get("/onboarding/check-step/calendar", Some(s.token()))
        .await;
    assert_eq!(before.body["completed"], false, "{}", before.text);
    let landing = callback(&s.stack, &consent(&url, DEFAULT_ACCOUNT).await).await;
    assert_eq!(
        landing,
        "http://app.example.test/scheduled-meetings?success=true&connected=calendar"
    );
    let connection = c.get("/google-calendar/connection", Some(s.token())).await;
    assert_eq!(connection.body["connected"], true, "{}", connection.text);
    let after = c
        .get("/onboarding/check-step/calendar", Some(s.token()))
        .await;
    assert_eq!(after.body["completed"], true, "{}", after.text);

    // The verifier went to Google with the code.
    let exchange = s
        .google
        .requests()
        .into_iter()
        .find(|r| r.path == "/token")
        .expect("a code exchange");
    assert!(exchange.form.iter().any(|(k, _)| k == "code_verifier"));

    let events = c.get("/google-calendar/events", Some(s.token())).await;
    assert_eq!(events.status, 200, "{}", events.text);
    // Tokens never reach a log line.
    let logs = s.stack.logs.contents();
    for prefix in ["ya29.", "1//0g", "4/0A", "GOCSPX-"] {
        assert!(!logs.contains(prefix), "{prefix} in the logs");
    }
    s.assert_no_contract_violations();
}

#[tokio::test]
async fn forged_replayed_expired_and_foreign_states_connect_nothing() {
    let s = calendar_stack().await;
    let c = s.stack.client();
    let victim = c.register(&email("victim")).await;
    let victim_id = c.get("/users/me", Some(&victim.access_token)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.google.add_account("attacker@sim.test", "UTC");

    // The reference's forgeable `state=<random>:<user id>`: the attacker's own code with the
    // victim's id in the state.
    let attacker_url = authorization_url(&s.stack, s.token()).await;
    let attacker = consent(&attacker_url, "attacker@sim.test").await;
    let code = query_value(&attacker, "code").unwrap();
    let real_state = query_value(&attacker, "state").unwrap();
    for forged in [
        format!("x:{victim_id}"),
        format!("{real_state}:{victim_id}"),
        "".to_string(),
        "a".repeat(5000),
    ] {
        let query = serde_urlencoded::to_string([("state", &forged), ("code", &code)]).unwrap();
        let landing = callback(&s.stack, &query).await;
        assert!(landing.contains(FAILED), "{forged:.40}: {landing}");
    }
    let victim_connection = c
        .get("/google-calendar/connection", Some(&victim.access_token))
        .await;
    assert_eq!(victim_connection.body["connected"], false);
    assert_eq!(connection_status(&victim_connection), "not_connected");

    // The genuine callback works once; replayed, it does nothing more.
    let landing = callback(&s.stack, &attacker).await;
    assert!(
        landing.ends_with("success=true&connected=calendar"),
        "{landing}"
    );
    let replay = callback(&s.stack, &attacker).await;
    assert!(replay.contains(FAILED), "{replay}");
    assert!(
        replay.contains("invalid+or+has+expired") || replay.contains("invalid%20or"),
        "{replay}"
    );

    // A state whose time ran out (TTL deletion is lazy, so the item is still there).
    let url = authorization_url(&s.stack, &victim.access_token).await;
    let stale = consent(&url, DEFAULT_ACCOUNT).await;
    let state = query_value(&stale, "state").unwrap();
    s.stack
        .dynamodb()
        .await
        .update_item()
        .table_name(&s.stack.table)
        .key(
            "PK",
            AttributeValue::S(format!("OAUTHSTATE#{}", shared::auth::sha256_hex(&state))),
        )
        .key("SK", AttributeValue::S("OAUTHSTATE".into()))
        .update_expression("SET expires_at = :past")
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_values(":past", AttributeValue::N("1000".into()))
        .send()
        .await
        .expect("the state is stored");
    assert!(callback(&s.stack, &stale).await.contains(FAILED));
    let victim_connection = c
        .get("/google-calendar/connection", Some(&victim.access_token))
        .await;
    assert_eq!(
        victim_connection.body["connected"], false,
        "the victim never connected"
    );
    // Only the tenant that asked for the state was connected.
    let own = c.get("/google-calendar/connection", Some(s.token())).await;
    assert_eq!(own.body["connected"], true);
}

#[tokio::test]
async fn declined_consent_and_missing_scopes_connect_nothing() {
    let s = calendar_stack().await;
    let c = s.stack.client();
    s.google.deny_next_consent();
    let url = authorization_url(&s.stack, s.token()).await;
    let denied = consent(&url, DEFAULT_ACCOUNT).await;
    assert_eq!(
        query_value(&denied, "error").as_deref(),
        Some("access_denied")
    );
    let landing = callback(&s.stack, &denied).await;
    assert!(
        landing.contains(FAILED) && landing.contains("not+granted"),
        "{landing}"
    );

    // Granular consent: events but not free/busy.
    s.google.grant_only_next(&[SCOPES[0]]);
    let url = authorization_url(&s.stack, s.token()).await;
    let partial = consent(&url, DEFAULT_ACCOUNT).await;
    let landing = callback(&s.stack, &partial).await;
    assert!(landing.contains(FAILED), "{landing}");
    let connection = c.get("/google-calendar/connection", Some(s.token())).await;
    assert_eq!(connection_status(&connection), "not_connected");
    assert!(
        s.google.requests().iter().any(|r| r.path == "/revoke"),
        "the unusable grant is revoked at Google"
    );
}

#[tokio::test]
async fn tokens_are_refreshed_written_back_and_kept_across_reconsent() {
    let s = calendar_stack().await;
    let c = s.stack.client();
    connect(&s.stack, s.token(), DEFAULT_ACCOUNT).await;
    let refreshes = || {
        s.google
            .requests()
            .iter()
            .filter(|r| {
                r.path == "/token"
                    && r.form
                        .iter()
                        .any(|(k, v)| k == "grant_type" && v == "refresh_token")
            })
            .count()
    };
    // Expired at Google: the first request gets 401, refreshes and succeeds; the new token is
    // stored, so the next request (another "instance") does not refresh again.
    s.google.expire_access_tokens();
    assert_eq!(
        c.get("/google-calendar/events", Some(s.token()))
            .await
            .status,
        200
    );
    assert_eq!(refreshes(), 1);
    assert_eq!(
        c.get("/google-calendar/events", Some(s.token()))
            .await
            .status,
        200
    );
    assert_eq!(refreshes(), 1, "the refreshed token was written back");

    // Re-consent without a new refresh token keeps the stored one working.
    s.google.omit_refresh_token_next();
    connect(&s.stack, s.token(), DEFAULT_ACCOUNT).await;
    s.google.expire_access_tokens();
    let events = c.get("/google-calendar/events", Some(s.token())).await;
    assert_eq!(events.status, 200, "{}", events.text);
    assert_eq!(refreshes(), 2);
    s.assert_no_contract_violations();
}

#[tokio::test]
async fn a_revoked_grant_is_a_clear_409_and_is_marked() {
    let s = calendar_stack().await;
    let c = s.stack.client();
    connect(&s.stack, s.token(), DEFAULT_ACCOUNT).await;
    s.google.revoke_grant(DEFAULT_ACCOUNT);
    let events = c.get("/google-calendar/events", Some(s.token())).await;
    assert_eq!(events.status, 409, "{}", events.text);
    assert!(
        events.body["detail"]
            .as_str()
            .unwrap()
            .contains("connect the calendar again")
    );
    let connection = c.get("/google-calendar/connection", Some(s.token())).await;
    assert_eq!(connection_status(&connection), "revoked");
    assert_eq!(connection.body["connected"], false);
    let step = c
        .get("/onboarding/check-step/calendar", Some(s.token()))
        .await;
    assert_eq!(
        step.body["completed"], false,
        "a revoked grant is not a live connection"
    );
    // Calendar calls are refused before anything is dialled.
    let call = c
        .get(
            "/google-calendar/make-calendar-call/%2B14155550123",
            Some(s.token()),
        )
        .await;
    assert!(matches!(call.status, 409 | 503), "{}", call.text);
    // Connecting again brings it back.
    connect(&s.stack, s.token(), DEFAULT_ACCOUNT).await;
    assert_eq!(
        c.get("/google-calendar/events", Some(s.token()))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn disconnecting_revokes_at_google_and_forgets() {
    let s = calendar_stack().await;
    let c = s.stack.client();
    let other = c.register(&email("other")).await;
    connect(&s.stack, s.token(), DEFAULT_ACCOUNT).await;
    // Another tenant can neither see nor remove it.
    assert_eq!(
        c.request(reqwest::Method::DELETE, "/google-calendar/connection")
            .bearer_auth(&other.access_token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    for path in [
        "/google-calendar/events",
        "/google-calendar/find-slots",
        "/google-calendar/calendars",
    ] {
        let reply = c.get(path, Some(&other.access_token)).await;
        assert_eq!(reply.status, 409, "{path}: {}", reply.text);
    }
    let gone = c
        .request(reqwest::Method::DELETE, "/google-calendar/connection")
        .bearer_auth(s.token())
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    assert!(s.google.requests().iter().any(|r| r.path == "/revoke"));
    let connection = c.get("/google-calendar/connection", Some(s.token())).await;
    assert_eq!(connection_status(&connection), "not_connected");
    assert_eq!(
        c.get("/google-calendar/events", Some(s.token()))
            .await
            .status,
        409
    );
}

#[tokio::test]
async fn without_a_google_client_the_calendar_is_unavailable_not_broken() {
    let stack = TestStack::start_with(Options::default()).await;
    let c = stack.client();
    let session = c.register(&email("nogoogle")).await;
    let auth = c
        .get("/google-calendar/auth", Some(&session.access_token))
        .await;
    assert_eq!(auth.status, 503, "{}", auth.text);
    let landing = callback(&stack, "state=abc&code=def").await;
    assert!(landing.contains(FAILED), "{landing}");
    let settings = c
        .get("/google-calendar/settings", Some(&session.access_token))
        .await;
    assert_eq!(settings.status, 200, "settings work without Google");
}
