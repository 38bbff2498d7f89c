use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shared::calendar::connect::{self, Callback, Failure};
use shared::http::AuthUser;
use shared::{AppState, Result};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct AuthorizationUrl {
    /// Send the browser here; Google sends it back to `/google-calendar/callback`.
    authorization_url: String,
}

/// Start connecting Google Calendar: a consent URL with PKCE (S256) and a single-use state
/// bound to the caller, valid for 10 minutes.
#[utoipa::path(get, path = "/google-calendar/auth", tag = "calendar",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The consent URL", body = AuthorizationUrl),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
        (status = 503, description = "Google Calendar not configured", body = shared::error::Problem),
    ))]
pub async fn auth(State(state): State<AppState>, user: AuthUser) -> Result<Json<AuthorizationUrl>> {
    super::rate_limit(&state, &user).await?;
    let authorization_url = connect::start(&state, &user.tenant_id).await?;
    Ok(Json(AuthorizationUrl { authorization_url }))
}

#[derive(Deserialize, IntoParams)]
pub struct CallbackQuery {
    /// The authorization code (absent when consent was refused).
    code: Option<String>,
    /// The state `/google-calendar/auth` issued.
    state: Option<String>,
    /// `access_denied` when the user declined.
    error: Option<String>,
}

/// Where Google sends the browser back. No auth header (it is a browser redirect): the
/// tenant is known only from the stored state. Answers with a redirect to the frontend's
/// calendar page, with `success=true&connected=calendar` or
/// `error=calendar_connection_failed&message=...`.
#[utoipa::path(get, path = "/google-calendar/callback", tag = "calendar",
    params(CallbackQuery),
    responses(
        (status = 303, description = "Redirect to the frontend's success or failure page"),
    ))]
pub async fn callback(
    State(state): State<AppState>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let page = format!("{}/scheduled-meetings", state.config.frontend_url);
    let outcome = connect::complete(
        &state,
        Callback {
            code: query.code,
            state: query.state,
            error: query.error,
        },
    )
    .await;
    let location = match outcome {
        Ok(_) => format!("{page}?success=true&connected=calendar"),
        Err(Failure(message)) => {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("error", "calendar_connection_failed")
                .append_pair("message", &message)
                .finish();
            format!("{page}?{query}")
        }
    };
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, location.clone()),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        format!("Redirecting to {location}"),
    )
        .into_response()
}
