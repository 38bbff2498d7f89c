//! One OpenAI Realtime session of a call. A call may have several (rotation before OpenAI's
//! 60-minute cap, reconnects after a lost socket); each is opened off the relay loop and
//! configured the same way, then seeded with the conversation so far.
//!
//! The relay loop writes to the session without ever waiting for OpenAI: events go to a queue
//! that the loop writes out as far as the socket takes them, right after each event it handles
//! and again whenever the socket becomes writable (see [`OpenAi::poll_next_event`]). One task
//! per call does all of it, so a caller frame costs no hand-over to another task.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message as OpenAiMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::realtime::{self, Role, ServerEvent};
use crate::server::Bridge;

pub(super) type OpenAiSocket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Events queued for OpenAI (about five seconds of caller audio) before new ones are dropped.
const OPENAI_QUEUE: usize = 256;

/// Tries at opening a session before the call gives up on OpenAI. A refusal now and then (a
/// 429 or a 5xx, a dropped connection, a set-up that timed out) should not cost a caller the
/// call; the caller's audio is kept meanwhile.
const OPEN_ATTEMPTS: u32 = 3;

/// The pause before the second try; doubled before each one after.
const FIRST_RETRY_AFTER: std::time::Duration = std::time::Duration::from_millis(250);

/// Why no session could be opened: the call record keeps `detail` (it never holds the key).
#[derive(Debug)]
pub(super) struct Unavailable {
    pub(super) detail: String,
    /// Whether another try may succeed. A refusal that would repeat (a wrong key, a bad
    /// request) or a fatal error event is not worth waiting for.
    transient: bool,
    /// The HTTP status OpenAI refused the connection with, if it did.
    pub(super) refused_with: Option<u16>,
}

impl Unavailable {
    fn transient(detail: impl Into<String>) -> Self {
        Unavailable {
            detail: detail.into(),
            transient: true,
            refused_with: None,
        }
    }

    fn permanent(detail: impl Into<String>) -> Self {
        Unavailable {
            detail: detail.into(),
            transient: false,
            refused_with: None,
        }
    }

    /// The task opening the session ended without an answer (it panicked).
    pub(super) fn lost_task() -> Self {
        Unavailable::permanent("the task opening the OpenAI session failed")
    }

    /// A failed WebSocket connect: refusals with 408, 429 and 5xx and lost connections are
    /// worth another try; other refusals, bad URLs and TLS failures are not.
    fn from_connect(e: tokio_tungstenite::tungstenite::Error) -> Self {
        use tokio_tungstenite::tungstenite::Error as WsError;
        match e {
            WsError::Http(response) => {
                let status = response.status();
                let detail = format!(
                    "OpenAI refused the connection with HTTP {}",
                    status.as_u16()
                );
                let passing = matches!(status.as_u16(), 408 | 429) || status.is_server_error();
                let mut refusal = if passing {
                    Unavailable::transient(detail)
                } else {
                    Unavailable::permanent(detail)
                };
                refusal.refused_with = Some(status.as_u16());
                refusal
            }
            WsError::Io(e) => Unavailable::transient(format!("OpenAI connect failed: {e}")),
            WsError::ConnectionClosed | WsError::AlreadyClosed | WsError::Protocol(_) => {
                Unavailable::transient(format!("OpenAI connect failed: {e}"))
            }
            e => Unavailable::permanent(format!("OpenAI connect failed: {e}")),
        }
    }
}

/// An open Realtime session: its socket and the events waiting to be written. One socket,
/// read and written by the one task of the call: no split halves to lock on every poll.
pub(super) struct OpenAi {
    /// `None` only while being dropped. Boxed: the socket is large (a TLS session), and an
    /// `OpenAi` is moved from the session task to the loop and held in the loop's state.
    socket: Option<Box<OpenAiSocket>>,
    queue: VecDeque<OpenAiMessage>,
    /// Events handed to the socket but not yet flushed.
    unflushed: bool,
    /// Writing failed: the reading side then reports the lost socket, and nothing more is
    /// written.
    write_failed: bool,
}

impl OpenAi {
    pub(super) fn new(socket: OpenAiSocket) -> Self {
        OpenAi {
            socket: Some(Box::new(socket)),
            queue: VecDeque::new(),
            unflushed: false,
            write_failed: false,
        }
    }

    /// Queues an event for OpenAI; `false` (and nothing queued) when the queue is full because
    /// OpenAI is not keeping up.
    pub(super) fn send(&mut self, text: String) -> bool {
        if self.queue.len() >= OPENAI_QUEUE {
            return false;
        }
        self.queue.push_back(OpenAiMessage::text(text));
        true
    }

    /// Writes what is queued as far as the socket takes it now, without waiting.
    pub(super) async fn write_now(&mut self) {
        std::future::poll_fn(|cx| {
            let _ = self.poll_write(cx);
            Poll::Ready(())
        })
        .await
    }

    /// The next event from OpenAI. Polling it also writes what is queued whenever the socket
    /// can take more, so a queue left behind by a full socket drains as soon as it can.
    pub(super) fn poll_next_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<OpenAiMessage, tokio_tungstenite::tungstenite::Error>>> {
        let _ = self.poll_write(cx);
        match self.socket.as_mut() {
            Some(socket) => socket.poll_next_unpin(cx),
            None => Poll::Ready(None),
        }
    }

    /// Writes and flushes the queue; `Pending` while the socket cannot take it all.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let socket = match self.socket.as_mut() {
            Some(socket) if !self.write_failed => socket,
            _ => {
                self.queue.clear();
                return Poll::Ready(());
            }
        };
        let mut failed = false;
        while !self.queue.is_empty() && !failed {
            match socket.poll_ready_unpin(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) => {
                    failed = true;
                    break;
                }
                Poll::Pending => return Poll::Pending,
            }
            if let Some(event) = self.queue.pop_front() {
                failed = socket.start_send_unpin(event).is_err();
                self.unflushed = true;
            }
        }
        if self.unflushed && !failed {
            match socket.poll_flush_unpin(cx) {
                Poll::Ready(Ok(())) => self.unflushed = false,
                Poll::Ready(Err(_)) => failed = true,
                Poll::Pending => return Poll::Pending,
            }
        }
        if failed {
            // The reading side sees the broken socket and the loop reconnects.
            self.write_failed = true;
            self.queue.clear();
            self.unflushed = false;
        }
        Poll::Ready(())
    }
}

impl Drop for OpenAi {
    /// Closes the socket politely, off the loop (the call has moved on).
    fn drop(&mut self) {
        if let Some(mut socket) = self.socket.take()
            && !self.write_failed
        {
            tokio::spawn(async move {
                let _ = socket.as_mut().close(None).await;
            });
        }
    }
}

/// What every session of one call is configured with, fixed at admission.
/// The texts are shared with the other calls configured alike ([`crate::intern`]).
#[derive(Clone)]
pub(super) struct SessionConfig {
    pub(super) instructions: Arc<str>,
    pub(super) voice: String,
    /// The `tools` of `session.update` (the call's own registry's definitions) as JSON text:
    /// a few hundred bytes kept for the call, where the parsed tree would take kilobytes.
    pub(super) tools: Arc<str>,
}

/// Opens a session in a task; the loop picks the result up as one of its events.
pub(super) fn spawn(
    bridge: &Bridge,
    config: &SessionConfig,
    history: Vec<(Role, String)>,
) -> oneshot::Receiver<Result<OpenAi, Unavailable>> {
    let (tx, rx) = oneshot::channel();
    let (bridge, config) = (bridge.clone(), config.clone());
    tokio::spawn(async move {
        let _ = tx.send(open_session(&bridge, &config, &history).await);
    });
    rx
}

/// Opens a Realtime session for the call, trying again after a transient failure;
/// `history` seeds it with the conversation so far (rotation and reconnects).
async fn open_session(
    bridge: &Bridge,
    config: &SessionConfig,
    history: &[(Role, String)],
) -> Result<OpenAi, Unavailable> {
    retrying(|| try_open_session(bridge, config, history)).await
}

/// Runs `open` until it succeeds, fails for good, or has failed [`OPEN_ATTEMPTS`] times; the
/// last failure's detail then says how many tries were made.
pub(super) async fn retrying<T, F, Fut>(mut open: F) -> Result<T, Unavailable>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Unavailable>>,
{
    let mut pause = FIRST_RETRY_AFTER;
    for attempt in 1.. {
        match open().await {
            Ok(opened) => return Ok(opened),
            Err(e) if e.transient && attempt < OPEN_ATTEMPTS => {
                tracing::warn!(attempt, error = %e.detail, "no OpenAI connection yet; trying again");
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            Err(mut e) => {
                if attempt > 1 {
                    e.detail = format!("{} ({attempt} attempts)", e.detail);
                }
                return Err(e);
            }
        }
    }
    unreachable!("the attempts end with a connection or an error")
}

/// One try at opening a session configured for the call and waiting until it is ready.
async fn try_open_session(
    bridge: &Bridge,
    config: &SessionConfig,
    history: &[(Role, String)],
) -> Result<OpenAi, Unavailable> {
    let tools: Value = serde_json::from_str(&config.tools)
        .map_err(|e| Unavailable::permanent(format!("the call's tools: {e}")))?;
    let openai = &bridge.app.config.openai;
    let url = format!("{}?model={}", openai.realtime_url, openai.model);
    let mut socket = connect(bridge, url).await?;
    let lost = |e: tokio_tungstenite::tungstenite::Error| {
        Unavailable::transient(format!("OpenAI session set-up failed: {e}"))
    };
    let setup = async {
        wait_for(&mut socket, |e| matches!(e, ServerEvent::SessionCreated)).await?;
        let update = realtime::session_update(
            &config.instructions,
            &config.voice,
            &openai.transcription_model,
            tools,
        );
        socket
            .feed(OpenAiMessage::text(update))
            .await
            .map_err(lost)?;
        for (role, text) in history {
            socket
                .feed(OpenAiMessage::text(realtime::history_item(*role, text)))
                .await
                .map_err(lost)?;
        }
        socket.flush().await.map_err(lost)?;
        wait_for(&mut socket, |e| matches!(e, ServerEvent::SessionUpdated)).await
    };
    tokio::time::timeout(bridge.settings.openai_connect_timeout, setup)
        .await
        .map_err(|_| Unavailable::transient("OpenAI session set-up timed out"))??;
    Ok(OpenAi::new(socket))
}

/// The sideband of the browser call OpenAI knows as `rtc_call_id`.
pub(super) fn sideband_url(bridge: &Bridge, rtc_call_id: &str) -> String {
    format!(
        "{}?call_id={rtc_call_id}",
        bridge.app.config.openai.realtime_url
    )
}

/// Connects to Realtime at `url` with the platform's key (a new session with `?model=`, or the
/// sideband of a browser call with `?call_id=`), within the connect timeout.
pub(super) async fn connect(bridge: &Bridge, url: String) -> Result<OpenAiSocket, Unavailable> {
    let key = bridge
        .app
        .config
        .openai
        .api_key
        .clone()
        .ok_or_else(|| Unavailable::permanent("OPENAI_API_KEY is not configured"))?;
    let mut request = url
        .into_client_request()
        .map_err(|e| Unavailable::permanent(format!("the Realtime URL: {e}")))?;
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {key}")
            .parse()
            .map_err(|_| Unavailable::permanent("the API key is not a valid header value"))?,
    );
    // tungstenite zero-fills the free part of its read buffer before every read, so a small
    // buffer is cheaper per message as well as per call (a larger frame grows it).
    let config = WebSocketConfig::default()
        .read_buffer_size(2 * 1024)
        .write_buffer_size(2 * 1024);
    let connect = tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(config),
        true,
        Some(Connector::Rustls(bridge.openai_tls.clone())),
    );
    let (socket, _) = tokio::time::timeout(bridge.settings.openai_connect_timeout, connect)
        .await
        .map_err(|_| Unavailable::transient("OpenAI connect timed out"))?
        .map_err(Unavailable::from_connect)?;
    Ok(socket)
}

/// Reads events until `wanted` matches; an `error` event or a closed socket fails the set-up.
async fn wait_for(
    rx: &mut OpenAiSocket,
    wanted: impl Fn(&ServerEvent) -> bool,
) -> Result<(), Unavailable> {
    while let Some(message) = rx.next().await {
        let message = message
            .map_err(|e| Unavailable::transient(format!("OpenAI session set-up failed: {e}")))?;
        if let OpenAiMessage::Text(text) = message {
            let event = realtime::parse(&text);
            if let ServerEvent::Error { error } = &event {
                return Err(Unavailable {
                    detail: error.describe(),
                    transient: !error.is_fatal(),
                    refused_with: None,
                });
            }
            if wanted(&event) {
                return Ok(());
            }
        }
    }
    Err(Unavailable::transient(
        "OpenAI closed the session during set-up",
    ))
}
