//! A whole call path on loopback for the bridge tests: the API stack (moto), the Twilio REST
//! simulator, the OpenAI simulators (Realtime, and the HTTP API for browser calls) and the
//! media bridge, wired together as on AWS.

use std::time::Duration;

use bridge::{Bridge, Settings};
use serde_json::Value;

use crate::client::{Session, email};
use crate::media_sim::{CallScript, ConnectError, ConnectOptions, MediaCall, Segment};
use crate::openai_http_sim::OpenAiHttpSim;
use crate::realtime_sim::{RealtimeSim, SimConfig};
use crate::twilio_sim::TwilioSim;
use crate::{Options, TestStack, twiml};

pub struct BridgeRig {
    pub twilio: TwilioSim,
    pub openai: RealtimeSim,
    /// The same OpenAI's HTTP API (browser calls are created and hung up there).
    pub openai_http: OpenAiHttpSim,
    pub stack: TestStack,
    pub bridge: Bridge,
    pub bridge_url: String,
    pub session: Session,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// A call placed through the API, ready to be streamed.
pub struct PlacedCall {
    pub call_id: String,
    pub call_sid: String,
    pub token: String,
}

impl BridgeRig {
    pub async fn start(sim: SimConfig, settings: Settings, options: Options) -> BridgeRig {
        Self::start_with_twilio(TwilioSim::start().await, sim, settings, options).await
    }

    /// A rig with every simulator and setting at its default.
    pub async fn start_default() -> BridgeRig {
        Self::start(
            SimConfig::default(),
            Settings::default(),
            Options::default(),
        )
        .await
    }

    /// As [`BridgeRig::start`], on a Twilio simulator already running (one that other
    /// simulators, such as Voice Intelligence, were started beside).
    pub async fn start_with_twilio(
        twilio: TwilioSim,
        sim: SimConfig,
        settings: Settings,
        options: Options,
    ) -> BridgeRig {
        let openai = RealtimeSim::start(sim).await;
        let openai_http = OpenAiHttpSim::start_beside(&openai).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind bridge");
        let bridge_url = format!("ws://{}/twilio", listener.local_addr().expect("addr"));
        let stack = TestStack::start_with(
            options
                .development_calls(&twilio)
                .env("BRIDGE_WS_URL", &bridge_url)
                .env("OPENAI_REALTIME_URL", openai.url.trim_end_matches('/'))
                .env("OPENAI_API_KEY", &openai.api_key)
                .env("OPENAI_API_BASE_URL", &openai_http.base_url)
                .browser_sessions(),
        )
        .await;
        // The bridge's own store, held to the bridge's grant as IAM would hold it.
        let state = infra::permissions::guarded_as(&stack.second_instance().await, "bridge");
        let bridge = Bridge::new(state, settings);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(bridge.clone().serve(listener, async {
            let _ = stopped.await;
        }));
        let session = stack.client().register(&email("caller")).await;
        BridgeRig {
            twilio,
            openai,
            openai_http,
            stack,
            bridge,
            bridge_url,
            session,
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// Places an outbound call with `scenario` through the API and reads its stream token out
    /// of the TwiML Twilio was given.
    pub async fn place_call(&self, scenario: &str) -> PlacedCall {
        self.place(&format!("/make-call/%2B14155550123/{scenario}"))
            .await
    }

    /// Places an outbound call through the API endpoint at `path` (any that places a call).
    pub async fn place(&self, path: &str) -> PlacedCall {
        let c = self.stack.client();
        let placed = c.get(path, Some(&self.session.access_token)).await;
        assert_eq!(placed.status, 200, "{}", placed.text);
        let call_sid = placed.body["call_sid"].as_str().expect("sid").to_string();
        let sim_call = self.twilio.call(&call_sid).expect("call at the simulator");
        let xml = sim_call.twiml.expect("twiml");
        PlacedCall {
            call_id: placed.body["call_id"].as_str().expect("id").to_string(),
            token: twiml::parameter(&xml, "token").expect("token"),
            call_sid,
        }
    }

    /// From now on every call placed is answered by a caller who says a few words and hangs
    /// up, some seconds later (for what drives the API as a user would: the console's test,
    /// `keyless-stack`).
    pub fn answer_every_call(&self) {
        self.twilio.stream_calls(CallScript {
            segments: vec![
                Segment::Silence { ms: 1200 },
                Segment::Speech { ms: 600 },
                Segment::Silence { ms: 1500 },
                Segment::Stop,
            ],
            speech_amplitude: 8000,
        });
    }

    pub fn connect_options(&self, call: &PlacedCall) -> ConnectOptions {
        ConnectOptions {
            url: self.bridge_url.clone(),
            auth_token: Some(self.twilio.auth_token.clone()),
            custom_parameters: vec![("token".into(), call.token.clone())],
            account_sid: self.twilio.account_sid.clone(),
            call_sid: call.call_sid.clone(),
            stream_sid: format!("MZ{}", &call.call_sid[2..]),
            stamp_frames: false,
        }
    }

    /// Streams the caller of `call` to the bridge, as Twilio would once the call is answered.
    pub async fn stream(
        &self,
        call: &PlacedCall,
        script: CallScript,
    ) -> Result<MediaCall, ConnectError> {
        MediaCall::connect(self.connect_options(call), script).await
    }

    /// The call as the API reports it.
    pub async fn call_record(&self, call_id: &str) -> Value {
        self.stack
            .client()
            .get(
                &format!("/calls/{call_id}"),
                Some(&self.session.access_token),
            )
            .await
            .body
    }

    /// Waits for the bridge's summary of the call to be written.
    pub async fn bridge_summary(&self, call_id: &str) -> Value {
        for _ in 0..100 {
            let record = self.call_record(call_id).await;
            if !record["bridge"].is_null() {
                return record["bridge"].clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the bridge never wrote the call record of {call_id}");
    }

    /// Fails the test if the bridge sent OpenAI anything the published spec rejects.
    pub fn assert_no_spec_violations(&self) {
        let violations = self.openai.violations();
        assert!(
            violations.is_empty(),
            "the bridge's Realtime events broke the spec: {violations:?}"
        );
    }

    /// A handle that sends the bridge SIGTERM's equivalent and waits for it to finish
    /// draining (taken out of the rig so the rig can still be used meanwhile).
    pub fn terminator(&mut self) -> impl std::future::Future<Output = std::io::Result<()>> + use<> {
        let stop = self.stop.take();
        let server = self.server.take();
        async move {
            if let Some(stop) = stop {
                let _ = stop.send(());
            }
            match server {
                Some(server) => server.await.expect("bridge task"),
                None => Ok(()),
            }
        }
    }
}
