//! `api-soak`: the API under sustained, bounded load for a long time, to see whether latency,
//! errors or the server's memory drift.
//!
//! Starts the local stack binary given (as `make run` runs it: its own moto, nothing
//! configured, rate limits raised so the limiter is not what is measured), then WORKERS
//! tenants loop over a mix of reads and writes that keeps their data bounded (each scenario,
//! schedule and webhook made is deleted again), paced to RATE requests a second in all. Every
//! minute it prints requests, errors (5xx and failed connections; 4xx are counted apart),
//! p50/p99 latency and the server's resident memory; at the end, the whole run.
//!
//! Usage: `cargo run --release -p e2e-tests --bin api-soak -- <local-stack binary> [SECONDS]
//! [RATE] [WORKERS]` (defaults 600 s, 100 requests/s, 16 tenants); `make soak` builds both.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use e2e_tests::client::{Client, Reply, email};
use e2e_tests::proc_stats::process_usage;
use serde_json::json;

/// What a minute of the run saw.
#[derive(Default)]
struct Window {
    latencies_us: Vec<u64>,
    server_errors: usize,
    client_errors: usize,
}

impl Window {
    fn record(&mut self, reply: &Reply, took: Duration) {
        self.latencies_us.push(took.as_micros() as u64);
        match reply.status {
            500.. => self.server_errors += 1,
            400..=499 => self.client_errors += 1,
            _ => {}
        }
    }

    fn quantile_ms(&mut self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.sort_unstable();
        let i = ((self.latencies_us.len() - 1) as f64 * q).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }

    fn line(&mut self, label: &str, rss_kib: u64) -> String {
        let n = self.latencies_us.len();
        let (p50, p99) = (self.quantile_ms(0.5), self.quantile_ms(0.99));
        format!(
            "{label:<8} {n:>7} requests  5xx {:>4} ({:.3}%)  4xx {:>4}  p50 {:>7.2} ms  p99 {:>7.2} ms  server RSS {:>7} KiB",
            self.server_errors,
            self.server_errors as f64 * 100.0 / n.max(1) as f64,
            self.client_errors,
            p50,
            p99,
            rss_kib
        )
    }
}

/// One tenant's requests, round after round.
async fn tenant_loop(
    c: Client,
    n: usize,
    pause: Duration,
    until: Instant,
    minute: Arc<Mutex<Window>>,
    total: Arc<Mutex<Window>>,
) {
    let session = c.register(&email(&format!("soak-{n}"))).await;
    let token = Some(session.access_token.as_str());
    let mut round = 0u64;
    while Instant::now() < until {
        round += 1;
        let started = Instant::now();
        let reply = match round % 8 {
            0 => c.get("/users/me", token).await,
            1 => c.get("/custom-scenarios", token).await,
            2 => {
                let body = json!({"persona": format!("Soak persona {round}"), "prompt": "Help callers book a visit", "voice_type": "marin"});
                let made = c.post("/realtime/custom-scenario", token, &body).await;
                if let Some(id) = made.body["scenario_id"].as_str() {
                    let path = format!("/custom-scenarios/{id}");
                    c.delete(&path, token).await;
                }
                made
            }
            3 => c.get("/calls?limit=20", token).await,
            4 => c.get("/onboarding/status", token).await,
            5 => {
                let when = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
                let body = json!({"phone_number": "+14155550123", "scenario": "default", "scheduled_time": when});
                let made = c.post("/schedule-call", token, &body).await;
                if let Some(id) = made.body["schedule_id"].as_str() {
                    let path = format!("/scheduled-calls/{id}");
                    c.delete(&path, token).await;
                }
                made
            }
            6 => {
                let body = json!({"url": format!("https://hooks.example.com/soak/{n}")});
                let made = c.post("/webhooks", token, &body).await;
                if let Some(id) = made.body["id"].as_str() {
                    let path = format!("/webhooks/{id}");
                    c.delete(&path, token).await;
                }
                made
            }
            _ => c.get("/scenarios", token).await,
        };
        let took = started.elapsed();
        for window in [&minute, &total] {
            window
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .record(&reply, took);
        }
        tokio::time::sleep(pause.saturating_sub(took)).await;
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let binary = args
        .get(1)
        .ok_or("usage: api-soak <local-stack binary> [SECONDS] [RATE] [WORKERS]")?;
    let arg = |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (seconds, rate, workers) = (arg(2, 600), arg(3, 100), arg(4, 16) as usize);
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
    };
    let (port, bridge_port) = (free_port()?, free_port()?);
    let mut server = std::process::Command::new(binary)
        .env_remove("AWS_ENDPOINT_URL")
        .env("PORT", port.to_string())
        .env("BRIDGE_PORT", bridge_port.to_string())
        .env("RUST_LOG", "warn")
        .envs(
            [
                "AUTH",
                "REFRESH",
                "SCENARIO_CREATE",
                "CALLS",
                "SCHEDULE",
                "NUMBERS",
                "TRANSCRIPTS",
                "CALENDAR",
            ]
            .map(|name| {
                (
                    format!("RATE_LIMIT_{name}_PER_MINUTE"),
                    "1000000".to_string(),
                )
            }),
        )
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let base = format!("http://127.0.0.1:{port}");
    let c = Client::new(&base);
    let ready = Instant::now();
    while reqwest::get(format!("{base}/health")).await.is_err() {
        if ready.elapsed() > Duration::from_secs(30) {
            let _ = server.kill();
            return Err("the local stack did not start within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "api-soak: {seconds} s, {rate} requests/s over {workers} tenants, server pid {}",
        server.id()
    );
    let (_, rss_start) = process_usage(server.id());
    println!("start    server RSS {rss_start} KiB");
    let minute = Arc::new(Mutex::new(Window::default()));
    let total = Arc::new(Mutex::new(Window::default()));
    let until = Instant::now() + Duration::from_secs(seconds);
    let pause = Duration::from_secs_f64(workers as f64 / rate.max(1) as f64);
    let tasks: Vec<_> = (0..workers)
        .map(|n| {
            tokio::spawn(tenant_loop(
                c.clone(),
                n,
                pause,
                until,
                minute.clone(),
                total.clone(),
            ))
        })
        .collect();
    let mut m = 0;
    while Instant::now() + Duration::from_secs(60) <= until {
        tokio::time::sleep(Duration::from_secs(60)).await;
        m += 1;
        let mut window =
            std::mem::take(&mut *minute.lock().unwrap_or_else(PoisonError::into_inner));
        let (_, rss) = process_usage(server.id());
        println!("{}", window.line(&format!("minute {m}"), rss));
    }
    for task in tasks {
        let _ = task.await;
    }
    let (_, rss_end) = process_usage(server.id());
    let mut total = std::mem::take(&mut *total.lock().unwrap_or_else(PoisonError::into_inner));
    println!("{}", total.line("total", rss_end));
    let _ = server.kill();
    let _ = server.wait();
    Ok(())
}
