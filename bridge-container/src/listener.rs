//! The bridge's accept loop. Each connection's first request line picks its path:
//!
//! - `GET /twilio…` (a Media Stream) is upgraded by tokio-tungstenite directly on the TCP
//!   socket, and the call then owns a `WebSocketStream<TcpStream>`. Through hyper's upgrade
//!   the call's every read and write went through a boxed `Upgraded` (with its rewind buffer)
//!   and axum's message conversion: ~4 % of the bridge's CPU at 700 calls in `perf`.
//! - anything else (`/health`, `/ready`, `/metrics`) is served by hyper with the router, one
//!   request per connection (`Connection: close`), so a connection kept alive for a health
//!   check can never carry an upgrade to a path it was not routed for.

use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::server::{Bridge, STREAM_PATH};

/// How long a connection may take to send its request line, and a stream its upgrade.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait before accepting again after `accept` failed (out of descriptors, say):
/// retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Accepts connections until `stop` resolves (the drain runs inside it, so streams are refused
/// with 503 and `/ready` answers 503 while it lasts).
pub async fn accept(
    bridge: Bridge,
    listener: TcpListener,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let router = bridge.router();
    tokio::pin!(stop);
    loop {
        let tcp = tokio::select! {
            _ = &mut stop => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        // Without TCP_NODELAY, a frame written while the previous one is unacknowledged waits
        // for the ACK, which the receiver may delay by up to 40 ms: paced audio leaves in bursts.
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        tokio::spawn(connection(bridge.clone(), router.clone(), tcp));
    }
}

async fn connection(bridge: Bridge, router: Router, tcp: TcpStream) {
    match tokio::time::timeout(REQUEST_TIMEOUT, is_stream_request(&tcp)).await {
        Ok(Ok(true)) => media_stream(bridge, tcp).await,
        Ok(Ok(false)) => {
            let served = hyper::server::conn::http1::Builder::new()
                .keep_alive(false)
                .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(router))
                .await;
            if let Err(error) = served {
                tracing::debug!(%error, "HTTP connection ended with an error");
            }
        }
        Ok(Err(error)) => tracing::debug!(%error, "connection lost before its request"),
        Err(_) => tracing::debug!("no request line in time"),
    }
}

/// Whether the first request is a `GET` of the stream path, seen without consuming it (the
/// upgrade or hyper then reads the request whole).
async fn is_stream_request(tcp: &TcpStream) -> std::io::Result<bool> {
    const METHOD: &str = "GET ";
    // The request line up to the end of the path, and the byte after it (" " or "?").
    const HEAD: usize = METHOD.len() + STREAM_PATH.len() + 1;
    let expected = || METHOD.bytes().chain(STREAM_PATH.bytes());
    let mut head = [0u8; HEAD];
    loop {
        let seen = tcp.peek(&mut head).await?;
        let line = &head[..seen];
        if seen == 0 || !line.iter().zip(expected()).all(|(&a, b)| a == b) {
            return Ok(false);
        }
        if seen == HEAD {
            return Ok(matches!(line[HEAD - 1], b' ' | b'?'));
        }
        // Part of the line arrived (it rarely does: the request comes in one segment); the
        // rest follows shortly. `peek` would return at once with the same bytes, so wait.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A Media Stream: the upgrade is refused (403) unless Twilio signed it and (503) while
/// draining; then the call runs on the socket.
// The upgrade callback's error is tungstenite's type (the response it writes), not ours to shrink.
#[allow(clippy::result_large_err)]
async fn media_stream(bridge: Bridge, tcp: TcpStream) {
    // Twilio's messages are ~350 bytes (media, mark echoes) and ours a media frame and a mark:
    // 2 KiB buffers hold several (a larger message grows its buffer) and keep each call's
    // memory small; the default is 128 KiB per socket.
    let config = WebSocketConfig::default()
        .read_buffer_size(2 * 1024)
        .write_buffer_size(2 * 1024)
        .max_message_size(Some(256 * 1024));
    let check =
        |request: &Request, response: Response| match bridge.stream_allowed(request.headers()) {
            Ok(()) => Ok(response),
            Err(status) => {
                let mut refusal = ErrorResponse::new(None);
                *refusal.status_mut() = status;
                Err(refusal)
            }
        };
    let upgrade = tokio_tungstenite::accept_hdr_async_with_config(tcp, check, Some(config));
    match tokio::time::timeout(REQUEST_TIMEOUT, upgrade).await {
        Ok(Ok(socket)) => crate::call::run(bridge, Box::new(socket)).await,
        Ok(Err(error)) => tracing::debug!(%error, "media stream upgrade failed"),
        Err(_) => tracing::debug!("media stream upgrade timed out"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// Sends `parts` on a fresh connection (pausing between them, closing it after them) and
    /// routes its first request.
    async fn route(parts: &[&str]) -> bool {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let sender = async move {
            for part in parts {
                client.write_all(part.as_bytes()).await.unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            drop(client);
        };
        let (routed, ()) = tokio::join!(is_stream_request(&server), sender);
        routed.unwrap()
    }

    #[tokio::test]
    async fn only_a_get_of_the_stream_path_is_a_media_stream() {
        assert!(route(&["GET /twilio HTTP/1.1\r\n"]).await);
        assert!(route(&["GET /twilio?x=1 HTTP/1.1\r\n"]).await);
        for other in [
            "GET /health HTTP/1.1\r\n",
            "GET /twilios HTTP/1.1\r\n",
            "GET /twilio/x HTTP/1.1\r\n",
            "POST /twilio HTTP/1.1\r\n",
            "get /twilio HTTP/1.1\r\n",
        ] {
            assert!(!route(&[other]).await, "{other}");
        }
    }

    #[tokio::test]
    async fn a_request_line_that_arrives_in_pieces_is_still_routed() {
        assert!(route(&["GE", "T /twi", "lio HTTP/1.1\r\n"]).await);
        assert!(!route(&["GET /he", "alth HTTP/1.1\r\n"]).await);
    }

    #[tokio::test]
    async fn a_connection_closed_before_its_request_is_not_a_stream() {
        assert!(!route(&[]).await);
    }
}
