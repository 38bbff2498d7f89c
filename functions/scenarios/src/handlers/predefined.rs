use axum::Json;
use axum::extract::Path;
use shared::domain::scenarios::{self, PREDEFINED};
use shared::http::AuthUser;
use shared::{Error, Result};

use crate::view::PredefinedView;

/// The predefined scenario templates.
#[utoipa::path(get, path = "/scenarios", tag = "scenarios",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "All templates", body = [PredefinedView]),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
    ))]
pub async fn list_predefined(_user: AuthUser) -> Json<Vec<PredefinedView>> {
    Json(PREDEFINED.iter().map(Into::into).collect())
}

/// One predefined scenario template by key (`default`, `appointment_reminder`, ...).
#[utoipa::path(get, path = "/scenarios/{key}", tag = "scenarios",
    security(("bearer" = [])),
    params(("key" = String, Path, description = "Template key")),
    responses(
        (status = 200, description = "The template", body = PredefinedView),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "No such template", body = shared::error::Problem),
    ))]
pub async fn get_predefined(
    _user: AuthUser,
    Path(key): Path<String>,
) -> Result<Json<PredefinedView>> {
    scenarios::predefined(&key)
        .map(|s| Json(s.into()))
        .ok_or_else(|| Error::NotFound("Scenario not found".into()))
}
