pub mod availability;
pub mod calendars;
pub mod connect;
pub mod connection;
pub mod events;
pub mod settings;

use shared::http::AuthUser;
use shared::http::query::Filters;
use shared::{AppState, FieldError, Result};

/// Every request that reaches Google counts against the tenant's calendar budget.
async fn rate_limit(state: &AppState, user: &AuthUser) -> Result<()> {
    state
        .store
        .rate_limit(
            "calendar",
            &user.tenant_id,
            &state.config.rate_limits.calendar,
        )
        .await
}

/// A whole-number query parameter between 1 and `max`, `default` when absent.
fn bounded(filters: &mut Filters, raw: Option<&str>, field: &str, default: u32, max: u32) -> u32 {
    let message = format!("must be a whole number between 1 and {max}");
    match filters.parse::<u32>(raw, field, &message) {
        Some(n) if (1..=max).contains(&n) => n,
        Some(_) => {
            filters.extend(vec![FieldError::new(field, message)]);
            default
        }
        None => default,
    }
}
