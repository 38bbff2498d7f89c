//! The media bridge container: configuration (environment plus the Secrets Manager secret, as
//! the functions), then the WebSocket server on `PORT` (8080) until SIGTERM, then a drain.

use std::time::Duration;

use bridge::{Bridge, Settings};
use shared::config::{Config, Env};

/// How long the start waits for the table to answer once.
const WARM_UP: Duration = Duration::from_secs(3);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // On one core (a 1 vCPU task: the limit counts), one thread runs everything: the
    // multi-threaded scheduler's hand-offs cost a fifth more CPU per frame there and, at a few
    // hundred calls, tripled the relay's p99 (its wake-ups come in bursts). Measured with
    // infra/scripts/relay-bench.sh (README, "Benchmark: the bridge beside a bare relay").
    let runtime = if std::thread::available_parallelism().map_or(1, |n| n.get()) == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    };
    runtime.block_on(serve())
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    shared::telemetry::init();
    let config = Config::load(&Env).await?;
    if !config.development_mode && config.openai.api_key.is_none() {
        return Err("OPENAI_API_KEY is required outside development mode".into());
    }
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    // Deployed, the template names the namespace; locally there is no CloudWatch to feed.
    if let Some(namespace) = std::env::var("BRIDGE_METRICS_NAMESPACE")
        .ok()
        .filter(|n| !n.is_empty())
    {
        tokio::spawn(bridge::emf::publish(namespace, Duration::from_secs(60)));
    }
    let app = shared::AppState::new(config).await;
    // Before the first call, not during it: credentials, endpoint and connection are set up
    // here, so a new task admits its first call as fast as the rest; a misconfigured table
    // shows in the log at start. Bounded: without the table the bridge still starts (its
    // health does not depend on it) and refuses calls as unavailable.
    match tokio::time::timeout(WARM_UP, app.store.check_reachable()).await {
        Ok(Ok(())) => tracing::info!("table reachable"),
        Ok(Err(error)) => tracing::warn!(%error, "table not reachable at start"),
        Err(_) => tracing::warn!(after = ?WARM_UP, "table did not answer at start"),
    }
    let bridge = Bridge::new(app, Settings::from_env());
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    tracing::info!(port, "media bridge listening");
    bridge
        .serve(listener, async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        })
        .await?;
    Ok(())
}
