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
) -> oneshot::Receiver<Result<OpenAi, String>> {
    let (tx, rx) = oneshot::channel();
    let future = open_session(
        bridge.clone(),
        config.instructions.clone(),
        config.voice.clone(),
        config.tools.clone(),
        history,
    );
    tokio::spawn(async move {
        let _ = tx.send(future.await);
    });
    rx
}

/// Opens a Realtime session configured for this call and waits until it is ready; `history`
/// seeds it with the conversation so far (rotation and reconnects).
async fn open_session(
    bridge: Bridge,
    instructions: Arc<str>,
    voice: String,
    tools: Arc<str>,
    history: Vec<(Role, String)>,
) -> Result<OpenAi, String> {
    let tools: Value = serde_json::from_str(&tools).map_err(|e| e.to_string())?;
    let openai = &bridge.app.config.openai;
    let url = format!("{}?model={}", openai.realtime_url, openai.model);
    let mut socket = connect(&bridge, url).await?;
    let setup = async {
        wait_for(&mut socket, |e| matches!(e, ServerEvent::SessionCreated)).await?;
        let update =
            realtime::session_update(&instructions, &voice, &openai.transcription_model, tools);
        socket
            .feed(OpenAiMessage::text(update))
            .await
            .map_err(|e| e.to_string())?;
        for (role, text) in &history {
            socket
                .feed(OpenAiMessage::text(realtime::history_item(*role, text)))
                .await
                .map_err(|e| e.to_string())?;
        }
        socket.flush().await.map_err(|e| e.to_string())?;
        wait_for(&mut socket, |e| matches!(e, ServerEvent::SessionUpdated)).await
    };
    tokio::time::timeout(bridge.settings.openai_connect_timeout, setup)
        .await
        .map_err(|_| "OpenAI session set-up timed out".to_string())??;
    Ok(OpenAi::new(socket))
}

/// Connects to Realtime at `url` with the platform's key (a new session with `?model=`, or the
/// sideband of a browser call with `?call_id=`), within the connect timeout.
pub(super) async fn connect(bridge: &Bridge, url: String) -> Result<OpenAiSocket, String> {
    let key = bridge
        .app
        .config
        .openai
        .api_key
        .clone()
        .ok_or("OPENAI_API_KEY is not configured")?;
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {key}")
            .parse()
            .map_err(|_| "bad API key header")?,
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
        .map_err(|_| "OpenAI connect timed out")?
        .map_err(|e| format!("OpenAI connect failed: {e}"))?;
    Ok(socket)
}

/// Reads events until `wanted` matches; an `error` event or a closed socket fails the set-up.
async fn wait_for(
    rx: &mut OpenAiSocket,
    wanted: impl Fn(&ServerEvent) -> bool,
) -> Result<(), String> {
    while let Some(message) = rx.next().await {
        let message = message.map_err(|e| e.to_string())?;
        if let OpenAiMessage::Text(text) = message {
            let event = realtime::parse(&text);
            if let ServerEvent::Error { error } = &event {
                return Err(format!(
                    "OpenAI error: {}",
                    error.code.as_deref().unwrap_or("unknown")
                ));
            }
            if wanted(&event) {
                return Ok(());
            }
        }
    }
    Err("OpenAI closed the session".into())
}
