//! Playout: the model's audio arrives in variable-size deltas, faster than real time; Twilio
//! wants 20 ms frames (160 bytes of μ-law). This re-cuts the audio into frames and paces them,
//! keeping only `lead` of audio queued at Twilio, so a barge-in has little to throw away.
//!
//! Every `mark_every` of audio (and at the end of an item) it sends a mark named
//! `<item_id>:<cumulative_ms>`; Twilio echoes a mark when the caller has heard everything
//! before it. From the last echoed mark and the time since, the bridge knows how much of an
//! item the caller heard, which is what `conversation.item.truncate` needs.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

pub const FRAME_BYTES: usize = 160;
pub const FRAME: Duration = Duration::from_millis(20);
const SILENCE: u8 = 0xFF;
/// Items remembered for mark echoes and truncation (the current one and a few before it).
const ITEMS_KEPT: usize = 4;

/// What to send to Twilio, in order.
#[derive(Debug, PartialEq)]
pub enum Out {
    /// One 160-byte frame (base64-encoded straight into the message that carries it).
    Media([u8; FRAME_BYTES]),
    Mark(String),
}

#[derive(Debug)]
struct Item {
    id: String,
    generated_bytes: u64,
    sent_bytes: u64,
    first_sent_at: Option<Instant>,
    last_mark_ms: u64,
    /// The latest echoed mark: (cumulative ms, when it was echoed).
    acked: Option<(u64, Instant)>,
    done: bool,
    muted: bool,
}

impl Item {
    fn new(id: &str) -> Self {
        Item {
            id: id.to_string(),
            generated_bytes: 0,
            sent_bytes: 0,
            first_sent_at: None,
            last_mark_ms: 0,
            acked: None,
            done: false,
            muted: false,
        }
    }

    fn sent_ms(&self) -> u64 {
        self.sent_bytes / 8
    }

    /// How much of this item the caller has heard by `now`.
    fn heard_ms(&self, now: Instant) -> u64 {
        let estimate = match (self.acked, self.first_sent_at) {
            (Some((ms, at)), _) => ms + now.saturating_duration_since(at).as_millis() as u64,
            (None, Some(first)) => now.saturating_duration_since(first).as_millis() as u64,
            (None, None) => 0,
        };
        estimate.min(self.sent_ms())
    }
}

pub struct Playout {
    lead: Duration,
    mark_every_ms: u64,
    /// Complete frames waiting for their turn, each with the index of its item in `items`.
    frames: VecDeque<(u64, [u8; FRAME_BYTES])>,
    /// The tail of the current item's audio, shorter than a frame.
    partial: Vec<u8>,
    items: VecDeque<(u64, Item)>,
    next_item_key: u64,
    /// When everything sent so far will have finished playing at Twilio.
    play_end: Instant,
    /// Total agent audio sent (for the call record).
    sent_total_ms: u64,
}

impl Playout {
    pub fn new(lead: Duration, mark_every: Duration, now: Instant) -> Self {
        Playout {
            lead,
            mark_every_ms: mark_every.as_millis() as u64,
            frames: VecDeque::new(),
            partial: Vec::with_capacity(FRAME_BYTES),
            items: VecDeque::new(),
            next_item_key: 0,
            play_end: now,
            sent_total_ms: 0,
        }
    }

    fn item_mut(&mut self, id: &str) -> Option<&mut (u64, Item)> {
        self.items.iter_mut().find(|(_, i)| i.id == id)
    }

    /// The key of item `id`, starting it if it is new.
    fn item_key(&mut self, id: &str) -> u64 {
        if let Some((key, _)) = self.item_mut(id) {
            return *key;
        }
        self.flush_partial();
        let key = self.next_item_key;
        self.next_item_key += 1;
        self.items.push_back((key, Item::new(id)));
        if self.items.len() > ITEMS_KEPT {
            self.items.pop_front();
        }
        key
    }

    /// Whether late audio of `id` must be dropped (its item was interrupted).
    pub fn is_muted(&self, id: &str) -> bool {
        self.items.iter().any(|(_, i)| i.id == id && i.muted)
    }

    /// Queues decoded audio of item `id`. Audio of an interrupted item is dropped.
    pub fn push(&mut self, id: &str, audio: &[u8]) {
        let key = match self.item_mut(id) {
            Some((_, item)) if item.muted => return,
            Some((key, item)) => {
                item.generated_bytes += audio.len() as u64;
                *key
            }
            None => {
                let key = self.item_key(id);
                if let Some((_, item)) = self.items.back_mut() {
                    item.generated_bytes += audio.len() as u64;
                }
                key
            }
        };
        let mut rest = audio;
        while !rest.is_empty() {
            let take = (FRAME_BYTES - self.partial.len()).min(rest.len());
            self.partial.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.partial.len() == FRAME_BYTES {
                let mut frame = [0u8; FRAME_BYTES];
                frame.copy_from_slice(&self.partial);
                self.frames.push_back((key, frame));
                self.partial.clear();
            }
        }
    }

    /// The model finished item `id`: its tail is padded to a whole frame with silence.
    pub fn finish(&mut self, id: &str) {
        if let Some((_, item)) = self.item_mut(id) {
            item.done = true;
        }
        self.flush_partial();
    }

    fn flush_partial(&mut self) {
        if self.partial.is_empty() {
            return;
        }
        let Some(&(key, _)) = self.items.back() else {
            self.partial.clear();
            return;
        };
        let mut frame = [SILENCE; FRAME_BYTES];
        frame[..self.partial.len()].copy_from_slice(&self.partial);
        self.frames.push_back((key, frame));
        self.partial.clear();
    }

    /// Frames (and marks) that may go to Twilio now, and when to call again (`None` when
    /// nothing is waiting).
    pub fn poll(&mut self, now: Instant, out: &mut Vec<Out>) -> Option<Instant> {
        while let Some(&(key, _)) = self.frames.front() {
            if self.play_end > now + self.lead {
                return Some(self.play_end - self.lead);
            }
            let Some((_, frame)) = self.frames.pop_front() else {
                break;
            };
            out.push(Out::Media(frame));
            self.play_end = self.play_end.max(now) + FRAME;
            self.sent_total_ms += 20;
            let last_of_item = self.frames.front().is_none_or(|(k, _)| *k != key);
            let mark_every = self.mark_every_ms;
            if let Some((_, item)) = self.items.iter_mut().find(|(k, _)| *k == key) {
                item.first_sent_at.get_or_insert(now);
                item.sent_bytes += FRAME_BYTES as u64;
                let ms = item.sent_ms();
                let item_complete = last_of_item && item.done;
                if ms - item.last_mark_ms >= mark_every || item_complete {
                    item.last_mark_ms = ms;
                    out.push(Out::Mark(format!("{}:{ms}", item.id)));
                }
            }
        }
        // A response can queue seconds of audio; give that memory back once it has gone out.
        if self.frames.capacity() > 64 {
            self.frames.shrink_to(16);
        }
        None
    }

    /// A mark came back from Twilio: the caller heard that item up to that point.
    pub fn ack(&mut self, name: &str, now: Instant) {
        let Some((id, ms)) = name.rsplit_once(':') else {
            return;
        };
        let Ok(ms) = ms.parse::<u64>() else { return };
        if let Some((_, item)) = self.item_mut(id)
            && item.acked.is_none_or(|(prev, _)| ms >= prev)
        {
            item.acked = Some((ms, now));
        }
    }

    /// Whether the agent's audio is still playing or waiting to play.
    pub fn speaking(&self, now: Instant) -> bool {
        !self.frames.is_empty() || !self.partial.is_empty() || self.play_end > now
    }

    /// The caller started talking over the agent: drop everything queued, mute the item, and
    /// return it with the audio actually heard (what `truncate` needs), or `None` if the agent
    /// was not speaking.
    pub fn interrupt(&mut self, now: Instant) -> Option<(String, u64)> {
        if !self.speaking(now) {
            return None;
        }
        let (_, item) = self
            .items
            .iter_mut()
            .rev()
            .find(|(_, i)| i.sent_bytes > 0 || i.generated_bytes > 0)?;
        item.muted = true;
        let heard = item.heard_ms(now).min(item.generated_bytes / 8);
        let id = item.id.clone();
        self.frames.clear();
        self.frames.shrink_to(16);
        self.partial.clear();
        self.play_end = now;
        Some((id, heard))
    }

    pub fn agent_audio_ms(&self) -> u64 {
        self.sent_total_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(out: &[Out]) -> usize {
        out.iter().filter(|o| matches!(o, Out::Media(_))).count()
    }

    #[test]
    fn recuts_uneven_deltas_into_paced_frames_with_marks() {
        let t0 = Instant::now();
        let mut p = Playout::new(Duration::from_millis(100), Duration::from_millis(100), t0);
        p.push("item_a", &[1u8; 1000]);
        p.push("item_a", &[2u8; 2500]);
        p.finish("item_a");
        // 3500 bytes = 21.875 frames -> 22 frames, the last padded.
        let mut out = Vec::new();
        let next = p.poll(t0, &mut out);
        // Only `lead` (100 ms = 5 frames) may be ahead of real time, plus the one playing.
        assert_eq!(frames(&out), 6);
        assert!(next.is_some());
        let mut t = t0;
        while let Some(at) = p.poll(t, &mut out) {
            t = at;
        }
        assert_eq!(frames(&out), 22);
        let marks: Vec<&String> = out
            .iter()
            .filter_map(|o| match o {
                Out::Mark(m) => Some(m),
                _ => None,
            })
            .collect();
        assert_eq!(marks.first().unwrap().as_str(), "item_a:100");
        assert_eq!(marks.last().unwrap().as_str(), "item_a:440");
        let audio: Vec<u8> = out
            .iter()
            .filter_map(|o| match o {
                Out::Media(frame) => Some(frame.as_slice()),
                _ => None,
            })
            .flatten()
            .copied()
            .collect();
        assert_eq!(&audio[..1000], &[1u8; 1000]);
        assert_eq!(&audio[1000..3500], &[2u8; 2500]);
        assert_eq!(&audio[3500..], &[SILENCE; 22 * FRAME_BYTES - 3500]);
    }

    #[test]
    fn interrupt_reports_heard_audio_and_mutes_the_item() {
        let t0 = Instant::now();
        let mut p = Playout::new(Duration::from_millis(200), Duration::from_millis(100), t0);
        p.push("item_a", &[1u8; 8000]); // 1 s
        let mut out = Vec::new();
        p.poll(t0, &mut out);
        p.ack("item_a:100", t0 + Duration::from_millis(110));
        let (id, heard) = p.interrupt(t0 + Duration::from_millis(150)).unwrap();
        assert_eq!(id, "item_a");
        assert!((130..=150).contains(&heard), "{heard}");
        assert!(p.is_muted("item_a"));
        p.push("item_a", &[1u8; 800]);
        assert!(
            !p.speaking(t0 + Duration::from_millis(150)),
            "late audio of the item is dropped"
        );
        assert!(p.interrupt(t0 + Duration::from_millis(160)).is_none());
    }
}
