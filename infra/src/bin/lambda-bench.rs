//! `lambda-bench`: per function binary, the stripped release size and the cold-start init
//! time, measured as process start -> first `GET .../runtime/invocation/next` on a local stub
//! of the Lambda Runtime API. By then the function has loaded its configuration (including
//! the Secrets Manager secret, served by a local moto) and built its AWS clients.
//!
//! Usage: `cargo run --release -p infra --bin lambda-bench [-- RUNS]` (default 20 runs each).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// The function binaries (one per bounded context, plus the scheduled-call runner;
/// `template.yaml` maps endpoints onto them).
const FUNCTIONS: [&str; 11] = [
    "auth",
    "scenarios",
    "onboarding",
    "platform",
    "phone-numbers",
    "calls",
    "twilio-webhooks",
    "schedules",
    "scheduled-call-runner",
    "transcripts",
    "job-worker",
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let root = workspace_root();
    build_release(&root)?;
    let moto = infra::moto::Moto::start(Some(std::process::id()))?;
    let secret_arn = create_secret(&moto.url).await?;

    let stub = TcpListener::bind("127.0.0.1:0").await?;
    let runtime_api = stub.local_addr()?.to_string();
    let (polled_tx, mut polled_rx) = mpsc::unbounded_channel::<Instant>();
    tokio::spawn(serve_stub(stub, polled_tx));

    println!(
        "{:<12} {:>12} {:>10} {:>10} {:>10}",
        "function", "size (KiB)", "init p50", "init p90", "init max"
    );
    for name in FUNCTIONS {
        let binary = root.join("target/release").join(name);
        let size = stripped_size(&binary)?;
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started = Instant::now();
            let mut child = Command::new(&binary)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("AWS_LAMBDA_RUNTIME_API", &runtime_api)
                .env("AWS_LAMBDA_FUNCTION_NAME", name)
                .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
                .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ENDPOINT_URL", &moto.url)
                .env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "test")
                .env("TABLE_NAME", "bench")
                // What a deployment sets (production start-up refuses to run without them).
                .env("PUBLIC_URL", "https://api.bench.test")
                .env("BRIDGE_WS_URL", "wss://bridge.bench.test/twilio")
                .env(
                    "SCHEDULER_ROLE_ARN",
                    "arn:aws:iam::000000000000:role/bench-scheduler",
                )
                .env(
                    "SCHEDULED_CALL_TARGET_ARN",
                    "arn:aws:lambda:us-east-1:000000000000:function:bench-runner",
                )
                .env(
                    "SCHEDULER_DEAD_LETTER_ARN",
                    "arn:aws:sqs:us-east-1:000000000000:bench-dead-letter",
                )
                .env("APP_SECRET_ARN", &secret_arn)
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()?;
            let polled = tokio::time::timeout(Duration::from_secs(20), polled_rx.recv())
                .await
                .map_err(|_| format!("{name} never polled the runtime API"))?
                .ok_or("stub stopped")?;
            samples.push(polled.duration_since(started));
            child.kill()?;
            child.wait()?;
        }
        samples.sort();
        let pct = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
        println!(
            "{:<12} {:>12.0} {:>8.1}ms {:>8.1}ms {:>8.1}ms",
            name,
            size as f64 / 1024.0,
            ms(pct(0.5)),
            ms(pct(0.9)),
            ms(samples[samples.len() - 1]),
        );
    }
    println!(
        "({runs} cold starts each; init includes config, the Secrets Manager read and AWS clients)"
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("infra sits in the workspace")
        .to_path_buf()
}

fn build_release(root: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(root).args(["build", "--release"]);
    for name in FUNCTIONS {
        cargo.args(["-p", name]);
    }
    if !cargo.status()?.success() {
        return Err("release build failed".into());
    }
    Ok(())
}

/// The size after `strip` (the release profile already strips; this makes the figure
/// independent of that setting).
fn stripped_size(binary: &Path) -> Result<u64, Box<dyn std::error::Error>> {
    let copy = std::env::temp_dir().join(format!(
        "lambda-bench-{}-{}",
        std::process::id(),
        binary.file_name().and_then(|n| n.to_str()).unwrap_or("bin")
    ));
    std::fs::copy(binary, &copy)?;
    let stripped = Command::new("strip")
        .arg(&copy)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let size = std::fs::metadata(if stripped { &copy } else { binary })?.len();
    let _ = std::fs::remove_file(&copy);
    Ok(size)
}

/// Accepts runtime connections and reports each `invocation/next` poll. The connection is
/// kept open without an answer, so the function waits as it would for its first event.
async fn serve_stub(listener: TcpListener, polled: mpsc::UnboundedSender<Instant>) {
    let mut held = Vec::new();
    while let Ok((mut socket, _)) = listener.accept().await {
        let mut buf = [0u8; 1024];
        let n = socket.read(&mut buf).await.unwrap_or(0);
        let at = Instant::now();
        if String::from_utf8_lossy(&buf[..n]).contains("/runtime/invocation/next") {
            let _ = polled.send(at);
        }
        held.push(socket);
        // Finished functions are killed; drop their sockets now and then.
        if held.len() > 64 {
            held.clear();
        }
    }
}

async fn create_secret(moto: &str) -> Result<String, Box<dyn std::error::Error>> {
    let settings: std::collections::HashMap<String, String> =
        [("AWS_ENDPOINT_URL", moto), ("AWS_REGION", "us-east-1")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let sdk = shared::config::sdk_config(&shared::config::Config::aws_settings(&settings)).await;
    let secret = serde_json::json!({
        "JWT_SECRET": shared::auth::random_token(48),
        "CAPTCHA_SECRET": "bench-captcha-secret",
    });
    let out = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name("lambda-bench")
        .secret_string(secret.to_string())
        .send()
        .await?;
    Ok(out.arn.unwrap_or_default())
}
