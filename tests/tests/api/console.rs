//! The web console (`console/`) in a real headless Chromium (Debian's `chromium`, driven by
//! `console/e2e/console.e2e.mjs` with playwright-core) against the local stack with every
//! simulator: register, create a scenario, place a call and see it complete in the history,
//! talk in the browser with a fake microphone (the SDP exchange with the simulated OpenAI) and
//! see the session recorded, then both calls counted in the dashboard's usage. Screenshots of
//! the main pages go to `target/console-screenshots/`.
//!
//! The console is served from an origin of its own with a `config.json` naming the API, as
//! CloudFront serves it, so every request crosses origins under the API's CORS rules
//! (`FRONTEND_URL`); the local stack's own `/console/` is checked by the smoke test.
//!
//! `make test` builds the console first (`npm ci && npm run build` in `console/`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Json;
use axum::routing::get;
use bridge::Settings;
use e2e_tests::Options;
use e2e_tests::bridge_rig::BridgeRig;
use e2e_tests::realtime_sim::SimConfig;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where the screenshots go: the build's `target/` (CI points `CARGO_TARGET_DIR` elsewhere).
fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repository().join("target"))
        .join("console-screenshots")
}

#[tokio::test]
async fn the_console_drives_the_platform_in_a_real_browser() {
    let console = repository().join("console");
    assert!(
        console.join("dist/index.html").exists(),
        "the console is not built: run `npm ci && npm run build` in console/ (make test does)"
    );
    let site = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the console's origin");
    let origin = format!("http://{}", site.local_addr().expect("address"));
    // As `make run`: no CAPTCHA (the widget's script is on the provider's servers).
    let options = Options::default()
        .env("CAPTCHA_DISABLED", "true")
        .env("FRONTEND_URL", &origin);
    let rig = BridgeRig::start(SimConfig::default(), Settings::default(), options).await;
    rig.answer_every_call();
    let config = serde_json::json!({"apiBaseUrl": rig.stack.base_url});
    let files = axum::Router::new()
        .route(
            "/console/config.json",
            get(move || async move { Json(config) }),
        )
        .merge(infra::console::routes(console.join("dist")));
    tokio::spawn(async move { axum::serve(site, files).await });
    let screenshots = screenshot_dir();
    // No picture of an earlier run stays behind (a failure.png, say).
    let _ = std::fs::remove_dir_all(&screenshots);
    std::fs::create_dir_all(&screenshots).expect("screenshot folder");
    let url = format!("{origin}/console/");
    let run = tokio::process::Command::new("node")
        .arg("e2e/console.e2e.mjs")
        .current_dir(&console)
        .env("CONSOLE_URL", &url)
        .env("SCREENSHOT_DIR", &screenshots)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("the browser test finished within 4 minutes")
        .expect("node runs (install-tools.sh installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}"
    );

    // The browser's session is the one OpenAI answered, and it was recorded and ended.
    let call_id = stdout
        .lines()
        .find_map(|line| line.strip_prefix("BROWSER_CALL_ID="))
        .expect("the script printed the browser call's id")
        .trim();
    let rtc_calls = rig.openai_http.rtc_calls();
    assert_eq!(rtc_calls.len(), 1, "{rtc_calls:?}");
    assert!(
        rtc_calls[0].hung_up,
        "hanging up in the console ended the call at OpenAI"
    );
    assert!(
        rig.openai_http.violations().is_empty(),
        "{:?}",
        rig.openai_http.violations()
    );
    rig.assert_no_spec_violations();
    assert!(call_id.len() == 26, "{call_id}");
    for page in [
        "sign-in",
        "dashboard",
        "scenarios",
        "numbers",
        "calls",
        "talk",
        "usage",
    ] {
        let shot = screenshots.join(format!("{page}.png"));
        let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(size > 1000, "{} was not written", shot.display());
    }
}
