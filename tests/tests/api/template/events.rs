//! Events that cannot be handled end somewhere an operator sees them: transcript jobs are
//! retried then dead-lettered, and so are scheduled-call events.

use super::*;

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
