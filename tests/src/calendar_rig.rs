//! Connecting a stack to the Google simulator as a tenant's browser would: the API hands out
//! the consent URL, the "browser" visits it (the simulator consents for the account named by
//! `login_hint`) and follows Google's redirect to the API's callback.

use crate::google_sim::{GoogleSim, GoogleSimConfig};
use crate::{Options, TestStack};

pub const CLIENT_ID: &str = "platform-test.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "GOCSPX-platform-test-secret";
/// Registered with the simulator; the test's browser maps it to the stack it is testing.
pub const REDIRECT_URI: &str = "http://api.test/google-calendar/callback";

pub async fn google_sim() -> GoogleSim {
    GoogleSim::start(GoogleSimConfig {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_uri: REDIRECT_URI.into(),
    })
    .await
}

impl Options {
    /// Points the stack's Google client at the simulator.
    pub fn google(self, sim: &GoogleSim) -> Self {
        self.env("GOOGLE_CLIENT_ID", CLIENT_ID)
            .env("GOOGLE_CLIENT_SECRET", CLIENT_SECRET)
            .env("GOOGLE_REDIRECT_URI", REDIRECT_URI)
            .env("GOOGLE_AUTH_URL", &sim.auth_url())
            .env("GOOGLE_TOKEN_URL", &sim.token_url())
            .env("GOOGLE_REVOKE_URL", &sim.revoke_url())
            .env("GOOGLE_CALENDAR_API_URL", &sim.calendar_url())
    }
}

/// A browser without cookies that does not follow redirects.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The consent URL `/google-calendar/auth` hands `token`'s tenant.
pub async fn authorization_url(stack: &TestStack, token: &str) -> String {
    let reply = stack
        .client()
        .get("/google-calendar/auth", Some(token))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body["authorization_url"]
        .as_str()
        .expect("authorization_url")
        .to_string()
}

/// Visits a consent URL as `account` and returns the query Google put on the redirect to
/// the callback (`state=...&code=...` or `state=...&error=...`).
pub async fn consent(authorization_url: &str, account: &str) -> String {
    let url = format!("{authorization_url}&login_hint={account}");
    let reply = browser().get(&url).send().await.expect("authorize");
    assert_eq!(reply.status().as_u16(), 302, "{:?}", reply.text().await);
    let location = reply.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let (target, query) = location.split_once('?').expect("a query");
    assert_eq!(target, REDIRECT_URI);
    query.to_string()
}

/// The browser arriving at the stack's callback with `query`; returns where the stack sends
/// it next (the frontend's page).
pub async fn callback(stack: &TestStack, query: &str) -> String {
    let reply = browser()
        .get(format!(
            "{}/google-calendar/callback?{query}",
            stack.base_url
        ))
        .send()
        .await
        .expect("callback");
    assert_eq!(reply.status().as_u16(), 303);
    reply.headers()["location"]
        .to_str()
        .expect("location")
        .to_string()
}

/// Connects `token`'s tenant to `account`'s calendar; panics unless the stack reports success.
pub async fn connect(stack: &TestStack, token: &str, account: &str) {
    let url = authorization_url(stack, token).await;
    let query = consent(&url, account).await;
    let landing = callback(stack, &query).await;
    assert!(
        landing.ends_with("/scheduled-meetings?success=true&connected=calendar"),
        "{landing}"
    );
}

/// The value of `key` in a query string.
pub fn query_value(query: &str, key: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}
