//! Timestamps carried inside audio, for measuring relay latency through the bridge's sockets in
//! the load benchmark: a 4-byte magic, then the nanoseconds since a process-wide epoch as 16
//! nibbles. Every byte is a quiet μ-law value (|sample| <= 120), so stamped silence still
//! reads as silence to a voice-activity detector. Both simulators live in one process, so they
//! share the epoch.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

const MAGIC: [u8; 4] = [0xF1, 0xFE, 0xF2, 0xFD];
pub const LEN: usize = 20;

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Writes a stamp for "now" into the first [`LEN`] bytes of `audio` (if it is long enough).
pub fn write(audio: &mut [u8]) {
    if audio.len() < LEN {
        return;
    }
    let nanos = Instant::now().duration_since(epoch()).as_nanos() as u64;
    audio[..4].copy_from_slice(&MAGIC);
    for (i, byte) in audio[4..LEN].iter_mut().enumerate() {
        *byte = 0xF0 | ((nanos >> (4 * i)) & 0x0F) as u8;
    }
}

/// The instant stamped at the start of `audio`, if it carries a stamp.
pub fn read(audio: &[u8]) -> Option<Instant> {
    if audio.len() < LEN || audio[..4] != MAGIC {
        return None;
    }
    let mut nanos = 0u64;
    for (i, byte) in audio[4..LEN].iter().enumerate() {
        nanos |= u64::from(byte & 0x0F) << (4 * i);
    }
    Some(epoch() + Duration::from_nanos(nanos))
}

pub fn since(at: Instant) -> Duration {
    Instant::now().saturating_duration_since(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_stays_quiet() {
        let mut audio = [0xFFu8; 160];
        write(&mut audio);
        let at = read(&audio).unwrap();
        assert!(since(at) < Duration::from_secs(1));
        assert!(read(&[0xFFu8; 160]).is_none());
        assert!(crate::mulaw::mean_abs(&audio) < 20);
    }
}
