//! Platform administration, for the platform's operators (users an operator promoted with
//! `platform-admin promote`; no route can make an administrator): the tenant directory with
//! this month's usage, suspending and reinstating a tenant, a tenant's own monthly minute cap,
//! the platform Twilio account, and the audit log every one of these actions writes to.

mod administrator;
mod handlers;

use shared::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use administrator::Administrator;

/// Every route of the administration context.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::tenants::list_tenants))
        .routes(routes!(handlers::standing::suspend))
        .routes(routes!(handlers::standing::reinstate))
        .routes(routes!(handlers::standing::set_minute_cap))
        .routes(routes!(handlers::twilio_account::twilio_account))
        .routes(routes!(handlers::audit_log::audit_log))
}
