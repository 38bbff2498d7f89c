//! Configuration, read once per cold start from the environment and, when `APP_SECRET_ARN` is
//! set, from one Secrets Manager JSON secret whose keys override the environment.
//!
//! Everything external (AWS endpoint, CAPTCHA verifier, provider base URLs) comes from here so
//! the same binary runs on AWS, locally on moto, and in tests against simulators.

use std::collections::HashMap;
use std::time::Duration;

use crate::error::{Error, Result};

mod google;
mod usage;
pub use google::Google;
pub use usage::{Prices, Usage};

/// Where configuration values come from: environment first, then (for secrets) the secret.
pub trait Source {
    fn get(&self, key: &str) -> Option<String>;
}

/// The process environment.
pub struct Env;

impl Source for Env {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
}

impl Source for HashMap<String, String> {
    fn get(&self, key: &str) -> Option<String> {
        HashMap::get(self, key).filter(|v| !v.is_empty()).cloned()
    }
}

/// A secret's keys layered over another source.
struct Layered<'a> {
    secret: HashMap<String, String>,
    base: &'a dyn Source,
}

impl Source for Layered<'_> {
    fn get(&self, key: &str) -> Option<String> {
        self.secret
            .get(key)
            .filter(|v| !v.is_empty())
            .cloned()
            .or_else(|| self.base.get(key))
    }
}

/// How the SDK reaches AWS.
#[derive(Clone)]
pub struct AwsSettings {
    /// `AWS_ENDPOINT_URL`: set locally and in tests (moto); unset on AWS.
    pub endpoint_url: Option<String>,
    pub region: String,
    /// Static credentials, only used against a local endpoint (any value works on moto).
    local_credentials: (String, String),
}

impl std::fmt::Debug for AwsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsSettings")
            .field("endpoint_url", &self.endpoint_url)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub window: Duration,
}

impl RateLimit {
    pub fn per_minute(max: u32) -> Self {
        Self {
            max,
            window: Duration::from_secs(60),
        }
    }
}

#[derive(Clone, Debug)]
pub struct RateLimits {
    pub register: RateLimit,
    pub login: RateLimit,
    pub token: RateLimit,
    pub refresh: RateLimit,
    pub scenario_create: RateLimit,
    /// Placing calls on demand, per user.
    pub calls: RateLimit,
    /// Scheduling calls, per user.
    pub schedule: RateLimit,
    /// Buying and releasing phone numbers (each its own budget), per user.
    pub numbers: RateLimit,
    /// Transcript work on demand (fetch, import, re-enhance, summarise), per user.
    pub transcripts: RateLimit,
    /// Calendar reads and connection attempts (each reaches Google), per user.
    pub calendar: RateLimit,
    /// Whisper transcriptions, per user.
    pub whisper: RateLimit,
    /// Browser voice sessions started, per user.
    pub browser_sessions: RateLimit,
}

#[derive(Clone)]
pub struct CaptchaConfig {
    /// `None` only in development mode with `CAPTCHA_DISABLED=true`.
    pub secret: Option<String>,
    pub verify_url: String,
    /// `CAPTCHA_SITE_KEY`: the public key a frontend renders the widget with (not a secret).
    pub site_key: Option<String>,
}

impl CaptchaConfig {
    /// The widget that goes with the siteverify endpoint, for a frontend to load.
    pub fn provider(&self) -> &'static str {
        let url = self.verify_url.as_str();
        if url.contains("challenges.cloudflare.com") {
            "turnstile"
        } else if url.contains("hcaptcha.com") {
            "hcaptcha"
        } else if url.contains("recaptcha") {
            "recaptcha"
        } else {
            "custom"
        }
    }
}

#[derive(Clone)]
pub struct Config {
    /// `DEVELOPMENT_MODE=true`: relaxed start-up checks for local runs (never on AWS).
    pub development_mode: bool,
    pub table_name: String,
    pub aws: AwsSettings,
    pub jwt_secret: String,
    pub jwt_issuer: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub frontend_url: String,
    pub captcha: CaptchaConfig,
    pub rate_limits: RateLimits,
    pub max_custom_scenarios: u32,
    pub telephony: Telephony,
    pub openai: OpenAi,
    pub transcripts: Transcripts,
    pub webhooks: Webhooks,
    /// Metering prices and the monthly minute cap.
    pub usage: Usage,
    /// `None` when Google Calendar is not configured (its endpoints then answer 503).
    pub google: Option<Google>,
}

/// Tenant webhooks.
#[derive(Clone, Debug)]
pub struct Webhooks {
    pub max_per_tenant: u32,
    /// The pause before the first retry of a failed delivery; it doubles each time (at most
    /// 15 minutes, what SQS can delay a message).
    pub first_retry: Duration,
    /// Attempts of one delivery, the first included.
    pub max_attempts: u32,
}

/// Post-call transcripts: Voice Intelligence and the job queue that drives them.
#[derive(Clone, Debug)]
pub struct Transcripts {
    /// `None`: calls are not transcribed (the transcript endpoints still answer).
    pub intelligence: Option<IntelligenceSettings>,
    /// The SQS queue of transcript jobs; required when transcription is on.
    pub queue_url: Option<String>,
    /// How long to wait before looking again at a transcript Voice Intelligence is still
    /// working on (it also calls our webhook when done).
    pub poll_interval: Duration,
    /// How many times to look before giving up on it.
    pub max_polls: u32,
}

#[derive(Clone, Debug)]
pub struct IntelligenceSettings {
    /// `GA...`: the Voice Intelligence service (its webhook points at ours).
    pub service_sid: String,
    pub base_url: String,
}

/// OpenAI Realtime (GA) as the media bridge uses it.
#[derive(Clone)]
pub struct OpenAi {
    /// Unset: the bridge refuses calls (and will not start outside development mode).
    pub api_key: Option<String>,
    /// `wss://api.openai.com/v1/realtime`; the model is added as `?model=`.
    pub realtime_url: String,
    pub model: String,
    pub transcription_model: String,
    /// The HTTP API (`https://api.openai.com/v1`): summaries and Whisper.
    pub api_base_url: String,
    /// The Responses API model that summarises transcripts.
    pub summary_model: String,
    /// The `/audio/transcriptions` model of `POST /whisper/transcribe`.
    pub whisper_model: String,
    /// The SQS queue that hands browser calls to the media bridge (`REALTIME_ATTACH_QUEUE_URL`);
    /// unset, browser sessions answer 503.
    pub attach_queue_url: Option<String>,
}

/// Twilio credentials and the rules for placing and answering calls.
#[derive(Clone)]
pub struct Telephony {
    /// Unset means telephony is not configured: its endpoints answer 503.
    pub twilio: Option<TwilioCredentials>,
    pub api_base_url: String,
    /// Each HTTP attempt to Twilio; well under every function's timeout (a test checks the
    /// worst case of each function's Twilio requests against template.yaml).
    pub twilio_timeout: Duration,
    /// The platform's own number: the caller ID in development mode.
    pub system_number: Option<String>,
    /// Public base URL of this API (what Twilio calls back and signs), no trailing slash.
    pub public_url: String,
    /// The media bridge's WebSocket URL (`wss://...`), no query string.
    pub bridge_url: String,
    /// Key of the stream tokens the bridge verifies.
    pub stream_token_secret: String,
    pub stream_token_ttl: Duration,
    pub max_numbers_per_tenant: u32,
    /// ISO country codes calls may go to.
    pub allowed_countries: Vec<String>,
    pub daily_outbound_cap: u32,
    pub record_calls: bool,
    /// Outbound calls ask Twilio whether a person or a machine answered (asynchronous
    /// answering-machine detection), and leave a message on a machine.
    pub voicemail_detection: bool,
    /// Played before the agent speaks on recorded calls.
    pub recording_notice: String,
    /// `POST /Calls` per second allowed on the Twilio account (Twilio's default is 1).
    pub calls_per_second: u32,
    pub max_call_duration: Duration,
    pub ring_timeout: Duration,
    pub scheduler: SchedulerSettings,
}

#[derive(Clone)]
pub struct TwilioCredentials {
    pub account_sid: String,
    pub auth_token: String,
}

/// EventBridge Scheduler: where one-time call schedules go and what they invoke.
#[derive(Clone, Debug)]
pub struct SchedulerSettings {
    pub group: String,
    /// What schedules invoke; `None` outside development mode when not configured (only the
    /// schedules functions need it, and they refuse to start without it).
    pub target: Option<SchedulerTarget>,
}

/// The target every call schedule gets.
#[derive(Clone, Debug, PartialEq)]
pub struct SchedulerTarget {
    /// The role Scheduler assumes to invoke the runner and write to the dead-letter queue.
    pub role_arn: String,
    /// The scheduled-call runner function.
    pub runner_arn: String,
    /// The SQS queue that keeps events Scheduler could not deliver after its retries.
    pub dead_letter_arn: String,
}

impl SchedulerSettings {
    /// The schedule target, or why scheduling is unavailable.
    pub fn target(&self) -> Result<&SchedulerTarget> {
        self.target.as_ref().ok_or_else(|| {
            Error::Config(
                "SCHEDULER_ROLE_ARN, SCHEDULED_CALL_TARGET_ARN and SCHEDULER_DEAD_LETTER_ARN \
                 are required to schedule calls"
                    .into(),
            )
        })
    }
}

impl std::fmt::Debug for Config {
    // Hand-written so a stray `?config` can never print a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("development_mode", &self.development_mode)
            .field("table_name", &self.table_name)
            .field("aws", &self.aws)
            .field("frontend_url", &self.frontend_url)
            .field("captcha_enabled", &self.captcha.secret.is_some())
            .finish_non_exhaustive()
    }
}

pub const DEFAULT_CAPTCHA_VERIFY_URL: &str = "https://www.google.com/recaptcha/api/siteverify";

impl Config {
    /// Reads the environment and, if `APP_SECRET_ARN` is set, the secret. Call once per cold start.
    pub async fn load(source: &dyn Source) -> Result<Self> {
        let aws = aws_settings(source);
        match source.get("APP_SECRET_ARN") {
            Some(arn) => {
                let sdk = sdk_config(&aws).await;
                let secret = fetch_secret(&sdk, &arn).await?;
                Self::from_source(&Layered {
                    secret,
                    base: source,
                })
            }
            None => Self::from_source(source),
        }
    }

    /// Builds the configuration from already-resolved values (no network).
    pub fn from_source(source: &dyn Source) -> Result<Self> {
        let development_mode = parse_bool(source, "DEVELOPMENT_MODE")?.unwrap_or(false);
        let jwt_secret = match source.get("JWT_SECRET") {
            Some(s) if s.len() >= 32 => s,
            Some(_) => return Err(Error::Config("JWT_SECRET must be at least 32 bytes".into())),
            None if development_mode => {
                // A random key per process: tokens do not survive a restart, which is fine locally.
                tracing::warn!("JWT_SECRET unset: using a random signing key (development mode)");
                crate::auth::random_token(48)
            }
            None => {
                return Err(Error::Config(
                    "JWT_SECRET is required outside development mode".into(),
                ));
            }
        };
        let captcha_disabled = parse_bool(source, "CAPTCHA_DISABLED")?.unwrap_or(false);
        let captcha_secret = match (source.get("CAPTCHA_SECRET"), captcha_disabled) {
            (_, true) if development_mode => None,
            (_, true) => {
                return Err(Error::Config(
                    "CAPTCHA_DISABLED is only allowed in development mode".into(),
                ));
            }
            (Some(secret), false) => Some(secret),
            (None, false) => {
                return Err(Error::Config(
                    "CAPTCHA_SECRET is required (or CAPTCHA_DISABLED=true in development mode)"
                        .into(),
                ));
            }
        };
        let auth_limit = parse_u32(source, "RATE_LIMIT_AUTH_PER_MINUTE")?.unwrap_or(5);
        Ok(Self {
            development_mode,
            table_name: source
                .get("TABLE_NAME")
                .ok_or_else(|| Error::Config("TABLE_NAME is required".into()))?,
            aws: aws_settings(source),
            jwt_issuer: source
                .get("JWT_ISSUER")
                .unwrap_or_else(|| "ai-phone-agents".into()),
            access_token_ttl: Duration::from_secs(
                60 * u64::from(parse_u32(source, "ACCESS_TOKEN_EXPIRE_MINUTES")?.unwrap_or(15)),
            ),
            refresh_token_ttl: Duration::from_secs(
                86_400 * u64::from(parse_u32(source, "REFRESH_TOKEN_EXPIRE_DAYS")?.unwrap_or(30)),
            ),
            frontend_url: source
                .get("FRONTEND_URL")
                .unwrap_or_else(|| "http://localhost:5173".into())
                .trim_end_matches('/')
                .to_string(),
            captcha: CaptchaConfig {
                secret: captcha_secret,
                verify_url: source
                    .get("CAPTCHA_VERIFY_URL")
                    .unwrap_or_else(|| DEFAULT_CAPTCHA_VERIFY_URL.into()),
                site_key: source
                    .get("CAPTCHA_SITE_KEY")
                    .map(|k| k.trim().to_string())
                    .filter(|k| !k.is_empty()),
            },
            rate_limits: RateLimits {
                register: RateLimit::per_minute(auth_limit),
                login: RateLimit::per_minute(auth_limit),
                token: RateLimit::per_minute(auth_limit),
                refresh: RateLimit::per_minute(
                    parse_u32(source, "RATE_LIMIT_REFRESH_PER_MINUTE")?.unwrap_or(10),
                ),
                scenario_create: RateLimit::per_minute(
                    parse_u32(source, "RATE_LIMIT_SCENARIO_CREATE_PER_MINUTE")?.unwrap_or(10),
                ),
                calls: RateLimit::per_minute(
                    parse_u32(source, "RATE_LIMIT_CALLS_PER_MINUTE")?.unwrap_or(5),
                ),
                schedule: RateLimit::per_minute(
                    parse_u32(source, "RATE_LIMIT_SCHEDULE_PER_MINUTE")?.unwrap_or(10),
                ),
                numbers: RateLimit::per_minute(
                    parse_u32(source, "RATE_LIMIT_NUMBERS_PER_MINUTE")?.unwrap_or(5),
                ),
                transcripts: RateLimit::per_minute(
                    parse_u32(source, "RATE_LIMIT_TRANSCRIPTS_PER_MINUTE")?.unwrap_or(10),
                ),
                calendar: RateLimit::per_minute(
                    parse_u32(source, "RATE_LIMIT_CALENDAR_PER_MINUTE")?.unwrap_or(30),
                ),
                whisper: RateLimit::per_minute(
                    parse_u32(source, "RATE_LIMIT_WHISPER_PER_MINUTE")?.unwrap_or(10),
                ),
                browser_sessions: RateLimit::per_minute(
                    parse_u32(source, "RATE_LIMIT_BROWSER_SESSIONS_PER_MINUTE")?.unwrap_or(5),
                ),
            },
            max_custom_scenarios: parse_u32(source, "MAX_CUSTOM_SCENARIOS")?.unwrap_or(20),
            telephony: telephony(source, &jwt_secret, development_mode)?,
            transcripts: transcripts(source)?,
            webhooks: Webhooks {
                max_per_tenant: parse_u32(source, "MAX_WEBHOOKS_PER_TENANT")?.unwrap_or(5),
                first_retry: Duration::from_secs(u64::from(
                    parse_u32(source, "WEBHOOK_RETRY_SECONDS")?
                        .unwrap_or(30)
                        .clamp(1, 900),
                )),
                max_attempts: parse_u32(source, "WEBHOOK_MAX_ATTEMPTS")?
                    .unwrap_or(6)
                    .clamp(1, 20),
            },
            usage: usage::usage(source)?,
            google: google::google(source, &jwt_secret, development_mode)?,
            openai: OpenAi {
                api_key: source.get("OPENAI_API_KEY"),
                realtime_url: source
                    .get("OPENAI_REALTIME_URL")
                    .unwrap_or_else(|| "wss://api.openai.com/v1/realtime".into()),
                model: source
                    .get("OPENAI_REALTIME_MODEL")
                    .unwrap_or_else(|| "gpt-realtime".into()),
                transcription_model: source
                    .get("OPENAI_TRANSCRIPTION_MODEL")
                    .unwrap_or_else(|| "gpt-4o-mini-transcribe".into()),
                api_base_url: source
                    .get("OPENAI_API_BASE_URL")
                    .unwrap_or_else(|| "https://api.openai.com/v1".into())
                    .trim_end_matches('/')
                    .to_string(),
                summary_model: source
                    .get("OPENAI_SUMMARY_MODEL")
                    .unwrap_or_else(|| "gpt-4o-mini".into()),
                whisper_model: source
                    .get("OPENAI_WHISPER_MODEL")
                    .unwrap_or_else(|| "whisper-1".into()),
                attach_queue_url: source.get("REALTIME_ATTACH_QUEUE_URL"),
            },
            jwt_secret,
        })
    }

    /// Every configured secret value, so the log redactor can scrub them wherever they appear.
    pub fn secret_values(&self) -> Vec<String> {
        let mut v = vec![
            self.jwt_secret.clone(),
            self.telephony.stream_token_secret.clone(),
        ];
        v.extend(self.captcha.secret.clone());
        v.extend(self.telephony.twilio.as_ref().map(|t| t.auth_token.clone()));
        v.extend(self.openai.api_key.clone());
        if let Some(google) = &self.google {
            v.push(google.client_secret.clone());
            v.push(google.token_key.clone());
        }
        v
    }
}

impl Config {
    /// The AWS settings alone (for tools that need an SDK client but no full configuration).
    pub fn aws_settings(source: &dyn Source) -> AwsSettings {
        aws_settings(source)
    }
}

fn telephony(source: &dyn Source, jwt_secret: &str, development_mode: bool) -> Result<Telephony> {
    let twilio = match (
        source.get("TWILIO_ACCOUNT_SID"),
        source.get("TWILIO_AUTH_TOKEN"),
    ) {
        (Some(account_sid), Some(auth_token)) => Some(TwilioCredentials {
            account_sid,
            auth_token,
        }),
        (None, None) => None,
        _ => {
            return Err(Error::Config(
                "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set together".into(),
            ));
        }
    };
    let stream_token_secret = source.get("STREAM_TOKEN_SECRET").unwrap_or_else(|| {
        // A key of its own, derived from the signing key, so one generated secret serves both
        // without either kind of token verifying as the other.
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, jwt_secret.as_bytes());
        crate::auth::hex(aws_lc_rs::hmac::sign(&key, b"stream-token-key").as_ref())
    });
    let countries = source
        .get("ALLOWED_DESTINATION_COUNTRIES")
        .unwrap_or_else(|| "US,CA".into());
    let allowed_countries: Vec<String> = countries
        .split(',')
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .collect();
    if allowed_countries.iter().any(|c| c.len() != 2) {
        return Err(Error::Config(
            "ALLOWED_DESTINATION_COUNTRIES must be ISO 3166 alpha-2 codes, e.g. US,CA".into(),
        ));
    }
    let calls_per_second = parse_u32(source, "TWILIO_CALLS_PER_SECOND")?.unwrap_or(1);
    if calls_per_second == 0 {
        return Err(Error::Config(
            "TWILIO_CALLS_PER_SECOND must be at least 1".into(),
        ));
    }
    Ok(Telephony {
        twilio,
        api_base_url: source
            .get("TWILIO_API_BASE_URL")
            .unwrap_or_else(|| "https://api.twilio.com".into()),
        twilio_timeout: match parse_u32(source, "TWILIO_TIMEOUT_SECONDS")?.unwrap_or(5) {
            secs @ 1..=20 => Duration::from_secs(u64::from(secs)),
            _ => {
                return Err(Error::Config(
                    "TWILIO_TIMEOUT_SECONDS must be between 1 and 20".into(),
                ));
            }
        },
        system_number: source.get("TWILIO_PHONE_NUMBER"),
        public_url: endpoint(
            source,
            "PUBLIC_URL",
            &["https", "http"],
            "http://localhost:5050",
            development_mode,
        )?
        .trim_end_matches('/')
        .to_string(),
        bridge_url: endpoint(
            source,
            "BRIDGE_WS_URL",
            &["wss", "ws"],
            "ws://localhost:8080/twilio",
            development_mode,
        )?,
        stream_token_secret,
        stream_token_ttl: Duration::from_secs(u64::from(
            parse_u32(source, "STREAM_TOKEN_TTL_SECONDS")?.unwrap_or(600),
        )),
        max_numbers_per_tenant: parse_u32(source, "MAX_NUMBERS_PER_TENANT")?.unwrap_or(3),
        allowed_countries,
        daily_outbound_cap: parse_u32(source, "DAILY_OUTBOUND_CALL_CAP")?.unwrap_or(50),
        record_calls: parse_bool(source, "RECORD_CALLS")?.unwrap_or(true),
        voicemail_detection: parse_bool(source, "VOICEMAIL_DETECTION")?.unwrap_or(true),
        recording_notice: source.get("RECORDING_NOTICE").unwrap_or_else(|| {
            "This call is handled by an AI assistant and may be recorded.".into()
        }),
        calls_per_second,
        max_call_duration: Duration::from_secs(u64::from(
            parse_u32(source, "MAX_CALL_DURATION_SECONDS")?.unwrap_or(1800),
        )),
        ring_timeout: Duration::from_secs(u64::from(
            parse_u32(source, "RING_TIMEOUT_SECONDS")?.unwrap_or(30),
        )),
        scheduler: SchedulerSettings {
            group: source
                .get("SCHEDULER_GROUP")
                .unwrap_or_else(|| "ai-phone-agents".into()),
            target: scheduler_target(source, development_mode)?,
        },
    })
}

fn transcripts(source: &dyn Source) -> Result<Transcripts> {
    let intelligence = match source.get("TWILIO_INTELLIGENCE_SERVICE_SID") {
        Some(sid) => {
            crate::domain::ids::Sid::parse(&sid, "GA", "TWILIO_INTELLIGENCE_SERVICE_SID")
                .map_err(|e| Error::Config(format!("{} {}", e.field, e.message)))?;
            Some(IntelligenceSettings {
                service_sid: sid,
                base_url: source
                    .get("TWILIO_INTELLIGENCE_BASE_URL")
                    .unwrap_or_else(|| "https://intelligence.twilio.com".into()),
            })
        }
        None => None,
    };
    let queue_url = source.get("JOB_QUEUE_URL");
    if intelligence.is_some() && queue_url.is_none() {
        return Err(Error::Config(
            "JOB_QUEUE_URL is required with TWILIO_INTELLIGENCE_SERVICE_SID".into(),
        ));
    }
    let poll_seconds = parse_u32(source, "TRANSCRIPT_POLL_SECONDS")?.unwrap_or(300);
    if !(1..=900).contains(&poll_seconds) {
        // SQS delays a message by at most 15 minutes.
        return Err(Error::Config(
            "TRANSCRIPT_POLL_SECONDS must be between 1 and 900".into(),
        ));
    }
    Ok(Transcripts {
        intelligence,
        queue_url,
        poll_interval: Duration::from_secs(u64::from(poll_seconds)),
        max_polls: parse_u32(source, "TRANSCRIPT_MAX_POLLS")?.unwrap_or(24),
    })
}

/// Where local runs point schedules: moto's default account, which accepts anything.
const LOCAL_SCHEDULER_TARGET: [&str; 3] = [
    "arn:aws:iam::123456789012:role/local-scheduler",
    "arn:aws:lambda:us-east-1:123456789012:function:scheduled-call-runner",
    "arn:aws:sqs:us-east-1:123456789012:scheduled-calls-dead-letter",
];

/// AWS's documentation account, which the local defaults use: never a real deployment's.
const PLACEHOLDER_ACCOUNT: &str = "123456789012";

fn scheduler_target(
    source: &dyn Source,
    development_mode: bool,
) -> Result<Option<SchedulerTarget>> {
    let keys = [
        ("SCHEDULER_ROLE_ARN", "iam"),
        ("SCHEDULED_CALL_TARGET_ARN", "lambda"),
        ("SCHEDULER_DEAD_LETTER_ARN", "sqs"),
    ];
    let values: Vec<Option<String>> = keys.iter().map(|(key, _)| source.get(key)).collect();
    if values.iter().all(Option::is_none) {
        return Ok(development_mode.then(|| SchedulerTarget {
            role_arn: LOCAL_SCHEDULER_TARGET[0].into(),
            runner_arn: LOCAL_SCHEDULER_TARGET[1].into(),
            dead_letter_arn: LOCAL_SCHEDULER_TARGET[2].into(),
        }));
    }
    let mut arns = Vec::new();
    for ((key, service), value) in keys.iter().zip(values) {
        let value = value.ok_or_else(|| {
            Error::Config(format!(
                "{key} must be set together with the other scheduler ARNs"
            ))
        })?;
        arns.push(check_arn(key, &value, service, development_mode)?);
    }
    let [role_arn, runner_arn, dead_letter_arn] = <[String; 3]>::try_from(arns)
        .map_err(|_| Error::Config("three scheduler ARNs expected".into()))?;
    Ok(Some(SchedulerTarget {
        role_arn,
        runner_arn,
        dead_letter_arn,
    }))
}

/// `arn:<partition>:<service>:<region>:<account>:<resource>`, with a real account outside
/// development mode.
fn check_arn(key: &str, value: &str, service: &str, development_mode: bool) -> Result<String> {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let well_formed = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == service
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && !parts[5].is_empty();
    if !well_formed {
        return Err(Error::Config(format!(
            "{key} must be the ARN of an AWS {service} resource"
        )));
    }
    if !development_mode && parts[4] == PLACEHOLDER_ACCOUNT {
        return Err(Error::Config(format!(
            "{key} names the placeholder account {PLACEHOLDER_ACCOUNT}: set the deployed ARN"
        )));
    }
    Ok(value.to_string())
}

/// A URL the platform gives Twilio (its callbacks, the media stream): required outside
/// development mode, where it must name a public host, never a placeholder or this machine.
fn endpoint(
    source: &dyn Source,
    key: &str,
    schemes: &[&str],
    local_default: &str,
    development_mode: bool,
) -> Result<String> {
    let value = match source.get(key) {
        Some(value) => value,
        None if development_mode => return Ok(local_default.to_string()),
        None => {
            return Err(Error::Config(format!(
                "{key} is required outside development mode"
            )));
        }
    };
    let invalid = |why: &str| Error::Config(format!("{key} {why}: {value:?}"));
    let url = reqwest::Url::parse(&value).map_err(|_| invalid("must be an absolute URL"))?;
    if !schemes.contains(&url.scheme()) {
        return Err(invalid(&format!("must use {}", schemes.join(" or "))));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query string or fragment"));
    }
    if !development_mode && url.host().is_none_or(is_local_or_placeholder) {
        return Err(invalid(
            "must be the public address Twilio reaches, not this machine or a placeholder",
        ));
    }
    Ok(value)
}

/// Hosts Twilio can never reach (loopback, unspecified, `localhost`) and the reserved
/// placeholder names (`example.com`, `*.example`, `*.invalid`).
fn is_local_or_placeholder(host: url::Host<&str>) -> bool {
    match host {
        url::Host::Ipv4(ip) => ip.is_loopback() || ip.is_unspecified(),
        url::Host::Ipv6(ip) => ip.is_loopback() || ip.is_unspecified(),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            let under = |suffix: &str| name == suffix || name.ends_with(&format!(".{suffix}"));
            [
                "localhost",
                "example",
                "invalid",
                "example.com",
                "example.net",
                "example.org",
            ]
            .iter()
            .any(|suffix| under(suffix))
        }
    }
}

fn aws_settings(source: &dyn Source) -> AwsSettings {
    AwsSettings {
        endpoint_url: source.get("AWS_ENDPOINT_URL"),
        region: source
            .get("AWS_REGION")
            .or_else(|| source.get("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into()),
        local_credentials: (
            source
                .get("AWS_ACCESS_KEY_ID")
                .unwrap_or_else(|| "test".into()),
            source
                .get("AWS_SECRET_ACCESS_KEY")
                .unwrap_or_else(|| "test".into()),
        ),
    }
}

/// The SDK configuration: on AWS the default credential chain; against a local endpoint (moto)
/// static credentials from the source (any value works there).
pub async fn sdk_config(aws: &AwsSettings) -> aws_config::SdkConfig {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(aws.region.clone()));
    match &aws.endpoint_url {
        Some(url) => {
            let credentials = aws_sdk_dynamodb::config::Credentials::new(
                aws.local_credentials.0.clone(),
                aws.local_credentials.1.clone(),
                None,
                None,
                "local-endpoint",
            );
            loader
                .endpoint_url(url)
                .credentials_provider(credentials)
                .load()
                .await
        }
        None => loader.load().await,
    }
}

async fn fetch_secret(sdk: &aws_config::SdkConfig, arn: &str) -> Result<HashMap<String, String>> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| {
            Error::Config(format!(
                "reading APP_SECRET_ARN: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            ))
        })?;
    let text = out
        .secret_string()
        .ok_or_else(|| Error::Config("APP_SECRET_ARN holds no SecretString".into()))?;
    let json: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
        .map_err(|_| Error::Config("APP_SECRET_ARN is not a JSON object".into()))?;
    Ok(json
        .into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::String(s) => Some((k, s)),
            serde_json::Value::Number(n) => Some((k, n.to_string())),
            serde_json::Value::Bool(b) => Some((k, b.to_string())),
            _ => None,
        })
        .collect())
}

fn parse_bool(source: &dyn Source, key: &str) -> Result<Option<bool>> {
    match source.get(key).map(|v| v.to_ascii_lowercase()) {
        None => Ok(None),
        Some(v) if matches!(v.as_str(), "1" | "true" | "yes") => Ok(Some(true)),
        Some(v) if matches!(v.as_str(), "0" | "false" | "no") => Ok(Some(false)),
        Some(_) => Err(Error::Config(format!("{key} must be true or false"))),
    }
}

fn parse_u32(source: &dyn Source, key: &str) -> Result<Option<u32>> {
    source
        .get(key)
        .map(|v| {
            v.parse()
                .map_err(|_| Error::Config(format!("{key} must be a whole number")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn production_refuses_to_start_without_a_signing_key() {
        let err = Config::from_source(&source(&[("TABLE_NAME", "t"), ("CAPTCHA_SECRET", "c")]))
            .unwrap_err();
        assert!(err.to_string().contains("JWT_SECRET"));
    }

    #[test]
    fn the_captcha_provider_follows_the_siteverify_endpoint() {
        let provider = |url: &str| {
            CaptchaConfig {
                secret: None,
                verify_url: url.into(),
                site_key: None,
            }
            .provider()
        };
        assert_eq!(provider(DEFAULT_CAPTCHA_VERIFY_URL), "recaptcha");
        assert_eq!(provider("https://api.hcaptcha.com/siteverify"), "hcaptcha");
        assert_eq!(
            provider("https://challenges.cloudflare.com/turnstile/v0/siteverify"),
            "turnstile"
        );
        assert_eq!(provider("http://127.0.0.1:9/siteverify"), "custom");
    }

    #[test]
    fn captcha_can_only_be_disabled_in_development() {
        let key = "k".repeat(32);
        let prod = source(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", &key),
            ("CAPTCHA_DISABLED", "true"),
        ]);
        assert!(Config::from_source(&prod).is_err());
        let mut dev = prod.clone();
        dev.insert("DEVELOPMENT_MODE".into(), "true".into());
        assert!(Config::from_source(&dev).unwrap().captcha.secret.is_none());
    }

    #[test]
    fn development_mode_runs_with_nothing_but_a_table() {
        let c = Config::from_source(&source(&[
            ("TABLE_NAME", "t"),
            ("DEVELOPMENT_MODE", "true"),
            ("CAPTCHA_DISABLED", "true"),
        ]))
        .unwrap();
        assert!(c.jwt_secret.len() >= 32);
        assert!(!format!("{c:?}").contains(&c.jwt_secret));
    }

    fn production(overrides: &[(&str, Option<&str>)]) -> Result<Config> {
        let key = "k".repeat(32);
        let mut values = source(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", &key),
            ("CAPTCHA_SECRET", "c"),
            ("PUBLIC_URL", "https://api.phone-agents.io"),
            ("BRIDGE_WS_URL", "wss://bridge.phone-agents.io/twilio"),
        ]);
        for (k, v) in overrides {
            match v {
                Some(v) => values.insert(k.to_string(), v.to_string()),
                None => values.remove(*k),
            };
        }
        Config::from_source(&values)
    }

    #[test]
    fn production_refuses_missing_local_or_placeholder_endpoints() {
        let ok = production(&[]).unwrap();
        assert_eq!(ok.telephony.public_url, "https://api.phone-agents.io");
        for (key, value) in [
            ("PUBLIC_URL", None),
            ("PUBLIC_URL", Some("http://localhost:5050")),
            ("PUBLIC_URL", Some("http://127.0.0.1:5050")),
            ("PUBLIC_URL", Some("http://[::1]:5050")),
            ("PUBLIC_URL", Some("http://0.0.0.0")),
            ("PUBLIC_URL", Some("https://api.example.com")),
            ("PUBLIC_URL", Some("ftp://api.phone-agents.io")),
            ("PUBLIC_URL", Some("api.phone-agents.io")),
            ("BRIDGE_WS_URL", None),
            ("BRIDGE_WS_URL", Some("ws://localhost:8080/twilio")),
            ("BRIDGE_WS_URL", Some("wss://bridge.example.com/twilio")),
            ("BRIDGE_WS_URL", Some("wss://bridge.app.localhost/twilio")),
            (
                "BRIDGE_WS_URL",
                Some("wss://bridge.phone-agents.io/twilio?call=1"),
            ),
            (
                "BRIDGE_WS_URL",
                Some("https://bridge.phone-agents.io/twilio"),
            ),
        ] {
            let err = production(&[(key, value)]).err();
            assert!(
                err.as_ref().is_some_and(|e| e.to_string().contains(key)),
                "{key}={value:?}: {err:?}"
            );
        }
        // Development mode keeps its local defaults.
        let dev = Config::from_source(&source(&[
            ("TABLE_NAME", "t"),
            ("DEVELOPMENT_MODE", "true"),
            ("CAPTCHA_DISABLED", "true"),
        ]))
        .unwrap();
        assert_eq!(dev.telephony.public_url, "http://localhost:5050");
        assert!(dev.telephony.scheduler.target().is_ok());
    }

    #[test]
    fn scheduler_arns_are_all_or_nothing_and_never_placeholders() {
        let role = "arn:aws:iam::210987654321:role/scheduler";
        let runner = "arn:aws:lambda:eu-west-1:210987654321:function:runner";
        let dlq = "arn:aws:sqs:eu-west-1:210987654321:scheduled-calls-dlq";
        let all = [
            ("SCHEDULER_ROLE_ARN", Some(role)),
            ("SCHEDULED_CALL_TARGET_ARN", Some(runner)),
            ("SCHEDULER_DEAD_LETTER_ARN", Some(dlq)),
        ];
        let target = production(&all).unwrap().telephony.scheduler.target;
        assert_eq!(target.unwrap().dead_letter_arn, dlq);
        // None set: the functions that schedule calls refuse to start (see `target`).
        assert!(
            production(&[])
                .unwrap()
                .telephony
                .scheduler
                .target()
                .is_err()
        );
        for broken in [
            ("SCHEDULER_DEAD_LETTER_ARN", None),
            (
                "SCHEDULER_ROLE_ARN",
                Some("arn:aws:iam::123456789012:role/local-scheduler"),
            ),
            ("SCHEDULED_CALL_TARGET_ARN", Some("scheduled-call-runner")),
            ("SCHEDULED_CALL_TARGET_ARN", Some(role)),
        ] {
            let mut values = all.to_vec();
            values.retain(|(k, _)| *k != broken.0);
            values.push(broken);
            let err = production(&values).err();
            assert!(
                err.as_ref()
                    .is_some_and(|e| e.to_string().contains(broken.0)),
                "{broken:?}: {err:?}"
            );
        }
    }

    #[test]
    fn secret_keys_override_the_environment() {
        let env = source(&[("JWT_SECRET", "from-env")]);
        let layered = Layered {
            secret: source(&[("JWT_SECRET", "from-secret")]),
            base: &env,
        };
        assert_eq!(layered.get("JWT_SECRET").unwrap(), "from-secret");
    }
}
