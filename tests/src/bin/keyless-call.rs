//! `keyless-call`: one whole phone call on this machine with no accounts at all.
//!
//! Starts local AWS (moto), the API, the media bridge, the Twilio simulator and the OpenAI
//! Realtime simulator; registers a tenant; places an outbound call through the API exactly as
//! the frontend would. Simulated Twilio dials, opens the Media Stream named in the TwiML, and a
//! scripted caller talks to the simulated model through the bridge. Prints what happened.
//!
//! Usage: `cargo run -p e2e-tests --bin keyless-call`

use std::time::Duration;

use bridge::Settings;
use e2e_tests::Options;
use e2e_tests::bridge_rig::BridgeRig;
use e2e_tests::media_sim::{CallScript, Segment};
use e2e_tests::realtime_sim::SimConfig;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rig = BridgeRig::start(
        SimConfig::default(),
        Settings::default(),
        Options::default(),
    )
    .await;
    println!("API          {}", rig.stack.base_url);
    println!("bridge       {}", rig.bridge_url);
    println!("Twilio sim   {}", rig.twilio.base_url);
    println!("OpenAI sim   {}", rig.openai.url);
    rig.twilio.stream_calls(CallScript {
        segments: vec![
            Segment::Silence { ms: 1500 },
            Segment::Speech { ms: 700 },
            Segment::Silence { ms: 2000 },
            Segment::Speech { ms: 700 },
            Segment::Silence { ms: 2000 },
            Segment::Stop,
        ],
        speech_amplitude: 8000,
    });
    let c = rig.stack.client();
    let placed = c
        .get(
            "/make-call/%2B14155550123/appointment_reminder",
            Some(&rig.session.access_token),
        )
        .await;
    println!(
        "\nGET /make-call/+14155550123/appointment_reminder -> {} {}",
        placed.status, placed.text
    );
    let sid = placed.body["call_sid"]
        .as_str()
        .ok_or("no call placed")?
        .to_string();
    let call_id = placed.body["call_id"]
        .as_str()
        .ok_or("no call id")?
        .to_string();
    rig.twilio
        .wait_for_call_done(&sid, Duration::from_secs(60))
        .await;

    let heard = rig
        .twilio
        .media_report(&sid)
        .ok_or("the media stream never ran")?;
    let model = rig.openai.sessions();
    println!(
        "\ncaller sent   {} frames ({} ms of audio)",
        heard.frames_sent,
        heard.frames_sent * 20
    );
    println!(
        "model heard   {} appends, {} bytes",
        model[0].append_count, model[0].appended_bytes
    );
    println!(
        "caller heard  {} frames of agent audio, items {:?}",
        heard.media_received, heard.heard_ms
    );
    println!(
        "spec violations in the bridge's OpenAI events: {}",
        rig.openai.violations().len()
    );
    let record = rig.call_record(&call_id).await;
    let summary = rig.bridge_summary(&call_id).await;
    println!(
        "\ncall record   status {} duration {}s",
        record["status"], record["duration_seconds"]
    );
    println!("bridge        {summary}");
    Ok(())
}
