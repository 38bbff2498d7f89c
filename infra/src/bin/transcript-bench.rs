//! `transcript-bench`: how long enhancing a long call's transcript takes (target: a
//! 2,000-sentence transcript in under 5 ms), and how long storing its conversation flow's
//! JSON pages takes to serialise. Prints percentiles over many runs.
//!
//! `cargo run --release -p infra --bin transcript-bench [sentences] [runs]`

use std::time::{Duration, Instant};

use shared::domain::transcripts::enhance;
use shared::twilio::intelligence::Sentence;

fn sentences(n: usize) -> Vec<Sentence> {
    let mut start = 0.0;
    (0..n)
        .map(|i| {
            let words = 6 + i % 12;
            let text = (0..words)
                .map(|w| {
                    [
                        "yes",
                        "appointment",
                        "Tuesday",
                        "thank",
                        "you",
                        "the",
                        "clinic",
                    ][(i + w) % 7]
                })
                .collect::<Vec<_>>()
                .join(" ");
            let length = 0.35 * words as f64;
            let sentence = Sentence {
                media_channel: 1 + (i / 2 % 2) as u32,
                sentence_index: i as u32,
                start_time: Some(start),
                end_time: Some(start + length),
                transcript: Some(text),
                confidence: (i % 5 != 0).then_some(0.85 + (i % 10) as f64 / 100.0),
            };
            start += length + 0.2;
            sentence
        })
        .collect()
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let input = sentences(n);
    // Twilio's pages come in any order: shuffle deterministically so sorting is measured.
    let mut shuffled = input.clone();
    shuffled.reverse();

    let mut enhancing = Vec::with_capacity(runs);
    let mut serialising = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let enhanced = enhance(&shuffled, 1800, Some("en-US"));
        enhancing.push(started.elapsed());
        let started = Instant::now();
        let pages: usize = enhanced
            .conversation_flow
            .chunks(shared::store::transcripts::FLOW_PAGE)
            .map(|page| serde_json::to_string(page).map(|s| s.len()).unwrap_or(0))
            .sum();
        serialising.push(started.elapsed());
        assert!(pages > 0 && enhanced.conversation_flow.len() == n);
    }
    enhancing.sort();
    serialising.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("{n} sentences, {runs} runs");
    println!(
        "enhance:          p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
        ms(percentile(&enhancing, 0.5)),
        ms(percentile(&enhancing, 0.99)),
        ms(enhancing[enhancing.len() - 1])
    );
    println!(
        "flow pages JSON:  p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
        ms(percentile(&serialising, 0.5)),
        ms(percentile(&serialising, 0.99)),
        ms(serialising[serialising.len() - 1])
    );
}
