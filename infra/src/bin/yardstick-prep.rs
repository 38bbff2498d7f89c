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

use shared::allowance::CallLength;
use shared::config::{Config, Env};
use shared::domain::calls::Direction;
use shared::domain::receptionist::AnsweredBy;
use shared::store::calls::CallRecord;

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
    // As the API says for a tenant with minutes to spare: the longest call.
    let longest = CallLength {
        limit: state.config.telephony.max_call_duration,
        by_cap: false,
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
    for i in 0..calls {
        let mut record = CallRecord::new(
            Direction::Outbound,
            "+14155550000",
            "+14155550123",
            "default",
        );
        record.call_sid = Some(format!("CA{:032x}", FIRST_CALL + i as u128));
        let tenant = format!("bench-tenant-{}", i % TENANTS);
        state.store.create_inbound_call(&tenant, &record).await?;
        // A person answered, as answering-machine detection says within seconds of a real
        // call's answer: the bridge greets at once instead of holding the callee's audio for
        // a verdict the yardstick never posts.
        state
            .store
            .set_answered_by(&tenant, &record.call_id, AnsweredBy::Human)
            .await?;
        let token = state.stream_tokens.issue(
            &tenant,
            &record.call_id,
            "default",
            Direction::Outbound,
            longest,
        )?;
        writeln!(out, "{}", serde_json::json!({ "token": token }))?;
    }
    out.flush()?;
    println!("{calls} calls ready in table {}", state.store.table());
    Ok(())
}
