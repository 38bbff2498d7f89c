//! Reads the live state and brings the stored record up to date with it (flags only move
//! from false to true, so releasing a number later does not undo the step).

use shared::domain::onboarding::{Flags, Onboarding, Step};
use shared::store::onboarding::LiveState;
use shared::{AppState, Error, FieldError, Result};

pub async fn refresh(state: &AppState, tenant_id: &str) -> Result<(Onboarding, LiveState)> {
    refresh_with(state, tenant_id, Flags::default()).await
}

/// Like [`refresh`], also marking `extra` steps complete.
pub async fn refresh_with(
    state: &AppState,
    tenant_id: &str,
    extra: Flags,
) -> Result<(Onboarding, LiveState)> {
    let live = state.store.onboarding_live_state(tenant_id).await?;
    let onboarding = state
        .store
        .record_onboarding(tenant_id, live.flags().merged(extra))
        .await?;
    Ok((onboarding, live))
}

pub fn parse_step(raw: &str) -> Result<Step> {
    Step::parse(raw).ok_or_else(|| Error::BadRequest {
        detail: Step::invalid_message(),
        errors: vec![FieldError::new("step", Step::invalid_message())],
    })
}
