//! Operations: one log group with retention, every function in exactly one errors and one
//! throttles alarm, every alarm notifying the topic, exactly one network, and outputs that
//! give the operator what to paste.

use super::*;

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
