//! The simulator against itself, over real HTTP with reqwest: the OAuth flow as a platform
//! drives it, then the Calendar calls, with every answer checked against the discovery
//! document.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{DEFAULT_ACCOUNT, GoogleSim, GoogleSimConfig};
use crate::google_discovery::validate_response;

const CLIENT_ID: &str = "1234-sim.apps.googleusercontent.com";
const CLIENT_SECRET: &str = "GOCSPX-sim-client-secret";
const REDIRECT_URI: &str = "http://api.test/calendar/google/callback";
const EVENTS: &str = "https://www.googleapis.com/auth/calendar.events";
const FREEBUSY: &str = "https://www.googleapis.com/auth/calendar.freebusy";
/// `calendarList.*` accept neither of the two above.
const CALENDAR_LIST: &str = "https://www.googleapis.com/auth/calendar.calendarlist.readonly";
/// A verifier and its S256 challenge, computed independently (Python's hashlib).
const VERIFIER: &str = "the-platform-verifier_0123456789abcdefghijklmnopqrstuvwxyz";
const CHALLENGE: &str = "LVm_k8y3jf64GXvSqQdZrXMMJ1R9huhi2T35_ugyibQ";
const OTHER_VERIFIER: &str = "another-verifier-that-does-not-match_0123456789abcdef";

async fn start() -> (GoogleSim, reqwest::Client) {
    let sim = GoogleSim::start(GoogleSimConfig {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_uri: REDIRECT_URI.into(),
    })
    .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    (sim, http)
}

/// The authorize parameters a platform sends for offline access, with `overrides` replacing
/// (or, with an empty value, removing) some.
fn authorize_params(overrides: &[(&str, &str)]) -> Vec<(String, String)> {
    let scope = format!("{EVENTS} {FREEBUSY} {CALENDAR_LIST}");
    let defaults = [
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT_URI),
        ("response_type", "code"),
        ("scope", scope.as_str()),
        ("state", "csrf-state-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("access_type", "offline"),
        ("include_granted_scopes", "true"),
    ];
    let mut params: Vec<(String, String)> = defaults
        .iter()
        .filter(|(k, _)| !overrides.iter().any(|(o, _)| o == k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in overrides.iter().filter(|(_, v)| !v.is_empty()) {
        params.push((k.to_string(), v.to_string()));
    }
    params
}

async fn authorize(
    sim: &GoogleSim,
    http: &reqwest::Client,
    overrides: &[(&str, &str)],
) -> reqwest::Response {
    http.get(sim.auth_url())
        .query(&authorize_params(overrides))
        .send()
        .await
        .expect("authorize")
}

/// The query of the redirect back to the platform.
fn redirected(response: &reqwest::Response) -> Vec<(String, String)> {
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().expect("location");
    let (target, query) = location.split_once('?').expect("a query");
    assert_eq!(target, REDIRECT_URI);
    serde_urlencoded::from_str(query).expect("query pairs")
}

fn value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    super::param(pairs, name).unwrap_or_else(|| panic!("no {name} in {pairs:?}"))
}

async fn consent_code(
    sim: &GoogleSim,
    http: &reqwest::Client,
    overrides: &[(&str, &str)],
) -> String {
    let response = authorize(sim, http, overrides).await;
    value(&redirected(&response), "code").to_string()
}

async fn post_token(
    http: &reqwest::Client,
    sim: &GoogleSim,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut fields = vec![("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)];
    fields.extend_from_slice(form);
    let response = http
        .post(sim.token_url())
        .form(&fields)
        .send()
        .await
        .expect("token");
    (response.status(), response.json().await.expect("JSON"))
}

async fn exchange(
    http: &reqwest::Client,
    sim: &GoogleSim,
    code: &str,
    verifier: &str,
) -> (StatusCode, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
    ];
    post_token(http, sim, &form).await
}

/// Consents with `overrides` and exchanges the code: the token answer.
async fn connect(sim: &GoogleSim, http: &reqwest::Client, overrides: &[(&str, &str)]) -> Value {
    let code = consent_code(sim, http, overrides).await;
    let (status, tokens) = exchange(http, sim, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

fn access(tokens: &Value) -> &str {
    tokens["access_token"].as_str().expect("access token")
}

async fn call(
    http: &reqwest::Client,
    sim: &GoogleSim,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = http
        .request(method, format!("{}/{path}", sim.calendar_url()))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("calendar request");
    let status = response.status();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON")
    };
    (status, body)
}

fn assert_shape(method_id: &str, body: &Value) {
    assert_eq!(
        validate_response(method_id, body),
        Vec::<String>::new(),
        "{body}"
    );
}

fn appointment() -> Value {
    json!({
        "id": "call0123456789abcdefghij",
        "summary": "Dentist appointment",
        "start": {"dateTime": "2026-11-02T09:00:00", "timeZone": "America/New_York"},
        "end": {"dateTime": "2026-11-02T15:30:00Z", "timeZone": "America/New_York"},
        "attendees": [{"email": "caller@example.com"}],
        "extendedProperties": {"private": {"tenant": "t-1", "call": "c-42"}},
    })
}

#[tokio::test]
async fn the_full_pkce_flow_books_lists_and_cancels() {
    let (sim, http) = start().await;
    let response = authorize(&sim, &http, &[("prompt", "consent")]).await;
    let back = redirected(&response);
    assert_eq!(value(&back, "state"), "csrf-state-1");
    let granted: BTreeSet<&str> = value(&back, "scope").split(' ').collect();
    assert_eq!(granted, BTreeSet::from([EVENTS, FREEBUSY, CALENDAR_LIST]));
    let (status, tokens) = exchange(&http, &sim, value(&back, "code"), VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3599);
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
    let token = access(&tokens);

    let path = "calendars/primary/events?sendUpdates=none";
    let (status, event) = call(
        &http,
        &sim,
        token,
        reqwest::Method::POST,
        path,
        Some(appointment()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{event}");
    assert_shape("calendar.events.insert", &event);
    assert_eq!(event["id"], "call0123456789abcdefghij");
    assert_eq!(event["status"], "confirmed");
    assert_eq!(event["start"]["dateTime"], "2026-11-02T09:00:00-05:00");
    assert_eq!(event["end"]["dateTime"], "2026-11-02T10:30:00-05:00");
    assert_eq!(
        event["organizer"],
        json!({"email": DEFAULT_ACCOUNT, "self": true})
    );
    assert_eq!(event["attendees"][0]["responseStatus"], "needsAction");
    assert!(event.get("transparency").is_none());

    let list = "calendars/owner%40sim.test/events?timeMin=2026-11-02T00:00:00Z&timeMax=2026-11-03T00:00:00Z&singleEvents=true&orderBy=startTime&privateExtendedProperty=tenant%3Dt-1&privateExtendedProperty=call%3Dc-42";
    let (status, listed) = call(&http, &sim, token, reqwest::Method::GET, list, None).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_shape("calendar.events.list", &listed);
    assert_eq!(listed["items"][0]["id"], "call0123456789abcdefghij");
    assert_eq!(listed["timeZone"], "UTC");

    let query = json!({
        "timeMin": "2026-11-02T00:00:00Z",
        "timeMax": "2026-11-03T00:00:00Z",
        "items": [{"id": "primary"}],
    });
    let (status, free_busy) = call(
        &http,
        &sim,
        token,
        reqwest::Method::POST,
        "freeBusy",
        Some(query),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{free_busy}");
    assert_shape("calendar.freebusy.query", &free_busy);
    assert_eq!(
        free_busy["calendars"]["primary"]["busy"],
        json!([{"start": "2026-11-02T14:00:00Z", "end": "2026-11-02T15:30:00Z"}])
    );

    let event_path = "calendars/primary/events/call0123456789abcdefghij";
    let (status, _) = call(
        &http,
        &sim,
        token,
        reqwest::Method::DELETE,
        event_path,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = call(
        &http,
        &sim,
        token,
        reqwest::Method::DELETE,
        event_path,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(gone["error"]["errors"][0]["reason"], "deleted");
    let (status, cancelled) =
        call(&http, &sim, token, reqwest::Method::GET, event_path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cancelled["status"], "cancelled");
    let (_, listed) = call(
        &http,
        &sim,
        token,
        reqwest::Method::GET,
        "calendars/primary/events",
        None,
    )
    .await;
    assert_eq!(listed["items"], json!([]));
    let shown = "calendars/primary/events?showDeleted=true";
    let (_, listed) = call(&http, &sim, token, reqwest::Method::GET, shown, None).await;
    assert_eq!(listed["items"][0]["status"], "cancelled");

    assert_eq!(sim.violations(), Vec::<String>::new());
    let recorded = format!("{:?}", sim.requests());
    for secret in [
        token,
        tokens["refresh_token"].as_str().unwrap_or_default(),
        CLIENT_SECRET,
        VERIFIER,
    ] {
        assert!(!recorded.contains(secret), "a secret in {recorded}");
    }
}

#[tokio::test]
async fn the_authorize_endpoint_refuses_what_google_refuses() {
    let (sim, http) = start().await;
    let cases: [&[(&str, &str)]; 8] = [
        &[("client_id", "someone-else")],
        &[("redirect_uri", "http://api.test/other")],
        &[("scope", "https://www.googleapis.com/auth/gmail.readonly")],
        &[("response_type", "token")],
        &[("state", "")],
        &[("code_challenge", "")],
        &[("code_challenge_method", "plain")],
        &[("code_challenge", "too-short")],
    ];
    for overrides in cases {
        let response = authorize(&sim, &http, overrides).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{overrides:?}");
        assert!(response.headers().get("location").is_none());
    }
    let response = authorize(&sim, &http, &[("approval_prompt", "force")]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_user_can_deny_or_grant_only_some_scopes() {
    let (sim, http) = start().await;
    sim.deny_next_consent();
    let back = redirected(&authorize(&sim, &http, &[]).await);
    assert_eq!(value(&back, "error"), "access_denied");
    assert_eq!(value(&back, "state"), "csrf-state-1");
    assert!(super::param(&back, "code").is_none());

    sim.grant_only_next(&[FREEBUSY]);
    let tokens = connect(&sim, &http, &[]).await;
    assert_eq!(tokens["scope"], FREEBUSY);
    let (status, refused) = call(
        &http,
        &sim,
        access(&tokens),
        reqwest::Method::POST,
        "calendars/primary/events",
        Some(appointment()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused,
        json!({"error": {"code": 403, "message": "Request had insufficient authentication scopes.",
            "errors": [{"message": "Insufficient Permission", "domain": "global", "reason": "insufficientPermissions"}],
            "status": "PERMISSION_DENIED"}})
    );
}

#[tokio::test]
async fn a_code_needs_its_verifier_and_works_once() {
    let (sim, http) = start().await;
    let code = consent_code(&sim, &http, &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ];
    let (status, missing) = post_token(&http, &sim, &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing,
        json!({"error": "invalid_grant", "error_description": "Missing code verifier."})
    );
    let (status, wrong) = exchange(&http, &sim, &code, OTHER_VERIFIER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong,
        json!({"error": "invalid_grant", "error_description": "Invalid code verifier."})
    );

    let (status, _) = exchange(&http, &sim, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK);
    let (status, reused) = exchange(&http, &sim, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reused,
        json!({"error": "invalid_grant", "error_description": "Bad Request"})
    );
    let (status, unknown) = exchange(&http, &sim, "4/0Anever-issued", VERIFIER).await;
    assert_eq!(
        (status, &unknown["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_grant"))
    );
}

#[tokio::test]
async fn the_client_must_authenticate() {
    let (sim, http) = start().await;
    let code = consent_code(&sim, &http, &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", VERIFIER),
    ];
    let wrong = http
        .post(sim.token_url())
        .basic_auth(CLIENT_ID, Some("not-the-secret"))
        .form(&form)
        .send()
        .await
        .expect("token");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: Value = wrong.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({"error": "invalid_client", "error_description": "Unauthorized"})
    );
    let basic = http
        .post(sim.token_url())
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&form)
        .send()
        .await
        .expect("token");
    assert_eq!(basic.status(), StatusCode::OK);
    let (status, body) = post_token(&http, &sim, &[("grant_type", "password")]).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("unsupported_grant_type"))
    );
}

#[tokio::test]
async fn refresh_tokens_come_only_when_google_gives_them() {
    let (sim, http) = start().await;
    assert!(connect(&sim, &http, &[]).await["refresh_token"].is_string());
    let again = connect(&sim, &http, &[]).await;
    assert!(
        again.get("refresh_token").is_none(),
        "a re-consent: {again}"
    );
    assert!(connect(&sim, &http, &[("prompt", "consent")]).await["refresh_token"].is_string());
    sim.omit_refresh_token_next();
    let omitted = connect(&sim, &http, &[("prompt", "consent")]).await;
    assert!(omitted.get("refresh_token").is_none());
    sim.add_account("online@sim.test", "Europe/Berlin");
    let online = connect(
        &sim,
        &http,
        &[("login_hint", "online@sim.test"), ("access_type", "online")],
    )
    .await;
    assert!(online.get("refresh_token").is_none());
}

#[tokio::test]
async fn refresh_works_until_the_grant_is_revoked() {
    let (sim, http) = start().await;
    let tokens = connect(&sim, &http, &[]).await;
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh token");
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];

    sim.expire_access_tokens();
    let (status, expired) = call(
        &http,
        &sim,
        access(&tokens),
        reqwest::Method::GET,
        "users/me/calendarList",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(expired["error"]["errors"][0]["location"], "Authorization");
    let (status, renewed) = post_token(&http, &sim, &refresh).await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    assert!(renewed.get("refresh_token").is_none());
    assert_eq!(renewed["scope"], tokens["scope"]);
    let (status, list) = call(
        &http,
        &sim,
        access(&renewed),
        reqwest::Method::GET,
        "users/me/calendarList",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_shape("calendar.calendarList.list", &list);

    let revoke = http
        .post(sim.revoke_url())
        .form(&[("token", refresh_token)])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoke.status(), StatusCode::OK);
    let (status, revoked) = post_token(&http, &sim, &refresh).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        revoked,
        json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    );
    let (status, _) = call(
        &http,
        &sim,
        access(&renewed),
        reqwest::Method::GET,
        "users/me/calendarList",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let again = http
        .post(sim.revoke_url())
        .form(&[("token", refresh_token)])
        .send()
        .await
        .expect("revoke");
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);

    let fresh = connect(&sim, &http, &[]).await;
    assert!(
        fresh["refresh_token"].is_string(),
        "a new grant after revocation"
    );
    sim.revoke_grant(DEFAULT_ACCOUNT);
    let form = [
        ("grant_type", "refresh_token"),
        (
            "refresh_token",
            fresh["refresh_token"].as_str().unwrap_or_default(),
        ),
    ];
    let (status, _) = post_token(&http, &sim, &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn access_tokens_expire_after_their_lifetime() {
    let (sim, http) = start().await;
    sim.set_access_token_lifetime(Duration::from_millis(300));
    let tokens = connect(&sim, &http, &[]).await;
    assert_eq!(tokens["expires_in"], 0);
    let (status, _) = call(
        &http,
        &sim,
        access(&tokens),
        reqwest::Method::GET,
        "users/me/calendarList",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, _) = call(
        &http,
        &sim,
        access(&tokens),
        reqwest::Method::GET,
        "users/me/calendarList",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn free_busy_counts_what_google_counts() {
    let (sim, http) = start().await;
    sim.add_account("ny@sim.test", "America/New_York");
    let calendar = "ny@sim.test";
    sim.seed_event(
        calendar,
        json!({"summary": "Trip", "start": {"date": "2026-11-01"}, "end": {"date": "2026-11-02"}}),
    );
    sim.seed_event(calendar, json!({"summary": "Call", "start": {"dateTime": "2026-11-02T09:00:00-05:00"}, "end": {"dateTime": "2026-11-02T10:00:00-05:00"}}));
    sim.seed_event(calendar, json!({"summary": "Reminder", "transparency": "transparent", "start": {"dateTime": "2026-11-02T11:00:00-05:00"}, "end": {"dateTime": "2026-11-02T12:00:00-05:00"}}));
    sim.seed_event(calendar, json!({"summary": "Declined", "attendees": [{"email": calendar, "responseStatus": "declined"}], "start": {"dateTime": "2026-11-02T13:00:00-05:00"}, "end": {"dateTime": "2026-11-02T14:00:00-05:00"}}));
    sim.seed_event(calendar, json!({"summary": "Off", "status": "cancelled", "start": {"dateTime": "2026-11-02T15:00:00-05:00"}, "end": {"dateTime": "2026-11-02T16:00:00-05:00"}}));
    sim.add_calendar("ny@sim.test", "team@sim.test", "Team", "Europe/Berlin");
    sim.seed_event(
        "team@sim.test",
        json!({"start": {"date": "2026-11-02"}, "end": {"date": "2026-11-03"}}),
    );
    let tokens = connect(&sim, &http, &[("login_hint", calendar)]).await;

    let query = json!({
        "timeMin": "2026-10-31T00:00:00Z",
        "timeMax": "2026-11-03T00:00:00Z",
        "timeZone": "America/New_York",
        "items": [{"id": "primary"}, {"id": "team@sim.test"}, {"id": "owner@sim.test"}],
    });
    let (status, answer) = call(
        &http,
        &sim,
        access(&tokens),
        reqwest::Method::POST,
        "freeBusy",
        Some(query),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_shape("calendar.freebusy.query", &answer);
    assert_eq!(answer["timeMin"], "2026-10-31T00:00:00.000Z");
    assert_eq!(
        answer["calendars"]["primary"]["busy"],
        json!([
            {"start": "2026-11-01T04:00:00Z", "end": "2026-11-02T05:00:00Z"},
            {"start": "2026-11-02T14:00:00Z", "end": "2026-11-02T15:00:00Z"},
        ])
    );
    assert_eq!(
        answer["calendars"]["team@sim.test"]["busy"],
        json!([{"start": "2026-11-01T23:00:00Z", "end": "2026-11-02T23:00:00Z"}])
    );
    assert_eq!(
        answer["calendars"]["owner@sim.test"],
        json!({"errors": [{"domain": "global", "reason": "notFound"}], "busy": []})
    );
    let (status, _) = call(
        &http,
        &sim,
        access(&tokens),
        reqwest::Method::GET,
        "calendars/owner%40sim.test/events",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another account's calendar");
    let (_, entry) = call(
        &http,
        &sim,
        access(&tokens),
        reqwest::Method::GET,
        "users/me/calendarList/primary",
        None,
    )
    .await;
    assert_shape("calendar.calendarList.get", &entry);
    assert_eq!(
        (&entry["id"], &entry["timeZone"], &entry["primary"]),
        (&json!(calendar), &json!("America/New_York"), &json!(true))
    );
    assert_eq!(sim.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn events_list_pages_filters_and_orders() {
    let (sim, http) = start().await;
    for hour in [11, 9, 10] {
        let start = format!("2026-11-02T{hour:02}:00:00Z");
        let end = format!("2026-11-02T{hour:02}:30:00Z");
        sim.seed_event(
            DEFAULT_ACCOUNT,
            json!({"start": {"dateTime": start}, "end": {"dateTime": end}}),
        );
    }
    let token = connect(&sim, &http, &[]).await;
    let token = access(&token);
    let path = "calendars/primary/events?singleEvents=true&orderBy=startTime&maxResults=2&timeZone=Europe/Berlin";
    let (status, first) = call(&http, &sim, token, reqwest::Method::GET, path, None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let starts: Vec<&Value> = first["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| &e["start"]["dateTime"])
        .collect();
    assert_eq!(
        starts,
        [
            &json!("2026-11-02T10:00:00+01:00"),
            &json!("2026-11-02T11:00:00+01:00")
        ]
    );
    let next = first["nextPageToken"].as_str().expect("a next page");
    let (_, second) = call(
        &http,
        &sim,
        token,
        reqwest::Method::GET,
        &format!("{path}&pageToken={next}"),
        None,
    )
    .await;
    assert_eq!(second["items"].as_array().map(Vec::len), Some(1));
    assert!(second.get("nextPageToken").is_none());

    let window =
        "calendars/primary/events?timeMin=2026-11-02T09:30:00Z&timeMax=2026-11-02T10:30:00Z";
    let (_, windowed) = call(&http, &sim, token, reqwest::Method::GET, window, None).await;
    assert_eq!(
        windowed["items"].as_array().map(Vec::len),
        Some(1),
        "only 10:00-10:30 overlaps"
    );
    let (status, unordered) = call(
        &http,
        &sim,
        token,
        reqwest::Method::GET,
        "calendars/primary/events?orderBy=startTime",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(unordered["error"]["errors"][0]["reason"], "badRequest");
}

#[tokio::test]
async fn inserts_are_refused_as_google_refuses_them() {
    let (sim, http) = start().await;
    let token = connect(&sim, &http, &[]).await;
    let token = access(&token);
    let (client, simulator) = (&http, &sim);
    let insert = move |body: Value| {
        call(
            client,
            simulator,
            token,
            reqwest::Method::POST,
            "calendars/primary/events",
            Some(body),
        )
    };
    let (status, _) = insert(appointment()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, duplicate) = insert(appointment()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        duplicate,
        json!({"error": {"code": 409, "message": "The requested identifier already exists.",
            "errors": [{"domain": "global", "reason": "duplicate", "message": "The requested identifier already exists."}]}})
    );
    let mut bad_id = appointment();
    bad_id["id"] = json!("Call-42");
    let (status, refused) = insert(bad_id).await;
    assert_eq!(
        (status, &refused["error"]["errors"][0]["reason"]),
        (StatusCode::BAD_REQUEST, &json!("invalid"))
    );
    let mut backwards = appointment();
    backwards["id"] = json!("call99");
    backwards["end"] = json!({"dateTime": "2026-11-02T08:00:00-05:00"});
    let (status, refused) = insert(backwards).await;
    assert_eq!(
        (status, &refused["error"]["errors"][0]["reason"]),
        (StatusCode::BAD_REQUEST, &json!("timeRangeEmpty"))
    );
    assert_eq!(sim.violations(), Vec::<String>::new());

    let mut off_contract = appointment();
    off_contract["startTime"] = json!("2026-11-02T09:00:00Z");
    let (status, refused) = insert(off_contract).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("`startTime`")
    );
    let violations = sim.violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(
        violations[0].starts_with("POST calendars/primary/events: unknown property `startTime`")
    );
}

#[tokio::test]
async fn injected_faults_hit_one_request() {
    let (sim, http) = start().await;
    let token = connect(&sim, &http, &[]).await;
    let token = access(&token);
    let query = json!({"timeMin": "2026-11-02T00:00:00Z", "timeMax": "2026-11-03T00:00:00Z", "items": [{"id": "primary"}]});
    sim.fail_next("freeBusy", 503);
    let (status, failed) = call(
        &http,
        &sim,
        token,
        reqwest::Method::POST,
        "freeBusy",
        Some(query.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(failed["error"]["code"], 503);
    sim.fail_next("calendars/owner@sim.test/events", 429);
    let (status, limited) = call(
        &http,
        &sim,
        token,
        reqwest::Method::GET,
        "calendars/owner%40sim.test/events",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited["error"]["errors"][0]["reason"], "rateLimitExceeded");
    let (status, _) = call(
        &http,
        &sim,
        token,
        reqwest::Method::POST,
        "freeBusy",
        Some(query.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    sim.delay_next("freeBusy", Duration::from_secs(2));
    let slow = http
        .post(format!("{}/freeBusy", sim.calendar_url()))
        .bearer_auth(token)
        .json(&query)
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(slow.is_err_and(|e| e.is_timeout()));
}
