//! Provider outages. With Twilio's REST API or OpenAI's HTTP API refusing (429, 5xx), doing the
//! work but answering after the client's timeout, or cut off in the middle of an answer, every
//! endpoint that needs them answers a clear problem (502 with a detail saying to retry, never a
//! 500 or a hang), sends a request that is not idempotent only once, and leaves the tenant's
//! items as they were, except the record of a call it could not place and a purchase whose
//! outcome it cannot know yet, which is listed as `provisioning` until it is settled against
//! what Twilio says. (OpenAI's late answers are not tried: its one timeout is 25 s.)

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use bridge::Settings;
use e2e_tests::bridge_rig::BridgeRig;
use e2e_tests::client::Reply;
use e2e_tests::outage::Outage;
use e2e_tests::realtime_sim::SimConfig;
use e2e_tests::{Client, Options};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

const OFFER: &str = include_str!("../../fixtures/chromium-offer.sdp");

/// Longer than the stack's Twilio timeout (1 s a try): every try is done but times out.
const LATE: Duration = Duration::from_millis(2500);

/// A rig whose Twilio requests give up after a second a try.
async fn rig() -> BridgeRig {
    BridgeRig::start(
        SimConfig::default(),
        Settings::default(),
        Options::default().env("TWILIO_TIMEOUT_SECONDS", "1"),
    )
    .await
}

fn assert_clear_502(reply: &Reply, what: &str) {
    reply.assert_problem(502, &["retry", "reconciled"], what);
}

async fn tenant_id(c: &Client, token: &str) -> String {
    c.get("/users/me", Some(token)).await.body["id"]
        .as_str()
        .expect("an id")
        .to_string()
}

/// Numbers the simulator offers in an area code.
async fn available(c: &Client, token: &str, count: usize) -> Vec<String> {
    let found = c
        .post(
            "/twilio/search-numbers",
            Some(token),
            &json!({"area_code": "415", "limit": count}),
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.text);
    found.body["availableNumbers"]
        .as_array()
        .expect("numbers")
        .iter()
        .map(|n| n["phoneNumber"].as_str().expect("a number").to_string())
        .collect()
}

async fn owned_numbers(c: &Client, token: &str) -> Vec<Value> {
    let listed = c.get("/twilio/user-numbers", Some(token)).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    listed.body.as_array().cloned().unwrap_or_default()
}

/// Makes a `provisioning` reservation old enough to be reconciled (a purchase in flight is
/// given a minute before the listing asks Twilio about it).
async fn settle_later(rig: &BridgeRig, tenant_id: &str, number: &str) {
    rig.stack
        .dynamodb()
        .await
        .update_item()
        .table_name(&rig.stack.table)
        .key("PK", AttributeValue::S(format!("TENANT#{tenant_id}")))
        .key("SK", AttributeValue::S(format!("NUMBER#{number}")))
        .update_expression("SET created_at = :long_ago")
        .expression_attribute_values(
            ":long_ago",
            AttributeValue::S("2026-01-01T00:00:00Z".into()),
        )
        .send()
        .await
        .expect("backdate the reservation");
}

#[tokio::test]
async fn twilio_outages_answer_502_and_change_nothing_they_cannot_settle() {
    let rig = rig().await;
    let c = rig.stack.client();
    let token = rig.session.access_token.as_str();
    let t = Some(token);
    let tenant = tenant_id(&c, token).await;
    let offered = available(&c, token, 8).await;
    let kept = &offered[0];
    let bought = c
        .post(
            "/twilio/provision-number",
            t,
            &json!({"phone_number": kept}),
        )
        .await;
    assert_eq!(bought.status, 201, "{}", bought.text);

    let outages = [
        Outage::Status(429),
        Outage::Status(503),
        Outage::CutOff,
        Outage::Late(LATE),
    ];
    for (n, outage) in outages.into_iter().enumerate() {
        let what = |endpoint: &str| format!("{endpoint} during {outage:?}");
        let before = rig.stack.partition(&tenant).await;
        rig.twilio.set_outage(Some(outage));

        // Reads: nothing to change.
        let search = c
            .post("/twilio/search-numbers", t, &json!({"area_code": "415"}))
            .await;
        assert_clear_502(&search, &what("search"));
        let release = c
            .delete(
                &format!("/twilio/release-number/{}", kept.replace('+', "%2B")),
                t,
            )
            .await;
        assert_clear_502(&release, &what("release"));
        assert_eq!(
            rig.stack.partition(&tenant).await,
            before,
            "{}",
            what("reads")
        );

        // A purchase: refused (429) gives the reservation back; an unknown outcome leaves it
        // for the next listing to settle against what Twilio says.
        let wanted = &offered[n + 1];
        let purchase = c
            .post(
                "/twilio/provision-number",
                t,
                &json!({"phone_number": wanted}),
            )
            .await;
        assert_clear_502(&purchase, &what("provision"));

        // A call: placed at most once, and recorded as failed with the reason.
        let creates_before = rig.twilio.calls().len();
        let call = c.get("/make-call/%2B14155550123/default", t).await;
        assert_clear_502(&call, &what("make-call"));

        rig.twilio.set_outage(None);
        if outage == Outage::Late(LATE) {
            // Twilio did what the timed-out requests asked, after the platform gave up.
            tokio::time::sleep(LATE).await;
        }
        let created = rig.twilio.calls().len() - creates_before;
        let expected = usize::from(outage == Outage::Late(LATE));
        assert_eq!(
            created,
            expected,
            "{}: a create-call is never retried",
            what("make-call")
        );
        let history = c.get("/calls?limit=1", t).await;
        let recorded = &history.body["calls"][0];
        assert!(
            recorded["error"].is_string(),
            "{}: {recorded}",
            what("make-call")
        );

        let numbers = owned_numbers(&c, token).await;
        let listed = |number: &str| numbers.iter().find(|n| n["phoneNumber"] == number).cloned();
        assert!(
            listed(kept).is_some(),
            "{}: the kept number is still owned",
            what("release")
        );
        if let Some(unsettled) = listed(wanted) {
            // Not shown as bought while nobody knows; settled once no purchase can be in flight.
            assert_eq!(unsettled["status"], "provisioning", "{}", what("provision"));
            settle_later(&rig, &tenant, wanted).await;
        }
        let numbers = owned_numbers(&c, token).await;
        let owns = numbers.iter().any(|n| n["phoneNumber"] == wanted.as_str());
        let twilio_sold_it = rig
            .twilio
            .numbers()
            .iter()
            .any(|s| &s.phone_number == wanted);
        assert_eq!(
            owns,
            twilio_sold_it,
            "{}: the listing agrees with Twilio",
            what("provision")
        );
        assert_eq!(
            twilio_sold_it,
            outage == Outage::Late(LATE),
            "{}",
            what("provision")
        );
    }

    // And with the outage over, everything works again.
    let release = c
        .delete(
            &format!("/twilio/release-number/{}", kept.replace('+', "%2B")),
            t,
        )
        .await;
    assert!(release.status < 300, "{}", release.text);
    assert_eq!(available(&c, token, 1).await.len(), 1);
}

#[tokio::test]
async fn openai_outages_answer_502_and_record_nothing() {
    let rig = rig().await;
    let c = rig.stack.client();
    let token = rig.session.access_token.as_str();
    let t = Some(token);
    let tenant = tenant_id(&c, token).await;

    for outage in [Outage::Status(429), Outage::Status(500), Outage::CutOff] {
        let what = |endpoint: &str| format!("{endpoint} during {outage:?}");
        let session = c
            .post("/realtime/session", t, &json!({"scenario": "default"}))
            .await;
        assert_eq!(session.status, 201, "{}", session.text);
        let before = rig.stack.partition(&tenant).await;
        rig.openai_http.set_outage(Some(outage));

        let offer =
            json!({"session_id": session.body["session_id"], "type": "offer", "sdp": OFFER});
        let signal = c.post("/realtime/signal", t, &offer).await;
        assert_clear_502(&signal, &what("signal"));

        let upload = Form::new().part(
            "file",
            Part::bytes(vec![7u8; 100])
                .file_name("a.webm")
                .mime_str("audio/webm")
                .expect("a content type"),
        );
        let transcribe = c
            .send(
                c.request(reqwest::Method::POST, "/whisper/transcribe")
                    .bearer_auth(token)
                    .multipart(upload),
            )
            .await;
        assert_clear_502(&transcribe, &what("whisper"));

        rig.openai_http.set_outage(None);
        let after = rig.stack.partition(&tenant).await;
        // The session was used up by the offer; nothing else changed and no call was recorded.
        let used_session = |items: &[String]| {
            items
                .iter()
                .filter(|i| !i.contains("RTCSESSION#"))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            used_session(&after),
            used_session(&before),
            "{}",
            what("signal")
        );
        assert!(rig.openai_http.rtc_calls().is_empty(), "{}", what("signal"));
    }
    assert_eq!(
        c.get("/calls", t).await.body["calls"],
        json!([]),
        "no browser call was recorded"
    );
}
