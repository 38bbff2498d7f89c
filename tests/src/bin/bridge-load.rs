//! `bridge-load`: the media bridge under N concurrent simulated calls at real pace.
//!
//! One bridge process (the release `bridge-container` binary) relays N calls between the
//! simulated Twilio callers and the simulated OpenAI Realtime server, both in this process on
//! loopback. It prints calls, frames relayed, relay latency both ways, and the bridge
//! process's CPU seconds and RSS per call (read from /proc).
//!
//! Latency is measured end to end through loopback with timestamps carried in the audio:
//! - caller frame sent (Twilio side) -> `input_audio_buffer.append` received (OpenAI side);
//! - first audio delta of a response sent (OpenAI side) -> its first frame received (Twilio
//!   side). Later deltas of a response are paced to real time by design, so only the first
//!   one measures the relay rather than the pacing.
//!
//! Usage: `cargo run --release -p e2e-tests --bin bridge-load -- [CALLS] [SECONDS]`
//! (defaults 1000 calls, 30 s of steady state). Runs of a minute or more print the bridge's
//! RSS and CPU per call every minute: `make soak` runs 500 calls for 30 minutes.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use e2e_tests::media_sim::{CallScript, ConnectOptions, MediaCall, Segment};
use e2e_tests::proc_stats::process_usage;
use e2e_tests::realtime_sim::{RealtimeSim, SimConfig};
use e2e_tests::stamp;

const AUTH_TOKEN: &str = "load-test-auth-token";
/// How often a long run prints the bridge's memory and CPU per call.
const SAMPLE_EVERY: Duration = Duration::from_secs(60);
const ACCOUNT_SID: &str = "AC00000000000000000000000000000000";

/// A lock-free latency histogram: 10 µs buckets up to 200 ms (the hooks run on every frame
/// of every call, so a shared lock would itself become the latency being measured).
struct Samples {
    buckets: Vec<AtomicU64>,
    max_us: AtomicU64,
}

const BUCKET_US: u64 = 10;
const BUCKETS: usize = 20_000;

impl Samples {
    fn new() -> Self {
        Samples {
            buckets: (0..=BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max_us: AtomicU64::new(0),
        }
    }

    fn push(&self, d: Duration) {
        let us = d.as_micros() as u64;
        let bucket = ((us / BUCKET_US) as usize).min(BUCKETS);
        self.buckets[bucket].fetch_add(1, Relaxed);
        self.max_us.fetch_max(us, Relaxed);
    }

    fn summary(&self) -> String {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return "no samples".into();
        }
        let quantile = |q: f64| {
            let wanted = (q * total as f64).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (i, c) in counts.iter().enumerate() {
                seen += c;
                if seen >= wanted {
                    return (i as u64 + 1) * BUCKET_US;
                }
            }
            BUCKETS as u64 * BUCKET_US
        };
        format!(
            "n={total} p50={:.2} ms p99={:.2} ms max={:.2} ms",
            quantile(0.5) as f64 / 1000.0,
            quantile(0.99) as f64 / 1000.0,
            self.max_us.load(Relaxed) as f64 / 1000.0
        )
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let calls: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(30);

    let moto = e2e_tests::moto_url().to_string();
    let openai = RealtimeSim::start(SimConfig {
        validate: false,
        response_audio_ms: 1500,
        ..SimConfig::default()
    })
    .await;
    let inbound = Arc::new(Samples::new());
    let outbound = Arc::new(Samples::new());
    {
        let inbound = inbound.clone();
        openai.on_append(Arc::new(move |audio: &[u8]| {
            if let Some(sent) = stamp::read(audio) {
                inbound.push(stamp::since(sent));
            }
        }));
    }
    openai.stamp_first_deltas(true);

    // The bridge process, configured like production but pointed at the simulators.
    let port = free_port();
    let bridge_url = format!("ws://127.0.0.1:{port}/twilio");
    let table = format!("bridge-load-{}", std::process::id());
    let stream_secret = shared::auth::random_token(32);
    let env: HashMap<String, String> = [
        ("DEVELOPMENT_MODE", "true"),
        ("CAPTCHA_DISABLED", "true"),
        ("TABLE_NAME", table.as_str()),
        ("AWS_ENDPOINT_URL", moto.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ("BRIDGE_WS_URL", bridge_url.as_str()),
        ("STREAM_TOKEN_SECRET", stream_secret.as_str()),
        ("OPENAI_REALTIME_URL", openai.url.as_str()),
        ("OPENAI_API_KEY", openai.api_key.as_str()),
        ("MAX_CALL_DURATION_SECONDS", "3600"),
        ("RUST_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = shared::config::Config::load(&env).await?;
    let state = shared::AppState::new(config).await;
    shared::store::schema::ensure_table(state.store.client(), state.store.table()).await?;

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let status =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(&root)
            .args(["build", "--release", "-p", "bridge-container"])
            .status()?;
    if !status.success() {
        return Err("building the bridge failed".into());
    }
    let mut bridge = std::process::Command::new(root.join("target/release/bridge-container"))
        .envs(&env)
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let pid = bridge.id();
    for _ in 0..100 {
        if reqwest::get(format!("http://127.0.0.1:{port}/health"))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (cpu_idle, rss_idle) = process_usage(pid);

    // Call records the stream tokens point at (what the API writes when a call is placed).
    println!("preparing {calls} calls...");
    let mut options = Vec::with_capacity(calls);
    for i in 0..calls {
        let sid = format!("CA{:032x}", i + 1);
        let tenant = format!("load-tenant-{}", i % 50);
        let token = infra::load_calls::ready(&state, &tenant, &sid).await?;
        options.push(ConnectOptions {
            url: bridge_url.clone(),
            auth_token: Some(AUTH_TOKEN.into()),
            custom_parameters: vec![("token".into(), token)],
            account_sid: ACCOUNT_SID.into(),
            call_sid: sid,
            stream_sid: format!("MZ{:032x}", i + 1),
            stamp_frames: true,
        });
    }

    // Callers talk in turns: 800 ms of speech, then 2.2 s of listening, for the whole run.
    let turns = (seconds / 3 + 2) as usize;
    let mut segments = vec![Segment::Silence { ms: 1500 }];
    for _ in 0..turns {
        segments.push(Segment::Speech { ms: 800 });
        segments.push(Segment::Silence { ms: 2200 });
    }
    let script = CallScript {
        segments,
        speech_amplitude: 8000,
    };
    println!("connecting {calls} calls at real pace...");
    let mut media = Vec::with_capacity(calls);
    for o in options {
        match MediaCall::connect(o, script.clone()).await {
            Ok(call) => {
                let outbound = outbound.clone();
                call.on_media(Arc::new(move |frame: &[u8]| {
                    if let Some(sent) = stamp::read(frame) {
                        outbound.push(stamp::since(sent));
                    }
                }));
                media.push(call);
            }
            Err(e) => eprintln!("call refused: {e:?}"),
        }
        // Ramp up over ~10 s so every call does not speak in the same 20 ms.
        tokio::time::sleep(Duration::from_millis(10_000 / calls.max(1) as u64)).await;
    }
    let (cpu_start, _) = process_usage(pid);
    let started = Instant::now();
    // A soak (a long SECONDS) shows whether memory or CPU per call drift: one line a minute.
    let deadline = started + Duration::from_secs(seconds);
    let mut last = (started, cpu_start);
    let mut minute = 0;
    while Instant::now() + SAMPLE_EVERY <= deadline {
        tokio::time::sleep(SAMPLE_EVERY).await;
        minute += 1;
        let (cpu, rss) = process_usage(pid);
        let live = media.len().max(1) as f64;
        let window = last.0.elapsed().as_secs_f64();
        println!(
            "minute {minute:>3}            RSS {:.1} KiB per call, CPU {:.3} ms per call-second",
            rss.saturating_sub(rss_idle) as f64 / live,
            (cpu - last.1) / window / live * 1000.0
        );
        last = (Instant::now(), cpu);
    }
    tokio::time::sleep(deadline.saturating_duration_since(Instant::now())).await;
    let (cpu_end, rss_load) = process_usage(pid);
    let elapsed = started.elapsed().as_secs_f64();
    for call in &media {
        call.stop().await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let metrics = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await?
        .text()
        .await?;
    let _ = bridge.kill();
    let _ = bridge.wait();

    let metric = |name: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(name) && !l.starts_with('#'))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_string()
    };
    // The bridge's own view: receive -> queued/sent, inside the process (upper bucket bounds).
    let quantile = |name: &str, q: f64| -> String {
        let buckets: Vec<(f64, f64)> = metrics
            .lines()
            .filter(|l| l.starts_with(&format!("{name}_bucket{{le=\"")) && !l.contains("+Inf"))
            .filter_map(|l| {
                let le = l.split('"').nth(1)?.parse::<f64>().ok()?;
                let n = l.split_whitespace().nth(1)?.parse::<f64>().ok()?;
                Some((le, n))
            })
            .collect();
        let total = buckets.last().map(|b| b.1).unwrap_or(0.0);
        buckets
            .iter()
            .find(|(_, n)| *n >= q * total)
            .map(|(le, _)| format!("<= {:.3} ms", le * 1000.0))
            .unwrap_or_else(|| "?".into())
    };
    let live = media.len();
    let cpu = cpu_end - cpu_start;
    println!("calls                  {live} of {calls} connected, {seconds} s steady state");
    println!(
        "frames relayed         caller->OpenAI {}  agent->caller {}  dropped {}",
        metric("bridge_frames_to_openai_total"),
        metric("bridge_frames_to_twilio_total"),
        metric("bridge_frames_dropped_total")
    );
    println!(
        "relay latency in       (caller frame -> OpenAI append) {}",
        inbound.summary()
    );
    println!(
        "relay latency out      (first delta -> first caller frame) {}",
        outbound.summary()
    );
    println!(
        "bridge-internal        in p50 {} p99 {}; out p50 {} p99 {}",
        quantile("bridge_inbound_relay_seconds", 0.5),
        quantile("bridge_inbound_relay_seconds", 0.99),
        quantile("bridge_outbound_relay_seconds", 0.5),
        quantile("bridge_outbound_relay_seconds", 0.99)
    );
    let (load_cpu, _) = process_usage(std::process::id());
    println!(
        "load generator CPU     {load_cpu:.2} s in total (simulated Twilio and OpenAI share the machine)"
    );
    println!(
        "bridge CPU             {cpu:.2} s over {elapsed:.1} s ({:.1}% of a core, {:.3} ms per call-second; {:.2} s idle start-up)",
        cpu / elapsed * 100.0,
        cpu / elapsed / live.max(1) as f64 * 1000.0,
        cpu_idle
    );
    println!(
        "bridge RSS             {} KiB under load, {} KiB idle: {:.1} KiB per call",
        rss_load,
        rss_idle,
        (rss_load.saturating_sub(rss_idle)) as f64 / live.max(1) as f64
    );
    Ok(())
}
