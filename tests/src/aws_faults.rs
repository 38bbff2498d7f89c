//! A fault-injecting proxy in front of local AWS (moto): it forwards every request as it is,
//! except the ones a test chose to fail, which get one of the [`Fault`]s real DynamoDB shows:
//! an internal error, throttling, an answer too slow to wait for, or an answer lost after the
//! write was made. Point a stack's `AWS_ENDPOINT_URL` at [`AwsFaults::url`] to see what the
//! platform does when a particular write cannot be made.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// A running proxy; it stops when dropped.
pub struct AwsFaults {
    pub url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

struct Shared {
    upstream: String,
    http: reqwest::Client,
    rules: Mutex<Vec<Rule>>,
    injected: Mutex<usize>,
}

/// How a request fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// DynamoDB's internal server error (HTTP 500); nothing was written.
    Internal,
    /// `ThrottlingException` (HTTP 400); nothing was written.
    Throttled,
    /// No answer for this long (past the store's attempt timeout); nothing was written.
    Slow(std::time::Duration),
    /// The request is made, then its answer is replaced by an internal error: the write
    /// happened, but the caller cannot know (as when a connection drops after the write).
    AnswerLost,
}

/// Which requests fail: an operation (`X-Amz-Target` ends with it) whose body contains a
/// string, a number of times or for good, and how.
struct Rule {
    operation: String,
    body_contains: String,
    remaining: Option<usize>,
    fault: Fault,
}

impl AwsFaults {
    /// Serves the proxy on a free port, in front of `upstream` (a moto URL).
    pub async fn start(upstream: &str) -> AwsFaults {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the AWS fault proxy");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            rules: Mutex::new(Vec::new()),
            injected: Mutex::new(0),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        AwsFaults {
            url,
            shared,
            server,
        }
    }

    /// Fails every `operation` request whose body contains `body_contains` with a DynamoDB
    /// internal server error, `times` times (`None`: from now on).
    pub fn fail(&self, operation: &str, body_contains: &str, times: Option<usize>) {
        self.inject(operation, body_contains, times, Fault::Internal);
    }

    /// Fails every `operation` request whose body contains `body_contains` with `fault`,
    /// `times` times (`None`: from now on).
    pub fn inject(&self, operation: &str, body_contains: &str, times: Option<usize>, fault: Fault) {
        lock(&self.shared.rules).push(Rule {
            operation: operation.into(),
            body_contains: body_contains.into(),
            remaining: times,
            fault,
        });
    }

    /// Forgets every rule: requests pass again.
    pub fn clear(&self) {
        lock(&self.shared.rules).clear();
    }

    /// How many requests were failed on purpose so far.
    pub fn injected(&self) -> usize {
        *lock(&self.shared.injected)
    }
}

impl Drop for AwsFaults {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// The fault a rule gives this request, if any (counted against the rule).
    fn fault_for(&self, operation: &str, body: &[u8]) -> Option<Fault> {
        let body = String::from_utf8_lossy(body);
        let mut rules = lock(&self.rules);
        let rule = rules.iter_mut().find(|r| {
            operation.ends_with(&r.operation)
                && body.contains(&r.body_contains)
                && r.remaining != Some(0)
        })?;
        if let Some(left) = rule.remaining.as_mut() {
            *left -= 1;
        }
        *lock(&self.injected) += 1;
        Some(rule.fault)
    }
}

/// DynamoDB's answer to a request it failed internally (the SDK retries it, then gives up).
fn internal_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "application/x-amz-json-1.0")],
        r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error (injected)"}"#,
    )
        .into_response()
}

/// DynamoDB's answer to a request over the table's throughput (the SDK backs off and retries).
fn throttled() -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/x-amz-json-1.0")],
        r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput (injected)"}"#,
    )
        .into_response()
}

async fn forward(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let operation = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let fault = shared.fault_for(operation, &body);
    match fault {
        Some(Fault::Internal) => return internal_error(),
        Some(Fault::Throttled) => return throttled(),
        Some(Fault::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            return internal_error();
        }
        Some(Fault::AnswerLost) | None => {}
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = shared
        .http
        .request(method, format!("{}{path}", shared.upstream))
        .body(body);
    for (name, value) in &headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            request = request.header(name, value);
        }
    }
    let upstream = match request.send().await {
        Ok(response) => response,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = upstream.status();
    let mut reply_headers = HeaderMap::new();
    for (name, value) in upstream.headers() {
        if name != header::CONTENT_LENGTH && name != header::TRANSFER_ENCODING {
            reply_headers.insert(name, value.clone());
        }
    }
    let body = upstream.bytes().await.unwrap_or_default();
    if fault == Some(Fault::AnswerLost) {
        return internal_error();
    }
    (status, reply_headers, body).into_response()
}
