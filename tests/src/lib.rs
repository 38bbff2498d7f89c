//! The end-to-end harness: a local stack per test (its own table on a shared moto server, its
//! own port, its own captured logs) plus the protocol fakes the platform talks to.
//!
//! Each stack runs on a thread of its own with a single-threaded runtime, so the thread-local
//! tracing subscriber sees exactly that stack's log lines: the log-hygiene test reads them.

pub mod aws_faults;
pub mod bridge_rig;
pub mod calendar_rig;
pub mod captcha_fake;
pub mod client;
pub mod google_discovery;
pub mod google_sim;
pub mod intelligence_sim;
pub mod media_sim;
pub mod mulaw;
pub mod openai_http_sim;
pub mod outage;
pub mod platform_rig;
pub mod proc_stats;
pub mod realtime_schema;
pub mod realtime_sim;
pub mod rtc_calls;
pub mod sdp;
pub mod stamp;
pub mod twilio_sim;
pub mod twiml;
pub mod webhook_receiver;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::OnceLock;

use aws_sdk_dynamodb::types::AttributeValue;
use shared::AppState;
use shared::config::Config;
use shared::telemetry::{self, Capture, Format};

pub use client::Client;

/// The platform's own number in development-mode stacks.
pub const SYSTEM_NUMBER: &str = "+14155550000";
/// The CAPTCHA response token the fake verifier accepts.
pub const VALID_CAPTCHA: &str = "valid-captcha-token";
/// The CAPTCHA secret the stacks are configured with.
pub const CAPTCHA_SECRET: &str = "captcha-server-secret-for-tests";
/// The host name of every stack's public URL (what Twilio calls back and signs). Production
/// configuration refuses loopback addresses there, as Twilio could never reach them; the
/// simulators resolve this name to 127.0.0.1, as public DNS would resolve a real one.
pub const PUBLIC_HOST: &str = "api.test";

/// The process-wide moto server: `MOTO_URL` if set (CI may start one), else one started here
/// that exits with this process.
pub fn moto_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("MOTO_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => infra::moto::Moto::start(Some(std::process::id()))
            .expect("start moto_server")
            .detach(),
    })
}

/// How a test wants its stack configured.
#[derive(Default, Clone)]
pub struct Options {
    /// Extra configuration (overrides the defaults below).
    pub env: Vec<(String, String)>,
    /// Keep the production rate limits (tests of the limiter); otherwise they are generous.
    pub real_rate_limits: bool,
    /// Put the signing key and CAPTCHA secret in a Secrets Manager secret instead of the
    /// environment (the cold-start path on AWS).
    pub secrets_in_secrets_manager: bool,
    /// Run the local scheduler loop at this interval.
    pub scheduler_tick: Option<std::time::Duration>,
    /// Give the stack job queues of its own (these settings) and run the local job poller.
    pub jobs: Option<infra::jobs::QueueSettings>,
    /// Give the stack a browser-call attach queue of its own (for a bridge to poll).
    pub attach_queue: bool,
}

impl Options {
    /// Points the stack's Twilio client at a simulator (development mode, the simulator's
    /// system number as caller ID unless overridden).
    pub fn twilio(self, sim: &twilio_sim::TwilioSim) -> Self {
        self.env("TWILIO_ACCOUNT_SID", &sim.account_sid)
            .env("TWILIO_AUTH_TOKEN", &sim.auth_token)
            .env("TWILIO_API_BASE_URL", &sim.base_url)
    }

    /// Twilio through the simulator in development mode: every call comes from the platform's
    /// own number, [`SYSTEM_NUMBER`].
    pub fn development_calls(self, sim: &twilio_sim::TwilioSim) -> Self {
        self.twilio(sim)
            .env("DEVELOPMENT_MODE", "true")
            .env("TWILIO_PHONE_NUMBER", SYSTEM_NUMBER)
    }

    /// Job queues of the stack's own with a short visibility timeout (a failed job comes back
    /// after a second) and `max_receives` before the dead-letter queue, and the job poller.
    pub fn jobs(mut self, max_receives: u32) -> Self {
        self.jobs = Some(infra::jobs::QueueSettings {
            visibility_timeout: std::time::Duration::from_secs(1),
            max_receives,
        });
        self
    }

    /// Browser sessions: an attach queue of the stack's own (a redelivery after two seconds).
    pub fn browser_sessions(mut self) -> Self {
        self.attach_queue = true;
        self
    }

    pub fn scheduler(mut self, tick: std::time::Duration) -> Self {
        self.scheduler_tick = Some(tick);
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
}

/// A running local stack.
pub struct TestStack {
    /// Where the tests reach the stack (loopback).
    pub base_url: String,
    /// `PUBLIC_URL`: the same server under [`PUBLIC_HOST`], as Twilio reaches it and signs.
    pub public_url: String,
    pub logs: Capture,
    pub jwt_secret: String,
    pub table: String,
    /// The configuration the stack was started with (to build a second "instance").
    pub env: HashMap<String, String>,
    /// The dead-letter queue of the stack's job queue, when it has one.
    pub dead_letter_url: Option<String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        shared::auth::random_token(9)
            .to_lowercase()
            .replace(['-', '_'], "x")
    )
}

impl TestStack {
    pub async fn start() -> TestStack {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> TestStack {
        let moto = moto_url().to_string();
        let table = unique("table");
        let jwt_secret = shared::auth::random_token(48);
        let logs = Capture::default();
        type Ready = Result<(SocketAddr, HashMap<String, String>, Option<String>), String>;
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Ready>();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread_logs = logs.clone();
        let thread_table = table.clone();
        let thread_secret = jwt_secret.clone();
        let thread = std::thread::spawn(move || {
            let _guard =
                tracing::subscriber::set_default(telemetry::subscriber(Format::Json, thread_logs));
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                // Bound first: the stack's own URL is the public URL Twilio calls back and signs.
                let started = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                    Ok(listener) => {
                        let addr = listener.local_addr().expect("addr");
                        let public_url = format!("http://{PUBLIC_HOST}:{}", addr.port());
                        boot(&moto, &thread_table, &thread_secret, &public_url, &options)
                            .await
                            .map(|(state, env, dlq)| (listener, state, addr, env, dlq))
                    }
                    Err(e) => Err(e.to_string()),
                };
                match started {
                    Ok((listener, state, addr, env, dlq)) => {
                        if let Some(tick) = options.scheduler_tick {
                            tokio::spawn(infra::scheduler::run(state.clone(), tick));
                        }
                        if options.jobs.is_some() {
                            tokio::spawn(infra::jobs::run(
                                state.clone(),
                                std::time::Duration::from_millis(50),
                                std::time::Duration::from_millis(500),
                            ));
                        }
                        let _ = ready_tx.send(Ok((addr, env, dlq)));
                        let _ = infra::serve(listener, state, async {
                            let _ = shutdown_rx.await;
                        })
                        .await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        });
        let (addr, env, dead_letter_url) = ready_rx
            .await
            .expect("stack thread died")
            .unwrap_or_else(|e| panic!("stack failed to start: {e}"));
        TestStack {
            base_url: format!("http://{addr}"),
            public_url: format!("http://{PUBLIC_HOST}:{}", addr.port()),
            logs,
            jwt_secret,
            table,
            env,
            dead_letter_url,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base_url)
    }

    /// Another "Lambda instance" over the same table, simulators and configuration, running
    /// on the caller's runtime (for driving handlers directly, e.g. a repeated event).
    pub async fn second_instance(&self) -> AppState {
        let config = Config::load(&self.env)
            .await
            .expect("same configuration loads");
        AppState::new(config).await
    }

    /// Writes an item straight into this stack's table: how a test stands in for features that
    /// write state another context reads (a provisioned number, a placed call).
    pub async fn put_item(&self, pk: String, sk: String, attributes: &[(&str, &str)]) {
        let mut put = self
            .dynamodb()
            .await
            .put_item()
            .table_name(&self.table)
            .item("PK", AttributeValue::S(pk))
            .item("SK", AttributeValue::S(sk));
        for (name, value) in attributes {
            put = put.item(*name, AttributeValue::S(value.to_string()));
        }
        put.send().await.expect("put item");
    }

    /// Sets string attributes of an existing item: how a test puts state where only a crash
    /// would leave it (a claim made minutes ago by a runner that died).
    pub async fn set_attributes(&self, pk: String, sk: String, attributes: &[(&str, &str)]) {
        let mut update = self
            .dynamodb()
            .await
            .update_item()
            .table_name(&self.table)
            .key("PK", AttributeValue::S(pk))
            .key("SK", AttributeValue::S(sk))
            .condition_expression("attribute_exists(PK)");
        let mut sets = Vec::new();
        for (i, (name, value)) in attributes.iter().enumerate() {
            sets.push(format!("#a{i} = :v{i}"));
            update = update
                .expression_attribute_names(format!("#a{i}"), *name)
                .expression_attribute_values(
                    format!(":v{i}"),
                    AttributeValue::S(value.to_string()),
                );
        }
        update
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await
            .expect("update item");
    }

    /// Every item of the tenant's partition, as text, in key order (to compare before and
    /// after something that must change nothing).
    pub async fn partition(&self, tenant_id: &str) -> Vec<String> {
        let out = self
            .dynamodb()
            .await
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(
                ":pk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("TENANT#{tenant_id}")),
            )
            .consistent_read(true)
            .send()
            .await
            .expect("query the partition");
        out.items()
            .iter()
            .map(|item| {
                let mut fields: Vec<String> =
                    item.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                fields.sort();
                fields.join(" ")
            })
            .collect()
    }

    /// A DynamoDB client on the stack's local AWS.
    pub async fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let settings: HashMap<String, String> = [
            ("AWS_ENDPOINT_URL", moto_url()),
            ("AWS_REGION", "us-east-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let sdk = shared::config::sdk_config(&Config::aws_settings(&settings)).await;
        aws_sdk_dynamodb::Client::new(&sdk)
    }

    /// Stops the server and waits for it, so every log line has been written.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for TestStack {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn boot(
    moto: &str,
    table: &str,
    jwt_secret: &str,
    public_url: &str,
    options: &Options,
) -> Result<(AppState, HashMap<String, String>, Option<String>), String> {
    let captcha_url = captcha_fake::start().await.map_err(|e| e.to_string())?;
    let group = unique("group");
    let mut env: HashMap<String, String> = [
        ("AWS_ENDPOINT_URL", moto),
        ("AWS_REGION", "us-east-1"),
        ("TABLE_NAME", table),
        ("PUBLIC_URL", public_url),
        ("SCHEDULER_GROUP", &group),
        ("BRIDGE_WS_URL", "wss://bridge.test/twilio"),
        ("FRONTEND_URL", "http://app.example.test"),
        ("CAPTCHA_VERIFY_URL", &captcha_url),
        // A deployment's schedule target (moto accepts any ARN); not the placeholder account.
        (
            "SCHEDULER_ROLE_ARN",
            "arn:aws:iam::000000000000:role/test-scheduler",
        ),
        (
            "SCHEDULED_CALL_TARGET_ARN",
            "arn:aws:lambda:us-east-1:000000000000:function:test-runner",
        ),
        (
            "SCHEDULER_DEAD_LETTER_ARN",
            "arn:aws:sqs:us-east-1:000000000000:test-scheduler-dead-letter",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if !options.real_rate_limits {
        for key in [
            "RATE_LIMIT_AUTH_PER_MINUTE",
            "RATE_LIMIT_REFRESH_PER_MINUTE",
            "RATE_LIMIT_SCENARIO_CREATE_PER_MINUTE",
            "RATE_LIMIT_CALLS_PER_MINUTE",
            "RATE_LIMIT_SCHEDULE_PER_MINUTE",
            "RATE_LIMIT_NUMBERS_PER_MINUTE",
            "RATE_LIMIT_TRANSCRIPTS_PER_MINUTE",
            "RATE_LIMIT_WHISPER_PER_MINUTE",
            "RATE_LIMIT_CALENDAR_PER_MINUTE",
        ] {
            env.insert(key.into(), "1000".into());
        }
    }
    let secrets = [
        ("JWT_SECRET", jwt_secret),
        ("CAPTCHA_SECRET", CAPTCHA_SECRET),
    ];
    if options.secrets_in_secrets_manager {
        let arn = create_secret(moto, &secrets).await?;
        env.insert("APP_SECRET_ARN".into(), arn);
    } else {
        for (k, v) in secrets {
            env.insert(k.into(), v.into());
        }
    }
    let mut dead_letter = None;
    if let Some(settings) = options.jobs {
        let sdk = shared::config::sdk_config(&Config::aws_settings(&env)).await;
        let queues =
            infra::jobs::ensure_queues(&aws_sdk_sqs::Client::new(&sdk), &unique("jobs"), settings)
                .await
                .map_err(|e| e.to_string())?;
        env.insert("JOB_QUEUE_URL".into(), queues.jobs);
        dead_letter = Some(queues.dead_letter);
    }
    if options.attach_queue {
        let sdk = shared::config::sdk_config(&Config::aws_settings(&env)).await;
        let settings = infra::jobs::QueueSettings {
            visibility_timeout: std::time::Duration::from_secs(2),
            max_receives: 3,
        };
        let queues = infra::jobs::ensure_queues(
            &aws_sdk_sqs::Client::new(&sdk),
            &unique("attach"),
            settings,
        )
        .await
        .map_err(|e| e.to_string())?;
        env.insert("REALTIME_ATTACH_QUEUE_URL".into(), queues.jobs);
    }
    for (k, v) in &options.env {
        env.insert(k.clone(), v.clone());
    }
    let config = Config::load(&env).await.map_err(|e| e.to_string())?;
    let state = AppState::new(config).await;
    infra::prepare(&state).await.map_err(|e| e.to_string())?;
    Ok((state, env, dead_letter))
}

/// The whole app as a tower service, without a server: for feeding it Lambda events
/// in-process (the path API Gateway takes on AWS). Runs on the caller's runtime.
pub async fn in_process_app(options: Options) -> axum::Router {
    let state = boot(
        moto_url(),
        &unique("table"),
        &shared::auth::random_token(48),
        &format!("http://{PUBLIC_HOST}:9"),
        &options,
    )
    .await
    .unwrap_or_else(|e| panic!("app failed to start: {e}"));
    infra::app(state.0)
}

async fn create_secret(moto: &str, values: &[(&str, &str)]) -> Result<String, String> {
    let settings: HashMap<String, String> =
        [("AWS_ENDPOINT_URL", moto), ("AWS_REGION", "us-east-1")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let aws = shared::config::Config::aws_settings(&settings);
    let sdk = shared::config::sdk_config(&aws).await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let body: serde_json::Map<String, serde_json::Value> = values
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    let out = client
        .create_secret()
        .name(unique("app-secret"))
        .secret_string(serde_json::Value::Object(body).to_string())
        .send()
        .await
        .map_err(|e| aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string())?;
    out.arn.ok_or_else(|| "secret without ARN".to_string())
}
