//! The operator parameters: the bridge gets the functions' settings, every parameter has the
//! code's default and admits only values the code accepts, and no secret passes through one.

use super::*;

#[test]
fn the_bridge_gets_the_functions_settings() {
    let t = template();
    let bridge = bridge_env(&t);
    // What only the functions use: the job queue and its transcription service, the
    // schedule group.
    let functions_only = [
        "JOB_QUEUE_URL",
        "TWILIO_INTELLIGENCE_SERVICE_SID",
        "SCHEDULER_GROUP",
    ];
    for (key, value) in global_env(&t) {
        if functions_only.contains(&key.as_str()) {
            continue;
        }
        assert_eq!(
            bridge.get(&key),
            Some(&value),
            "the bridge's {key} differs from the functions'"
        );
    }
}

/// The settings of a configuration that come from the environment variables an operator
/// tunes, rendered by variable. A parameter wired to a variable missing here fails
/// `operator_parameters_have_the_codes_defaults_and_ranges`: add it.
fn settings(c: &shared::Config) -> BTreeMap<&'static str, String> {
    let t = &c.telephony;
    let r = &c.rate_limits;
    let g = c.google.as_ref().expect("the calendar is configured");
    let p = &c.usage.prices;
    BTreeMap::from([
        ("FRONTEND_URL", c.frontend_url.clone()),
        ("CAPTCHA_VERIFY_URL", c.captcha.verify_url.clone()),
        ("CAPTCHA_SITE_KEY", format!("{:?}", c.captcha.site_key)),
        ("DEVELOPMENT_MODE", c.development_mode.to_string()),
        (
            "ACCESS_TOKEN_EXPIRE_MINUTES",
            format!("{:?}", c.access_token_ttl),
        ),
        (
            "REFRESH_TOKEN_EXPIRE_DAYS",
            format!("{:?}", c.refresh_token_ttl),
        ),
        (
            "RATE_LIMIT_AUTH_PER_MINUTE",
            format!("{:?} {:?} {:?}", r.register, r.login, r.token),
        ),
        ("RATE_LIMIT_REFRESH_PER_MINUTE", format!("{:?}", r.refresh)),
        (
            "RATE_LIMIT_SCENARIO_CREATE_PER_MINUTE",
            format!("{:?}", r.scenario_create),
        ),
        ("RATE_LIMIT_CALLS_PER_MINUTE", format!("{:?}", r.calls)),
        (
            "RATE_LIMIT_SCHEDULE_PER_MINUTE",
            format!("{:?}", r.schedule),
        ),
        ("RATE_LIMIT_NUMBERS_PER_MINUTE", format!("{:?}", r.numbers)),
        (
            "RATE_LIMIT_TRANSCRIPTS_PER_MINUTE",
            format!("{:?}", r.transcripts),
        ),
        ("RATE_LIMIT_WHISPER_PER_MINUTE", format!("{:?}", r.whisper)),
        (
            "RATE_LIMIT_BROWSER_SESSIONS_PER_MINUTE",
            format!("{:?}", r.browser_sessions),
        ),
        (
            "RATE_LIMIT_CALENDAR_PER_MINUTE",
            format!("{:?}", r.calendar),
        ),
        ("MAX_CUSTOM_SCENARIOS", c.max_custom_scenarios.to_string()),
        (
            "MAX_NUMBERS_PER_TENANT",
            t.max_numbers_per_tenant.to_string(),
        ),
        (
            "MAX_WEBHOOKS_PER_TENANT",
            c.webhooks.max_per_tenant.to_string(),
        ),
        (
            "WEBHOOK_RETRY_SECONDS",
            format!("{:?}", c.webhooks.first_retry),
        ),
        ("WEBHOOK_MAX_ATTEMPTS", c.webhooks.max_attempts.to_string()),
        (
            "TRANSCRIPT_POLL_SECONDS",
            format!("{:?}", c.transcripts.poll_interval),
        ),
        ("TRANSCRIPT_MAX_POLLS", c.transcripts.max_polls.to_string()),
        (
            "TWILIO_INTELLIGENCE_SERVICE_SID",
            format!(
                "{:?}",
                c.transcripts.intelligence.as_ref().map(|i| &i.service_sid)
            ),
        ),
        ("TWILIO_PHONE_NUMBER", format!("{:?}", t.system_number)),
        (
            "ALLOWED_DESTINATION_COUNTRIES",
            t.allowed_countries.join(","),
        ),
        ("DAILY_OUTBOUND_CALL_CAP", t.daily_outbound_cap.to_string()),
        ("RECORD_CALLS", t.record_calls.to_string()),
        ("VOICEMAIL_DETECTION", t.voicemail_detection.to_string()),
        ("RECORDING_NOTICE", t.recording_notice.clone()),
        (
            "MAX_CALL_DURATION_SECONDS",
            format!("{:?}", t.max_call_duration),
        ),
        ("RING_TIMEOUT_SECONDS", format!("{:?}", t.ring_timeout)),
        ("TWILIO_CALLS_PER_SECOND", t.calls_per_second.to_string()),
        ("TWILIO_TIMEOUT_SECONDS", format!("{:?}", t.twilio_timeout)),
        (
            "STREAM_TOKEN_TTL_SECONDS",
            format!("{:?}", t.stream_token_ttl),
        ),
        ("GOOGLE_TIMEOUT_SECONDS", format!("{:?}", g.timeout)),
        (
            "GOOGLE_OAUTH_STATE_TTL_SECONDS",
            format!("{:?}", g.state_ttl),
        ),
        ("OPENAI_REALTIME_MODEL", c.openai.model.clone()),
        (
            "OPENAI_TRANSCRIPTION_MODEL",
            c.openai.transcription_model.clone(),
        ),
        ("OPENAI_SUMMARY_MODEL", c.openai.summary_model.clone()),
        ("OPENAI_WHISPER_MODEL", c.openai.whisper_model.clone()),
        (
            "MONTHLY_MINUTE_CAP",
            format!("{:?}", c.usage.monthly_minute_cap),
        ),
        (
            "PRICE_PHONE_INBOUND_PER_MINUTE",
            format!("{:?}", p.phone_inbound_minute),
        ),
        (
            "PRICE_PHONE_OUTBOUND_PER_MINUTE",
            format!("{:?}", p.phone_outbound_minute),
        ),
        (
            "PRICE_BROWSER_PER_MINUTE",
            format!("{:?}", p.browser_minute),
        ),
        (
            "PRICE_TRANSFER_PER_MINUTE",
            format!("{:?}", p.transfer_minute),
        ),
        (
            "PRICE_TRANSCRIPTION_PER_MINUTE",
            format!("{:?}", p.transcription_minute),
        ),
        (
            "PRICE_TEXT_INPUT_PER_MILLION_TOKENS",
            format!("{:?}", p.text_input_million),
        ),
        (
            "PRICE_AUDIO_INPUT_PER_MILLION_TOKENS",
            format!("{:?}", p.audio_input_million),
        ),
        (
            "PRICE_TEXT_OUTPUT_PER_MILLION_TOKENS",
            format!("{:?}", p.text_output_million),
        ),
        (
            "PRICE_AUDIO_OUTPUT_PER_MILLION_TOKENS",
            format!("{:?}", p.audio_output_million),
        ),
    ])
}

/// A production configuration's required values, with nothing an operator tunes.
fn required() -> HashMap<String, String> {
    let mut env: HashMap<String, String> = [
        ("TABLE_NAME", "t"),
        ("PUBLIC_URL", "https://api.acme-phone.io"),
        ("BRIDGE_WS_URL", "wss://bridge.acme-phone.io/twilio"),
        (
            "GOOGLE_REDIRECT_URI",
            "https://api.acme-phone.io/google-calendar/callback",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in filled_secret() {
        env.insert(k.to_string(), v);
    }
    env
}

#[test]
fn operator_parameters_have_the_codes_defaults_and_ranges() {
    let t = template();
    let code = settings(&shared::Config::from_source(&required()).unwrap());
    let mut from_template = required();
    let mut wired = Vec::new();
    for (variable, value) in global_env(&t) {
        let Some(name) = reference(&value) else {
            continue;
        };
        if t["Parameters"][name].is_null() {
            continue; // a resource
        }
        if variable == "RUST_LOG" {
            // shared::telemetry's filter when RUST_LOG is unset.
            assert_eq!(parameter_default(&t, name).as_deref(), Some("info"));
            for level in parameter(&t, name)["AllowedValues"].as_sequence().unwrap() {
                tracing_subscriber::EnvFilter::try_new(level.as_str().unwrap())
                    .unwrap_or_else(|e| panic!("RUST_LOG={level:?}: {e}"));
            }
            continue;
        }
        let Some(default) = parameter_default(&t, name) else {
            continue; // required (PublicUrl, BridgeUrl): no default to compare
        };
        assert!(
            code.contains_key(variable.as_str()),
            "{variable} (parameter {name}) is not compared with the code: add it to settings()"
        );
        from_template.insert(variable.clone(), default);
        wired.push((variable, name.to_string()));
    }
    assert!(wired.len() >= 35, "{wired:?}");
    let deployed = settings(
        &shared::Config::from_source(&from_template)
            .unwrap_or_else(|e| panic!("the defaults do not start: {e}")),
    );
    for (variable, name) in &wired {
        assert_eq!(
            deployed[variable.as_str()],
            code[variable.as_str()],
            "{name}'s default is not the code's default of {variable}"
        );
    }

    // Every value a parameter admits starts: its bounds, and each allowed value.
    for (variable, name) in &wired {
        let p = parameter(&t, name);
        let mut values: Vec<String> = ["MinValue", "MaxValue"]
            .iter()
            .filter_map(|b| p[*b].as_u64().map(|v| v.to_string()))
            .collect();
        if let Some(allowed) = p["AllowedValues"].as_sequence() {
            values.extend(allowed.iter().map(|v| v.as_str().unwrap().to_string()));
        }
        if p["Type"] == "Number" {
            assert!(
                p["MinValue"].is_u64() && p["MaxValue"].is_u64(),
                "{name} has bounds"
            );
        } else if p["AllowedValues"].is_null() {
            assert!(
                p["AllowedPattern"].is_string() || p["MinLength"].is_u64(),
                "{name}"
            );
        }
        for value in values {
            let mut env = required();
            env.insert(variable.clone(), value.clone());
            if let Err(e) = shared::Config::from_source(&env) {
                panic!("{name}={value} is allowed by the template but fails at cold start: {e}");
            }
        }
    }
}

#[test]
fn bridge_parameters_have_the_bridges_defaults() {
    let t = template();
    let code = bridge::Settings::default();
    let env = bridge_env(&t);
    let expected: BTreeMap<&str, u128> = BTreeMap::from([
        (
            "BRIDGE_DRAIN_TIMEOUT_SECONDS",
            u128::from(code.drain_timeout.as_secs()),
        ),
        (
            "BRIDGE_ROTATE_AFTER_SECONDS",
            u128::from(code.rotate_after.as_secs()),
        ),
        ("BRIDGE_PLAYOUT_LEAD_MS", code.playout_lead.as_millis()),
        ("BRIDGE_TOOL_TIMEOUT_MS", code.tool_timeout.as_millis()),
        (
            "BRIDGE_CALENDAR_READ_MS",
            code.calendar_read_budget.as_millis(),
        ),
    ]);
    for (variable, value) in &env {
        if !variable.starts_with("BRIDGE_") || variable == "BRIDGE_WS_URL" {
            continue;
        }
        let Some(name) = reference(value) else {
            continue; // BRIDGE_METRICS_NAMESPACE
        };
        let default = expected
            .get(variable.as_str())
            .unwrap_or_else(|| panic!("{variable} is not compared with the code: add it here"));
        assert_eq!(
            parameter_default(&t, name),
            Some(default.to_string()),
            "{name}'s default is not the bridge's default of {variable}"
        );
        assert!(bound(&t, name, "MinValue") >= 1, "{name}");
    }
    assert_eq!(expected.len(), 5);
    for variable in expected.keys() {
        assert!(env.contains_key(*variable), "the bridge lacks {variable}");
    }
    assert!(
        bound(&t, "BridgeRotateAfterSeconds", "MaxValue") < 3600,
        "sessions rotate before OpenAI's 60-minute cap"
    );
}

#[test]
fn no_secret_passes_through_a_parameter() {
    let t = template();
    for (name, p) in t["Parameters"].as_mapping().unwrap() {
        assert!(p["NoEcho"].is_null(), "{name:?} is a secret parameter");
    }
    for old in [
        "CaptchaSecret",
        "TwilioAccountSid",
        "TwilioAuthToken",
        "OpenAiApiKey",
        "GoogleClientId",
        "GoogleClientSecret",
    ] {
        assert!(t["Parameters"][old].is_null(), "{old} is a parameter");
    }
    // The secret is generated from a constant template: no !Sub, no !Ref in it.
    fn no_tags(v: &Value) -> bool {
        match v {
            Value::Tagged(_) => false,
            Value::Mapping(m) => m.values().all(no_tags),
            Value::Sequence(s) => s.iter().all(no_tags),
            _ => true,
        }
    }
    let secret = &resource(&t, "AppSecret")["Properties"];
    assert!(no_tags(secret), "{secret:?}");
    let generate = &secret["GenerateSecretString"];
    assert_eq!(generate["SecretStringTemplate"], "{}");
    assert_eq!(generate["GenerateStringKey"], "JWT_SECRET");
    assert!(generate["PasswordLength"].as_u64().unwrap() >= 32);
    assert!(
        secret["SecretString"].is_null(),
        "the stack never writes a value into the secret"
    );
}
