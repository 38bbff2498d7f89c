use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use shared::domain::ids::WebhookId;
use shared::http::AuthUser;
use shared::http::query::{Filters, non_empty};
use shared::store::webhooks::Attempt;
use shared::{AppState, Result};
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
pub struct DeliveriesQuery {
    /// 1 to 100; default 50.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

/// The latest delivery attempts to one of the caller's endpoints, newest first (kept 30
/// days); 404 for anyone else's endpoint.
#[utoipa::path(get, path = "/webhooks/{webhook_id}/deliveries", tag = "webhooks",
    security(("bearer" = [])),
    params(("webhook_id" = String, Path), DeliveriesQuery),
    responses(
        (status = 200, description = "The attempts", body = [Attempt]),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Webhook not found", body = shared::error::Problem),
        (status = 422, description = "Not a webhook id, or a bad limit", body = shared::error::Problem),
    ))]
pub async fn deliveries(
    State(state): State<AppState>,
    user: AuthUser,
    Path(webhook_id): Path<String>,
    Query(query): Query<DeliveriesQuery>,
) -> Result<Json<Vec<Attempt>>> {
    let id = WebhookId::parse(&webhook_id, "webhook_id")?;
    let mut filters = Filters::default();
    let limit = filters.limit(non_empty(query.limit).as_deref(), 50, 100);
    filters.finish()?;
    Ok(Json(
        state
            .store
            .deliveries(&user.tenant_id, id.as_str(), limit)
            .await?,
    ))
}
