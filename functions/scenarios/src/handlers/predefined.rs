use axum::Json;
use axum::extract::Path;
use shared::domain::scenarios::{self, PREDEFINED, Scenario};
use shared::http::AuthUser;
use shared::{Error, Result};

/// The predefined scenario templates.
#[utoipa::path(get, path = "/scenarios", tag = "scenarios",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "All templates", body = [Scenario]),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
    ))]
pub async fn list_predefined(_user: AuthUser) -> Json<&'static [Scenario]> {
    Json(&PREDEFINED)
}

/// One predefined scenario template by key (`default`, `appointment_reminder`, ...).
#[utoipa::path(get, path = "/scenarios/{key}", tag = "scenarios",
    security(("bearer" = [])),
    params(("key" = String, Path, description = "Template key")),
    responses(
        (status = 200, description = "The template", body = Scenario),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "No such template", body = shared::error::Problem),
    ))]
pub async fn get_predefined(
    _user: AuthUser,
    Path(key): Path<String>,
) -> Result<Json<&'static Scenario>> {
    scenarios::predefined(&key)
        .map(Json)
        .ok_or_else(|| Error::NotFound("Scenario not found".into()))
}
