//! Generated API tests: schemathesis (PyPI, installed by `install-tools.sh`) against the local
//! stack's `/openapi.json`, with every provider simulated ([`PlatformRig`]) so no endpoint
//! answers "not configured". Two tenants each get a run with their own token at the same time,
//! over the same table; schemathesis's `ignored_auth` check sends every secured request
//! without the token too. Every phase runs: the examples, the coverage of each parameter's
//! edges, random fuzzing, and stateful sequences along the document's links.
//!
//! What must hold: no 5xx, no response that breaks its documented schema, content type or
//! headers, no undocumented status code, nothing secured that answers without the token, and
//! at least 5,000 generated requests. Where it finds a problem, the code or the document is
//! fixed, never the check. Seeds are fixed so a run can be repeated
//! (`SCHEMATHESIS_SEED=<n>` explores elsewhere); reports go to `target/schemathesis/`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use e2e_tests::client::email;
use e2e_tests::platform_rig::PlatformRig;
use e2e_tests::{Options, TestStack};

/// The checks that must pass (see the module docs).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_schema_conformance,response_headers_conformance,ignored_auth,use_after_free,\
ensure_resource_availability";
/// Test cases per operation and phase; two runs of this size generate well over 5,000.
const EXAMPLES_PER_OPERATION: &str = "30";
const MIN_GENERATED: usize = 5_000;

fn report_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("schemathesis")
}

/// One schemathesis run as the tenant whose token this is; returns how many test cases it
/// generated, or fails the test with its report.
async fn run(stack: &TestStack, token: &str, seed: u64, name: &str) -> usize {
    let base_url = &stack.base_url;
    let seed = std::env::var("SCHEMATHESIS_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(seed, |s| s + seed);
    let reports = report_dir().join(name);
    std::fs::create_dir_all(&reports).expect("create the report directory");
    let run = tokio::process::Command::new("schemathesis")
        // Its example cache (`.schemathesis/`) goes beside the reports, not into the checkout.
        .current_dir(&reports)
        .args(["run", &format!("{base_url}/openapi.json")])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", CHECKS])
        .args(["--max-examples", EXAMPLES_PER_OPERATION])
        .args(["--seed", &seed.to_string()])
        // One worker each: Hypothesis's lambda-description cache is not thread-safe (a run with two
        // workers failed inside it, "AST constructor recursion depth mismatch"); the two tenants'
        // runs go side by side instead.
        .args(["--workers", "1", "--no-shrink", "--request-timeout", "20"])
        .args(["--report", "junit", "--report-dir"])
        .arg(&reports)
        .env("NO_COLOR", "1")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(600), run)
        .await
        .expect("schemathesis finished within 10 minutes")
        .expect("schemathesis runs (install-tools.sh installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis ({name}, seed {seed}) found problems:\n{stdout}\n{}\n\
         the stack's error log lines (what a 5xx above came from):\n{}",
        String::from_utf8_lossy(&output.stderr),
        error_lines(stack)
    );
    // "  3916 generated, 3916 passed, 78 skipped"
    stdout
        .lines()
        .find_map(|line| line.trim().split_once(" generated, ")?.0.parse().ok())
        .unwrap_or_else(|| panic!("no count of generated test cases in:\n{stdout}"))
}

/// The stack's log lines at level ERROR: a 5xx answers with a generic problem, and the cause
/// is only in the log.
fn error_lines(stack: &TestStack) -> String {
    stack
        .logs
        .contents()
        .lines()
        .filter(|line| line.contains(r#""level":"ERROR""#))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_or_contract_break() {
    let platform = PlatformRig::start(Options::default()).await;
    let stack = &platform.rig.stack;
    let c = stack.client();
    let (a, b) = (
        c.register(&email("fuzz-a")).await,
        c.register(&email("fuzz-b")).await,
    );
    let (generated_a, generated_b) = tokio::join!(
        run(stack, &a.access_token, 1_001, "tenant-a"),
        run(stack, &b.access_token, 2_002, "tenant-b"),
    );
    let generated = generated_a + generated_b;
    println!("schemathesis: {generated} generated requests ({generated_a} + {generated_b})");
    assert!(
        generated >= MIN_GENERATED,
        "only {generated} requests were generated"
    );
}
