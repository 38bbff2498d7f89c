//! `keyless-stack`: the whole platform with every provider simulated, for trying the web console
//! with no accounts at all ([`e2e_tests::platform_rig::PlatformRig`]): local AWS (moto), the API
//! and the console, the job worker, the media bridge, the Twilio and Voice Intelligence
//! simulators (calls are answered by a caller who says a few words and hangs up, then
//! transcribed), the OpenAI simulators (phone calls, and browser sessions: the SDP exchange and
//! the sideband; no audio reaches the browser, the simulator has no media) and Google's
//! (its consent page redirects to `api.test`, which only the tests resolve). Runs until Ctrl-C.
//!
//! Usage: `make console && cargo run -p e2e-tests --bin keyless-stack`

use e2e_tests::Options;
use e2e_tests::platform_rig::PlatformRig;

#[tokio::main]
async fn main() {
    let platform = PlatformRig::start(Options::default()).await;
    let base = &platform.rig.stack.base_url;
    println!("Web console  {base}/console/");
    println!("API docs     {base}/docs");
    println!("(every provider simulated; Ctrl-C stops)");
    let _ = tokio::signal::ctrl_c().await;
}
