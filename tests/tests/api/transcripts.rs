//! Transcripts end to end on the local stack: a call's recording callback queues a job, the
//! worker asks the Voice Intelligence simulator, its webhook queues another, and the enhanced
//! transcript is stored under the tenant and linked with the call. Duplicates make one
//! transcript, a job that always fails ends in the dead-letter queue, a transcript the webhook
//! never announces is found by the worker's own looks, and forged webhooks change nothing.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use e2e_tests::aws_faults::{AwsFaults, Fault};
use e2e_tests::client::{Session, email};
use e2e_tests::intelligence_sim::{IntelligenceSim, WebhookStyle};
use e2e_tests::openai_http_sim::OpenAiHttpSim;
use e2e_tests::twilio_sim::TwilioSim;
use e2e_tests::{Client, Options, TestStack};
use serde_json::{Value, json};
use shared::twilio::signature;

async fn transcribing_stack(
    sim: &TwilioSim,
    vi: &IntelligenceSim,
    style: WebhookStyle,
) -> TestStack {
    transcribing_stack_looking_after(sim, vi, style, Duration::from_secs(1)).await
}

/// As `transcribing_stack`, with the worker's own looks at a transcript `poll` apart.
async fn transcribing_stack_looking_after(
    sim: &TwilioSim,
    vi: &IntelligenceSim,
    style: WebhookStyle,
    poll: Duration,
) -> TestStack {
    start_transcribing(transcribing(sim, vi, poll), vi, style).await
}

/// A stack's options for calls on `sim` transcribed by `vi`.
fn transcribing(sim: &TwilioSim, vi: &IntelligenceSim, poll: Duration) -> Options {
    Options::default()
        .development_calls(sim)
        .jobs(3)
        .env("TWILIO_INTELLIGENCE_SERVICE_SID", &vi.service_sid)
        .env("TWILIO_INTELLIGENCE_BASE_URL", &vi.base_url)
        .env("TRANSCRIPT_POLL_SECONDS", &poll.as_secs().to_string())
}

/// Starts a stack with `options` and points `vi`'s webhook at it.
async fn start_transcribing(
    options: Options,
    vi: &IntelligenceSim,
    style: WebhookStyle,
) -> TestStack {
    let stack = TestStack::start_with(options).await;
    vi.set_webhook(
        &format!("{}/twilio-transcripts/webhook-callback", stack.public_url),
        style,
    );
    stack
}

/// Places a call and waits until its transcript reached `status`; returns the call record.
async fn call_with_transcript(c: &Client, s: &Session, status: &str) -> Value {
    let call_id = place_call(c, s).await;
    wait_for_transcript(c, s, &call_id, status).await
}

/// Places a call (the simulator answers and records it); returns its id.
async fn place_call(c: &Client, s: &Session) -> String {
    let placed = c
        .get(
            "/make-call/%2B14155550123/appointment_reminder",
            Some(&s.access_token),
        )
        .await;
    assert_eq!(placed.status, 200, "{}", placed.text);
    placed.body["call_id"].as_str().unwrap().to_string()
}

async fn wait_for_transcript(c: &Client, s: &Session, call_id: &str, status: &str) -> Value {
    let mut record = Value::Null;
    for _ in 0..150 {
        record = c
            .get(&format!("/calls/{call_id}"), Some(&s.access_token))
            .await
            .body;
        if record["transcript_status"] == status {
            return record;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the transcript never reached {status}: {record}");
}

#[tokio::test]
async fn a_completed_call_becomes_an_enhanced_transcript_of_its_tenant() {
    let sim = TwilioSim::start().await;
    let vi = IntelligenceSim::start(&sim).await;
    let stack = transcribing_stack(&sim, &vi, WebhookStyle::Json).await;
    let c = stack.client();
    let s = c.register(&email("vi")).await;
    let t = Some(s.access_token.as_str());

    let call = call_with_transcript(&c, &s, "completed").await;
    let sid = call["transcript_sid"].as_str().unwrap().to_string();
    assert!(sid.starts_with("GT"));

    // What Voice Intelligence was asked: our recording, who is on which channel, our call id.
    let asked = vi.transcripts();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].source_sid, call["recording_sid"].as_str().unwrap());
    assert_eq!(asked[0].customer_key.as_deref(), call["call_id"].as_str());
    let participants = asked[0].channel["participants"].as_array().unwrap();
    assert_eq!(participants[0]["channel_participant"], 1);
    assert_eq!(participants[0]["role"], "Customer");
    assert_eq!(participants[0]["media_participant_id"], "+14155550123");
    assert_eq!(participants[1]["role"], "Agent");
    assert!(vi.webhook_statuses().iter().all(|s| *s == 204));

    let listed = c.get("/api/enhanced-transcripts/", t).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let items = listed.body.as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["transcript_sid"], sid.as_str());
    assert_eq!(items[0]["call_direction"], "outbound");
    assert_eq!(items[0]["scenario_name"], "appointment_reminder");
    assert_eq!(items[0]["participant_count"], 2);
    assert!(listed.header("x-next-cursor").is_none());

    let got = c.get(&format!("/api/enhanced-transcripts/{sid}"), t).await;
    assert_eq!(got.status, 200, "{}", got.text);
    let flow = got.body["conversation_flow"].as_array().unwrap();
    assert_eq!(flow.len(), 4);
    // The person on the line said what the caller said; the agent what the agent said.
    for entry in flow {
        let text = entry["text"].as_str().unwrap();
        let expected = if text.contains("thank you") || text.contains("expecting") {
            "customer"
        } else {
            "agent"
        };
        assert_eq!(entry["speaker"]["role"], expected, "{text}");
    }
    let summary = &got.body["summary_data"];
    assert_eq!(summary["conversation_stats"]["turns"], 4);
    assert!(summary["average_confidence"].as_f64().unwrap() > 0.8);
    assert!(
        got.body["full_text"]
            .as_str()
            .unwrap()
            .starts_with("Hello, this is the clinic")
    );
    assert_eq!(
        got.body["formatted_data"]["participant_names"],
        json!(["Customer", "AI Agent"])
    );

    // Another tenant: nothing to see.
    let other = c.register(&email("vi-other")).await;
    let o = Some(other.access_token.as_str());
    assert_eq!(
        c.get(&format!("/api/enhanced-transcripts/{sid}"), o)
            .await
            .status,
        404
    );
    assert_eq!(c.get("/api/enhanced-transcripts/", o).await.body, json!([]));
}

#[tokio::test]
async fn duplicate_callbacks_and_webhooks_make_one_transcript() {
    let sim = TwilioSim::start().await;
    let vi = IntelligenceSim::start(&sim).await;
    let stack = transcribing_stack(&sim, &vi, WebhookStyle::Form).await;
    let c = stack.client();
    let s = c.register(&email("vi-dup")).await;
    let call = call_with_transcript(&c, &s, "completed").await;
    let sid = call["transcript_sid"].as_str().unwrap().to_string();

    // Twilio repeats the recording callback, and Voice Intelligence its webhook.
    let call_sid = call["call_sid"].as_str().unwrap();
    let recording_callback = sim
        .call(call_sid)
        .unwrap()
        .callbacks
        .into_iter()
        .find(|cb| cb.url.contains("/twilio/recording-status"))
        .unwrap();
    for _ in 0..2 {
        let signed = signature::sign(
            &sim.auth_token,
            &recording_callback.url,
            &recording_callback.params,
        );
        let path = recording_callback
            .url
            .strip_prefix(&stack.public_url)
            .unwrap();
        let r = c
            .send(
                c.request(reqwest::Method::POST, path)
                    .header("x-twilio-signature", signed)
                    .form(&recording_callback.params),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
        vi.repeat_webhook(&sid).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(vi.creates(), 1, "one transcript asked for");
    let listed = c
        .get("/api/enhanced-transcripts/", Some(&s.access_token))
        .await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    let again = c
        .get(
            &format!("/calls/{}", call["call_id"].as_str().unwrap()),
            Some(&s.access_token),
        )
        .await
        .body;
    assert_eq!(again["transcript_sid"], sid.as_str());
    assert_eq!(again["transcript_status"], "completed");
    // The recording's minutes are in the tenant's transcription usage, once.
    let seconds = again["recording_duration_seconds"].as_u64().unwrap();
    assert!(seconds > 0, "{again}");
    let usage = c.get("/usage", Some(&s.access_token)).await.body;
    let expected = (seconds as f64 / 60.0 * 100.0).round() / 100.0;
    assert_eq!(usage["total"]["transcription_minutes"], expected, "{usage}");
}

#[tokio::test]
async fn a_transcript_never_announced_is_found_by_the_workers_own_looks() {
    let sim = TwilioSim::start().await;
    let vi = IntelligenceSim::start(&sim).await;
    vi.set_completion_delay(Duration::from_millis(1500));
    let stack = transcribing_stack(&sim, &vi, WebhookStyle::None).await;
    let c = stack.client();
    let s = c.register(&email("vi-poll")).await;
    let call = call_with_transcript(&c, &s, "completed").await;
    assert!(vi.webhook_statuses().is_empty(), "no webhook was sent");
    let sid = call["transcript_sid"].as_str().unwrap();
    let got = c
        .get(
            &format!("/api/enhanced-transcripts/{sid}"),
            Some(&s.access_token),
        )
        .await;
    assert_eq!(got.status, 200, "{}", got.text);
}

/// The jobs the queue refused, kept in the table for the sweep.
async fn kept_jobs(stack: &TestStack) -> Vec<String> {
    let out = stack
        .dynamodb()
        .await
        .query()
        .table_name(&stack.table)
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", AttributeValue::S("KEPTJOBS".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("query the kept jobs");
    out.items()
        .iter()
        .filter_map(|item| item.get("body")?.as_s().ok().cloned())
        .collect()
}

#[tokio::test]
async fn a_transcript_job_the_queue_refused_is_kept_and_sent_once_it_takes_jobs_again() {
    let sim = TwilioSim::start().await;
    let vi = IntelligenceSim::start(&sim).await;
    let faults = AwsFaults::start(e2e_tests::moto_url()).await;
    let options =
        transcribing(&sim, &vi, Duration::from_secs(1)).env("AWS_ENDPOINT_URL", &faults.url);
    let stack = start_transcribing(options, &vi, WebhookStyle::Json).await;
    let c = stack.client();
    let s = c.register(&email("kept")).await;
    // SQS refuses the transcript's job, through the SDK's retries and every sweep.
    faults.inject("SendMessage", "create_transcript", None, Fault::Internal);

    let call_id = place_call(&c, &s).await;
    let call_id = call_id.as_str();
    let sid = sim.calls().last().expect("a call placed").sid.clone();
    let done = sim.wait_for_call_done(&sid, Duration::from_secs(15)).await;
    let recording = done
        .callbacks
        .iter()
        .find(|c| c.url.contains("/twilio/recording-status"))
        .expect("a recording callback");
    assert_eq!(
        recording.response_status, 204,
        "Twilio is told the recording was taken"
    );
    assert!(
        faults.injected() >= 3,
        "the SDK's tries and the sweep's failed"
    );
    let kept = kept_jobs(&stack).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].contains(call_id), "{kept:?}");
    assert!(vi.transcripts().is_empty());

    faults.clear();
    wait_for_transcript(&c, &s, call_id, "completed").await;
    assert_eq!(vi.transcripts().len(), 1, "asked once");
    // The sweep forgets the job right after sending it; the run may have been quicker.
    for _ in 0..20 {
        if kept_jobs(&stack).await.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the job was never forgotten: {:?}", kept_jobs(&stack).await);
}

#[tokio::test]
async fn a_failed_transcript_is_recorded_on_the_call() {
    let sim = TwilioSim::start().await;
    let vi = IntelligenceSim::start(&sim).await;
    vi.fail_transcripts();
    let stack = transcribing_stack(&sim, &vi, WebhookStyle::Json).await;
    let c = stack.client();
    let s = c.register(&email("vi-fail")).await;
    let call = call_with_transcript(&c, &s, "failed").await;
    let sid = call["transcript_sid"].as_str().unwrap();
    assert_eq!(
        c.get(
            &format!("/api/enhanced-transcripts/{sid}"),
            Some(&s.access_token)
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn forged_webhooks_are_refused_and_a_job_that_always_fails_is_dead_lettered() {
    let sim = TwilioSim::start().await;
    let vi = IntelligenceSim::start(&sim).await;
    let stack = transcribing_stack(&sim, &vi, WebhookStyle::Json).await;
    let c = stack.client();
    let unknown = format!("GT{}", "ab".repeat(16));
    let path = "/twilio-transcripts/webhook-callback";
    let url = format!("{}{path}", stack.public_url);
    let body = json!({"transcript_sid": unknown, "service_sid": vi.service_sid}).to_string();
    let hash = shared::auth::sha256_hex_bytes(body.as_bytes());
    let signed_url = format!("{url}?bodySHA256={hash}");
    let post = |query: String, signature: String, body: String| {
        let c = &c;
        async move {
            c.send(
                c.request(reqwest::Method::POST, &format!("{path}{query}"))
                    .header("x-twilio-signature", signature)
                    .header("content-type", "application/json")
                    .body(body),
            )
            .await
            .status
        }
    };
    let good = signature::sign(&sim.auth_token, &signed_url, &[]);
    // Forged key, a body that does not match its signed hash, no hash at all.
    let forged = signature::sign("not-the-token", &signed_url, &[]);
    assert_eq!(
        post(format!("?bodySHA256={hash}"), forged, body.clone()).await,
        403
    );
    let altered = body.replace("service_sid", "service_sidx");
    assert_eq!(
        post(format!("?bodySHA256={hash}"), good.clone(), altered).await,
        403
    );
    let unhashed = signature::sign(&sim.auth_token, &url, &[]);
    assert_eq!(post(String::new(), unhashed, body.clone()).await, 403);

    // A genuine webhook for a transcript no call of ours has: the job fails on every receive
    // and ends in the dead-letter queue.
    assert_eq!(post(format!("?bodySHA256={hash}"), good, body).await, 204);
    let dead_letter = stack.dead_letter_url.clone().unwrap();
    let sqs = aws_sdk_sqs::Client::new(
        &shared::config::sdk_config(&shared::config::Config::aws_settings(&stack.env)).await,
    );
    let mut dead = Vec::new();
    for _ in 0..40 {
        let out = sqs
            .receive_message()
            .queue_url(&dead_letter)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        dead.extend(out.messages.unwrap_or_default());
        if !dead.is_empty() {
            break;
        }
    }
    assert_eq!(dead.len(), 1, "the failing job is dead-lettered");
    assert!(dead[0].body().unwrap().contains(&unknown));
}

#[tokio::test]
async fn stored_shapes_import_re_enhance_and_delete_stay_within_the_tenant() {
    let sim = TwilioSim::start().await;
    let vi = IntelligenceSim::start(&sim).await;
    // This test deletes the stored transcript behind the API's back and fetches it again; the
    // worker's own look (scheduled when the transcript was created, the webhook having already
    // completed it) would store it again at a moment the test cannot see, so it is put off.
    let stack =
        transcribing_stack_looking_after(&sim, &vi, WebhookStyle::Json, Duration::from_secs(600))
            .await;
    let c = stack.client();
    let s = c.register(&email("vi-shapes")).await;
    let t = Some(s.access_token.as_str());
    let call = call_with_transcript(&c, &s, "completed").await;
    let sid = call["transcript_sid"].as_str().unwrap().to_string();
    let call_id = call["call_id"].as_str().unwrap().to_string();

    // The reference frontend's shapes.
    let listed = c.get("/stored-twilio-transcripts", t).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let first = &listed.body["transcripts"][0];
    assert_eq!(first["sid"], sid.as_str());
    assert_eq!(first["sentences"].as_array().unwrap().len(), 4);
    assert_eq!(
        first["sentences"][1]["speaker"], 1,
        "the person on channel 1"
    );
    assert_eq!(
        c.get(&format!("/stored-twilio-transcripts/{sid}"), t)
            .await
            .body["sid"],
        sid.as_str()
    );
    let stored = c.get("/stored-transcripts/", t).await.body;
    assert_eq!(stored[0]["transcript_sid"], sid.as_str());
    assert!(stored[0].get("sentences").is_none());
    let one = c.get(&format!("/stored-transcripts/{sid}"), t).await.body;
    assert_eq!(one["sentences"][1]["speaker"], "customer");
    let plain = c.get(&format!("/api/transcripts/{sid}"), t).await.body;
    assert_eq!(plain["status"], "success");
    assert_eq!(plain["transcript"]["sentences"][0]["speaker"], "agent");
    let again = c
        .post(
            &format!("/api/transcripts/fetch-and-store/{sid}"),
            t,
            &json!({}),
        )
        .await;
    assert_eq!(
        again.body["message"], "Transcript already stored",
        "{}",
        again.text
    );

    // Another tenant can neither read, fetch, re-enhance nor delete it.
    let other = c.register(&email("vi-shapes-other")).await;
    let o = Some(other.access_token.as_str());
    for path in [
        format!("/stored-twilio-transcripts/{sid}"),
        format!("/stored-transcripts/{sid}"),
        format!("/api/transcripts/{sid}"),
    ] {
        assert_eq!(c.get(&path, o).await.status, 404, "{path}");
    }
    for path in [
        format!("/api/transcripts/fetch-and-store/{sid}"),
        format!("/api/enhanced-transcripts/{sid}/re-enhance"),
    ] {
        assert_eq!(c.post(&path, o, &json!({})).await.status, 404, "{path}");
    }
    let theirs = c
        .post(
            "/api/enhanced-twilio-transcripts/fetch-and-store",
            o,
            &json!(sid),
        )
        .await;
    assert_eq!(theirs.status, 404, "{}", theirs.text);
    assert_eq!(
        c.json(
            reqwest::Method::DELETE,
            &format!("/twilio-transcripts/{sid}"),
            o,
            &json!({})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        c.get("/stored-twilio-transcripts", o).await.body["transcripts"],
        json!([])
    );
    let imported = c
        .post("/api/import-twilio-transcripts", o, &json!({}))
        .await;
    assert_eq!(
        imported.body["results"]["success"],
        json!([]),
        "{}",
        imported.text
    );
    // A transcript of no call of ours at all.
    let stranger = format!("GT{}", "cd".repeat(16));
    assert_eq!(
        c.post(
            &format!("/api/transcripts/fetch-and-store/{stranger}"),
            t,
            &json!({})
        )
        .await
        .status,
        404
    );

    // Re-enhance reads Voice Intelligence again.
    vi.script(vec![
        (
            e2e_tests::twilio_sim::Party::Agent,
            "A new first line.".into(),
        ),
        (
            e2e_tests::twilio_sim::Party::Person,
            "And a new answer.".into(),
        ),
    ]);
    let redone = c
        .post(
            &format!("/api/enhanced-transcripts/{sid}/re-enhance"),
            t,
            &json!({}),
        )
        .await;
    assert_eq!(redone.status, 200, "{}", redone.text);
    assert_eq!(
        redone.body["transcript_data"]["full_text"],
        "A new first line. And a new answer."
    );

    // Lost here but still at Voice Intelligence: each way of fetching brings it back.
    let state = stack.second_instance().await;
    let tenant = c.get("/users/me", t).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let lose = || async {
        state
            .store
            .delete_transcript(&tenant, &call_id, &sid)
            .await
            .unwrap();
        assert_eq!(
            c.get(&format!("/api/transcripts/{sid}"), t).await.status,
            404
        );
    };
    let stored_again = |reply: e2e_tests::client::Reply, message: &str| {
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.body["message"], message, "{}", reply.text);
    };
    lose().await;
    let redone = c
        .post(
            &format!("/api/enhanced-transcripts/{sid}/re-enhance"),
            t,
            &json!({}),
        )
        .await;
    stored_again(redone, "Transcript re-enhanced");
    lose().await;
    let fetched = c
        .post(
            &format!("/api/transcripts/fetch-and-store/{sid}"),
            t,
            &json!({}),
        )
        .await;
    stored_again(fetched, "Transcript fetched and stored");
    lose().await;
    let fetched = c
        .post(
            "/api/enhanced-twilio-transcripts/fetch-and-store",
            t,
            &json!({"transcript_sid": sid}),
        )
        .await;
    stored_again(fetched, "Enhanced transcript fetched and stored");
    lose().await;
    let imported = c
        .post("/api/import-twilio-transcripts", t, &json!({}))
        .await;
    assert_eq!(imported.status, 200, "{}", imported.text);
    assert_eq!(imported.body["results"]["success"], json!([sid]));
    let enhanced = c
        .post(
            "/api/enhanced-twilio-transcripts/fetch-and-store",
            t,
            &json!({"transcript_sid": sid}),
        )
        .await;
    assert_eq!(
        enhanced.body["message"], "Enhanced transcript already exists",
        "{}",
        enhanced.text
    );

    // Delete: here and at Voice Intelligence, and the call no longer links it.
    let deleted = c
        .json(
            reqwest::Method::DELETE,
            &format!("/twilio-transcripts/{sid}"),
            t,
            &json!({}),
        )
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    assert_eq!(deleted.body["message"], "Transcript deleted");
    assert!(vi.transcripts()[0].deleted);
    assert_eq!(
        c.get(&format!("/api/enhanced-transcripts/{sid}"), t)
            .await
            .status,
        404
    );
    let unlinked = c.get(&format!("/calls/{call_id}"), t).await.body;
    assert!(unlinked["transcript_sid"].is_null(), "{unlinked}");
}

#[tokio::test]
async fn a_summary_is_asked_of_openai_once_then_served_from_the_store() {
    let sim = TwilioSim::start().await;
    let vi = IntelligenceSim::start(&sim).await;
    let openai = OpenAiHttpSim::start().await;
    let stack = TestStack::start_with(
        Options::default()
            .development_calls(&sim)
            .jobs(3)
            .env("TWILIO_INTELLIGENCE_SERVICE_SID", &vi.service_sid)
            .env("TWILIO_INTELLIGENCE_BASE_URL", &vi.base_url)
            .env("OPENAI_API_KEY", &openai.api_key)
            .env("OPENAI_API_BASE_URL", &openai.base_url)
            .env("OPENAI_SUMMARY_MODEL", "gpt-summary-test"),
    )
    .await;
    vi.set_webhook(
        &format!("{}/twilio-transcripts/webhook-callback", stack.public_url),
        WebhookStyle::Json,
    );
    let c = stack.client();
    let s = c.register(&email("vi-sum")).await;
    let t = Some(s.access_token.as_str());
    let call = call_with_transcript(&c, &s, "completed").await;
    let sid = call["transcript_sid"].as_str().unwrap().to_string();
    let path = format!("/api/transcripts/{sid}/summarize");

    let other = c.register(&email("vi-sum-other")).await;
    assert_eq!(
        c.post(&path, Some(&other.access_token), &json!({}))
            .await
            .status,
        404
    );

    let first = c.post(&path, t, &json!({})).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["cached"], false);
    let summary = first.body["summary"].as_str().unwrap().to_string();
    assert!(summary.contains("Tuesday"), "{summary}");
    let second = c.post(&path, t, &json!({})).await;
    assert_eq!(second.body["cached"], true);
    assert_eq!(second.body["summary"], summary.as_str());
    let asked = openai.received();
    assert_eq!(asked.len(), 1, "asked once");
    assert_eq!(asked[0].body["model"], "gpt-summary-test");
    assert!(
        asked[0].body["input"]
            .as_str()
            .unwrap()
            .contains("Customer: Oh hi")
    );
    assert_eq!(openai.violations(), Vec::<String>::new());
    let enhanced = c
        .get(&format!("/api/enhanced-transcripts/{sid}"), t)
        .await
        .body;
    assert_eq!(enhanced["summary"], summary.as_str());

    // A re-enhance keeps it.
    let redone = c
        .post(
            &format!("/api/enhanced-transcripts/{sid}/re-enhance"),
            t,
            &json!({}),
        )
        .await;
    assert_eq!(redone.body["transcript_data"]["summary"], summary.as_str());
}
