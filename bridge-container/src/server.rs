//! The bridge's HTTP side: liveness, readiness, metrics, and the WebSocket endpoint Twilio
//! opens for each call's Media Stream.
//!
//! Admission happens in two steps, both before any OpenAI connection exists: the upgrade must
//! carry a valid `X-Twilio-Signature` (over the configured public URL, never the Host header),
//! and the `start` message must carry a valid stream token (checked in [`crate::call`]).
//!
//! Draining (SIGTERM): new streams are refused with 503 and `/ready` turns 503, live calls may
//! finish for up to `drain_timeout`, then the rest are ended cleanly and the server exits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use shared::AppState;
use shared::twilio::signature;
use tokio::sync::watch;

use crate::intern::Interner;
use crate::metrics::METRICS;
use crate::tools::Registry;

/// Where Twilio opens Media Streams (the path of `BRIDGE_WS_URL`). Only this path and
/// `/health` are routed to the bridge from the internet (template.yaml's listener rule).
pub const STREAM_PATH: &str = "/twilio";

/// Tunables of the relay, from the environment.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How long live calls may continue after SIGTERM before they are ended.
    pub drain_timeout: Duration,
    /// A new Realtime session takes over after this long (OpenAI caps sessions at 60 min).
    pub rotate_after: Duration,
    /// Agent audio kept queued at Twilio ahead of real time.
    pub playout_lead: Duration,
    /// How much agent audio goes between two marks. Between echoes the heard position is the
    /// last echo plus the time since (exact while the audio plays on, and never more than was
    /// sent), so marks only re-anchor it; each echo costs Twilio's socket a read and an ACK of
    /// its own (with a mark every 100 ms, ~4 % of the bridge's CPU at 700 calls in `perf`).
    pub mark_every: Duration,
    /// Caller audio kept while OpenAI connects (or reconnects).
    pub max_buffered_frames: usize,
    pub openai_connect_timeout: Duration,
    pub start_timeout: Duration,
    /// How long a tool may run before the model is told it did not finish, so the caller is
    /// never left in silence behind a slow backend.
    pub tool_timeout: Duration,
    /// How long a calendar call may spend reading the calendar for its instructions before
    /// it starts without them (the caller is waiting for the greeting).
    pub calendar_read_budget: Duration,
    /// A browser call ends this long after `end_call` at the latest, if the person's device
    /// has not said it finished playing the goodbye by then.
    pub goodbye_grace: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            drain_timeout: Duration::from_secs(30),
            rotate_after: Duration::from_secs(55 * 60),
            playout_lead: Duration::from_millis(200),
            mark_every: Duration::from_millis(200),
            max_buffered_frames: 250,
            openai_connect_timeout: Duration::from_secs(10),
            start_timeout: Duration::from_secs(10),
            tool_timeout: Duration::from_secs(8),
            calendar_read_budget: Duration::from_secs(3),
            goodbye_grace: Duration::from_secs(5),
        }
    }
}

impl Settings {
    /// `BRIDGE_DRAIN_TIMEOUT_SECONDS`, `BRIDGE_ROTATE_AFTER_SECONDS`, `BRIDGE_PLAYOUT_LEAD_MS`,
    /// `BRIDGE_TOOL_TIMEOUT_MS`, `BRIDGE_CALENDAR_READ_MS`, `BRIDGE_GOODBYE_GRACE_MS`.
    pub fn from_env() -> Self {
        let num = |key: &str| std::env::var(key).ok().and_then(|v| v.parse::<u64>().ok());
        let mut s = Settings::default();
        if let Some(v) = num("BRIDGE_DRAIN_TIMEOUT_SECONDS") {
            s.drain_timeout = Duration::from_secs(v);
        }
        if let Some(v) = num("BRIDGE_ROTATE_AFTER_SECONDS") {
            s.rotate_after = Duration::from_secs(v);
        }
        if let Some(v) = num("BRIDGE_PLAYOUT_LEAD_MS") {
            s.playout_lead = Duration::from_millis(v);
        }
        if let Some(v) = num("BRIDGE_TOOL_TIMEOUT_MS") {
            s.tool_timeout = Duration::from_millis(v);
        }
        if let Some(v) = num("BRIDGE_CALENDAR_READ_MS") {
            s.calendar_read_budget = Duration::from_millis(v);
        }
        if let Some(v) = num("BRIDGE_GOODBYE_GRACE_MS") {
            s.goodbye_grace = Duration::from_millis(v);
        }
        s
    }
}

/// Everything a call needs, shared by all calls of the process: one pointer to clone per call
/// and per session (the application state it holds is large, and cloning it would allocate).
#[derive(Clone)]
pub struct Bridge(Arc<Shared>);

pub struct Shared {
    pub app: AppState,
    pub settings: Settings,
    /// The standard tools; admission gives each call its own set (see [`crate::call`]).
    pub tools: Registry,
    /// The session texts (instructions, tool definitions) calls share.
    pub session_texts: Interner,
    draining: AtomicBool,
    /// Flips to `true` when live calls must end now (drain timeout reached).
    ending: watch::Sender<bool>,
    /// TLS for every OpenAI session: built once (parsing the roots for each session would cost
    /// every call milliseconds), and one session cache, so reconnects resume TLS sessions.
    pub openai_tls: Arc<rustls::ClientConfig>,
}

impl std::ops::Deref for Bridge {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl Bridge {
    pub fn new(app: AppState, settings: Settings) -> Self {
        Bridge(Arc::new(Shared {
            app,
            settings,
            tools: Registry::standard(),
            session_texts: Interner::default(),
            draining: AtomicBool::new(false),
            ending: watch::channel(false).0,
            openai_tls: Arc::new(
                rustls::ClientConfig::builder()
                    .with_root_certificates(rustls::RootCertStore {
                        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                    })
                    .with_no_client_auth(),
            ),
        }))
    }

    pub fn ending(&self) -> watch::Receiver<bool> {
        self.ending.subscribe()
    }

    /// SIGTERM came: no new calls (phone or browser) are taken.
    pub fn draining(&self) -> bool {
        self.draining.load(Relaxed)
    }

    /// Health, readiness and metrics. The Media Stream path is not routed here: its
    /// connections are upgraded without hyper (see [`crate::listener`]).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/health", get(|| async { "ok" }))
            .route("/ready", get(ready))
            .route("/metrics", get(|| async { METRICS.render() }))
            .with_state(self.clone())
    }

    /// Serves until `stop` resolves, then drains (see the module docs).
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let bridge = self.clone();
        tokio::spawn(crate::attach::run(self.clone()));
        // Connections are still accepted while draining: new streams get 503, `/ready` too.
        crate::listener::accept(self, listener, async move {
            stop.await;
            bridge.drain().await;
        })
        .await
    }

    /// Whether a Media Stream upgrade with these headers may go on: refused (403) unless
    /// Twilio signed it, (503) while draining or without Twilio configured.
    pub(crate) fn stream_allowed(&self, headers: &HeaderMap) -> Result<(), StatusCode> {
        if self.draining.load(Relaxed) {
            return Err(StatusCode::SERVICE_UNAVAILABLE);
        }
        let telephony = &self.app.config.telephony;
        let Some(twilio) = &telephony.twilio else {
            return Err(StatusCode::SERVICE_UNAVAILABLE);
        };
        let signed = headers
            .get(signature::HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|sig| {
                // Twilio signs the wss:// URL; proxies terminating TLS may present it as https://.
                let https = telephony.bridge_url.replacen("wss://", "https://", 1);
                signature::verify(&twilio.auth_token, &telephony.bridge_url, &[], sig)
                    || signature::verify(&twilio.auth_token, &https, &[], sig)
            });
        if !signed {
            METRICS.calls_refused.fetch_add(1, Relaxed);
            tracing::warn!("refused a media stream upgrade without a valid signature");
            return Err(StatusCode::FORBIDDEN);
        }
        Ok(())
    }

    async fn drain(&self) {
        self.draining.store(true, Relaxed);
        let live = METRICS.active_calls.load(Relaxed);
        tracing::info!(live_calls = live, "draining");
        let deadline = tokio::time::Instant::now() + self.settings.drain_timeout;
        while METRICS.active_calls.load(Relaxed) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = self.ending.send(true);
        // Ended calls still write their records; give them a moment.
        let grace = tokio::time::Instant::now() + Duration::from_secs(5);
        while METRICS.active_calls.load(Relaxed) > 0 && tokio::time::Instant::now() < grace {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tracing::info!("drained");
    }
}

async fn ready(State(bridge): State<Bridge>) -> StatusCode {
    if bridge.draining.load(Relaxed) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}
