//! A small HTTP client for the tests: JSON in, status + JSON out.

use serde_json::{Value, json};

#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

/// A response: status, headers and the body parsed as JSON (`Null` if it is not JSON).
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `field` names of a problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Fails the test unless this is a `status` problem (problem+json) whose detail contains
    /// one of `hints` (e.g. that the client may retry).
    pub fn assert_problem(&self, status: u16, hints: &[&str], what: &str) {
        assert_eq!(self.status, status, "{what}: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{what}"
        );
        let detail = self.body["detail"].as_str().unwrap_or_default();
        assert!(
            hints.iter().any(|h| detail.contains(h)),
            "{what}: {}",
            self.text
        );
    }
}

/// A signed-in user of a stack.
#[derive(Clone, Debug)]
pub struct Session {
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_string(),
            http: reqwest::Client::new(),
        }
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{}", self.base, path))
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut r = self.request(reqwest::Method::GET, path);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        self.send(r).await
    }

    pub async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Reply {
        let mut r = self.request(method, path).json(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        self.send(r).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        let mut r = self.request(reqwest::Method::DELETE, path);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        self.send(r).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.json(reqwest::Method::POST, path, token, body).await
    }

    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.send(self.request(reqwest::Method::POST, path).form(fields))
            .await
    }

    /// Registers a fresh user (with a valid CAPTCHA) and returns the session.
    pub async fn register(&self, email: &str) -> Session {
        let password = format!("Pw-{}-long", shared::auth::random_token(6));
        let reply = self
            .post(
                "/auth/register",
                None,
                &json!({"email": email, "password": password, "captcha_token": crate::VALID_CAPTCHA}),
            )
            .await;
        assert_eq!(reply.status, 201, "register failed: {}", reply.text);
        Session {
            email: email.to_lowercase(),
            password,
            access_token: reply.body["access_token"].as_str().unwrap().to_string(),
            refresh_token: reply.body["refresh_token"].as_str().unwrap().to_string(),
        }
    }
}

impl Client {
    /// The signed-in user's tenant id (a user is a tenant of their own).
    pub async fn tenant_id(&self, session: &Session) -> String {
        let me = self.get("/users/me", Some(&session.access_token)).await;
        assert_eq!(me.status, 200, "{}", me.text);
        me.body["id"].as_str().expect("the user's id").to_string()
    }
}

/// A unique e-mail address for a test.
pub fn email(prefix: &str) -> String {
    format!(
        "{prefix}-{}@example.com",
        shared::auth::random_token(6)
            .to_lowercase()
            .replace(['-', '_'], "x")
    )
}
