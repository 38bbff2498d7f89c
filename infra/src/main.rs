//! `local-stack`: the whole platform on one machine with nothing configured.
//!
//! Starts moto (unless `AWS_ENDPOINT_URL` points at a running local AWS), creates the table,
//! the schedule group, the transcript job queues and the browser-call attach queue, fires due
//! scheduled calls every second (moto never fires them), runs queued jobs as the SQS event
//! source would, serves every route and the web console (`/console/`) on `localhost:5050`
//! (`PORT` to change) and the media bridge on `localhost:8080` (`BRIDGE_PORT`). Any variable
//! of the configuration table in README.md may be set; unset ones get development defaults.

use std::collections::HashMap;
use std::time::Duration;

use infra::moto::Moto;
use shared::AppState;
use shared::config::Config;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    shared::telemetry::init();
    let mut source: HashMap<String, String> = std::env::vars().collect();
    let moto = match source.get("AWS_ENDPOINT_URL") {
        Some(_) => None,
        None => {
            let moto = Moto::start(Some(std::process::id()))?;
            tracing::info!(url = %moto.url, "local AWS (moto) started");
            source.insert("AWS_ENDPOINT_URL".into(), moto.url.clone());
            Some(moto)
        }
    };
    for (key, value) in [
        ("DEVELOPMENT_MODE", "true"),
        ("TABLE_NAME", "ai-phone-agents-local"),
        ("AWS_REGION", "us-east-1"),
    ] {
        source.entry(key.into()).or_insert_with(|| value.into());
    }
    if !source.contains_key("CAPTCHA_SECRET") {
        source
            .entry("CAPTCHA_DISABLED".into())
            .or_insert_with(|| "true".into());
    }
    // Bound first so the public URL (what Twilio would call back) is known.
    let port: u16 = source
        .get("PORT")
        .and_then(|p| p.parse().ok())
        .unwrap_or(5050);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let bridge_port: u16 = source
        .get("BRIDGE_PORT")
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let bridge_listener = tokio::net::TcpListener::bind(("127.0.0.1", bridge_port)).await?;
    source
        .entry("PUBLIC_URL".into())
        .or_insert_with(|| format!("http://localhost:{port}"));
    // The console is served here, so its origin is the frontend's (CORS, Google's return).
    source
        .entry("FRONTEND_URL".into())
        .or_insert_with(|| format!("http://localhost:{port}"));
    source
        .entry("BRIDGE_WS_URL".into())
        .or_insert_with(|| format!("ws://localhost:{bridge_port}/twilio"));
    let sqs =
        aws_sdk_sqs::Client::new(&shared::config::sdk_config(&Config::aws_settings(&source)).await);
    for (key, name) in [
        ("JOB_QUEUE_URL", "ai-phone-agents-local-transcript-jobs"),
        (
            "REALTIME_ATTACH_QUEUE_URL",
            "ai-phone-agents-local-browser-attach",
        ),
    ] {
        if !source.contains_key(key) {
            let queues =
                infra::jobs::ensure_queues(&sqs, name, infra::jobs::QueueSettings::default())
                    .await?;
            source.insert(key.into(), queues.jobs);
        }
    }
    let config = Config::load(&source).await?;
    let state = AppState::new(config).await;
    infra::prepare(&state).await?;
    tokio::spawn(infra::scheduler::run(state.clone(), Duration::from_secs(1)));
    tokio::spawn(infra::jobs::run(
        state.clone(),
        Duration::from_millis(200),
        Duration::from_secs(60),
    ));
    let bridge = bridge::Bridge::new(
        infra::permissions::guarded_as(&state, "bridge"),
        bridge::Settings::from_env(),
    );
    tokio::spawn(bridge.serve(bridge_listener, std::future::pending()));
    let base = format!("http://localhost:{port}");
    println!("AI phone agents API on {base}");
    println!("Media bridge: ws://localhost:{bridge_port}/twilio");
    println!("API docs:     {base}/docs");
    println!("OpenAPI 3.1:  {base}/openapi.json");
    println!("Web console:  {base}/console/");
    infra::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    drop(moto);
    Ok(())
}
