//! Ending a live call on the platform's initiative: a tenant's hang-up, or an administrator's
//! suspension of the tenant. A phone call is ended at Twilio (hung up if answered, cancelled
//! if still ringing), a browser session at OpenAI; either way the final status then arrives
//! as for any call (Twilio's status callback, the media bridge seeing the sideband close).

use crate::calling;
use crate::domain::calls::Direction;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::calls::{CallFilter, CallRecord};

/// How far back a call may have started and still be live: the longest call, and its ringing.
const LIVE_WINDOW_MS: u64 = 3 * 3600 * 1000;

/// Ends `call`; 409 if it has already ended.
pub async fn hang_up(state: &AppState, tenant_id: &str, call: &CallRecord) -> Result<()> {
    if call.status.is_final() {
        return Err(ended());
    }
    if call.direction == Direction::Browser {
        return hang_up_browser_call(state, tenant_id, call).await;
    }
    let Some(sid) = &call.call_sid else {
        return Err(ended());
    };
    calling::end_at_twilio(calling::twilio(state)?, sid, call.status)
        .await
        .map_err(|e| calling::twilio_error(e, "call_id"))
}

/// Ends every call of the tenant that is still live, side by side (so the time it takes is
/// one call's, however many there are); how many were ended. A call that cannot be ended is
/// logged and the others are still ended.
pub async fn hang_up_all(state: &AppState, tenant_id: &str) -> Result<u32> {
    let since = (chrono::Utc::now().timestamp_millis() as u64).saturating_sub(LIVE_WINDOW_MS);
    let filter = CallFilter::new(None, None, Some(since), None).map_err(Error::Validation)?;
    let mut live = Vec::new();
    let mut cursor = None;
    loop {
        let (calls, next) = state
            .store
            .list_calls(tenant_id, &filter, 100, cursor.as_deref())
            .await?;
        live.extend(calls.into_iter().filter(|c| !c.status.is_final()));
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut ending = tokio::task::JoinSet::new();
    for call in live {
        let (state, tenant_id) = (state.clone(), tenant_id.to_string());
        ending.spawn(async move {
            let result = hang_up(&state, &tenant_id, &call).await;
            if let Err(e) = &result {
                tracing::warn!(call_id = %call.call_id, error = %e, "could not end a live call");
            }
            result.is_ok()
        });
    }
    let mut ended = 0;
    while let Some(done) = ending.join_next().await {
        ended += u32::from(done.unwrap_or(false));
    }
    Ok(ended)
}

fn ended() -> Error {
    Error::Conflict("The call has already ended".into())
}

/// A browser session ends at OpenAI; the media bridge then sees its sideband close and
/// completes the record.
async fn hang_up_browser_call(state: &AppState, tenant_id: &str, call: &CallRecord) -> Result<()> {
    let rtc_call_id = state
        .store
        .rtc_call_id(tenant_id, &call.call_id)
        .await?
        .ok_or_else(ended)?;
    let openai = state.openai.as_ref().ok_or_else(|| {
        Error::Unavailable("Browser sessions are not configured on this deployment".into())
    })?;
    openai
        .hang_up_realtime_call(&rtc_call_id)
        .await
        .map_err(|e| {
            tracing::warn!(call_id = %call.call_id, status = e.status, "OpenAI did not end a browser call");
            Error::Upstream("The voice service is unavailable; please retry shortly".into())
        })
}
