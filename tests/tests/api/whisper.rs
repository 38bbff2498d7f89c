//! `POST /whisper/transcribe`: an upload goes to OpenAI's `/audio/transcriptions` (checked
//! against the spec by the simulator) and its text comes back; files that are missing, not
//! audio or too big for a Lambda request get a clear 4xx naming the field or the limit.

use e2e_tests::client::email;
use e2e_tests::openai_http_sim::OpenAiHttpSim;
use e2e_tests::{Client, Options, TestStack};
use reqwest::multipart::{Form, Part};

async fn upload(c: &Client, token: Option<&str>, form: Form) -> e2e_tests::client::Reply {
    let mut request = c
        .request(reqwest::Method::POST, "/whisper/transcribe")
        .multipart(form);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    c.send(request).await
}

fn audio(bytes: usize, name: &str, content_type: &str) -> Part {
    Part::bytes(vec![7u8; bytes])
        .file_name(name.to_string())
        .mime_str(content_type)
        .unwrap()
}

#[tokio::test]
async fn an_upload_is_transcribed_and_bad_ones_are_refused_clearly() {
    let openai = OpenAiHttpSim::start().await;
    let stack = TestStack::start_with(
        Options::default()
            .env("OPENAI_API_KEY", &openai.api_key)
            .env("OPENAI_API_BASE_URL", &openai.base_url),
    )
    .await;
    let c = stack.client();
    let s = c.register(&email("whisper")).await;
    let t = Some(s.access_token.as_str());

    let ok = upload(
        &c,
        t,
        Form::new()
            .part("file", audio(32_000, "memo.wav", "audio/wav"))
            .text("language", "en"),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["status"], "success");
    assert_eq!(
        ok.body["transcription"],
        "Hello, I would like to book an appointment."
    );
    let sent = openai.received();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].file_bytes, 32_000);
    assert_eq!(sent[0].body["model"], "whisper-1");
    assert_eq!(sent[0].body["language"], "en");
    assert_eq!(openai.violations(), Vec::<String>::new());

    let unauthenticated = upload(
        &c,
        None,
        Form::new().part("file", audio(10, "a.wav", "audio/wav")),
    )
    .await;
    assert_eq!(unauthenticated.status, 401);
    for (form, status, field) in [
        (Form::new().text("language", "en"), 422, "file"),
        (
            Form::new().part("file", audio(100, "notes.txt", "text/plain")),
            422,
            "file",
        ),
        (
            Form::new().part("file", audio(0, "empty.wav", "audio/wav")),
            422,
            "file",
        ),
        (
            Form::new()
                .part("file", audio(100, "a.mp3", "audio/mpeg"))
                .text("language", "english"),
            422,
            "language",
        ),
    ] {
        let r = upload(&c, t, form).await;
        assert_eq!(r.status, status, "{}", r.text);
        assert_eq!(r.error_fields(), [field], "{}", r.text);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    let big = upload(
        &c,
        t,
        Form::new().part("file", audio(5 * 1024 * 1024, "long.wav", "audio/wav")),
    )
    .await;
    assert_eq!(big.status, 413, "{}", big.text);
    assert!(
        big.body["detail"].as_str().unwrap().contains("4 MiB"),
        "{}",
        big.text
    );
    let not_multipart = c
        .send(
            c.request(reqwest::Method::POST, "/whisper/transcribe")
                .bearer_auth(&s.access_token)
                .json(&serde_json::json!({"file": "x"})),
        )
        .await;
    assert_eq!(not_multipart.status, 400, "{}", not_multipart.text);
    assert_eq!(
        openai.received().len(),
        1,
        "no refused upload reached OpenAI"
    );

    openai.fail_next(500);
    let down = upload(
        &c,
        t,
        Form::new().part("file", audio(100, "a.webm", "audio/webm")),
    )
    .await;
    assert_eq!(down.status, 502, "{}", down.text);
}

#[tokio::test]
async fn without_an_openai_key_transcription_is_unavailable() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let s = c.register(&email("whisper-off")).await;
    let r = upload(
        &c,
        Some(&s.access_token),
        Form::new().part("file", audio(100, "a.wav", "audio/wav")),
    )
    .await;
    assert_eq!(r.status, 503, "{}", r.text);
}
