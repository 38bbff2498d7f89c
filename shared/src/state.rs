//! Application state, built once per cold start and shared by every request.

use std::sync::Arc;

use crate::auth::seal::Sealer;
use crate::auth::stream_token::StreamTokens;
use crate::auth::{captcha, jwt};
use crate::config::{Config, sdk_config};
use crate::jobs::JobQueue;
use crate::store::Store;
use crate::twilio::intelligence::Intelligence;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub keys: jwt::Keys,
    pub captcha: captcha::Verifier,
    /// `None` when Twilio is not configured (telephony endpoints then answer 503).
    pub twilio: Option<crate::twilio::Client>,
    pub stream_tokens: StreamTokens,
    pub scheduler: aws_sdk_scheduler::Client,
    /// `None` when calls are not transcribed (no Voice Intelligence service configured).
    pub intelligence: Option<Intelligence>,
    /// `None` when no job queue is configured.
    pub jobs: Option<JobQueue>,
    /// Browser calls handed to the media bridge; `None` when no attach queue is configured.
    pub attach_queue: Option<crate::sideband::AttachQueue>,
    /// OpenAI's HTTP API (summaries, Whisper, browser calls); `None` without an API key.
    pub openai: Option<crate::openai::Client>,
    /// Seals secrets the platform keeps but never shows again (webhook signing secrets).
    pub sealer: Sealer,
    /// The client for tenants' own URLs (public addresses only).
    pub tenant_http: reqwest::Client,
    /// Google OAuth and Calendar; `None` when no Google client is configured.
    pub google: Option<crate::calendar::GoogleApis>,
}

impl AppState {
    /// Builds the AWS clients and everything derived from the configuration.
    pub async fn new(config: Config) -> Self {
        crate::telemetry::register_secrets(config.secret_values());
        let sdk = sdk_config(&config.aws).await;
        let store = Store::new(crate::store::client(&sdk), &config.table_name);
        let telephony = &config.telephony;
        let twilio = telephony.twilio.as_ref().map(|t| {
            crate::twilio::Client::new(
                &telephony.api_base_url,
                &t.account_sid,
                &t.auth_token,
                telephony.twilio_timeout,
            )
        });
        let intelligence = match (&twilio, &config.transcripts.intelligence) {
            (Some(client), Some(vi)) => Some(Intelligence::new(
                client.transport().with_base_url(&vi.base_url),
                &vi.service_sid,
            )),
            _ => None,
        };
        Self {
            openai: crate::openai::Client::from_config(&config.openai),
            google: config.google.as_ref().map(crate::calendar::GoogleApis::new),
            sealer: Sealer::new(&config.jwt_secret),
            tenant_http: crate::http::outbound::tenant_client(config.development_mode),
            twilio,
            intelligence,
            jobs: config
                .transcripts
                .queue_url
                .as_deref()
                .map(|url| JobQueue::new(aws_sdk_sqs::Client::new(&sdk), url)),
            attach_queue: config
                .openai
                .attach_queue_url
                .as_deref()
                .map(|url| crate::sideband::AttachQueue::new(aws_sdk_sqs::Client::new(&sdk), url)),
            stream_tokens: StreamTokens::new(
                &telephony.stream_token_secret,
                telephony.stream_token_ttl,
            ),
            scheduler: aws_sdk_scheduler::Client::new(&sdk),
            keys: jwt::Keys::new(
                &config.jwt_secret,
                &config.jwt_issuer,
                config.access_token_ttl,
            ),
            captcha: captcha::Verifier::new(config.captcha.clone()),
            store,
            config: Arc::new(config),
        }
    }
}
