use axum::extract::State;
use axum::response::Response;
use shared::domain::calls::CallStatus;
use shared::domain::calls::Direction;
use shared::domain::phone::E164;
use shared::http::TwilioForm;
use shared::store::calls::CallRecord;
use shared::twilio::twiml::say_and_hangup;
use shared::{AppState, Result};
use shared::{allowance, calling};

use super::twiml;

const NOT_IN_SERVICE: &str = "Sorry, the number you have called is not in service. Goodbye.";
const UNAVAILABLE: &str = "Sorry, the number you have called cannot take calls at the moment. Please try again later. Goodbye.";

/// The inbound scenario of the tenant, falling back to `default` when none was chosen or the
/// chosen custom scenario has since been deleted.
async fn inbound_scenario(state: &AppState, tenant_id: &str) -> Result<String> {
    if let Some(chosen) = state.store.inbound_scenario(tenant_id).await?
        && calling::ensure_scenario(state, tenant_id, &chosen)
            .await
            .is_ok()
    {
        return Ok(chosen);
    }
    Ok("default".into())
}

/// Voice webhook of provisioned numbers: finds the called number's tenant and that tenant's
/// inbound scenario, records the call, and connects it to the media bridge. A number no tenant
/// owns gets a polite message, not an error; so does a call to a tenant that is suspended or
/// out of monthly minutes (its call is recorded with the reason).
#[utoipa::path(post, path = "/twilio/voice/inbound", tag = "twilio-webhooks",
    request_body(content_type = "application/x-www-form-urlencoded", description = "Twilio's voice webhook form (To, From, CallSid, ...)"),
    responses(
        (status = 200, description = "TwiML", content_type = "text/xml"),
        (status = 403, description = "Missing or invalid X-Twilio-Signature", body = shared::error::Problem),
    ))]
pub async fn inbound(State(state): State<AppState>, form: TwilioForm) -> Result<Response> {
    let call_sid = crate::callbacks::call_sid(&form)?;
    let from = form.get("From").unwrap_or("anonymous");
    let Some(to) = form.get("To").and_then(|to| E164::parse(to, "To").ok()) else {
        return Ok(twiml(say_and_hangup(NOT_IN_SERVICE)));
    };
    let Some(tenant_id) = state.store.number_owner(to.as_str()).await? else {
        tracing::info!("inbound call to a number no tenant owns");
        return Ok(twiml(say_and_hangup(NOT_IN_SERVICE)));
    };
    let allowed = allowance::check(&state, &tenant_id).await?;
    let scenario = inbound_scenario(&state, &tenant_id).await?;
    let mut call = CallRecord::new(Direction::Inbound, from, to.as_str(), &scenario);
    call.call_sid = Some(call_sid.as_str().to_string());
    call.status = form
        .get("CallStatus")
        .and_then(|s| s.parse().ok())
        .unwrap_or(CallStatus::Ringing);
    // A repeated delivery of this webhook finds the call recorded the first time; a status
    // callback that came first (the caller hung up at once) is applied as the call is linked.
    let call = state.store.create_inbound_call(&tenant_id, &call).await?;
    let length = match allowed {
        Ok(length) => length,
        Err(refusal) => {
            // The tenant's history says why; the caller hears nothing of the tenant's account.
            tracing::info!(call_id = %call.call_id, "inbound call refused: the tenant may not take calls");
            state
                .store
                .fail_call(&tenant_id, &call.call_id, &refusal.message())
                .await?;
            return Ok(twiml(say_and_hangup(UNAVAILABLE)));
        }
    };
    tracing::info!(call_id = %call.call_id, "inbound call answered");
    if call.status.is_final() {
        // Its final status came first and was parked (the caller hung up at once).
        shared::events::call_completed(&state, &tenant_id, &call).await;
    }
    Ok(twiml(calling::stream_twiml(
        &state,
        &tenant_id,
        &call,
        Direction::Inbound,
        true,
        length,
    )?))
}
