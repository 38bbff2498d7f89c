//! One OpenAI Realtime session of a call. A call may have several (rotation before OpenAI's
//! 60-minute cap, reconnects after a lost socket); each is opened off the relay loop and
//! configured the same way, then seeded with the conversation so far.
//!
//! Writes go through a queue to a writer task, so the loop never awaits OpenAI; the writer
//! feeds everything queued and flushes once per batch, which keeps syscalls per frame low.

use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message as OpenAiMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::realtime::{self, Role, ServerEvent};
use crate::server::Bridge;

type OpenAiSocket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Caller frames queued for the OpenAI writer before new ones are dropped.
const OPENAI_QUEUE: usize = 256;

/// An open Realtime session: its writer (through the queue) and its event stream.
pub(super) struct OpenAi {
    pub(super) tx: mpsc::Sender<OpenAiMessage>,
    pub(super) rx: SplitStream<OpenAiSocket>,
}

/// What every session of one call is configured with, fixed at admission.
pub(super) struct SessionConfig {
    pub(super) instructions: String,
    pub(super) voice: String,
    /// The `tools` of `session.update`: the call's own registry's definitions.
    pub(super) tools: Value,
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
    instructions: String,
    voice: String,
    tools: Value,
    history: Vec<(Role, String)>,
) -> Result<OpenAi, String> {
    let openai = &bridge.app.config.openai;
    let key = openai
        .api_key
        .clone()
        .ok_or("OPENAI_API_KEY is not configured")?;
    let url = format!("{}?model={}", openai.realtime_url, openai.model);
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {key}")
            .parse()
            .map_err(|_| "bad API key header")?,
    );
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(2 * 1024);
    let connect = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    let (socket, _) = tokio::time::timeout(bridge.settings.openai_connect_timeout, connect)
        .await
        .map_err(|_| "OpenAI connect timed out")?
        .map_err(|e| format!("OpenAI connect failed: {e}"))?;
    let (mut sink, mut rx) = socket.split();
    let setup = async {
        wait_for(&mut rx, |e| matches!(e, ServerEvent::SessionCreated)).await?;
        let update =
            realtime::session_update(&instructions, &voice, &openai.transcription_model, tools);
        sink.send(OpenAiMessage::text(update))
            .await
            .map_err(|e| e.to_string())?;
        for (role, text) in &history {
            sink.send(OpenAiMessage::text(realtime::history_item(*role, text)))
                .await
                .map_err(|e| e.to_string())?;
        }
        wait_for(&mut rx, |e| matches!(e, ServerEvent::SessionUpdated)).await
    };
    tokio::time::timeout(bridge.settings.openai_connect_timeout, setup)
        .await
        .map_err(|_| "OpenAI session set-up timed out".to_string())??;
    let (tx, mut queue) = mpsc::channel::<OpenAiMessage>(OPENAI_QUEUE);
    tokio::spawn(async move {
        // Writes everything queued, flushing once per batch.
        while let Some(first) = queue.recv().await {
            if sink.feed(first).await.is_err() {
                return;
            }
            while let Ok(next) = queue.try_recv() {
                if sink.feed(next).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
        let _ = sink.close().await;
    });
    Ok(OpenAi { tx, rx })
}

/// Reads events until `wanted` matches; an `error` event or a closed socket fails the set-up.
async fn wait_for(
    rx: &mut SplitStream<OpenAiSocket>,
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
