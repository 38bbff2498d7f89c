//! `yardstick-prep N FILE`: readies the media bridge for N calls of relay-bench's yardstick.
//!
//! The yardstick (`../shared/relay-bench`) opens call i with the Call SID `CA` + 32 hex digits
//! of `0xca0000 + i` and sends line i of its `--params-file` as the `start` message's
//! `customParameters`. The bridge admits a stream only for a call it has a record of and with
//! a stream token for that call, as the API issues them when it places a call; so this writes
//! one call record per Call SID into the table the environment names, and one
//! `{"token": ...}` line per call into FILE. It reads the bridge's own configuration from the
//! environment (TABLE_NAME, AWS_ENDPOINT_URL, STREAM_TOKEN_SECRET, ...), so the tokens verify.
//! Used by `infra/scripts/relay-bench.sh`.

use std::io::Write;

use shared::config::{Config, Env};

/// The first Call SID the yardstick uses, as a number (`CA` + 32 hex digits of it + i).
const FIRST_CALL: u128 = 0xca0000;
const TENANTS: usize = 50;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: yardstick-prep N FILE";
    let calls: usize = args.next().and_then(|n| n.parse().ok()).ok_or(usage)?;
    let file = args.next().ok_or(usage)?;

    let state = shared::AppState::new(Config::load(&Env).await?).await;
    shared::store::schema::ensure_table(state.store.client(), state.store.table()).await?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
    for i in 0..calls {
        let tenant = format!("bench-tenant-{}", i % TENANTS);
        let sid = format!("CA{:032x}", FIRST_CALL + i as u128);
        let token = infra::load_calls::ready(&state, &tenant, &sid).await?;
        writeln!(out, "{}", serde_json::json!({ "token": token }))?;
    }
    out.flush()?;
    println!("{calls} calls ready in table {}", state.store.table());
    Ok(())
}
