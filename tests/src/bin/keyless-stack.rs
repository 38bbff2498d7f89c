//! `keyless-stack`: the whole platform with every provider simulated, for trying the web console
//! with no accounts at all: local AWS (moto), the API and the console, the media bridge, the
//! Twilio simulator (calls are answered by a caller who says a few words and hangs up) and the
//! OpenAI simulators (phone calls, and browser sessions: the SDP exchange and the sideband; no
//! audio reaches the browser, the simulator has no media). Runs until Ctrl-C.
//!
//! Usage: `make console && cargo run -p e2e-tests --bin keyless-stack`

use bridge::Settings;
use e2e_tests::Options;
use e2e_tests::bridge_rig::BridgeRig;
use e2e_tests::realtime_sim::SimConfig;

#[tokio::main]
async fn main() {
    let rig = BridgeRig::start(
        SimConfig::default(),
        Settings::default(),
        // As `make run`: no CAPTCHA (the widget's script is on the provider's servers).
        Options::default().env("CAPTCHA_DISABLED", "true"),
    )
    .await;
    rig.answer_every_call();
    println!("Web console  {}/console/", rig.stack.base_url);
    println!("API docs     {}/docs", rig.stack.base_url);
    println!("(every provider simulated; Ctrl-C stops)");
    let _ = tokio::signal::ctrl_c().await;
}
