use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use shared::domain::usage::{UsageView, month_of};
use shared::store::audit::AuditAction;
use shared::store::tenants::{Suspension, TenantEntry};
use shared::{AppState, Result};
use utoipa::{IntoParams, ToSchema};

use crate::Administrator;

#[derive(Deserialize, IntoParams)]
pub struct TenantsQuery {
    /// 1 to 100; default 50.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TenantView {
    tenant_id: String,
    email: String,
    created_at: String,
    is_admin: bool,
    /// Present while the tenant is suspended.
    suspension: Option<Suspension>,
    /// The monthly minute cap that applies (its own, or the deployment's); absent: no cap.
    monthly_minute_cap: Option<u32>,
    /// Whether an administrator gave the tenant a cap of its own.
    own_minute_cap: bool,
    /// This UTC month's usage so far.
    month_usage: UsageView,
}

#[derive(Serialize, ToSchema)]
pub struct TenantDirectory {
    /// The month `month_usage` is of, `YYYY-MM`.
    month: String,
    /// Oldest first.
    tenants: Vec<TenantView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// Every tenant, oldest first, with its standing and this month's usage (administrators only).
#[utoipa::path(get, path = "/admin/tenants", tag = "admin",
    security(("bearer" = [])),
    params(TenantsQuery),
    responses(
        (status = 200, description = "A page of tenants", body = TenantDirectory),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 403, description = "Not a platform administrator", body = shared::error::Problem),
        (status = 422, description = "Invalid limit or cursor", body = shared::error::Problem),
    ))]
pub async fn list_tenants(
    State(state): State<AppState>,
    admin: Administrator,
    Query(query): Query<TenantsQuery>,
) -> Result<Json<TenantDirectory>> {
    let (limit, cursor) = super::page(query.limit, query.cursor)?;
    let page = state.store.list_tenants(limit, cursor.as_deref()).await?;
    state
        .store
        .record_audit(&admin.audit(AuditAction::ListTenants))
        .await?;
    let month = month_of(chrono::Utc::now().date_naive());
    // The page's month items, read side by side (one `GetItem` each; a page holds at most 100).
    let usage = futures_util::future::try_join_all(
        page.tenants
            .iter()
            .map(|entry| state.store.month_usage(&entry.tenant_id, &month)),
    )
    .await?;
    let tenants = page
        .tenants
        .into_iter()
        .zip(usage)
        .map(|(entry, used)| {
            view(
                &state,
                entry,
                UsageView::of(&used, &state.config.usage.prices),
            )
        })
        .collect();
    Ok(Json(TenantDirectory {
        month,
        tenants,
        next_cursor: page.next_cursor,
    }))
}

fn view(state: &AppState, entry: TenantEntry, month_usage: UsageView) -> TenantView {
    let own = entry.standing.monthly_minute_cap;
    TenantView {
        tenant_id: entry.tenant_id,
        email: entry.email,
        created_at: entry.created_at,
        is_admin: entry.is_admin,
        suspension: entry.standing.suspension,
        monthly_minute_cap: own.or(state.config.usage.monthly_minute_cap),
        own_minute_cap: own.is_some(),
        month_usage,
    }
}
