//! The bridge's metrics in CloudWatch: once an interval, one line of CloudWatch's embedded
//! metric format (EMF) on stdout, which the task's log driver ships to CloudWatch Logs and
//! CloudWatch turns into metrics. No agent and no API call: the log line is the metric.
//!
//! The metrics carry no dimension, so every task writes to the same metric and a statistic
//! over them reads "per task": the fleet's autoscaling tracks the average of `ActiveCalls`
//! (calls per task), and the alarms watch the maximum of the relay p99s.

use std::io::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::metrics::{Histogram, METRICS, Metrics};

/// What the counters read at the end of the previous interval, so each line reports what
/// happened during its own interval.
#[derive(Default)]
struct Reading {
    calls_total: u64,
    calls_refused: u64,
    frames_dropped: u64,
    inbound: [u64; 22],
    outbound: [u64; 22],
}

impl Reading {
    fn take(metrics: &Metrics) -> Self {
        Reading {
            calls_total: metrics.calls_total.load(Relaxed),
            calls_refused: metrics.calls_refused.load(Relaxed),
            frames_dropped: metrics.frames_dropped.load(Relaxed),
            inbound: metrics.inbound_relay.buckets(),
            outbound: metrics.outbound_relay.buckets(),
        }
    }
}

/// Writes one EMF line to stdout every `interval` until the process ends.
pub async fn publish(namespace: String, interval: Duration) {
    let mut previous = Reading::take(&METRICS);
    let mut ticks = tokio::time::interval(interval);
    ticks.tick().await; // the first tick is immediate
    loop {
        ticks.tick().await;
        let now = Reading::take(&METRICS);
        let active = METRICS.active_calls.load(Relaxed);
        let line = document(&namespace, unix_millis(), active, &previous, &now);
        previous = now;
        // One write of a whole line, so it is never interleaved with a log line.
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The EMF document of one interval: `ActiveCalls` now, the admissions, refusals and dropped
/// frames since `before`, and each relay leg's p99 when it had samples.
fn document(
    namespace: &str,
    timestamp: u64,
    active: u64,
    before: &Reading,
    now: &Reading,
) -> Value {
    let mut values = Map::new();
    let mut definitions = Vec::new();
    let mut put = |name: &str, unit: &str, value: Value| {
        definitions.push(json!({ "Name": name, "Unit": unit }));
        values.insert(name.to_string(), value);
    };
    put("ActiveCalls", "Count", active.into());
    put(
        "CallsAdmitted",
        "Count",
        now.calls_total.saturating_sub(before.calls_total).into(),
    );
    put(
        "CallsRefused",
        "Count",
        now.calls_refused
            .saturating_sub(before.calls_refused)
            .into(),
    );
    put(
        "FramesDropped",
        "Count",
        now.frames_dropped
            .saturating_sub(before.frames_dropped)
            .into(),
    );
    for (name, was, is) in [
        ("InboundRelayP99", &before.inbound, &now.inbound),
        ("OutboundRelayP99", &before.outbound, &now.outbound),
    ] {
        let delta: [u64; 22] = std::array::from_fn(|i| is[i].saturating_sub(was[i]));
        if let Some(p99) = Histogram::p99_upper_bound(&delta) {
            put(name, "Milliseconds", (p99.as_secs_f64() * 1000.0).into());
        }
    }
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [[]],
                "Metrics": definitions,
            }],
        }),
    );
    doc.extend(values);
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(calls: u64, inbound_us: &[u64]) -> Reading {
        let mut r = Reading {
            calls_total: calls,
            ..Reading::default()
        };
        for &us in inbound_us {
            r.inbound[(64 - us.leading_zeros()) as usize] += 1;
        }
        r
    }

    #[test]
    fn a_line_is_an_emf_document_of_the_interval() {
        let before = reading(10, &[100; 50]);
        // 99 fast samples and one slow one in this interval: p99 is the fast bucket.
        let mut during = vec![100; 50];
        during.extend([100; 49]);
        during.push(40_000);
        let now = reading(13, &[&[100; 50][..], &during[..]].concat());
        let doc = document("stack/MediaBridge", 1_700_000_000_000, 7, &before, &now);

        let aws = &doc["_aws"];
        assert_eq!(aws["Timestamp"], 1_700_000_000_000u64);
        let directive = &aws["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "stack/MediaBridge");
        assert_eq!(directive["Dimensions"], json!([[]]));
        // Every metric named in the directive is a member of the document, and no other.
        let names: Vec<&str> = directive["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "ActiveCalls",
                "CallsAdmitted",
                "CallsRefused",
                "FramesDropped",
                "InboundRelayP99"
            ]
        );
        for name in &names {
            assert!(doc[*name].is_number(), "{name}");
        }
        assert_eq!(doc["ActiveCalls"], 7);
        assert_eq!(doc["CallsAdmitted"], 3);
        // 100 µs falls in the bucket whose upper bound is 128 µs.
        assert_eq!(doc["InboundRelayP99"], 0.128);
        // No outbound sample this interval: no figure rather than a zero.
        assert!(doc.get("OutboundRelayP99").is_none());
    }

    #[test]
    fn p99_is_the_bucket_of_the_ninety_ninth_sample() {
        let mut counts = [0u64; 22];
        assert_eq!(Histogram::p99_upper_bound(&counts), None);
        counts[3] = 98;
        counts[10] = 2;
        assert_eq!(
            Histogram::p99_upper_bound(&counts),
            Some(Duration::from_micros(1 << 10))
        );
        counts[3] = 990;
        assert_eq!(
            Histogram::p99_upper_bound(&counts),
            Some(Duration::from_micros(1 << 3))
        );
    }
}
