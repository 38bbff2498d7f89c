use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use shared::http::AuthUser;
use shared::store::calendar::connection::ConnectionStatus;
use shared::{AppState, Result};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ConnectionView {
    /// True when the calendar can be used now.
    connected: bool,
    /// `not_connected`, `connected`, or `revoked` (Google refused the grant: connect again).
    status: &'static str,
    /// The scopes Google granted.
    scopes: Vec<String>,
    connected_at: Option<String>,
    updated_at: Option<String>,
}

/// Whether Google Calendar is connected, and with what.
#[utoipa::path(get, path = "/google-calendar/connection", tag = "calendar",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The connection", body = ConnectionView),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
    ))]
pub async fn status(State(state): State<AppState>, user: AuthUser) -> Result<Json<ConnectionView>> {
    let view = match state.store.calendar_connection(&user.tenant_id).await? {
        None => ConnectionView {
            connected: false,
            status: "not_connected",
            scopes: Vec::new(),
            connected_at: None,
            updated_at: None,
        },
        Some(c) => ConnectionView {
            connected: c.status == ConnectionStatus::Connected,
            status: c.status.as_str(),
            scopes: c.scopes.split_whitespace().map(str::to_string).collect(),
            connected_at: Some(c.connected_at),
            updated_at: Some(c.updated_at),
        },
    };
    Ok(Json(view))
}

/// Disconnect: revokes the grant at Google and forgets the tokens. The settings are kept.
#[utoipa::path(delete, path = "/google-calendar/connection", tag = "calendar",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked and forgotten"),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Not connected", body = shared::error::Problem),
        (status = 502, description = "Google could not be reached; nothing was forgotten", body = shared::error::Problem),
        (status = 503, description = "Google Calendar not configured", body = shared::error::Problem),
    ))]
pub async fn disconnect(State(state): State<AppState>, user: AuthUser) -> Result<StatusCode> {
    shared::calendar::connect::disconnect(&state, &user.tenant_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
