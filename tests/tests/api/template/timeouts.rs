//! Every function's timeout leaves room for its provider requests with their retries (at the
//! largest per-try timeout the template allows), and interrupted work is only taken over once
//! the function that did it has surely stopped.

use super::*;

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
        ("AdminTwilioAccountFunction", retried),
        // The tenant's live calls are ended side by side, each as a hang-up.
        ("AdminSuspendTenantFunction", retried * 2),
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
