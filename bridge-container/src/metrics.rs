//! Process-wide metrics, exported in the Prometheus text format on `/metrics`. Counters and
//! histograms are atomics, so recording on the hot path takes no lock.
//! Nothing here ever holds audio, a transcript, a phone number or a secret.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// A latency histogram with power-of-two microsecond buckets (1 µs .. ~2 s).
pub struct Histogram {
    buckets: [AtomicU64; 22],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    const fn new() -> Self {
        Histogram {
            buckets: [const { AtomicU64::new(0) }; 22],
            count: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
        }
    }

    pub fn record(&self, d: Duration) {
        let us = d.as_micros().min(u128::from(u64::MAX)) as u64;
        let bucket = (64 - us.leading_zeros() as usize).min(self.buckets.len() - 1);
        self.buckets[bucket].fetch_add(1, Relaxed);
        self.count.fetch_add(1, Relaxed);
        self.sum_us.fetch_add(us, Relaxed);
    }

    /// The count in each bucket so far.
    pub fn buckets(&self) -> [u64; 22] {
        std::array::from_fn(|i| self.buckets[i].load(Relaxed))
    }

    /// The upper bound of the bucket that holds the 99th percentile of `counts` (per-bucket
    /// counts, e.g. the difference of two [`Histogram::buckets`] readings), or `None` when
    /// there is no sample. Power-of-two buckets: the figure is at most twice the true value.
    pub fn p99_upper_bound(counts: &[u64; 22]) -> Option<Duration> {
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        // The smallest bucket with at least 99 % of the samples at or below it.
        let rank = total - total / 100;
        let mut cumulative = 0;
        let bucket = counts.iter().position(|&c| {
            cumulative += c;
            cumulative >= rank
        })?;
        Some(Duration::from_micros(1u64 << bucket))
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            cumulative += b.load(Relaxed);
            let le = (1u64 << i) as f64 / 1e6;
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_us.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {count}");
    }
}

pub struct Metrics {
    pub active_calls: AtomicU64,
    pub calls_total: AtomicU64,
    pub calls_refused: AtomicU64,
    pub barge_ins: AtomicU64,
    pub frames_to_openai: AtomicU64,
    pub frames_to_twilio: AtomicU64,
    /// Caller audio dropped because the OpenAI socket could not keep up.
    pub frames_dropped: AtomicU64,
    /// Twilio media in -> append queued for OpenAI.
    pub inbound_relay: Histogram,
    /// OpenAI delta in -> its first frame sent to Twilio (when not held back by pacing).
    pub outbound_relay: Histogram,
}

pub static METRICS: Metrics = Metrics {
    active_calls: AtomicU64::new(0),
    calls_total: AtomicU64::new(0),
    calls_refused: AtomicU64::new(0),
    barge_ins: AtomicU64::new(0),
    frames_to_openai: AtomicU64::new(0),
    frames_to_twilio: AtomicU64::new(0),
    frames_dropped: AtomicU64::new(0),
    inbound_relay: Histogram::new(),
    outbound_relay: Histogram::new(),
};

impl Metrics {
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, help, value) in [
            (
                "bridge_active_calls",
                "Calls being relayed now",
                &self.active_calls,
            ),
            ("bridge_calls_total", "Calls admitted", &self.calls_total),
            (
                "bridge_calls_refused_total",
                "Streams refused at admission",
                &self.calls_refused,
            ),
            (
                "bridge_barge_ins_total",
                "Times a caller interrupted the agent",
                &self.barge_ins,
            ),
            (
                "bridge_frames_to_openai_total",
                "Caller frames relayed to OpenAI",
                &self.frames_to_openai,
            ),
            (
                "bridge_frames_to_twilio_total",
                "Agent frames sent to Twilio",
                &self.frames_to_twilio,
            ),
            (
                "bridge_frames_dropped_total",
                "Caller frames dropped under OpenAI backpressure",
                &self.frames_dropped,
            ),
        ] {
            let kind = if name == "bridge_active_calls" {
                "gauge"
            } else {
                "counter"
            };
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                value.load(Relaxed)
            );
        }
        self.inbound_relay.render(
            "bridge_inbound_relay_seconds",
            "Twilio media frame in to OpenAI append queued",
            &mut out,
        );
        self.outbound_relay.render(
            "bridge_outbound_relay_seconds",
            "OpenAI audio delta in to its first Twilio frame out",
            &mut out,
        );
        out
    }
}
