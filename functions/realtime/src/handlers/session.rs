use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shared::domain::ids::CallId;
use shared::http::{AuthUser, JsonBody};
use shared::store::calls::BrowserSession;
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

/// How long a session waits for its offer: the browser asks for the microphone in between.
pub const SESSION_TTL_SECONDS: i64 = 120;

/// The session asked for. Anything else in the body (a `user_id`, say) is ignored: the tenant
/// is the one of the access token.
#[derive(Deserialize, ToSchema)]
pub struct NewSession {
    /// A predefined scenario key or one of the caller's custom scenario ids.
    #[schema(required = true, nullable = false, max_length = 64)]
    scenario: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionCreated {
    /// Send it with the offer to `POST /realtime/signal`; it takes one offer.
    session_id: String,
    /// The id the call will have in `/calls`.
    call_id: String,
    scenario: String,
    /// RFC 3339: the offer must come before.
    expires_at: String,
    /// The longest the conversation may last (this month's minutes left, when fewer); the
    /// platform hangs up then.
    max_duration_seconds: u64,
}

/// Start a voice session in the browser with one of your scenarios. The answer's
/// `session_id` goes with the browser's SDP offer to `POST /realtime/signal` within two
/// minutes. At most `RATE_LIMIT_BROWSER_SESSIONS_PER_MINUTE` a minute.
#[utoipa::path(post, path = "/realtime/session", tag = "realtime",
    security(("bearer" = [])),
    request_body = NewSession,
    responses(
        (status = 201, description = "Session created", body = SessionCreated),
        (status = 400, description = "Not a JSON body", body = shared::error::Problem),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 403, description = "The account is suspended", body = shared::error::Problem),
        (status = 404, description = "Unknown scenario", body = shared::error::Problem),
        (status = 422, description = "No scenario given", body = shared::error::Problem),
        (status = 429, description = "Too many sessions, or this month's call minutes are used up", body = shared::error::Problem),
        (status = 503, description = "Browser sessions not configured", body = shared::error::Problem),
    ))]
pub async fn create_session(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<NewSession>,
) -> Result<(StatusCode, Json<SessionCreated>)> {
    let scenario = body
        .scenario
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::field("scenario", "is required"))?;
    if scenario.len() > 64 {
        return Err(Error::field("scenario", "must be at most 64 characters"));
    }
    if state.openai.is_none() || state.attach_queue.is_none() {
        return Err(Error::Unavailable(
            "Browser sessions are not configured on this deployment".into(),
        ));
    }
    state
        .store
        .rate_limit(
            "browser_session",
            &user.tenant_id,
            &state.config.rate_limits.browser_sessions,
        )
        .await?;
    shared::agent::resolve(&state.store, &user.tenant_id, &scenario).await?;
    let length = shared::allowance::ensure_may_call(&state, &user.tenant_id).await?;
    let now = chrono::Utc::now();
    let session = BrowserSession {
        call_id: CallId::generate().into_string(),
        scenario,
        expires_at: now.timestamp() + SESSION_TTL_SECONDS,
    };
    state
        .store
        .create_browser_session(&user.tenant_id, &session)
        .await?;
    tracing::info!(call_id = %session.call_id, "browser session created");
    let expires_at = chrono::DateTime::from_timestamp(session.expires_at, 0)
        .unwrap_or(now)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Ok((
        StatusCode::CREATED,
        Json(SessionCreated {
            session_id: session.call_id.clone(),
            call_id: session.call_id,
            scenario: session.scenario,
            expires_at,
            max_duration_seconds: length.limit.as_secs(),
        }),
    ))
}
