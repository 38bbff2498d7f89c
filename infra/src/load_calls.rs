//! Calls made ready for the media bridge's load tools (`yardstick-prep`, `bridge-load`): the
//! record the API writes when a call is placed, and the stream token its TwiML would carry.

use shared::AppState;
use shared::allowance::CallLength;
use shared::domain::calls::Direction;
use shared::domain::receptionist::AnsweredBy;
use shared::error::Result;
use shared::store::calls::CallRecord;

/// Records an outbound call of the `default` scenario for `tenant` with Twilio's `call_sid`,
/// answered by a person, and returns its stream token.
///
/// The person's answer is what answering-machine detection says within seconds of a real
/// call's answer; the load tools post no verdict, and without one the bridge would hold the
/// callee's audio for the whole hold. The token gives the call the longest length, as the API
/// does for a tenant with minutes to spare.
pub async fn ready(state: &AppState, tenant: &str, call_sid: &str) -> Result<String> {
    let mut record = CallRecord::new(
        Direction::Outbound,
        "+14155550000",
        "+14155550123",
        "default",
    );
    record.call_sid = Some(call_sid.to_string());
    state.store.create_inbound_call(tenant, &record).await?;
    state
        .store
        .set_answered_by(tenant, &record.call_id, AnsweredBy::Human)
        .await?;
    let longest = CallLength {
        limit: state.config.telephony.max_call_duration,
        by_cap: false,
    };
    state.stream_tokens.issue(
        tenant,
        &record.call_id,
        "default",
        Direction::Outbound,
        longest,
    )
}
