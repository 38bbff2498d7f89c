use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use shared::http::JsonBody;
use shared::store::audit::AuditAction;
use shared::store::tenants::Suspension;
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

use super::{no_such_tenant, tenant_id};
use crate::Administrator;

/// Longest suspension reason kept: it is shown to the tenant in every refusal.
const MAX_REASON_CHARS: usize = 200;
/// Largest cap an administrator may set (minutes per month; about 23 days of calls).
const MAX_MINUTE_CAP: u32 = 1_000_000;

#[derive(Deserialize, ToSchema)]
pub struct SuspendRequest {
    /// Why, 1 to 200 characters: the tenant sees it whenever a call is refused.
    #[schema(required = true, nullable = false, min_length = 1, max_length = 200)]
    reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct MinuteCapRequest {
    /// Call minutes per UTC month, 0 to 1000000; `null` gives the tenant the deployment's cap
    /// back. Required (a missing field is not taken for `null`).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, required = true, minimum = 0, maximum = 1_000_000)]
    monthly_minutes: Option<Option<u32>>,
}

/// A field that is present, even as `null` (`Some(None)`); a missing one stays `None`.
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(deserializer).map(Some)
}

#[derive(Serialize, ToSchema)]
pub struct StandingView {
    tenant_id: String,
    /// Present while the tenant is suspended.
    suspension: Option<Suspension>,
    /// The monthly minute cap that applies; absent: no cap.
    monthly_minute_cap: Option<u32>,
    own_minute_cap: bool,
    /// Calls that were live when the tenant was suspended, and were ended (suspension only).
    #[serde(skip_serializing_if = "Option::is_none")]
    live_calls_ended: Option<u32>,
}

/// Suspends a tenant: its live calls are ended, new calls are refused (403), its scheduled
/// calls fail when due and its numbers answer inbound calls with an apology, each with the
/// reason recorded, until it is reinstated.
#[utoipa::path(post, path = "/admin/tenants/{tenant_id}/suspend", tag = "admin",
    security(("bearer" = [])),
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = SuspendRequest,
    responses(
        (status = 200, description = "Suspended", body = StandingView),
        (status = 400, description = "Not a JSON body", body = shared::error::Problem),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 403, description = "Not a platform administrator", body = shared::error::Problem),
        (status = 404, description = "No such tenant", body = shared::error::Problem),
        (status = 422, description = "Missing or invalid reason", body = shared::error::Problem),
    ))]
pub async fn suspend(
    State(state): State<AppState>,
    admin: Administrator,
    Path(tenant): Path<String>,
    JsonBody(body): JsonBody<SuspendRequest>,
) -> Result<Json<StandingView>> {
    let tenant = tenant_id(&tenant)?;
    let reason = parse_reason(body.reason.as_deref())?;
    let entry = admin
        .audit(AuditAction::SuspendTenant)
        .on_tenant(tenant)
        .with_detail(reason.clone());
    if !state.store.suspend_tenant(tenant, &reason, &entry).await? {
        return Err(no_such_tenant());
    }
    tracing::info!(tenant_id = tenant, "tenant suspended");
    // The suspension stands whatever happens to the calls; one that could not be ended is
    // logged (and can be hung up again from the tenant's account).
    let ended = match shared::hang_up::hang_up_all(&state, tenant).await {
        Ok(ended) => ended,
        Err(e) => {
            tracing::error!(tenant_id = tenant, error = %e, "could not end a suspended tenant's calls");
            0
        }
    };
    let Json(mut view) = standing(&state, tenant).await?;
    view.live_calls_ended = Some(ended);
    Ok(Json(view))
}

/// Lifts a tenant's suspension (a tenant that is not suspended stays as it is).
#[utoipa::path(post, path = "/admin/tenants/{tenant_id}/reinstate", tag = "admin",
    security(("bearer" = [])),
    params(("tenant_id" = String, Path, description = "The tenant")),
    responses(
        (status = 200, description = "Reinstated", body = StandingView),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 403, description = "Not a platform administrator", body = shared::error::Problem),
        (status = 404, description = "No such tenant", body = shared::error::Problem),
    ))]
pub async fn reinstate(
    State(state): State<AppState>,
    admin: Administrator,
    Path(tenant): Path<String>,
) -> Result<Json<StandingView>> {
    let tenant = tenant_id(&tenant)?;
    let entry = admin.audit(AuditAction::ReinstateTenant).on_tenant(tenant);
    if !state.store.reinstate_tenant(tenant, &entry).await? {
        return Err(no_such_tenant());
    }
    tracing::info!(tenant_id = tenant, "tenant reinstated");
    standing(&state, tenant).await
}

/// Gives a tenant a monthly minute cap of its own (checked before each call starts), or the
/// deployment's back.
#[utoipa::path(put, path = "/admin/tenants/{tenant_id}/minute-cap", tag = "admin",
    security(("bearer" = [])),
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = MinuteCapRequest,
    responses(
        (status = 200, description = "Cap set", body = StandingView),
        (status = 400, description = "Not a JSON body", body = shared::error::Problem),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 403, description = "Not a platform administrator", body = shared::error::Problem),
        (status = 404, description = "No such tenant", body = shared::error::Problem),
        (status = 422, description = "Invalid cap", body = shared::error::Problem),
    ))]
pub async fn set_minute_cap(
    State(state): State<AppState>,
    admin: Administrator,
    Path(tenant): Path<String>,
    JsonBody(body): JsonBody<MinuteCapRequest>,
) -> Result<Json<StandingView>> {
    let tenant = tenant_id(&tenant)?;
    let Some(cap) = body.monthly_minutes else {
        return Err(Error::field(
            "monthly_minutes",
            "is required (null for the deployment's cap)",
        ));
    };
    if cap.is_some_and(|cap| cap > MAX_MINUTE_CAP) {
        return Err(Error::field(
            "monthly_minutes",
            format!("must be at most {MAX_MINUTE_CAP}"),
        ));
    }
    let detail = match cap {
        Some(cap) => format!("{cap} minutes per month"),
        None => "the deployment's cap".to_string(),
    };
    let entry = admin
        .audit(AuditAction::SetMinuteCap)
        .on_tenant(tenant)
        .with_detail(detail);
    if !state.store.set_minute_cap(tenant, cap, &entry).await? {
        return Err(no_such_tenant());
    }
    standing(&state, tenant).await
}

fn parse_reason(reason: Option<&str>) -> Result<String> {
    let reason = reason.map(str::trim).unwrap_or_default();
    if reason.is_empty() {
        return Err(Error::field("reason", "is required"));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(Error::field(
            "reason",
            format!("must be at most {MAX_REASON_CHARS} characters"),
        ));
    }
    if reason.chars().any(char::is_control) {
        return Err(Error::field(
            "reason",
            "must not contain control characters",
        ));
    }
    Ok(reason.to_string())
}

async fn standing(state: &AppState, tenant: &str) -> Result<Json<StandingView>> {
    let standing = state
        .store
        .standing(tenant)
        .await?
        .ok_or_else(no_such_tenant)?;
    Ok(Json(StandingView {
        tenant_id: tenant.to_string(),
        own_minute_cap: standing.monthly_minute_cap.is_some(),
        monthly_minute_cap: standing
            .monthly_minute_cap
            .or(state.config.usage.monthly_minute_cap),
        suspension: standing.suspension,
        live_calls_ended: None,
    }))
}
