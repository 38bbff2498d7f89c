use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use shared::store::audit::{AuditAction, AuditEntry};
use shared::{AppState, Result};
use utoipa::{IntoParams, ToSchema};

use crate::Administrator;

#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// 1 to 100; default 50.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditLog {
    /// Newest first.
    entries: Vec<AuditEntry>,
    /// Pass as `cursor` for older entries; absent on the last page.
    next_cursor: Option<String>,
}

/// Every administrator action, newest first (administrators only; reading it is recorded too).
#[utoipa::path(get, path = "/admin/audit-log", tag = "admin",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of the audit log", body = AuditLog),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 403, description = "Not a platform administrator", body = shared::error::Problem),
        (status = 422, description = "Invalid limit or cursor", body = shared::error::Problem),
    ))]
pub async fn audit_log(
    State(state): State<AppState>,
    admin: Administrator,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditLog>> {
    let (limit, cursor) = super::page(query.limit, query.cursor)?;
    let page = state.store.audit_log(limit, cursor.as_deref()).await?;
    state
        .store
        .record_audit(&admin.audit(AuditAction::ViewAuditLog))
        .await?;
    Ok(Json(AuditLog {
        entries: page.entries,
        next_cursor: page.next_cursor,
    }))
}
