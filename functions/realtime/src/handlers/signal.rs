use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shared::domain::calls::Direction;
use shared::domain::ids::CallId;
use shared::domain::scenarios;
use shared::http::{AuthUser, JsonBody};
use shared::openai::realtime_calls::{self, AcceptedCall};
use shared::sideband::AttachRequest;
use shared::store::calls::{CallRecord, OfferClaim};
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

/// A browser's SDP offer is a few kilobytes; this leaves room for many candidates.
const MAX_SDP_BYTES: usize = 32 * 1024;

/// The `from` and `to` of a browser call's record: there is no phone number.
const BROWSER_PARTY: &str = "browser";

#[derive(Deserialize, ToSchema)]
pub struct Offer {
    /// From `POST /realtime/session`.
    #[schema(required = true, nullable = false)]
    session_id: Option<String>,
    /// Always `offer`.
    #[serde(rename = "type")]
    #[schema(required = true, nullable = false)]
    kind: Option<String>,
    /// The browser's SDP offer (`RTCPeerConnection.createOffer()`), with an audio section and
    /// the `oai-events` data channel.
    #[schema(required = true, nullable = false, max_length = 32768)]
    sdp: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Answer {
    /// Always `answer`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// OpenAI's SDP answer, for `RTCPeerConnection.setRemoteDescription`.
    sdp: String,
    call_id: String,
}

struct Checked {
    call_id: CallId,
    sdp: String,
}

fn check(offer: Offer) -> Result<Checked> {
    let session_id = offer
        .session_id
        .ok_or_else(|| Error::field("session_id", "is required"))?;
    let call_id = CallId::parse(&session_id, "session_id")?;
    match offer.kind.as_deref() {
        Some("offer") => {}
        Some(_) => return Err(Error::field("type", "must be offer")),
        None => return Err(Error::field("type", "is required")),
    }
    let sdp = offer
        .sdp
        .ok_or_else(|| Error::field("sdp", "is required"))?;
    if sdp.len() > MAX_SDP_BYTES {
        return Err(Error::field(
            "sdp",
            format!("must be at most {MAX_SDP_BYTES} bytes"),
        ));
    }
    if !sdp.starts_with("v=0") || !sdp.contains("m=audio") {
        return Err(Error::field(
            "sdp",
            "must be an SDP offer (v=0) with an audio section",
        ));
    }
    Ok(Checked { call_id, sdp })
}

/// Exchange the browser's SDP offer for OpenAI's answer. The session (from `POST
/// /realtime/session`) takes one offer; the call then shows in `/calls` with direction
/// `browser`, and the platform runs its tools and hangs up at its maximum duration.
#[utoipa::path(post, path = "/realtime/signal", tag = "realtime",
    security(("bearer" = [])),
    request_body = Offer,
    responses(
        (status = 200, description = "OpenAI's answer", body = Answer),
        (status = 400, description = "Not a JSON body", body = shared::error::Problem),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "No such session, or its scenario is gone", body = shared::error::Problem),
        (status = 409, description = "The session was used or expired", body = shared::error::Problem),
        (status = 422, description = "Invalid session id, type or SDP", body = shared::error::Problem),
        (status = 502, description = "OpenAI refused or is unavailable", body = shared::error::Problem),
        (status = 503, description = "Browser sessions not configured", body = shared::error::Problem),
    ))]
pub async fn signal(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(offer): JsonBody<Offer>,
) -> Result<Json<Answer>> {
    let offer = check(offer)?;
    let (Some(openai), Some(queue)) = (&state.openai, &state.attach_queue) else {
        return Err(Error::Unavailable(
            "Browser sessions are not configured on this deployment".into(),
        ));
    };
    let tenant_id = &user.tenant_id;
    let call_id = offer.call_id.as_str();
    let session = match state.store.claim_browser_offer(tenant_id, call_id).await? {
        OfferClaim::Won(session) => session,
        OfferClaim::NotFound => return Err(Error::NotFound("Session not found".into())),
        OfferClaim::AlreadyUsed => {
            return Err(Error::Conflict(
                "This session already took an offer; start a new session".into(),
            ));
        }
        OfferClaim::Expired => {
            return Err(Error::Conflict(
                "This session expired; start a new session".into(),
            ));
        }
    };
    // Read again: the scenario may have been deleted since the session was created.
    let agent = shared::agent::resolve(&state.store, tenant_id, &session.scenario).await?;
    let config = &state.config.openai;
    let instructions =
        scenarios::instructions(&agent.persona, &agent.prompt, Direction::Browser, None);
    let session_config = realtime_calls::call_session(
        &config.model,
        &instructions,
        &agent.voice,
        &config.transcription_model,
    );
    let accepted = openai
        .create_realtime_call(&offer.sdp, &session_config)
        .await
        .map_err(|e| {
            tracing::warn!(call_id, status = e.status, "OpenAI refused a browser call");
            match e.status {
                400 | 422 => Error::bad_request(
                    "OpenAI could not use this offer; create a new session and offer again",
                ),
                _ => {
                    Error::Upstream("The voice service is unavailable; please retry shortly".into())
                }
            }
        })?;
    if let Err(e) = record_and_attach(
        &state,
        tenant_id,
        &offer.call_id,
        &session.scenario,
        &accepted,
        queue,
    )
    .await
    {
        // Nothing would watch or end this call: end it now rather than leave it running.
        if let Err(hang_up) = openai.hang_up_realtime_call(&accepted.call_id).await {
            tracing::warn!(
                call_id,
                status = hang_up.status,
                "could not end an unattached browser call"
            );
        }
        return Err(e);
    }
    tracing::info!(call_id, "browser call started");
    Ok(Json(Answer {
        kind: "answer",
        sdp: accepted.answer_sdp,
        call_id: call_id.to_string(),
    }))
}

/// The call record (`initiating` until the bridge attaches), then the bridge's attach request.
/// A request that could not be queued fails the recorded call, since no one would complete it.
async fn record_and_attach(
    state: &AppState,
    tenant_id: &str,
    call_id: &CallId,
    scenario: &str,
    accepted: &AcceptedCall,
    queue: &shared::sideband::AttachQueue,
) -> Result<()> {
    let call = CallRecord::with_id(
        call_id.clone(),
        Direction::Browser,
        BROWSER_PARTY,
        BROWSER_PARTY,
        scenario,
    );
    state
        .store
        .create_browser_call(tenant_id, &call, &accepted.call_id)
        .await?;
    let request = AttachRequest {
        tenant_id: tenant_id.to_string(),
        call_id: call.call_id.clone(),
        rtc_call_id: accepted.call_id.clone(),
        requested_at: chrono::Utc::now().timestamp(),
    };
    if let Err(e) = queue.send(&request).await {
        tracing::error!(call_id = %call.call_id, error = %e, "could not hand a browser call to the bridge");
        if let Err(e) = state
            .store
            .fail_call(
                tenant_id,
                &call.call_id,
                "the media bridge could not be reached",
            )
            .await
        {
            tracing::error!(call_id = %call.call_id, error = %e, "could not record the failed browser call");
        }
        return Err(Error::Unavailable(
            "The platform could not take this call; please retry shortly".into(),
        ));
    }
    Ok(())
}
