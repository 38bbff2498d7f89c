//! template.yaml against the code: every function's timeout leaves room for its Twilio requests
//! with their retries (at the largest per-try timeout the template allows), the staleness
//! thresholds of interrupted work outlast the functions that do it, scheduled-call events that
//! cannot run end in a dead-letter queue, only the media stream and the liveness check of the
//! bridge are public, every function is the prebuilt binary of its crate, the operator
//! parameters have the code's defaults and only values the code accepts, no secret passes
//! through a parameter, the bridge drains and scales on what it publishes, and every function
//! is watched by the alarms, which all notify the alarm topic.

use std::collections::{BTreeMap, BTreeSet, HashMap};
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

/// Every resource of a type, with its logical id.
fn resources_of<'a>(t: &'a Value, kind: &str) -> Vec<(String, &'a Value)> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(name, r)| (name.as_str().unwrap().to_string(), r))
        .collect()
}

fn parameter<'a>(t: &'a Value, name: &str) -> &'a Value {
    let p = &t["Parameters"][name];
    assert!(!p.is_null(), "template.yaml has no parameter {name}");
    p
}

/// A parameter's bound (`MinValue`, `MaxValue`).
fn bound(t: &Value, name: &str, which: &str) -> u64 {
    parameter(t, name)[which]
        .as_u64()
        .unwrap_or_else(|| panic!("parameter {name} has no {which}"))
}

/// A parameter's default as the deployed environment variable would read it.
fn parameter_default(t: &Value, name: &str) -> Option<String> {
    match &t["Parameters"][name]["Default"] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
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

fn reference(v: &Value) -> Option<&str> {
    tagged(v).and_then(|(tag, value)| (tag == "!Ref").then(|| value.as_str()).flatten())
}

/// The functions' environment (Globals), as written in the template.
fn global_env(t: &Value) -> BTreeMap<String, Value> {
    t["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_string(), v.clone()))
        .collect()
}

/// The bridge container's environment, as written in the template.
fn bridge_env(t: &Value) -> BTreeMap<String, Value> {
    resource(t, "BridgeTaskDefinition")["Properties"]["ContainerDefinitions"][0]["Environment"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| (e["Name"].as_str().unwrap().to_string(), e["Value"].clone()))
        .collect()
}

/// The per-try Twilio timeout the code uses by default.
fn twilio_timeout() -> Duration {
    let source: HashMap<String, String> = [
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

/// The per-try timeout the functions are sized for: the largest the template lets an
/// operator set (the parameter's `MaxValue`), never below the code's default.
fn largest_try_timeout(
    t: &Value,
    parameter_name: &str,
    variable: &str,
    default: Duration,
) -> Duration {
    assert_eq!(
        reference(&global_env(t)[variable]),
        Some(parameter_name),
        "{variable} comes from the parameter {parameter_name}"
    );
    let largest = Duration::from_secs(bound(t, parameter_name, "MaxValue"));
    assert!(
        largest >= default,
        "{parameter_name} allows the code's default"
    );
    largest
}

#[test]
fn twilio_requests_fit_inside_their_functions_timeouts() {
    let t = template();
    let try_timeout = largest_try_timeout(
        &t,
        "TwilioTimeoutSeconds",
        "TWILIO_TIMEOUT_SECONDS",
        twilio_timeout(),
    );
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
    let source: HashMap<String, String> = [
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
    let try_timeout = largest_try_timeout(
        &t,
        "GoogleTimeoutSeconds",
        "GOOGLE_TIMEOUT_SECONDS",
        google.timeout,
    );
    let operation = shared::google::worst_case_with_refresh(try_timeout);
    for (function, worst) in [
        // The code exchange, then revoking a grant that lacks a needed scope.
        (
            "CalendarCallbackFunction",
            shared::google::worst_case(try_timeout) * 2,
        ),
        (
            "CalendarDisconnectFunction",
            shared::google::worst_case(try_timeout),
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
    for (name, r) in resources_of(&t, "AWS::Serverless::Function") {
        if function_crate(&r["Properties"]["CodeUri"]) != Some("schedules") {
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
    assert_eq!(listener["Protocol"], "HTTPS");
    assert_eq!(
        reference(&listener["Certificates"][0]["CertificateArn"]),
        Some("BridgeCertificateArn")
    );
    let certificate = parameter(&t, "BridgeCertificateArn");
    assert!(
        certificate["Default"].is_null(),
        "the certificate is required"
    );
    assert!(
        certificate["AllowedPattern"]
            .as_str()
            .unwrap()
            .starts_with("^arn:aws[a-z-]*:acm:")
    );

    let mut public = BTreeSet::new();
    for (_, r) in resources_of(&t, "AWS::ElasticLoadBalancingV2::ListenerRule") {
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
    assert_eq!(
        resource(&t, "BridgeTargetGroup")["Properties"]["HealthCheckPath"],
        "/ready"
    );

    // The bridge gets the URLs production start-up insists on, and no placeholder default.
    let env = bridge_env(&t);
    assert!(
        env.contains_key("PUBLIC_URL") && env.contains_key("BRIDGE_WS_URL"),
        "{env:?}"
    );
    let bridge_url = parameter(&t, "BridgeUrl");
    assert!(bridge_url["Default"].is_null(), "no placeholder bridge URL");
    assert!(
        bridge_url["AllowedPattern"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{}$", bridge::STREAM_PATH))
    );

    // Tasks admit the load balancer only, with or without public IPs.
    let tasks = &resource(&t, "BridgeTaskSecurityGroup")["Properties"];
    let ingress = tasks["SecurityGroupIngress"].as_sequence().unwrap();
    assert_eq!(ingress.len(), 1);
    assert_eq!(
        get_att(&ingress[0]["SourceSecurityGroupId"]),
        Some("BridgeLoadBalancerSecurityGroup.GroupId")
    );
    assert!(ingress[0]["CidrIp"].is_null());
}

#[test]
fn the_bridge_runs_the_image_of_its_repository_at_a_required_tag() {
    let t = template();
    let image =
        &resource(&t, "BridgeTaskDefinition")["Properties"]["ContainerDefinitions"][0]["Image"];
    assert_eq!(
        tagged(image).map(|(tag, v)| (tag, v.as_str().unwrap().to_string())),
        Some((
            "!Sub".to_string(),
            "${BridgeRepository.RepositoryUri}:${BridgeImageTag}".to_string()
        ))
    );
    let tag = parameter(&t, "BridgeImageTag");
    assert!(
        tag["Default"].is_null(),
        "a deploy without an image tag fails"
    );
    assert!(tag["AllowedPattern"].is_string());
    let repository = resource(&t, "BridgeRepository");
    assert_eq!(repository["Type"], "AWS::ECR::Repository");
    assert_eq!(repository["DeletionPolicy"], "Retain");
    assert_eq!(
        repository["Properties"]["ImageScanningConfiguration"]["ScanOnPush"],
        true
    );
    assert!(
        repository["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"]
            .as_str()
            .unwrap()
            .contains("imageCountMoreThan")
    );
    // The bridge is part of every stack: nothing of it hangs on a condition but autoscaling,
    // which waits for the first image (BridgeState stopped).
    for name in [
        "BridgeRepository",
        "BridgeCluster",
        "BridgeTaskDefinition",
        "BridgeService",
        "BridgeLoadBalancer",
        "BridgeListener",
    ] {
        assert!(resource(&t, name)["Condition"].is_null(), "{name}");
    }
    assert!(
        parameter(&t, "BridgeState")["Default"].is_null(),
        "BridgeState is required"
    );
    assert_eq!(
        parameter(&t, "BridgeState")["AllowedValues"],
        serde_yaml::from_str::<Value>("[running, stopped]").unwrap()
    );
    for name in ["BridgeScalableTarget", "BridgeScalingPolicy"] {
        assert_eq!(resource(&t, name)["Condition"], "BridgeRunning", "{name}");
    }
    for old in ["BridgeImageUri", "BridgeVpcId", "BridgeSubnetIds"] {
        assert!(t["Parameters"][old].is_null(), "{old} is gone");
    }
    assert!(t["Conditions"]["DeployBridge"].is_null());
}

/// Seconds the bridge needs after its drain to end the calls left and exit.
const STOP_MARGIN: u64 = 10;

#[test]
fn a_bridge_task_keeps_its_calls_through_deregistration_and_drain() {
    let t = template();
    let env = bridge_env(&t);
    assert_eq!(
        reference(&env["BRIDGE_DRAIN_TIMEOUT_SECONDS"]),
        Some("BridgeDrainTimeoutSeconds")
    );
    let drain_max = bound(&t, "BridgeDrainTimeoutSeconds", "MaxValue");

    // ECS sends SIGTERM only once the load balancer has let the task go; that delay covers
    // at least the longest drain.
    let group = &resource(&t, "BridgeTargetGroup")["Properties"];
    let delay = group["TargetGroupAttributes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|a| a["Key"] == "deregistration_delay.timeout_seconds")
        .expect("a deregistration delay");
    let shortest_delay = match reference(&delay["Value"]) {
        Some(p) => bound(&t, p, "MinValue"),
        None => delay["Value"].as_str().unwrap().parse().unwrap(),
    };
    assert!(
        shortest_delay >= drain_max + STOP_MARGIN,
        "deregistration delay {shortest_delay} s < drain {drain_max} s + {STOP_MARGIN} s"
    );
    assert!(bound(&t, "BridgeDeregistrationDelaySeconds", "MaxValue") <= 3600);

    // After SIGTERM the container gets StopTimeout before SIGKILL.
    let stop = resource(&t, "BridgeTaskDefinition")["Properties"]["ContainerDefinitions"][0]
        ["StopTimeout"]
        .as_u64()
        .unwrap();
    assert!(stop <= 120, "Fargate's maximum StopTimeout is 120 s");
    assert!(
        stop >= drain_max + STOP_MARGIN,
        "StopTimeout {stop} s < drain {drain_max} s + {STOP_MARGIN} s"
    );
}

#[test]
fn the_bridge_scales_on_the_metric_it_publishes() {
    let t = template();
    let namespace = bridge_env(&t)["BRIDGE_METRICS_NAMESPACE"].clone();
    assert_eq!(
        tagged(&namespace).map(|(tag, v)| (tag, v.as_str().unwrap().to_string())),
        Some((
            "!Sub".to_string(),
            "${AWS::StackName}/MediaBridge".to_string()
        ))
    );

    let target = &resource(&t, "BridgeScalableTarget")["Properties"];
    assert_eq!(target["ServiceNamespace"], "ecs");
    assert_eq!(target["ScalableDimension"], "ecs:service:DesiredCount");
    assert_eq!(reference(&target["MinCapacity"]), Some("BridgeMinTasks"));
    assert_eq!(reference(&target["MaxCapacity"]), Some("BridgeMaxTasks"));
    assert_eq!(
        parameter_default(&t, "BridgeMinTasks").as_deref(),
        Some("2")
    );
    assert_eq!(
        parameter_default(&t, "BridgeMaxTasks").as_deref(),
        Some("10")
    );

    let policy = &resource(&t, "BridgeScalingPolicy")["Properties"];
    assert_eq!(policy["PolicyType"], "TargetTrackingScaling");
    assert_eq!(
        reference(&policy["ScalingTargetId"]),
        Some("BridgeScalableTarget")
    );
    let tracking = &policy["TargetTrackingScalingPolicyConfiguration"];
    assert_eq!(
        reference(&tracking["TargetValue"]),
        Some("BridgeCallsPerTask")
    );
    assert!(
        tracking["ScaleInCooldown"].as_u64().unwrap()
            > tracking["ScaleOutCooldown"].as_u64().unwrap(),
        "calls are long: scale in slowly, out quickly"
    );
    let metric = &tracking["CustomizedMetricSpecification"];
    assert_eq!(
        metric["Namespace"], namespace,
        "the namespace the bridge writes"
    );
    assert_eq!(metric["MetricName"], "ActiveCalls");
    assert_eq!(metric["Statistic"], "Average", "calls per task");
    assert!(
        metric["Dimensions"].is_null(),
        "the bridge's metrics have none"
    );

    // The service's count is autoscaling's once it runs: a stack update never resets it.
    let desired =
        serde_yaml::to_string(&resource(&t, "BridgeService")["Properties"]["DesiredCount"])
            .unwrap();
    assert!(
        desired.contains("BridgeRunning") && desired.contains("AWS::NoValue"),
        "{desired}"
    );

    // The alarms on the bridge's metrics read the same namespace.
    for (name, alarm) in resources_of(&t, "AWS::CloudWatch::Alarm") {
        let text = serde_yaml::to_string(alarm).unwrap();
        if text.contains("MediaBridge") {
            assert!(
                text.contains("${AWS::StackName}/MediaBridge"),
                "{name}: {text}"
            );
        }
    }
}

/// The crate a function's prebuilt artifact comes from: `CodeUri` must be exactly
/// `target/lambda/<crate>/`.
fn function_crate(code_uri: &Value) -> Option<&str> {
    code_uri
        .as_str()?
        .strip_prefix("target/lambda/")?
        .strip_suffix('/')
        .filter(|c| !c.is_empty() && !c.contains('/'))
}

/// The function crates: one per bounded context, plus the two event-driven ones.
fn function_crates() -> BTreeSet<String> {
    let mut crates: BTreeSet<String> = platform::contexts()
        .into_iter()
        .map(|(dir, _)| dir.strip_prefix("functions/").unwrap().to_string())
        .collect();
    crates.extend(["scheduled-call-runner".into(), "job-worker".into()]);
    crates
}

#[test]
fn every_function_is_the_prebuilt_binary_of_one_crate() {
    let t = template();
    let crates = function_crates();
    let functions = resources_of(&t, "AWS::Serverless::Function");
    let mut used = BTreeSet::new();
    for (name, r) in &functions {
        let code = &r["Properties"]["CodeUri"];
        let krate = function_crate(code)
            .unwrap_or_else(|| panic!("{name}: CodeUri {code:?} is not target/lambda/<crate>/"));
        assert!(crates.contains(krate), "{name}: no crate {krate}");
        assert!(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../functions"))
                .join(krate)
                .join("Cargo.toml")
                .exists(),
            "{name}: functions/{krate} is not a crate"
        );
        assert!(
            r["Metadata"]["BuildMethod"].is_null(),
            "{name}: prebuilt, not built by sam build"
        );
        used.insert(krate.to_string());
    }
    assert_eq!(used, crates, "every function crate is deployed");
    assert_eq!(functions.len(), 74);
}

/// A function of the template: its name, `CodeUri`, and HTTP API routes (method, path).
type TemplateFunction = (String, String, Vec<(String, String)>);

/// Every function of the template, with the crate directory its `CodeUri` names
/// (`functions/<crate>`).
fn http_functions(t: &Value) -> Vec<TemplateFunction> {
    let mut functions = Vec::new();
    for (name, r) in resources_of(t, "AWS::Serverless::Function") {
        let code = function_crate(&r["Properties"]["CodeUri"])
            .map(|c| format!("functions/{c}"))
            .unwrap_or_default();
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
        functions.push((name, code, routes));
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

/// Every route the code serves, as (method, path).
fn code_routes() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (_, router) in platform::contexts() {
        let doc = serde_json::to_value(router.into_openapi()).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                routes.insert((method.to_ascii_uppercase(), route_key(path)));
            }
        }
    }
    routes
}

#[test]
fn every_route_of_the_code_has_exactly_one_function_of_its_crate() {
    let t = template();
    let functions = http_functions(&t);
    let mut routed: HashMap<(String, String), Vec<(&str, &str)>> = HashMap::new();
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
/// the way a function would see them: parameters at their defaults, the required ones at
/// plausible production values.
fn deployed_value(t: &Value, v: &Value) -> String {
    // Tags first: `as_str` sees through them.
    match tagged(v) {
        Some((tag, inner)) => match (tag.as_str(), inner.as_str().unwrap_or_default()) {
            ("!Ref", "PublicUrl") => "https://api.acme-phone.io".into(),
            ("!Ref", "BridgeUrl") => "wss://bridge.acme-phone.io/twilio".into(),
            ("!Ref", "FrontendUrl") => "https://app.acme-phone.io".into(),
            ("!Ref", "JobsQueue") => "https://sqs.us-east-1.amazonaws.com/210987654321/jobs".into(),
            ("!Ref", "TwilioIntelligenceServiceSid") => format!("GA{}", "0".repeat(32)),
            ("!Ref", "TwilioPhoneNumber") => "+14155550100".into(),
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
            ("!Ref", name) if !t["Parameters"][name].is_null() => parameter_default(t, name)
                .unwrap_or_else(|| panic!("parameter {name} has no default: give it a value here")),
            ("!Ref", other) => format!("{other}-value"),
            _ => String::new(),
        },
        None => v.as_str().unwrap_or_default().to_string(),
    }
}

/// The secret's keys once put-secrets.sh has filled it (JWT_SECRET generated by the stack).
fn filled_secret() -> Vec<(&'static str, String)> {
    vec![
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
        ("CALENDAR_TOKEN_KEY", "c".repeat(40)),
    ]
}

/// An environment as a deployed process sees it: the template's values resolved, the secret's
/// keys layered over them.
fn deployed_environment<'a>(
    t: &Value,
    vars: impl IntoIterator<Item = (&'a String, &'a Value)>,
) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = vars
        .into_iter()
        .map(|(k, v)| (k.clone(), deployed_value(t, v)))
        .collect();
    env.remove("APP_SECRET_ARN");
    env.retain(|_, v| !v.is_empty());
    for (k, v) in filled_secret() {
        env.insert(k.to_string(), v);
    }
    env
}

#[test]
fn every_function_gets_the_configuration_the_code_requires() {
    let t = template();
    let globals = global_env(&t);
    // The keys put-secrets.sh fills in are the ones the code reads from the secret.
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/scripts/put-secrets.sh"
    ))
    .expect("infra/scripts/put-secrets.sh");
    for (key, _) in &filled_secret()[1..] {
        assert!(
            script.contains(&format!("\"{key}\"")),
            "put-secrets.sh lacks {key}"
        );
    }
    for (name, code, _) in http_functions(&t) {
        assert!(!code.is_empty(), "{name} has no crate");
        let mut vars = globals.clone();
        if let Some(own) =
            resource(&t, &name)["Properties"]["Environment"]["Variables"].as_mapping()
        {
            for (k, v) in own {
                vars.insert(k.as_str().unwrap().to_string(), v.clone());
            }
        }
        let env = deployed_environment(&t, &vars);
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
        // Lambda allows 4 KB of environment variables, names included; count every value
        // that is not a parameter at a generous 128 bytes (ARNs, queue URLs).
        let size: usize = vars
            .iter()
            .map(|(k, v)| {
                let value = match reference(v) {
                    Some(p) if !t["Parameters"][p].is_null() => deployed_value(&t, v).len(),
                    _ => 128,
                };
                k.len() + value
            })
            .sum();
        assert!(size <= 3500, "{name}: {size} bytes of environment");
    }
    // And the bridge, with its own environment.
    let env = deployed_environment(&t, &bridge_env(&t));
    let config = shared::Config::from_source(&env)
        .unwrap_or_else(|e| panic!("the bridge would not start: {e}"));
    assert!(config.openai.api_key.is_some());
}

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
    BTreeMap::from([
        ("FRONTEND_URL", c.frontend_url.clone()),
        ("CAPTCHA_VERIFY_URL", c.captcha.verify_url.clone()),
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

#[test]
fn every_function_logs_to_one_group_with_retention() {
    let t = template();
    let logging = &t["Globals"]["Function"]["LoggingConfig"];
    assert_eq!(logging["LogFormat"], "JSON");
    assert_eq!(reference(&logging["LogGroup"]), Some("FunctionLogGroup"));
    for (name, r) in resources_of(&t, "AWS::Serverless::Function") {
        assert!(
            r["Properties"]["LoggingConfig"].is_null(),
            "{name} logs elsewhere"
        );
    }
    for group in ["FunctionLogGroup", "BridgeLogGroup"] {
        assert_eq!(
            reference(&resource(&t, group)["Properties"]["RetentionInDays"]),
            Some("LogRetentionDays"),
            "{group}"
        );
    }
    assert_eq!(
        resources_of(&t, "AWS::Logs::LogGroup").len(),
        2,
        "one for the functions, one for the bridge"
    );
    assert_eq!(
        parameter_default(&t, "LogRetentionDays").as_deref(),
        Some("30")
    );
    let throttling = &resource(&t, "HttpApi")["Properties"]["DefaultRouteSettings"];
    assert_eq!(
        reference(&throttling["ThrottlingBurstLimit"]),
        Some("ApiThrottleBurst")
    );
    assert_eq!(
        reference(&throttling["ThrottlingRateLimit"]),
        Some("ApiThrottleRate")
    );
}

/// The functions an alarm watches for a Lambda metric, by logical id, and how many metrics
/// it reads in all.
fn alarmed_functions(alarm: &Value, metric: &str) -> (Vec<String>, usize) {
    let p = &alarm["Properties"];
    let mut stats: Vec<&Value> = Vec::new();
    if !p["MetricName"].is_null() {
        stats.push(p);
    }
    if let Some(queries) = p["Metrics"].as_sequence() {
        stats.extend(
            queries
                .iter()
                .filter(|q| !q["MetricStat"].is_null())
                .map(|q| &q["MetricStat"]["Metric"]),
        );
    }
    let functions = stats
        .iter()
        .filter(|m| m["Namespace"] == "AWS/Lambda" && m["MetricName"] == metric)
        .flat_map(|m| m["Dimensions"].as_sequence().cloned().unwrap_or_default())
        .filter(|d| d["Name"] == "FunctionName")
        .map(|d| {
            reference(&d["Value"])
                .expect("a function of the stack")
                .to_string()
        })
        .collect();
    (functions, stats.len())
}

#[test]
fn every_function_is_in_exactly_one_errors_and_one_throttles_alarm() {
    let t = template();
    let functions: BTreeSet<String> = resources_of(&t, "AWS::Serverless::Function")
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let alarms = resources_of(&t, "AWS::CloudWatch::Alarm");
    for metric in ["Errors", "Throttles"] {
        let mut watched: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, alarm) in &alarms {
            let (of, metrics) = alarmed_functions(alarm, metric);
            if of.is_empty() {
                continue;
            }
            assert!(
                metrics <= 10,
                "{name}: CloudWatch allows 10 metrics per alarm"
            );
            // One expression adds them all up, and it is what the alarm evaluates.
            let queries = alarm["Properties"]["Metrics"].as_sequence().unwrap();
            let returned: Vec<&Value> =
                queries.iter().filter(|q| q["ReturnData"] == true).collect();
            assert_eq!(returned.len(), 1, "{name}");
            let expression = returned[0]["Expression"].as_str().unwrap();
            assert!(expression.starts_with("SUM(["), "{name}: {expression}");
            for q in queries.iter().filter(|q| !q["MetricStat"].is_null()) {
                assert!(
                    expression.contains(q["Id"].as_str().unwrap()),
                    "{name}: {expression} leaves out {:?}",
                    q["Id"]
                );
                assert_eq!(q["MetricStat"]["Stat"], "Sum", "{name}");
            }
            for f in of {
                assert!(functions.contains(&f), "{name} watches {f}, not a function");
                watched.entry(f).or_default().push(name.clone());
            }
        }
        for f in &functions {
            let by = watched.get(f).cloned().unwrap_or_default();
            assert_eq!(by.len(), 1, "{f}: {metric} watched by {by:?}");
        }
    }
}

#[test]
fn every_alarm_notifies_the_topic() {
    let t = template();
    assert_eq!(resource(&t, "AlarmTopic")["Type"], "AWS::SNS::Topic");
    let subscription = resource(&t, "AlarmEmailSubscription");
    assert_eq!(subscription["Condition"], "HasAlarmEmail");
    assert_eq!(parameter_default(&t, "AlarmEmail").as_deref(), Some(""));
    let alarms = resources_of(&t, "AWS::CloudWatch::Alarm");
    assert!(alarms.len() >= 16 + 10, "{}", alarms.len());
    for (name, alarm) in &alarms {
        let p = &alarm["Properties"];
        for actions in ["AlarmActions", "OKActions"] {
            let targets: Vec<Option<&str>> = p[actions]
                .as_sequence()
                .unwrap_or_else(|| panic!("{name} has no {actions}"))
                .iter()
                .map(reference)
                .collect();
            assert_eq!(targets, [Some("AlarmTopic")], "{name}: {actions}");
        }
        assert!(
            ["breaching", "notBreaching", "ignore", "missing"]
                .contains(&p["TreatMissingData"].as_str().unwrap_or_default()),
            "{name} chooses how missing data counts"
        );
    }
    // What the issue asks to watch, besides the functions.
    let text = serde_yaml::to_string(&t["Resources"]).unwrap();
    for watched in [
        "MetricName: 5xx",
        "MetricName: Latency",
        "MetricName: TargetErrorCount",
        "MetricName: InvocationDroppedCount",
        "MetricName: InboundRelayP99",
        "MetricName: OutboundRelayP99",
        "MetricName: ActiveCalls",
    ] {
        assert!(text.contains(watched), "no alarm on {watched}");
    }
    for (name, alarm) in &alarms {
        let p = &alarm["Properties"];
        if p["Namespace"] == "AWS/Scheduler" {
            assert_eq!(p["Dimensions"][0]["Name"], "ScheduleGroup", "{name}");
            assert_eq!(
                reference(&p["Dimensions"][0]["Value"]),
                Some("CallScheduleGroup")
            );
        }
        if p["Namespace"] == "AWS/ApiGateway" {
            assert_eq!(p["Dimensions"][0]["Name"], "ApiId", "{name}");
            assert_eq!(reference(&p["Dimensions"][0]["Value"]), Some("HttpApi"));
        }
    }
    assert_eq!(
        resource(&t, "Dashboard")["Type"],
        "AWS::CloudWatch::Dashboard"
    );
}

#[test]
fn exactly_one_network_is_used() {
    let t = template();
    let conditions = &t["Conditions"];
    for c in [
        "UseExistingVpc",
        "CreateVpc",
        "BridgeTasksPublic",
        "CreatePrivateNetwork",
    ] {
        assert!(!conditions[c].is_null(), "condition {c}");
    }
    // Everything of the stack's own network exists only without ExistingVpcId; the NAT and
    // the private subnets only for private-nat.
    for (name, r) in t["Resources"].as_mapping().unwrap() {
        let kind = r["Type"].as_str().unwrap();
        if !kind.starts_with("AWS::EC2::") || kind == "AWS::EC2::SecurityGroup" {
            continue;
        }
        let condition = r["Condition"].as_str().unwrap_or_default();
        assert!(
            ["CreateVpc", "CreatePrivateNetwork"].contains(&condition),
            "{name:?} ({kind}) is created whatever the network"
        );
        if matches!(kind, "AWS::EC2::NatGateway" | "AWS::EC2::EIP") {
            assert_eq!(condition, "CreatePrivateNetwork", "{name:?}");
        }
    }
    // An existing VPC comes with its subnets.
    let rules = serde_yaml::to_string(&t["Rules"]).unwrap();
    for p in [
        "ExistingVpcId",
        "ExistingPublicSubnetIds",
        "ExistingPrivateSubnetIds",
    ] {
        assert!(rules.contains(p), "no rule on {p}");
    }
    // Tasks get a public IP only in public mode.
    let service =
        serde_yaml::to_string(&resource(&t, "BridgeService")["Properties"]["NetworkConfiguration"])
            .unwrap();
    assert!(
        service.contains("BridgeTasksPublic") && service.contains("DISABLED"),
        "{service}"
    );
    let mode = parameter(&t, "BridgeNetworkMode");
    assert_eq!(mode["Default"], "private-nat");
    assert!(
        mode["Description"].as_str().unwrap().contains('$'),
        "the cost is stated"
    );
}

#[test]
fn the_outputs_give_the_operator_what_to_paste() {
    let t = template();
    let outputs = &t["Outputs"];
    for name in [
        "ApiUrl",
        "BridgeLoadBalancerDnsName",
        "BridgeRepositoryUri",
        "AlarmTopicArn",
        "DashboardName",
        "DashboardUrl",
        "AppSecretArn",
        "BridgeClusterName",
        "BridgeServiceName",
    ] {
        assert!(!outputs[name].is_null(), "output {name}");
        assert!(
            outputs[name]["Condition"].is_null(),
            "{name} is always there"
        );
    }
    // The webhook URLs Twilio is given are routes the code serves.
    let routes = code_routes();
    for (name, path) in [
        ("TwilioVoiceWebhookUrl", "/twilio/voice/inbound"),
        ("TwilioCallStatusWebhookUrl", "/twilio/call-status"),
        (
            "TwilioRecordingStatusWebhookUrl",
            "/twilio/recording-status",
        ),
        (
            "TwilioTranscriptWebhookUrl",
            "/twilio-transcripts/webhook-callback",
        ),
    ] {
        let value = tagged(&outputs[name]["Value"]).map(|(tag, v)| (tag, v.as_str().unwrap()));
        assert_eq!(
            value,
            Some(("!Sub".to_string(), format!("${{PublicUrl}}{path}").as_str())),
            "{name}"
        );
        assert!(
            routes.contains(&("POST".to_string(), path.to_string())),
            "{path} is not served"
        );
    }
}
