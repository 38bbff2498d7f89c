use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shared::domain::ids::WebhookId;
use shared::domain::webhooks::{EndpointUrl, EventType, new_secret};
use shared::http::{AuthUser, JsonBody};
use shared::store::webhooks::Endpoint;
use shared::{AppState, Error, FieldError, Result};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct NewWebhook {
    /// Where events are POSTed: `https://` and a public host.
    #[schema(required = true, nullable = false, max_length = 2048)]
    url: Option<String>,
    /// The events to send; all of them when absent.
    events: Option<Vec<String>>,
}

/// An endpoint as the tenant sees it (the secret only once, when created).
#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    id: String,
    url: String,
    events: Vec<EventType>,
    created_at: String,
    /// Only in the answer that creates the endpoint: store it now, it is not shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl WebhookView {
    fn of(endpoint: Endpoint, secret: Option<String>) -> Self {
        Self {
            id: endpoint.webhook_id,
            url: endpoint.url,
            events: endpoint.events,
            created_at: endpoint.created_at,
            secret,
        }
    }
}

fn events(raw: Option<Vec<String>>) -> Result<Vec<EventType>> {
    let Some(raw) = raw else {
        return Ok(EventType::ALL.to_vec());
    };
    if raw.is_empty() {
        return Err(Error::field("events", "must name at least one event"));
    }
    let mut events = Vec::new();
    for (i, name) in raw.iter().enumerate() {
        let event = name.parse().map_err(|_| {
            Error::Validation(vec![FieldError::new(
                format!("events[{i}]"),
                "must be call.completed or transcript.ready",
            )])
        })?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    Ok(events)
}

/// Register an endpoint for the caller's events. The answer holds its signing secret, which
/// is never shown again. At most `MAX_WEBHOOKS_PER_TENANT` endpoints.
#[utoipa::path(post, path = "/webhooks", tag = "webhooks",
    security(("bearer" = [])),
    request_body = NewWebhook,
    responses(
        (status = 201, description = "Registered (with its secret)", body = WebhookView),
        (status = 400, description = "Maximum reached", body = shared::error::Problem),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 422, description = "Invalid url or events", body = shared::error::Problem),
    ))]
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<NewWebhook>,
) -> Result<(StatusCode, Json<WebhookView>)> {
    let raw = body.url.ok_or_else(|| Error::field("url", "is required"))?;
    let url = EndpointUrl::parse(&raw, state.config.development_mode)?;
    let events = events(body.events)?;
    let secret = new_secret();
    let endpoint = Endpoint {
        webhook_id: WebhookId::generate().into_string(),
        url: url.as_str().to_string(),
        events,
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        sealed_secret: state.sealer.seal(&secret)?,
    };
    state
        .store
        .create_webhook(
            &user.tenant_id,
            &endpoint,
            state.config.webhooks.max_per_tenant,
        )
        .await?;
    tracing::info!(webhook_id = %endpoint.webhook_id, "webhook registered");
    Ok((
        StatusCode::CREATED,
        Json(WebhookView::of(endpoint, Some(secret))),
    ))
}

/// The caller's endpoints (without their secrets).
#[utoipa::path(get, path = "/webhooks", tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The endpoints", body = [WebhookView]),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
    ))]
pub async fn list(State(state): State<AppState>, user: AuthUser) -> Result<Json<Vec<WebhookView>>> {
    let endpoints = state.store.webhooks(&user.tenant_id).await?;
    Ok(Json(
        endpoints
            .into_iter()
            .map(|e| WebhookView::of(e, None))
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Removed {
    status: &'static str,
    message: &'static str,
}

/// Remove one of the caller's endpoints: nothing more is delivered to it. 404 for anyone
/// else's.
#[utoipa::path(delete, path = "/webhooks/{webhook_id}", tag = "webhooks",
    security(("bearer" = [])),
    params(("webhook_id" = String, Path)),
    responses(
        (status = 200, description = "Removed", body = Removed),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 404, description = "Webhook not found", body = shared::error::Problem),
        (status = 422, description = "Not a webhook id", body = shared::error::Problem),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    Path(webhook_id): Path<String>,
) -> Result<Json<Removed>> {
    let id = WebhookId::parse(&webhook_id, "webhook_id")?;
    state
        .store
        .delete_webhook(&user.tenant_id, id.as_str())
        .await?;
    Ok(Json(Removed {
        status: "success",
        message: "Webhook removed",
    }))
}
