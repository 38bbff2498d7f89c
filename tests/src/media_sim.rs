//! A simulated Twilio Media Streams client: the side Twilio plays when a `<Connect><Stream>`
//! call reaches our media bridge (voice-protocols §1 and §6.5).
//!
//! It connects over WebSocket (signing the upgrade with `X-Twilio-Signature` like Twilio),
//! sends `connected` and `start`, then one inbound `media` frame every 20 ms at real pace,
//! silence included, following a [`CallScript`] of speech (a tone) and silence. Real pace
//! matters: the bridge's voice detection, pacing and barge-in logic are all time-based, and the
//! load benchmark measures latency, so frames run on a fixed schedule (start + n × 20 ms) that
//! a late tick cannot make drift.
//!
//! It also models **the caller's ear**, which is what the bridge's barge-in logic is judged
//! against. Audio the server sends goes into a playout queue drained at 8000 B/s (one 160 B
//! frame per 20 ms, starting at once when the queue was idle). Marks wait in that queue behind
//! the audio sent before them and are echoed when playout reaches them. `clear` drops the queued
//! audio and echoes the pending marks at once, as Twilio does. Because the bridge names marks
//! `"<item_id>:<cumulative_ms>"`, each frame can be attributed to an item, which gives
//! per-item "heard" milliseconds (to check a truncate's `audio_end_ms`) and catches audio of an
//! interrupted item arriving after its `clear` (the bridge must drop it).
//!
//! Every server message is checked against what Twilio accepts (JSON `media`/`mark`/`clear`
//! with our `streamSid`, 160-byte μ-law frames); violations land in [`CallReport::bad_frames`]
//! rather than failing, so a test can assert on them.
//!
//! Built for ~1000 concurrent calls in the load benchmark: three small tasks per call (one
//! sends on schedule, one reads and never waits on playout, one drains playout), run-length
//! queues, small socket buffers and capped logs. Only `ws://` is supported: the simulator
//! talks to a bridge on loopback.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};

use crate::mulaw;

/// One Media Streams frame: 20 ms of 8 kHz μ-law.
const FRAME: Duration = Duration::from_millis(20);
const FRAME_MS: u64 = 20;
const FRAME_BYTES: usize = 160;
/// The speech tone. 450 Hz rather than 440 so a 20 ms frame holds exactly 9 cycles: one
/// precomputed frame repeats without a phase jump, so no per-frame synthesis is needed.
const SPEECH_HZ: f32 = 450.0;
/// Cap on each per-call log (marks, clears, speech starts), to bound memory in the benchmark.
const LOG_CAP: usize = 1000;
/// Cap on recorded protocol violations: a broken server would otherwise fill memory.
const BAD_FRAMES_CAP: usize = 100;
/// Audio of a cut-off item arriving this soon after `clear` may have been in flight already.
const IN_FLIGHT_GRACE: Duration = Duration::from_millis(100);
/// How long `stop` waits for the stop message to go out.
const STOP_WAIT: Duration = Duration::from_secs(2);
/// The item a frame is charged to when no mark has ever named one.
const UNKNOWN_ITEM: &str = "unknown";

type Socket = WebSocketStream<TcpStream>;
/// The benchmark's hook, called with each decoded payload the server sends.
pub type MediaHook = Arc<dyn Fn(&[u8]) + Send + Sync>;

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// One part of what the caller does.
#[derive(Clone, Debug)]
pub enum Segment {
    /// The caller talks: a tone at `CallScript::speech_amplitude`, for `ms` (rounded up to 20 ms).
    Speech { ms: u32 },
    /// The caller is quiet: 0xFF frames (Twilio keeps sending them).
    Silence { ms: u32 },
    /// The caller presses a key (`0`-`9`, `*`, `#`): one `dtmf` message, in a frame's slot.
    Digit(char),
    /// The caller hangs up: `stop`, then the socket closes.
    Stop,
}

/// What the caller does, played in order at real 20 ms pace. After the last segment the
/// caller stays on the line in silence until `stop()` or the server closes.
#[derive(Clone, Debug)]
pub struct CallScript {
    pub segments: Vec<Segment>,
    /// Peak amplitude of the speech tone (default 8000, clearly above any VAD threshold).
    pub speech_amplitude: i16,
}

impl Default for CallScript {
    fn default() -> Self {
        CallScript {
            segments: Vec::new(),
            speech_amplitude: 8000,
        }
    }
}

impl CallScript {
    /// A script with the default speech amplitude.
    pub fn new(segments: Vec<Segment>) -> Self {
        CallScript {
            segments,
            ..CallScript::default()
        }
    }
}

/// Where and as whom to connect.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// `ws://127.0.0.1:PORT/twilio`: also the exact URL the signature covers.
    pub url: String,
    /// Signs the upgrade with `X-Twilio-Signature` under this auth token; `None` = unsigned.
    pub auth_token: Option<String>,
    /// `start.customParameters` (what `<Parameter>` elements carry), e.g. `("token", …)`.
    pub custom_parameters: Vec<(String, String)>,
    pub account_sid: String,
    pub call_sid: String,
    pub stream_sid: String,
    /// Benchmark mode: each inbound payload starts with a send-time stamp ([`crate::stamp`]),
    /// (the load benchmark measures relay latency from it).
    pub stamp_frames: bool,
}

impl ConnectOptions {
    /// Unsigned, no parameters, fresh Twilio-shaped SIDs, no stamping.
    pub fn new(url: impl Into<String>) -> Self {
        ConnectOptions {
            url: url.into(),
            auth_token: None,
            custom_parameters: Vec::new(),
            account_sid: fake_sid("AC"),
            call_sid: fake_sid("CA"),
            stream_sid: fake_sid("MZ"),
            stamp_frames: false,
        }
    }
}

/// Why `connect` failed.
#[derive(Debug)]
pub enum ConnectError {
    /// The server answered the upgrade with this HTTP status instead of 101.
    Refused(u16),
    /// Anything else: bad URL, connection refused, broken handshake.
    Io(String),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Refused(status) => write!(f, "upgrade refused with HTTP {status}"),
            ConnectError::Io(e) => write!(f, "connection failed: {e}"),
        }
    }
}

impl std::error::Error for ConnectError {}

/// What happened on the call so far, as the caller saw it.
#[derive(Clone, Debug, Default)]
pub struct CallReport {
    /// Inbound `media` frames we sent.
    pub frames_sent: usize,
    /// Server `media` messages and their decoded payload bytes.
    pub media_received: usize,
    pub bytes_received: usize,
    /// Server messages Twilio would reject (and, for media, payloads that are not one 160 B
    /// frame). Capped at 100.
    pub bad_frames: Vec<String>,
    /// Mark names as the server sent them, and as we echoed them (capped at 1000 each).
    pub marks_received: Vec<String>,
    pub marks_echoed: Vec<String>,
    pub clears: Vec<ClearRecord>,
    /// Per item id: ms of that item's audio actually played out to the caller.
    pub heard_ms: BTreeMap<String, u64>,
    /// (item id, bytes) of audio for an item received more than 100 ms after a `clear` cut
    /// that item off. Must stay empty: the bridge has to drop an interrupted item's audio.
    pub audio_after_clear: Vec<(String, u64)>,
    /// When the first server `media` arrived.
    pub first_media_at: Option<Instant>,
    /// When the first frame of each `Speech` segment was sent.
    pub speech_started_at: Vec<Instant>,
    /// The server closed (or dropped) the socket before we sent `stop`.
    pub closed_by_server: bool,
    /// The code of the server's close frame, if it sent one.
    pub close_code: Option<u16>,
}

/// A `clear` from the server, and how much of each item the caller had heard by then.
#[derive(Clone, Debug)]
pub struct ClearRecord {
    pub at: Instant,
    pub heard_ms_by_item: BTreeMap<String, u64>,
}

/// A connected simulated call. Dropping it ends its tasks (and so the socket) without `stop`.
pub struct MediaCall {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
    tasks: Vec<JoinHandle<()>>,
}

impl MediaCall {
    /// Connects and starts the script in background tasks; returns once the upgrade completed
    /// (`Err(Refused(status))` if the server answered it with anything but 101, e.g. 403).
    pub async fn connect(
        options: ConnectOptions,
        script: CallScript,
    ) -> Result<MediaCall, ConnectError> {
        let socket = open_socket(&options).await?;
        let (sink, stream) = socket.split();
        let (ended, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake_playout: Notify::new(),
            hook: Mutex::new(None),
            ended,
            we_closed: AtomicBool::new(false),
            stream_sid: options.stream_sid.clone(),
        });
        let (commands, command_rx) = mpsc::unbounded_channel();
        let writer = Writer::new(sink, shared.clone(), &options, script.speech_amplitude);
        let tasks = vec![
            tokio::spawn(writer.run(options.custom_parameters, script.segments, command_rx)),
            tokio::spawn(read_loop(stream, shared.clone(), commands.clone())),
            tokio::spawn(playout_loop(shared.clone(), commands.clone())),
        ];
        Ok(MediaCall {
            shared,
            commands,
            tasks,
        })
    }

    /// Sends `stop` and closes (waits up to 2 s for it to go out; returns at once if the call
    /// had already ended).
    pub async fn stop(&self) {
        if self.commands.send(Command::Stop).is_ok() {
            self.wait_closed(STOP_WAIT).await;
        }
    }

    /// Waits until the server closed the socket or `stop` was sent, up to `timeout`; true if it
    /// ended.
    pub async fn wait_closed(&self, timeout: Duration) -> bool {
        let mut ended = self.shared.ended.subscribe();
        tokio::time::timeout(timeout, until_ended(&mut ended))
            .await
            .is_ok()
    }

    /// A snapshot. Frames whose item no mark has named yet are charged to the item of the last
    /// mark seen (or `"unknown"`).
    pub fn report(&self) -> CallReport {
        self.shared.lock().report()
    }

    /// Called from the read task with each decoded server `media` payload, as it arrives and
    /// before any bookkeeping: keep it to microseconds.
    pub fn on_media(&self, f: MediaHook) {
        *self.shared.hook.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
    }
}

impl Drop for MediaCall {
    fn drop(&mut self) {
        // A benchmark drops a thousand calls at once: leave no task streaming to nobody.
        for task in &self.tasks {
            task.abort();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Connecting
// ---------------------------------------------------------------------------------------------

/// A plausible, unique-enough Twilio SID: prefix + 32 hex digits.
fn fake_sid(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = u128::from(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!(
        "{prefix}{:032x}",
        (nanos << 32) ^ n ^ (u128::from(std::process::id()) << 96)
    )
}

/// Opens TCP and performs the (optionally signed) WebSocket upgrade.
async fn open_socket(options: &ConnectOptions) -> Result<Socket, ConnectError> {
    let target = tcp_target(&options.url)?;
    let tcp = TcpStream::connect(&target)
        .await
        .map_err(|e| ConnectError::Io(format!("{target}: {e}")))?;
    // 20 ms frames must not sit in Nagle's buffer: the benchmark measures latency.
    let _ = tcp.set_nodelay(true);
    let mut request = options
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| ConnectError::Io(e.to_string()))?;
    if let Some(token) = &options.auth_token {
        // Twilio signs the exact URL it connects to, with no body parameters (§4.8).
        let signature = shared::twilio::signature::sign(token, &options.url, &[]);
        let value =
            HeaderValue::from_str(&signature).map_err(|e| ConnectError::Io(e.to_string()))?;
        request.headers_mut().insert("X-Twilio-Signature", value);
    }
    match tokio_tungstenite::client_async_with_config(request, tcp, Some(small_buffers())).await {
        Ok((socket, _response)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => {
            Err(ConnectError::Refused(response.status().as_u16()))
        }
        Err(e) => Err(ConnectError::Io(e.to_string())),
    }
}

/// `host:port` to dial for a `ws://` URL (port 80 when it has none).
fn tcp_target(url: &str) -> Result<String, ConnectError> {
    let rest = url.strip_prefix("ws://").ok_or_else(|| {
        ConnectError::Io(format!(
            "the simulator only speaks ws:// (loopback), got {url:?}"
        ))
    })?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(ConnectError::Io(format!("no host in {url:?}")));
    }
    let has_port = !authority.ends_with(']')
        && authority
            .rsplit_once(':')
            .is_some_and(|(_, port)| port.parse::<u16>().is_ok());
    Ok(if has_port {
        authority.to_string()
    } else {
        format!("{authority}:80")
    })
}

/// The defaults reserve 128 KiB per direction per socket: 256 MB for a 1000-call benchmark.
/// Our messages are under 400 bytes, so 4 KiB reads and unbuffered writes are plenty.
fn small_buffers() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}

// ---------------------------------------------------------------------------------------------
// State shared by the three tasks
// ---------------------------------------------------------------------------------------------

struct Shared {
    state: Mutex<State>,
    /// Tells the idle playout task that audio or a mark was queued.
    wake_playout: Notify,
    hook: Mutex<Option<MediaHook>>,
    /// Set once: the server closed the socket, or we sent `stop`.
    ended: watch::Sender<bool>,
    /// We sent `stop` (and our close frame): a close after that is not the server's doing.
    we_closed: AtomicBool,
    stream_sid: String,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not turn every later report() into a second panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn end(&self) {
        self.ended.send_replace(true);
    }
}

/// Resolves once the call has ended. (Returns only `()`: the watch guard `wait_for` yields is
/// not `Send` and must not live across the `select!` arms' awaits.)
async fn until_ended(ended: &mut watch::Receiver<bool>) {
    let _ = ended.wait_for(|ended| *ended).await;
}

/// What sits in the playout queue, in the order the server sent it.
enum Entry {
    /// A run of frames; `item` is `None` until the mark that follows them arrives.
    Audio {
        frames: u64,
        item: Option<Arc<str>>,
    },
    Mark(String),
}

/// The frame the caller is hearing right now.
struct Speaker {
    until: Instant,
    item: Option<Arc<str>>,
}

/// What one `clear` cut off.
struct CutOff {
    at: Instant,
    items: Vec<Arc<str>>,
}

#[derive(Default)]
struct State {
    report: CallReport,
    queue: VecDeque<Entry>,
    speaker: Option<Speaker>,
    /// Frames played before the mark that names their item arrived.
    played_unattributed: u64,
    /// Bytes received since the last mark, run-length encoded by the index of the latest
    /// `clear` they arrived too late for (None: not late for any).
    received_unattributed: Vec<(Option<usize>, u64)>,
    last_mark: Option<(Arc<str>, Instant)>,
    cutoffs: Vec<CutOff>,
}

fn push_capped<T>(log: &mut Vec<T>, value: T, cap: usize) {
    if log.len() < cap {
        log.push(value);
    }
}

/// `"item_abc:1240"` → `"item_abc"`; a name without a colon is its own item.
fn item_of(mark: &str) -> &str {
    mark.rsplit_once(':').map_or(mark, |(item, _)| item)
}

fn add_ms(map: &mut BTreeMap<String, u64>, item: &str, frames: u64) {
    // get_mut first: entry() would allocate a key String on every played frame.
    match map.get_mut(item) {
        Some(ms) => *ms += frames * FRAME_MS,
        None => {
            map.insert(item.to_string(), frames * FRAME_MS);
        }
    }
}

impl State {
    fn bad(&mut self, problem: &str, message: &str) {
        let excerpt: String = message.chars().take(120).collect();
        push_capped(
            &mut self.report.bad_frames,
            format!("{problem}: {excerpt}"),
            BAD_FRAMES_CAP,
        );
    }

    /// The item unattributed audio most likely belongs to: the one still being streamed.
    fn fallback_item(&self) -> Arc<str> {
        self.last_mark
            .as_ref()
            .map_or_else(|| Arc::from(UNKNOWN_ITEM), |(item, _)| item.clone())
    }

    /// Index of the latest `clear` that audio arriving `now` is too late for.
    fn late_for(&self, now: Instant) -> Option<usize> {
        self.cutoffs
            .iter()
            .rposition(|cut| now > cut.at + IN_FLIGHT_GRACE)
    }

    /// Did any clear up to index `last` cut `item` off?
    fn was_cut(&self, item: &str, last: usize) -> bool {
        self.cutoffs[..=last]
            .iter()
            .any(|cut| cut.items.iter().any(|i| &**i == item))
    }

    fn on_media(&mut self, bytes: usize, now: Instant, raw: &str) {
        self.report.media_received += 1;
        self.report.bytes_received += bytes;
        self.report.first_media_at.get_or_insert(now);
        if bytes != FRAME_BYTES {
            self.bad(
                &format!("media payload of {bytes} B, not one 160 B frame"),
                raw,
            );
        }
        // An odd-sized payload still plays, for however many frames it spans.
        let frames = bytes.div_ceil(FRAME_BYTES) as u64;
        if frames == 0 {
            return;
        }
        match self.queue.back_mut() {
            Some(Entry::Audio {
                frames: n,
                item: None,
            }) => *n += frames,
            _ => self.queue.push_back(Entry::Audio { frames, item: None }),
        }
        let late_for = self.late_for(now);
        match self.received_unattributed.last_mut() {
            Some((late, total)) if *late == late_for => *total += bytes as u64,
            _ => self.received_unattributed.push((late_for, bytes as u64)),
        }
    }

    /// A mark names the item of every frame since the previous mark.
    fn on_mark(&mut self, name: String, now: Instant) {
        let item: Arc<str> = Arc::from(item_of(&name));
        if let Some(Entry::Audio {
            item: slot @ None, ..
        }) = self.queue.back_mut()
        {
            *slot = Some(item.clone());
        }
        if self.played_unattributed > 0 {
            add_ms(&mut self.report.heard_ms, &item, self.played_unattributed);
            self.played_unattributed = 0;
        }
        for (late_for, bytes) in std::mem::take(&mut self.received_unattributed) {
            if let Some(clear) = late_for
                && self.was_cut(&item, clear)
            {
                self.add_after_clear(&item, bytes);
            }
        }
        push_capped(&mut self.report.marks_received, name.clone(), LOG_CAP);
        self.queue.push_back(Entry::Mark(name));
        self.last_mark = Some((item, now));
    }

    fn add_after_clear(&mut self, item: &str, bytes: u64) {
        let log = &mut self.report.audio_after_clear;
        match log.iter_mut().find(|(i, _)| i == item) {
            Some((_, total)) => *total += bytes,
            None => log.push((item.to_string(), bytes)),
        }
    }

    /// Twilio's `clear`: drop queued audio, hand back the pending marks (returned, to echo now),
    /// and remember what was cut off.
    fn on_clear(&mut self, now: Instant) -> Vec<String> {
        let fallback = self.fallback_item();
        // Frames heard but never named: no mark will name them now, their item was cut.
        if self.played_unattributed > 0 {
            add_ms(
                &mut self.report.heard_ms,
                &fallback,
                self.played_unattributed,
            );
            self.played_unattributed = 0;
        }
        let mut cut: Vec<Arc<str>> = Vec::new();
        let mut pending_marks = Vec::new();
        for entry in self.queue.drain(..) {
            match entry {
                Entry::Audio { item, .. } => {
                    let item = item.unwrap_or_else(|| fallback.clone());
                    if !cut.contains(&item) {
                        cut.push(item);
                    }
                }
                Entry::Mark(name) => pending_marks.push(name),
            }
        }
        // Nothing queued but a frame still playing: that item is the one interrupted.
        if cut.is_empty()
            && let Some(speaker) = &self.speaker
            && speaker.until > now
        {
            cut.push(speaker.item.clone().unwrap_or(fallback));
        }
        // Audio received before the clear is not "late", whatever its mark says later.
        self.received_unattributed.clear();
        if self.cutoffs.len() < LOG_CAP {
            self.cutoffs.push(CutOff {
                at: now,
                items: cut,
            });
        }
        let record = ClearRecord {
            at: now,
            heard_ms_by_item: self.report.heard_ms.clone(),
        };
        push_capped(&mut self.report.clears, record, LOG_CAP);
        for name in &pending_marks {
            push_capped(&mut self.report.marks_echoed, name.clone(), LOG_CAP);
        }
        pending_marks
    }

    /// One playout tick at `start`, when the speaker is free: echo the marks playout has reached
    /// and start the next frame. Returns the marks to echo and when that frame ends (None: idle).
    fn play_step(&mut self, start: Instant) -> (Vec<String>, Option<Instant>) {
        let mut echoes = Vec::new();
        loop {
            match self.queue.front_mut() {
                None => {
                    self.speaker = None;
                    return (echoes, None);
                }
                Some(Entry::Mark(_)) => {
                    if let Some(Entry::Mark(name)) = self.queue.pop_front() {
                        push_capped(&mut self.report.marks_echoed, name.clone(), LOG_CAP);
                        echoes.push(name);
                    }
                }
                Some(Entry::Audio { frames, item }) => {
                    let item = item.clone();
                    *frames -= 1;
                    if *frames == 0 {
                        self.queue.pop_front();
                    }
                    // Counted when it starts playing: a clear mid-frame still left it heard.
                    match &item {
                        Some(name) => add_ms(&mut self.report.heard_ms, name, 1),
                        None => self.played_unattributed += 1,
                    }
                    let until = start + FRAME;
                    self.speaker = Some(Speaker { until, item });
                    return (echoes, Some(until));
                }
            }
        }
    }

    fn report(&self) -> CallReport {
        let mut report = self.report.clone();
        let fallback = self.fallback_item();
        if self.played_unattributed > 0 {
            add_ms(&mut report.heard_ms, &fallback, self.played_unattributed);
        }
        // Late audio still waiting for its mark: only blame the cut item when the last mark
        // (the fallback's source) itself came after that clear, so a new answer whose first
        // mark is not in yet is not mistaken for the interrupted one.
        if let Some((item, mark_at)) = &self.last_mark {
            for (late_for, bytes) in &self.received_unattributed {
                if let Some(clear) = *late_for
                    && *mark_at > self.cutoffs[clear].at
                    && self.was_cut(item, clear)
                {
                    match report
                        .audio_after_clear
                        .iter_mut()
                        .find(|(i, _)| **i == **item)
                    {
                        Some((_, total)) => *total += bytes,
                        None => report.audio_after_clear.push((item.to_string(), *bytes)),
                    }
                }
            }
        }
        report
    }
}

// ---------------------------------------------------------------------------------------------
// Reading: never waits on anything but the socket
// ---------------------------------------------------------------------------------------------

/// A server message Twilio accepts.
enum ServerMessage {
    /// Decoded μ-law payload.
    Media(Vec<u8>),
    Mark(String),
    Clear,
}

#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(rename = "streamSid", borrow)]
    stream_sid: Cow<'a, str>,
    #[serde(borrow, default)]
    media: Option<IncomingMedia<'a>>,
    #[serde(default)]
    mark: Option<IncomingMark>,
}

#[derive(Deserialize)]
struct IncomingMedia<'a> {
    #[serde(borrow)]
    payload: Cow<'a, str>,
}

#[derive(Deserialize)]
struct IncomingMark {
    name: String,
}

/// Checks a server text message the way Twilio would (§1.3), or says what is wrong with it.
fn parse_server_message(text: &str, stream_sid: &str) -> Result<ServerMessage, String> {
    let message: Incoming =
        serde_json::from_str(text).map_err(|e| format!("not a valid server message ({e})"))?;
    if message.stream_sid != stream_sid {
        return Err(format!("wrong streamSid {:?}", message.stream_sid));
    }
    match &*message.event {
        "media" => {
            let media = message.media.ok_or("media event without a media object")?;
            BASE64
                .decode(media.payload.as_bytes())
                .map(ServerMessage::Media)
                .map_err(|e| format!("media payload is not base64 ({e})"))
        }
        "mark" => message
            .mark
            .map(|mark| ServerMessage::Mark(mark.name))
            .ok_or_else(|| "mark event without mark.name".to_string()),
        "clear" => Ok(ServerMessage::Clear),
        other => Err(format!("event {other:?} is not one of media/mark/clear")),
    }
}

async fn read_loop(
    mut stream: SplitStream<Socket>,
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
) {
    while let Some(next) = stream.next().await {
        match next {
            Ok(Message::Text(text)) => on_text(&shared, &commands, text.as_str()),
            Ok(Message::Binary(_)) => shared
                .lock()
                .bad("binary frame (Twilio only accepts JSON text)", ""),
            Ok(Message::Close(frame)) => {
                shared.lock().report.close_code = frame.map(|f| u16::from(f.code));
                socket_closed(&shared);
            }
            // Pings are answered by tungstenite itself.
            Ok(_) => {}
            Err(_) => break,
        }
    }
    socket_closed(&shared);
}

fn socket_closed(shared: &Shared) {
    if !shared.we_closed.load(Ordering::SeqCst) {
        shared.lock().report.closed_by_server = true;
    }
    shared.end();
}

fn on_text(shared: &Shared, commands: &mpsc::UnboundedSender<Command>, text: &str) {
    let now = Instant::now();
    let message = match parse_server_message(text, &shared.stream_sid) {
        Ok(message) => message,
        Err(problem) => {
            shared.lock().bad(&problem, text);
            return;
        }
    };
    match message {
        ServerMessage::Media(payload) => {
            // The hook first: it timestamps arrivals for the benchmark.
            let hook = shared
                .hook
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let Some(hook) = hook {
                hook(&payload);
            }
            shared.lock().on_media(payload.len(), now, text);
            shared.wake_playout.notify_one();
        }
        ServerMessage::Mark(name) => {
            shared.lock().on_mark(name, now);
            shared.wake_playout.notify_one();
        }
        ServerMessage::Clear => {
            let pending = shared.lock().on_clear(now);
            for name in pending {
                let _ = commands.send(Command::Mark(name));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Playout: the caller's ear
// ---------------------------------------------------------------------------------------------

async fn playout_loop(shared: Arc<Shared>, commands: mpsc::UnboundedSender<Command>) {
    let mut ended = shared.ended.subscribe();
    // When the frame now playing ends; None while the speaker is idle.
    let mut busy_until: Option<Instant> = None;
    loop {
        let start = match busy_until {
            // Back to back: the next frame starts exactly when this one ends, even if the timer
            // fired late, so playout keeps 8000 B/s instead of drifting.
            Some(until) => tokio::select! {
                _ = tokio::time::sleep_until(until.into()) => until,
                _ = until_ended(&mut ended) => return,
            },
            // Idle: audio plays the moment it arrives.
            None => tokio::select! {
                _ = shared.wake_playout.notified() => Instant::now(),
                _ = until_ended(&mut ended) => return,
            },
        };
        let (echoes, next) = shared.lock().play_step(start);
        for name in echoes {
            let _ = commands.send(Command::Mark(name));
        }
        busy_until = next;
    }
}

// ---------------------------------------------------------------------------------------------
// Writing: the schedule, plus mark echoes and stop on request
// ---------------------------------------------------------------------------------------------

/// What the other tasks (and `stop`) ask the writer to send.
enum Command {
    /// Echo a mark (playout reached it, or a clear returned it).
    Mark(String),
    Stop,
}

/// The next inbound frame, per the script.
enum Step {
    Frame { speech: bool, first_of_speech: bool },
    Digit(char),
    Stop,
}

/// Walks the script one 20 ms frame at a time.
struct Plan {
    segments: std::vec::IntoIter<Segment>,
    frames_left: u32,
    speech: bool,
    segment_started: bool,
}

impl Plan {
    fn new(segments: Vec<Segment>) -> Self {
        Plan {
            segments: segments.into_iter(),
            frames_left: 0,
            speech: false,
            segment_started: false,
        }
    }

    fn step(&mut self) -> Step {
        while self.frames_left == 0 {
            let (speech, ms) = match self.segments.next() {
                // Script over: the caller stays on the line, silent, like a real one.
                None => {
                    return Step::Frame {
                        speech: false,
                        first_of_speech: false,
                    };
                }
                Some(Segment::Stop) => return Step::Stop,
                Some(Segment::Digit(key)) => return Step::Digit(key),
                Some(Segment::Speech { ms }) => (true, ms),
                Some(Segment::Silence { ms }) => (false, ms),
            };
            self.speech = speech;
            self.frames_left = ms.div_ceil(FRAME_MS as u32);
            self.segment_started = true;
        }
        self.frames_left -= 1;
        let first = std::mem::take(&mut self.segment_started);
        Step::Frame {
            speech: self.speech,
            first_of_speech: first && self.speech,
        }
    }
}

/// The two payloads a caller sends, raw and (when not stamping) pre-encoded.
struct Payloads {
    speech: Vec<u8>,
    silence: Vec<u8>,
    speech_b64: String,
    silence_b64: String,
}

impl Payloads {
    fn new(amplitude: i16) -> Self {
        let speech = mulaw::tone(FRAME_MS as u32, amplitude, SPEECH_HZ);
        let silence = vec![mulaw::SILENCE; FRAME_BYTES];
        Payloads {
            speech_b64: BASE64.encode(&speech),
            silence_b64: BASE64.encode(&silence),
            speech,
            silence,
        }
    }

    /// The base64 payload of a frame; stamped frames carry a send-time stamp (see
    /// [`crate::stamp`]), quiet bytes, so the frame stays valid audio of the same loudness.
    fn encode(&self, speech: bool, stamp: bool) -> Cow<'_, str> {
        let (raw, encoded) = if speech {
            (&self.speech, &self.speech_b64)
        } else {
            (&self.silence, &self.silence_b64)
        };
        match stamp {
            false => Cow::Borrowed(encoded.as_str()),
            true => {
                let mut frame = raw.clone();
                crate::stamp::write(&mut frame);
                Cow::Owned(BASE64.encode(&frame))
            }
        }
    }
}

struct Writer {
    sink: SplitSink<Socket, Message>,
    shared: Arc<Shared>,
    /// The last `sequenceNumber` used: one counter for every message after `connected`.
    sequence: u64,
    /// `streamSid` as a JSON string literal, escaped once for the hot media path.
    stream_sid_json: String,
    stream_sid: String,
    account_sid: String,
    call_sid: String,
    stamp_frames: bool,
    payloads: Payloads,
}

impl Writer {
    fn new(
        sink: SplitSink<Socket, Message>,
        shared: Arc<Shared>,
        options: &ConnectOptions,
        amplitude: i16,
    ) -> Self {
        Writer {
            sink,
            shared,
            sequence: 0,
            stream_sid_json: serde_json::Value::from(options.stream_sid.as_str()).to_string(),
            stream_sid: options.stream_sid.clone(),
            account_sid: options.account_sid.clone(),
            call_sid: options.call_sid.clone(),
            stamp_frames: options.stamp_frames,
            payloads: Payloads::new(amplitude),
        }
    }

    fn next_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    /// False once the socket is gone.
    async fn send(&mut self, text: String) -> bool {
        self.sink.send(Message::text(text)).await.is_ok()
    }

    async fn run(
        mut self,
        custom_parameters: Vec<(String, String)>,
        segments: Vec<Segment>,
        mut commands: mpsc::UnboundedReceiver<Command>,
    ) {
        if self.greet(custom_parameters).await {
            self.stream(Plan::new(segments), &mut commands).await;
        }
        self.shared.end();
    }

    /// `connected`, then `start`.
    async fn greet(&mut self, custom_parameters: Vec<(String, String)>) -> bool {
        let connected = json!({"event": "connected", "protocol": "Call", "version": "1.0.0"});
        if !self.send(connected.to_string()).await {
            return false;
        }
        let parameters: serde_json::Map<String, serde_json::Value> = custom_parameters
            .into_iter()
            .map(|(name, value)| (name, value.into()))
            .collect();
        let start = json!({
            "event": "start",
            "sequenceNumber": self.next_sequence().to_string(),
            "streamSid": self.stream_sid,
            "start": {
                "accountSid": self.account_sid,
                "streamSid": self.stream_sid,
                "callSid": self.call_sid,
                "tracks": ["inbound"],
                "customParameters": parameters,
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            },
        });
        self.send(start.to_string()).await
    }

    /// Media on a fixed schedule, echoes and stop as asked, until stop or the socket ends.
    async fn stream(&mut self, mut plan: Plan, commands: &mut mpsc::UnboundedReceiver<Command>) {
        let mut ended = self.shared.ended.subscribe();
        let t0 = Instant::now();
        let mut chunk: u64 = 0;
        loop {
            // Frame n is due at t0 + n × 20 ms: a late wake-up sends at once and the next
            // frame keeps its slot, so the average rate stays exactly 50/s.
            let due = t0 + Duration::from_millis(FRAME_MS * chunk);
            tokio::select! {
                biased;
                _ = until_ended(&mut ended) => return,
                command = commands.recv() => match command {
                    Some(Command::Mark(name)) => {
                        if !self.send_mark(&name).await {
                            return;
                        }
                    }
                    Some(Command::Stop) | None => return self.send_stop().await,
                },
                _ = tokio::time::sleep_until(due.into()) => {
                    chunk += 1;
                    let sent = match plan.step() {
                        Step::Stop => return self.send_stop().await,
                        Step::Digit(key) => self.send_dtmf(key).await,
                        Step::Frame { speech, first_of_speech } => {
                            self.send_media(chunk, speech, first_of_speech).await
                        }
                    };
                    if !sent {
                        return;
                    }
                }
            }
        }
    }

    async fn send_media(&mut self, chunk: u64, speech: bool, first_of_speech: bool) -> bool {
        let sequence = self.next_sequence();
        let payload = self.payloads.encode(speech, self.stamp_frames);
        // By hand rather than json!: this is the hot path of the benchmark, and every field is
        // either a number or already-escaped JSON.
        let text = format!(
            r#"{{"event":"media","sequenceNumber":"{sequence}","streamSid":{sid},"media":{{"track":"inbound","chunk":"{chunk}","timestamp":"{timestamp}","payload":"{payload}"}}}}"#,
            sid = self.stream_sid_json,
            timestamp = (chunk - 1) * FRAME_MS,
        );
        let now = Instant::now();
        {
            let mut state = self.shared.lock();
            state.report.frames_sent += 1;
            if first_of_speech {
                push_capped(&mut state.report.speech_started_at, now, LOG_CAP);
            }
        }
        self.send(text).await
    }

    async fn send_dtmf(&mut self, key: char) -> bool {
        let dtmf = json!({
            "event": "dtmf",
            "streamSid": self.stream_sid,
            "sequenceNumber": self.next_sequence().to_string(),
            "dtmf": {"track": "inbound_track", "digit": key.to_string()},
        });
        self.send(dtmf.to_string()).await
    }

    async fn send_mark(&mut self, name: &str) -> bool {
        let mark = json!({
            "event": "mark",
            "sequenceNumber": self.next_sequence().to_string(),
            "streamSid": self.stream_sid,
            "mark": {"name": name},
        });
        self.send(mark.to_string()).await
    }

    /// The caller hangs up: `stop`, then our close frame. The read task sees the server's
    /// close reply and finishes the handshake.
    async fn send_stop(&mut self) {
        self.shared.we_closed.store(true, Ordering::SeqCst);
        let stop = json!({
            "event": "stop",
            "sequenceNumber": self.next_sequence().to_string(),
            "streamSid": self.stream_sid,
            "stop": {"accountSid": self.account_sid, "callSid": self.call_sid},
        });
        if self.send(stop.to_string()).await {
            let close = CloseFrame {
                code: CloseCode::Normal,
                reason: "call ended".into(),
            };
            let _ = self.sink.send(Message::Close(Some(close))).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use tokio::net::TcpListener;
    use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

    type ServerSocket = WebSocketStream<TcpStream>;

    const TOKEN: &str = "test-auth-token";

    /// What the in-test server saw on the upgrade.
    struct Accepted {
        socket: ServerSocket,
        signature: Option<String>,
    }

    /// A one-connection WebSocket server; `refuse` answers the upgrade with that status.
    async fn serve_once(refuse: Option<u16>) -> (String, tokio::sync::oneshot::Receiver<Accepted>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/twilio", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let seen = Arc::new(Mutex::new(None));
            let seen_in_callback = seen.clone();
            // tungstenite's callback signature: its error is a whole HTTP response.
            #[allow(clippy::result_large_err)]
            let callback = move |request: &Request, response: Response| {
                *seen_in_callback.lock().unwrap() = request
                    .headers()
                    .get("x-twilio-signature")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                match refuse {
                    Some(status) => {
                        let mut refusal = ErrorResponse::new(None);
                        *refusal.status_mut() = status.try_into().unwrap();
                        Err(refusal)
                    }
                    None => Ok(response),
                }
            };
            if let Ok(socket) = tokio_tungstenite::accept_hdr_async(tcp, callback).await {
                let signature = seen.lock().unwrap().take();
                let _ = tx.send(Accepted { socket, signature });
            }
        });
        (url, rx)
    }

    fn options(url: &str) -> ConnectOptions {
        ConnectOptions {
            auth_token: Some(TOKEN.into()),
            custom_parameters: vec![
                ("token".into(), "one-time-token".into()),
                ("call_id".into(), "call-1".into()),
            ],
            account_sid: "AC00000000000000000000000000000001".into(),
            call_sid: "CA00000000000000000000000000000001".into(),
            stream_sid: "MZ00000000000000000000000000000001".into(),
            ..ConnectOptions::new(url)
        }
    }

    async fn next_json(socket: &mut ServerSocket) -> Value {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(3), socket.next())
                .await
                .expect("a message within 3 s")
                .expect("socket open")
                .expect("valid frame");
            if let Message::Text(text) = message {
                return serde_json::from_str(text.as_str()).expect("client sends JSON");
            }
        }
    }

    fn as_u64(value: &Value) -> u64 {
        value
            .as_str()
            .unwrap_or_else(|| panic!("{value} should be a string"))
            .parse()
            .unwrap()
    }

    fn server_media(stream_sid: &str, frame: &[u8]) -> Message {
        Message::text(
            json!({"event": "media", "streamSid": stream_sid, "media": {"payload": BASE64.encode(frame)}})
                .to_string(),
        )
    }

    fn server_mark(stream_sid: &str, name: &str) -> Message {
        Message::text(
            json!({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}}).to_string(),
        )
    }

    async fn send_audio(sink: &mut SplitSink<ServerSocket, Message>, sid: &str, frames: usize) {
        let tone = mulaw::tone(20, 6000, 300.0);
        for _ in 0..frames {
            sink.send(server_media(sid, &tone)).await.unwrap();
        }
    }

    #[test]
    fn handles_can_be_shared_across_tasks() {
        // The benchmark moves calls into spawned tasks and reports out of them.
        fn is_send_sync<T: Send + Sync>() {}
        is_send_sync::<MediaCall>();
        is_send_sync::<CallReport>();
    }

    #[test]
    fn item_names_and_urls() {
        assert_eq!(item_of("item_abc:1240"), "item_abc");
        assert_eq!(item_of("a:b:20"), "a:b");
        assert_eq!(item_of("plain"), "plain");
        assert_eq!(
            tcp_target("ws://127.0.0.1:8080/twilio").unwrap(),
            "127.0.0.1:8080"
        );
        assert_eq!(
            tcp_target("ws://bridge.test/twilio").unwrap(),
            "bridge.test:80"
        );
        assert_eq!(tcp_target("ws://[::1]:9/x").unwrap(), "[::1]:9");
        assert!(tcp_target("wss://bridge.test/twilio").is_err());
        assert!(tcp_target("ws:///twilio").is_err());
    }

    #[test]
    fn script_walks_segments_then_silence() {
        let mut plan = Plan::new(vec![
            Segment::Speech { ms: 40 },
            Segment::Silence { ms: 30 },
            Segment::Speech { ms: 20 },
        ]);
        let mut seen = Vec::new();
        for _ in 0..7 {
            match plan.step() {
                Step::Frame {
                    speech,
                    first_of_speech,
                } => seen.push((speech, first_of_speech)),
                Step::Stop | Step::Digit(_) => panic!("only frames in this script"),
            }
        }
        let expected = [
            (true, true),
            (true, false),
            (false, false),
            (false, false),
            (true, true),
            (false, false),
            (false, false),
        ];
        assert_eq!(seen, expected);
        assert!(matches!(Plan::new(vec![Segment::Stop]).step(), Step::Stop));
    }

    #[tokio::test]
    async fn sends_twilio_shaped_messages_at_real_pace() {
        let (url, accepted) = serve_once(None).await;
        let script = CallScript::new(vec![
            Segment::Speech { ms: 200 },
            Segment::Silence { ms: 100 },
        ]);
        let call = MediaCall::connect(options(&url), script)
            .await
            .expect("connects");
        let Accepted {
            mut socket,
            signature,
        } = accepted.await.unwrap();
        let signature = signature.expect("upgrade is signed");
        assert!(shared::twilio::signature::verify(
            TOKEN,
            &url,
            &[],
            &signature
        ));

        assert_eq!(
            next_json(&mut socket).await,
            json!({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        );
        let start = next_json(&mut socket).await;
        let sid = "MZ00000000000000000000000000000001";
        assert_eq!(
            start,
            json!({
                "event": "start", "sequenceNumber": "1", "streamSid": sid,
                "start": {
                    "accountSid": "AC00000000000000000000000000000001",
                    "streamSid": sid,
                    "callSid": "CA00000000000000000000000000000001",
                    "tracks": ["inbound"],
                    "customParameters": {"token": "one-time-token", "call_id": "call-1"},
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                },
            })
        );

        // One second of media from the first frame on.
        let first = next_json(&mut socket).await;
        let began = Instant::now();
        let mut frames = vec![first];
        while began.elapsed() < Duration::from_millis(990) {
            frames.push(next_json(&mut socket).await);
        }
        assert!(
            (45..=56).contains(&frames.len()),
            "{} frames in 1 s",
            frames.len()
        );
        for (k, frame) in frames.iter().enumerate() {
            let k = k as u64;
            assert_eq!(frame["event"], "media");
            assert_eq!(frame["streamSid"], sid);
            assert_eq!(as_u64(&frame["sequenceNumber"]), k + 2);
            assert_eq!(frame["media"]["track"], "inbound");
            assert_eq!(as_u64(&frame["media"]["chunk"]), k + 1);
            assert_eq!(as_u64(&frame["media"]["timestamp"]), k * 20);
            let payload = BASE64
                .decode(frame["media"]["payload"].as_str().unwrap())
                .unwrap();
            assert_eq!(payload.len(), 160);
            if k < 10 {
                assert!(mulaw::mean_abs(&payload) > 4000, "frame {k} is speech");
            } else {
                assert!(
                    payload.iter().all(|&b| b == mulaw::SILENCE),
                    "frame {k} is silence"
                );
            }
        }
        let report = call.report();
        assert_eq!(report.speech_started_at.len(), 1);
        assert!(report.frames_sent >= frames.len());

        call.stop().await;
        let stop = loop {
            let message = next_json(&mut socket).await;
            if message["event"] != "media" {
                break message;
            }
        };
        assert_eq!(stop["streamSid"], sid);
        assert!(as_u64(&stop["sequenceNumber"]) > frames.len() as u64 + 1);
        assert_eq!(
            stop["stop"],
            json!({"accountSid": "AC00000000000000000000000000000001", "callSid": "CA00000000000000000000000000000001"})
        );
        assert!(call.wait_closed(Duration::from_secs(1)).await);
        assert!(!call.report().closed_by_server);
    }

    #[tokio::test]
    async fn plays_out_marks_and_clears_like_twilio() {
        let (url, accepted) = serve_once(None).await;
        let call = MediaCall::connect(options(&url), CallScript::default())
            .await
            .unwrap();
        let (mut sink, mut stream) = accepted.await.unwrap().socket.split();
        let sid = "MZ00000000000000000000000000000001";

        // Collect the echoed marks with their arrival time; skip the caller's media.
        let (echo_tx, mut echoes) = mpsc::unbounded_channel::<(String, Instant)>();
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                if let Message::Text(text) = message {
                    let value: Value = serde_json::from_str(text.as_str()).unwrap();
                    if value["event"] == "mark" {
                        assert_eq!(value["streamSid"], sid);
                        as_u64(&value["sequenceNumber"]);
                        let name = value["mark"]["name"].as_str().unwrap().to_string();
                        let _ = echo_tx.send((name, Instant::now()));
                    }
                }
            }
        });
        let mut next_echo = async || {
            tokio::time::timeout(Duration::from_secs(3), echoes.recv())
                .await
                .expect("an echo within 3 s")
                .unwrap()
        };

        // 200 ms of audio, a mark, 200 ms more, a mark: echoed as playout reaches each.
        let sent = Instant::now();
        send_audio(&mut sink, sid, 10).await;
        sink.send(server_mark(sid, "a:200")).await.unwrap();
        send_audio(&mut sink, sid, 10).await;
        sink.send(server_mark(sid, "a:400")).await.unwrap();
        let (name, at) = next_echo().await;
        assert_eq!(name, "a:200");
        let ms = at.duration_since(sent).as_millis();
        assert!((170..=300).contains(&ms), "a:200 echoed after {ms} ms");
        let (name, at) = next_echo().await;
        assert_eq!(name, "a:400");
        let ms = at.duration_since(sent).as_millis();
        assert!((370..=520).contains(&ms), "a:400 echoed after {ms} ms");
        assert_eq!(call.report().heard_ms.get("a"), Some(&400));

        // 1 s of item b; the caller barges in after ~200 ms: clear returns both marks at once.
        let sent = Instant::now();
        send_audio(&mut sink, sid, 25).await;
        sink.send(server_mark(sid, "b:500")).await.unwrap();
        send_audio(&mut sink, sid, 25).await;
        sink.send(server_mark(sid, "b:1000")).await.unwrap();
        tokio::time::sleep_until((sent + Duration::from_millis(200)).into()).await;
        let cleared = Instant::now();
        sink.send(Message::text(
            json!({"event": "clear", "streamSid": sid}).to_string(),
        ))
        .await
        .unwrap();
        for expected in ["b:500", "b:1000"] {
            let (name, at) = next_echo().await;
            assert_eq!(name, expected);
            let ms = at.duration_since(cleared).as_millis();
            assert!(ms < 100, "{name} echoed {ms} ms after the clear");
        }
        let report = call.report();
        assert_eq!(report.clears.len(), 1);
        let heard = report.clears[0]
            .heard_ms_by_item
            .get("b")
            .copied()
            .unwrap_or(0);
        assert!((160..=280).contains(&heard), "heard {heard} ms of b");
        assert_eq!(report.heard_ms.get("b"), Some(&heard));
        assert!(report.audio_after_clear.is_empty());

        // Late audio for the interrupted item is caught; a new item is not.
        tokio::time::sleep(Duration::from_millis(150)).await;
        send_audio(&mut sink, sid, 5).await;
        sink.send(server_mark(sid, "b:1100")).await.unwrap();
        assert_eq!(next_echo().await.0, "b:1100");
        send_audio(&mut sink, sid, 5).await;
        sink.send(server_mark(sid, "c:100")).await.unwrap();
        assert_eq!(next_echo().await.0, "c:100");
        let report = call.report();
        assert_eq!(report.audio_after_clear, vec![("b".to_string(), 800)]);
        assert_eq!(report.heard_ms.get("c"), Some(&100));

        // Messages Twilio would reject are recorded, not fatal.
        for bad in [
            json!({"event": "dtmf", "streamSid": sid}).to_string(),
            json!({"event": "clear", "streamSid": "MZ-someone-else"}).to_string(),
            "not json".to_string(),
        ] {
            sink.send(Message::text(bad)).await.unwrap();
        }
        sink.send(server_media(sid, &[0xFF; 100])).await.unwrap();

        // The server hangs up.
        sink.send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        })))
        .await
        .unwrap();
        assert!(call.wait_closed(Duration::from_secs(2)).await);
        let report = call.report();
        assert!(report.closed_by_server);
        assert_eq!(report.close_code, Some(1000));
        assert_eq!(report.bad_frames.len(), 4, "{:#?}", report.bad_frames);
        assert_eq!(report.media_received, 81);
        assert_eq!(report.bytes_received, 80 * 160 + 100);
        assert_eq!(report.marks_received.len(), 6);
        assert_eq!(report.marks_echoed.len(), 6);
        assert!(report.first_media_at.is_some());
    }

    #[tokio::test]
    async fn refused_upgrade_reports_the_status() {
        let (url, _accepted) = serve_once(Some(403)).await;
        match MediaCall::connect(options(&url), CallScript::default()).await {
            Err(ConnectError::Refused(403)) => {}
            Err(other) => panic!("expected Refused(403), got {other}"),
            Ok(_) => panic!("expected Refused(403), got a connection"),
        }
    }

    #[tokio::test]
    async fn stamped_frames_round_trip_through_the_hook() {
        let (url, accepted) = serve_once(None).await;
        let mut stamped = options(&url);
        stamped.stamp_frames = true;
        let script = CallScript::new(vec![Segment::Speech { ms: 1000 }]);
        let call = MediaCall::connect(stamped, script).await.unwrap();
        let (seen_tx, mut seen) = mpsc::unbounded_channel::<(Instant, Instant)>();
        call.on_media(Arc::new(move |payload: &[u8]| {
            let sent = crate::stamp::read(payload).expect("stamped");
            let _ = seen_tx.send((sent, Instant::now()));
        }));
        let mut socket = accepted.await.unwrap().socket;
        next_json(&mut socket).await; // connected
        next_json(&mut socket).await; // start
        // An echo server: send each caller frame straight back.
        for _ in 1..=5u64 {
            let media = next_json(&mut socket).await;
            let payload = BASE64
                .decode(media["media"]["payload"].as_str().unwrap())
                .unwrap();
            assert_eq!(payload.len(), 160);
            assert!(crate::stamp::read(&payload).is_some());
            // The rest of the frame is still the speech tone.
            assert!(mulaw::mean_abs(&payload[crate::stamp::LEN..]) > 4000);
            socket
                .send(server_media("MZ00000000000000000000000000000001", &payload))
                .await
                .unwrap();
            let (sent, arrived) = seen.recv().await.unwrap();
            assert!(arrived >= sent && arrived - sent < Duration::from_millis(500));
        }
        assert!(call.report().bad_frames.is_empty());
        call.stop().await;
    }
}
