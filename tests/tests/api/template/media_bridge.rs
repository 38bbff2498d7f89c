//! The media bridge: only the stream and liveness are public, it runs its repository's image
//! at a required tag, keeps its calls through deregistration and drain, and scales on the
//! metric it publishes.

use super::*;

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
