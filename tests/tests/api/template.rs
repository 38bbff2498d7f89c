//! template.yaml against the code: every function's timeout leaves room for its Twilio requests
//! with their retries, the staleness thresholds of interrupted work outlast the functions that
//! do it, scheduled-call events that cannot run end in a dead-letter queue, and only the media
//! stream and the liveness check of the bridge are public.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_yaml::Value;
use serde_yaml::value::TaggedValue;
use shared::calling;
use shared::twilio::Transport;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).expect("template.yaml")).unwrap()
}

fn resource<'a>(t: &'a Value, name: &str) -> &'a Value {
    let r = &t["Resources"][name];
    assert!(!r.is_null(), "template.yaml has no resource {name}");
    r
}

/// A function's timeout, its own or the global one.
fn timeout(t: &Value, function: &str) -> Duration {
    let own = &resource(t, function)["Properties"]["Timeout"];
    let secs = own
        .as_u64()
        .or_else(|| t["Globals"]["Function"]["Timeout"].as_u64())
        .expect("a timeout");
    Duration::from_secs(secs)
}

/// `!Tag value` as (tag, value).
fn tagged(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => {
            let TaggedValue { tag, value } = t.as_ref();
            Some((tag.to_string(), value))
        }
        _ => None,
    }
}

fn get_att(v: &Value) -> Option<&str> {
    tagged(v).and_then(|(tag, value)| (tag == "!GetAtt").then(|| value.as_str()).flatten())
}

/// The per-try Twilio timeout the code uses by default.
fn twilio_timeout() -> Duration {
    let source: std::collections::HashMap<String, String> = [
        ("TABLE_NAME", "t"),
        ("DEVELOPMENT_MODE", "true"),
        ("CAPTCHA_DISABLED", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    shared::Config::from_source(&source)
        .unwrap()
        .telephony
        .twilio_timeout
}

/// DynamoDB, the cold start and the rest of the work around the Twilio requests.
const MARGIN: Duration = Duration::from_secs(3);

#[test]
fn twilio_requests_fit_inside_their_functions_timeouts() {
    let t = template();
    let try_timeout = twilio_timeout();
    let retried = Transport::worst_case(try_timeout, true);
    let once = Transport::worst_case(try_timeout, false);
    // Placing a call: the pacing wait, the create (never retried), the SID write's retries,
    // and ending the call at Twilio if that write still fails (cancel, then hang up).
    let place = calling::MAX_PACING_WAIT
        + once
        + calling::SID_WRITE_BACKOFF.iter().sum::<Duration>()
        + retried * 2;
    for (function, worst) in [
        // The account and its balance, side by side.
        ("TwilioAccountFunction", retried),
        ("SearchNumbersFunction", retried),
        // The buy, then a look-up by number when its answer was lost.
        ("ProvisionNumberFunction", once + retried),
        // Interrupted purchases reconciled side by side.
        ("ListNumbersFunction", retried),
        // A look-up by number for a purchase that never stored its SID, then the release.
        ("ReleaseNumberFunction", retried * 2),
        ("MakeCallFunction", place),
        ("MakeCustomCallFunction", place),
        ("MakeCalendarCallFunction", place),
        ("HangupCallFunction", retried * 2),
        ("ScheduledCallRunnerFunction", place),
        // A batch's jobs run side by side; the longest reads a transcript and up to three
        // pages (3,000 sentences) of it.
        ("JobWorkerFunction", retried * 4),
        // The transcript, then up to three pages of sentences.
        ("FetchTranscriptFunction", retried * 4),
        ("FetchEnhancedTranscriptFunction", retried * 4),
        // The transcript read twice (who owns it, then afresh), then its sentences.
        ("ReEnhanceTranscriptFunction", retried * 5),
        // Calls are started within the import's budget; the last may need all of its requests.
        (
            "ImportTranscriptsFunction",
            transcripts::IMPORT_BUDGET + retried * 5,
        ),
        ("DeleteTranscriptFunction", retried),
    ] {
        let limit = timeout(&t, function);
        assert!(
            worst + MARGIN <= limit,
            "{function}: Twilio may take {worst:?} (tries of {try_timeout:?}), the function has {limit:?}"
        );
    }
}

#[test]
fn google_requests_fit_inside_their_functions_timeouts() {
    let t = template();
    let source: std::collections::HashMap<String, String> = [
        ("TABLE_NAME", "t"),
        ("DEVELOPMENT_MODE", "true"),
        ("CAPTCHA_DISABLED", "true"),
        ("GOOGLE_CLIENT_ID", "id"),
        ("GOOGLE_CLIENT_SECRET", "secret"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let google = shared::Config::from_source(&source)
        .unwrap()
        .google
        .unwrap();
    let operation = shared::google::worst_case_with_refresh(google.timeout);
    for (function, worst) in [
        // The code exchange, then revoking a grant that lacks a needed scope.
        (
            "CalendarCallbackFunction",
            shared::google::worst_case(google.timeout) * 2,
        ),
        (
            "CalendarDisconnectFunction",
            shared::google::worst_case(google.timeout),
        ),
        ("PutCalendarSettingsFunction", operation),
        ("ListCalendarsFunction", operation),
        ("CalendarEventsFunction", operation),
        ("CheckAvailabilityFunction", operation),
        ("FindSlotsFunction", operation),
    ] {
        let limit = timeout(&t, function);
        assert!(
            worst + MARGIN <= limit,
            "{function}: Google may take {worst:?}, the function has {limit:?}"
        );
    }
}

#[test]
fn openai_requests_fit_inside_their_functions_timeouts() {
    let t = template();
    for function in ["SummarizeTranscriptFunction", "WhisperTranscribeFunction"] {
        assert!(
            shared::openai::TIMEOUT + MARGIN <= timeout(&t, function),
            "{function}"
        );
    }
}

#[test]
fn interrupted_work_is_only_taken_over_once_its_function_has_surely_stopped() {
    let t = template();
    assert!(
        timeout(&t, "ScheduledCallRunnerFunction") < schedules::runner::CLAIM_STALE_AFTER,
        "a scheduled call's claim must outlive the runner that holds it"
    );
    assert!(
        timeout(&t, "ProvisionNumberFunction") < phone_numbers::purchase::PURCHASE_STALE_AFTER,
        "a reservation must outlive the purchase that holds it"
    );
    assert!(
        timeout(&t, "JobWorkerFunction") < transcripts::worker::CLAIM_STALE_AFTER,
        "a transcription claim must outlive the worker that holds it"
    );
}

#[test]
fn transcript_jobs_are_retried_then_dead_lettered() {
    let t = template();
    let queue = &resource(&t, "JobsQueue")["Properties"];
    let visibility = Duration::from_secs(queue["VisibilityTimeout"].as_u64().unwrap());
    assert!(
        visibility >= timeout(&t, "JobWorkerFunction") * 6,
        "a running job stays hidden (AWS: six times the function's timeout)"
    );
    assert_eq!(
        get_att(&queue["RedrivePolicy"]["deadLetterTargetArn"]),
        Some("JobsDeadLetterQueue.Arn")
    );
    assert!(queue["RedrivePolicy"]["maxReceiveCount"].as_u64().unwrap() <= 10);
    let events = &resource(&t, "JobWorkerFunction")["Properties"]["Events"]["Jobs"];
    assert_eq!(events["Type"], "SQS");
    assert_eq!(
        events["Properties"]["FunctionResponseTypes"][0], "ReportBatchItemFailures",
        "one failed job does not send its whole batch back"
    );
    let alarm = serde_yaml::to_string(&resource(&t, "JobsDeadLetterAlarm")).unwrap();
    assert!(alarm.contains("JobsDeadLetterQueue.QueueName"), "{alarm}");
}

#[test]
fn scheduled_call_events_that_cannot_run_are_dead_lettered() {
    let t = template();
    let queue = resource(&t, "ScheduledCallsDeadLetterQueue");
    assert_eq!(queue["Type"], "AWS::SQS::Queue");
    let dlq_arn = "ScheduledCallsDeadLetterQueue.Arn";

    // Lambda's retries of a failed runner invocation, then the queue.
    let runner = &resource(&t, "ScheduledCallRunnerFunction")["Properties"];
    let invoke = &runner["EventInvokeConfig"];
    assert!(invoke["MaximumRetryAttempts"].as_u64().unwrap() >= 1);
    let on_failure = &invoke["DestinationConfig"]["OnFailure"];
    assert_eq!(on_failure["Type"], "SQS");
    assert_eq!(get_att(&on_failure["Destination"]), Some(dlq_arn));

    // Scheduler's own dead-letter writes go through the role it assumes.
    let role = serde_yaml::to_string(&resource(&t, "SchedulerInvokeRole")["Properties"]).unwrap();
    assert!(
        role.contains("sqs:SendMessage") && role.contains(dlq_arn),
        "{role}"
    );

    // Every schedules function gets the target (retry policy and queue are set per schedule).
    let mut schedules_functions = 0;
    for (name, r) in t["Resources"].as_mapping().unwrap() {
        if r["Properties"]["CodeUri"] != "functions/schedules" {
            continue;
        }
        schedules_functions += 1;
        let vars = &r["Properties"]["Environment"]["Variables"];
        for key in [
            "SCHEDULER_ROLE_ARN",
            "SCHEDULED_CALL_TARGET_ARN",
            "SCHEDULER_DEAD_LETTER_ARN",
        ] {
            assert!(!vars[key].is_null(), "{name:?} lacks {key}");
        }
        assert_eq!(get_att(&vars["SCHEDULER_DEAD_LETTER_ARN"]), Some(dlq_arn));
    }
    assert_eq!(schedules_functions, 5);

    let alarm = serde_yaml::to_string(&resource(&t, "ScheduledCallsDeadLetterAlarm")).unwrap();
    assert!(
        alarm.contains("ScheduledCallsDeadLetterQueue.QueueName"),
        "{alarm}"
    );
}

#[test]
fn only_the_media_stream_and_liveness_reach_the_bridge() {
    let t = template();
    let listener = &resource(&t, "BridgeListener")["Properties"];
    let default = &listener["DefaultActions"][0];
    assert_eq!(default["Type"], "fixed-response");
    assert_eq!(default["FixedResponseConfig"]["StatusCode"], "404");

    let mut public = BTreeSet::new();
    for (_, r) in t["Resources"].as_mapping().unwrap() {
        if r["Type"] != "AWS::ElasticLoadBalancingV2::ListenerRule" {
            continue;
        }
        for condition in r["Properties"]["Conditions"].as_sequence().unwrap() {
            assert_eq!(condition["Field"], "path-pattern");
            for path in condition["PathPatternConfig"]["Values"]
                .as_sequence()
                .unwrap()
            {
                public.insert(path.as_str().unwrap().to_string());
            }
        }
    }
    let expected: BTreeSet<String> = [bridge::STREAM_PATH, "/health"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(public, expected, "/ready and /metrics stay private");

    // The bridge gets the URLs production start-up insists on, and no placeholder default.
    let env = serde_yaml::to_string(
        &resource(&t, "BridgeTaskDefinition")["Properties"]["ContainerDefinitions"][0]
            ["Environment"],
    )
    .unwrap();
    assert!(
        env.contains("PUBLIC_URL") && env.contains("BRIDGE_WS_URL"),
        "{env}"
    );
    let bridge_url = &t["Parameters"]["BridgeUrl"];
    assert!(bridge_url["Default"].is_null(), "no placeholder bridge URL");
    assert!(
        bridge_url["AllowedPattern"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{}$", bridge::STREAM_PATH))
    );
}

/// A function of the template: its name, `CodeUri`, and HTTP API routes (method, path).
type TemplateFunction = (String, String, Vec<(String, String)>);

/// Every function of the template.
fn http_functions(t: &Value) -> Vec<TemplateFunction> {
    let mut functions = Vec::new();
    for (name, r) in t["Resources"].as_mapping().unwrap() {
        if r["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let code = r["Properties"]["CodeUri"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut routes = Vec::new();
        if let Some(events) = r["Properties"]["Events"].as_mapping() {
            for event in events.values() {
                if event["Type"] == "HttpApi" {
                    let p = &event["Properties"];
                    routes.push((
                        p["Method"].as_str().unwrap().to_ascii_uppercase(),
                        p["Path"].as_str().unwrap().to_string(),
                    ));
                }
            }
        }
        functions.push((name.as_str().unwrap().to_string(), code, routes));
    }
    functions
}

/// API Gateway matches `/x` and `/x/` alike; the code serves a few reference paths with the slash.
fn route_key(path: &str) -> String {
    match path.trim_end_matches('/') {
        "" => "/".to_string(),
        p => p.to_string(),
    }
}

#[test]
fn every_route_of_the_code_has_exactly_one_function_of_its_crate() {
    let t = template();
    let functions = http_functions(&t);
    let mut routed: std::collections::HashMap<(String, String), Vec<(&str, &str)>> =
        std::collections::HashMap::new();
    for (name, code, routes) in &functions {
        for (method, path) in routes {
            routed
                .entry((method.clone(), route_key(path)))
                .or_default()
                .push((name, code));
        }
    }
    let mut expected = std::collections::HashSet::new();
    for (crate_dir, router) in platform::contexts() {
        let doc = serde_json::to_value(router.into_openapi()).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let key = (method.to_ascii_uppercase(), route_key(path));
                let functions = routed.get(&key).cloned().unwrap_or_default();
                assert_eq!(
                    functions.len(),
                    1,
                    "{method} {path} must have exactly one function, has {functions:?}"
                );
                assert_eq!(
                    functions[0].1, crate_dir,
                    "{method} {path} is served by {crate_dir}, not {}",
                    functions[0].0
                );
                expected.insert(key);
            }
        }
    }
    for key in routed.keys() {
        assert!(
            expected.contains(key),
            "template routes {key:?}, which no code serves"
        );
    }
}

/// What `!Ref` and `!GetAtt` resolve to in a deployment, for reading the template's settings
/// the way a function would see them.
fn deployed_value(v: &Value) -> String {
    // Tags first: `as_str` sees through them.
    match tagged(v) {
        Some((tag, inner)) => match (tag.as_str(), inner.as_str().unwrap_or_default()) {
            ("!Ref", "PublicUrl") => "https://api.acme-phone.io".into(),
            ("!Ref", "BridgeUrl") => "wss://bridge.acme-phone.io/twilio".into(),
            ("!Ref", "FrontendUrl") => "https://app.acme-phone.io".into(),
            ("!Ref", "DevelopmentMode") => "false".into(),
            ("!Ref", "JobsQueue") => "https://sqs.us-east-1.amazonaws.com/210987654321/jobs".into(),
            ("!Sub", s) => s.replace("${PublicUrl}", "https://api.acme-phone.io"),
            ("!GetAtt", s) if s.ends_with("Role.Arn") => {
                "arn:aws:iam::210987654321:role/scheduler".into()
            }
            ("!GetAtt", s) if s.ends_with("Function.Arn") => {
                "arn:aws:lambda:us-east-1:210987654321:function:runner".into()
            }
            ("!GetAtt", s) if s.ends_with("Queue.Arn") => {
                "arn:aws:sqs:us-east-1:210987654321:dead-letter".into()
            }
            ("!Ref", "TwilioIntelligenceServiceSid") => format!("GA{}", "0".repeat(32)),
            ("!Ref", "TwilioPhoneNumber") => "+14155550100".into(),
            ("!Ref", other) => format!("{other}-value"),
            _ => String::new(),
        },
        None => v.as_str().unwrap_or_default().to_string(),
    }
}

#[test]
fn every_function_gets_the_configuration_the_code_requires() {
    let t = template();
    let globals: Vec<(String, String)> = t["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_string(), deployed_value(v)))
        .collect();
    // The secret's keys (JWT_SECRET generated, the rest from parameters).
    let secret = [
        ("JWT_SECRET", "j".repeat(64)),
        ("CAPTCHA_SECRET", "captcha".to_string()),
        ("TWILIO_ACCOUNT_SID", format!("AC{}", "0".repeat(32))),
        ("TWILIO_AUTH_TOKEN", "token".to_string()),
        ("OPENAI_API_KEY", "sk-test".to_string()),
        (
            "GOOGLE_CLIENT_ID",
            "id.apps.googleusercontent.com".to_string(),
        ),
        ("GOOGLE_CLIENT_SECRET", "GOCSPX-x".to_string()),
    ];
    let template_secret = serde_yaml::to_string(&resource(&t, "AppSecret")).unwrap();
    for (key, _) in &secret[1..] {
        assert!(template_secret.contains(key), "AppSecret lacks {key}");
    }
    for (name, code, _) in http_functions(&t) {
        if code.is_empty() {
            continue;
        }
        let mut env: std::collections::HashMap<String, String> = globals.iter().cloned().collect();
        if let Some(own) =
            resource(&t, &name)["Properties"]["Environment"]["Variables"].as_mapping()
        {
            for (k, v) in own {
                env.insert(k.as_str().unwrap().to_string(), deployed_value(v));
            }
        }
        env.remove("APP_SECRET_ARN");
        env.retain(|_, v| !v.is_empty());
        for (k, v) in &secret {
            env.insert(k.to_string(), v.clone());
        }
        let config = shared::Config::from_source(&env)
            .unwrap_or_else(|e| panic!("{name} would not start: {e}"));
        if code == "functions/schedules" {
            schedules::check_configuration(&config)
                .unwrap_or_else(|e| panic!("{name} would not start: {e}"));
        }
        assert!(
            config.google.is_some(),
            "{name}: the calendar is configured"
        );
    }
}
