use axum::Json;
use axum::extract::State;
use shared::domain::phone::NumberStatus;
use shared::http::AuthUser;
use shared::{AppState, Error, Result};

use crate::view::NumberView;

/// The caller's primary number: the first one provisioned, used as the caller ID.
#[utoipa::path(get, path = "/twilio/user-primary-number", tag = "phone-numbers",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The primary number", body = NumberView),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "No number yet", body = shared::error::Problem),
    ))]
pub async fn primary(State(state): State<AppState>, user: AuthUser) -> Result<Json<NumberView>> {
    state
        .store
        .numbers(&user.tenant_id)
        .await?
        .into_iter()
        .find(|n| n.status == NumberStatus::Active)
        .map(|n| Json(n.into()))
        .ok_or_else(|| {
            Error::NotFound(
                "No phone number available. Please provision a phone number first.".into(),
            )
        })
}
