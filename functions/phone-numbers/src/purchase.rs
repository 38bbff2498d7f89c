//! Buying and releasing numbers at Twilio around the store's reservation, and repairing a
//! purchase that was interrupted.
//!
//! A purchase is three steps: reserve the number (a `provisioning` item, its unique marker and
//! a slot under the tenant's maximum), buy it at Twilio, activate the item with Twilio's SID.
//! Twilio may have bought the number even when the platform never learned it: the answer was
//! lost (a timeout, a 5xx), or the function stopped before activating. Such a reservation is
//! reconciled against Twilio by the number itself (`PhoneNumber`): if the account owns it, the
//! item is activated; if not, the reservation is given back. Reconciliation happens at once
//! when the buy's outcome is unknown, and later for any reservation older than a purchase can
//! take (when the tenant lists, buys or releases the number), so a paid number is never left
//! without a record nobody can release.

use std::time::Duration;

use shared::calling::{self, INBOUND_WEBHOOK, STATUS_WEBHOOK};
use shared::domain::onboarding::{Flags, Step};
use shared::domain::phone::{E164, NumberStatus};
use shared::store::numbers::PhoneNumber;
use shared::twilio::{self, TwilioError};
use shared::{AppState, Error, Result};

/// A reservation older than this belongs to a purchase that stopped: the provision function's
/// timeout (25 s in template.yaml; a test checks the two together) plus a margin.
pub const PURCHASE_STALE_AFTER: Duration = Duration::from_secs(60);

/// What reconciling a reservation found at Twilio.
enum Reconciled {
    /// The account owns the number: the item is active now.
    Active(PhoneNumber),
    /// It does not: the reservation is gone.
    Released,
}

/// Buys `number` for the tenant and returns it, active. 409 when anyone holds it (unless it is
/// the tenant's own interrupted purchase, which is reconciled first).
pub async fn buy(state: &AppState, tenant_id: &str, number: &E164) -> Result<PhoneNumber> {
    let client = calling::twilio(state)?;
    let max = state.config.telephony.max_numbers_per_tenant;
    match state
        .store
        .reserve_number(tenant_id, number.as_str(), max)
        .await
    {
        Ok(()) => {}
        Err(Error::Conflict(detail)) => {
            let Some(stale) = own_stale_reservation(state, tenant_id, number).await? else {
                return Err(Error::Conflict(detail));
            };
            match reconcile(state, client, tenant_id, &stale).await? {
                Reconciled::Active(found) => return activated(state, tenant_id, found).await,
                Reconciled::Released => {
                    state
                        .store
                        .reserve_number(tenant_id, number.as_str(), max)
                        .await?
                }
            }
        }
        Err(e) => return Err(e),
    }
    let bought = client
        .buy_number(
            number.as_str(),
            &calling::webhook_url(state, INBOUND_WEBHOOK),
            &calling::webhook_url(state, STATUS_WEBHOOK),
            &format!("AI agent {}", number.as_str()),
        )
        .await;
    let bought = match bought {
        Ok(bought) => bought,
        Err(e) if e.is_refusal() => {
            // Twilio refused: nothing was bought, so the reservation is given back.
            state
                .store
                .remove_number(tenant_id, number.as_str())
                .await?;
            return Err(calling::twilio_error(e, "phone_number"));
        }
        Err(e) => return settle_unknown_purchase(state, client, tenant_id, number, e).await,
    };
    let capabilities = bought.capabilities.as_ref();
    let stored = state
        .store
        .activate_number(
            tenant_id,
            number.as_str(),
            &bought.sid,
            bought.friendly_name.as_deref(),
            capabilities.is_none_or(|c| c.voice),
            capabilities.is_some_and(|c| c.sms),
        )
        .await?;
    activated(state, tenant_id, stored).await
}

/// The buy request's outcome is unknown (no answer, or a 5xx after which Twilio may still
/// have completed it): asks Twilio whether the account owns the number now.
async fn settle_unknown_purchase(
    state: &AppState,
    client: &twilio::Client,
    tenant_id: &str,
    number: &E164,
    cause: TwilioError,
) -> Result<PhoneNumber> {
    tracing::warn!(
        status = cause.status,
        "the outcome of a number purchase is unknown; reconciling"
    );
    let reserved = state.store.number(tenant_id, number.as_str()).await?;
    match reconcile(state, client, tenant_id, &reserved).await {
        Ok(Reconciled::Active(found)) => activated(state, tenant_id, found).await,
        Ok(Reconciled::Released) => Err(calling::twilio_error(cause, "phone_number")),
        Err(e) => {
            // Left `provisioning`: the next listing, purchase or release reconciles it.
            tracing::error!(error = %e, "could not reconcile an interrupted number purchase");
            Err(Error::Upstream(
                "The purchase could not be confirmed with the phone service; it will be \
                 reconciled automatically. Check your numbers in a minute."
                    .into(),
            ))
        }
    }
}

/// Records the onboarding step a number completes, and returns it.
async fn activated(state: &AppState, tenant_id: &str, number: PhoneNumber) -> Result<PhoneNumber> {
    let mut done = Flags::default();
    done.set(Step::PhoneSetup);
    state.store.record_onboarding(tenant_id, done).await?;
    tracing::info!(tenant_id, "phone number provisioned");
    Ok(number)
}

/// Releases the tenant's number at Twilio (found by number if the purchase never recorded its
/// SID) and then its record. 409 while its purchase may still be running.
pub async fn release(state: &AppState, tenant_id: &str, number: &E164) -> Result<()> {
    let owned = state.store.number(tenant_id, number.as_str()).await?;
    let sid = match (&owned.twilio_sid, owned.status) {
        (Some(sid), _) => Some(sid.clone()),
        (None, NumberStatus::Provisioning) if !is_stale(&owned) => {
            return Err(Error::Conflict(
                "The number is still being provisioned; retry in a minute".into(),
            ));
        }
        (None, _) => calling::twilio(state)?
            .find_number(number.as_str())
            .await
            .map_err(|e| calling::twilio_error(e, "phone_number"))?
            .map(|found| found.sid),
    };
    if let Some(sid) = sid {
        calling::twilio(state)?
            .release_number(&sid)
            .await
            .map_err(|e| calling::twilio_error(e, "phone_number"))?;
    }
    state
        .store
        .remove_number(tenant_id, number.as_str())
        .await?;
    tracing::info!(tenant_id, "phone number released");
    Ok(())
}

/// The tenant's numbers, with every interrupted purchase reconciled first (best effort: one
/// Twilio cannot confirm now stays `provisioning` and is tried again next time).
pub async fn numbers(state: &AppState, tenant_id: &str) -> Result<Vec<PhoneNumber>> {
    let numbers = state.store.numbers(tenant_id).await?;
    let Some(client) = state.twilio.as_ref() else {
        return Ok(numbers);
    };
    let stale: Vec<&PhoneNumber> = numbers
        .iter()
        .filter(|n| n.status == NumberStatus::Provisioning && is_stale(n))
        .collect();
    if stale.is_empty() {
        return Ok(numbers);
    }
    // Side by side, so the listing takes one Twilio request's time however many there are.
    let settled = futures_util::future::join_all(
        stale
            .into_iter()
            .map(|number| reconcile(state, client, tenant_id, number)),
    )
    .await;
    for error in settled.into_iter().filter_map(Result::err) {
        tracing::warn!(error = %error, "could not reconcile an interrupted number purchase");
    }
    state.store.numbers(tenant_id).await
}

/// Settles a reservation against what Twilio says the account owns.
async fn reconcile(
    state: &AppState,
    client: &twilio::Client,
    tenant_id: &str,
    reserved: &PhoneNumber,
) -> Result<Reconciled> {
    let found = client
        .find_number(&reserved.phone_number)
        .await
        .map_err(|e| calling::twilio_error(e, "phone_number"))?;
    match found {
        Some(found) => {
            let capabilities = found.capabilities.as_ref();
            let stored = state
                .store
                .activate_number(
                    tenant_id,
                    &reserved.phone_number,
                    &found.sid,
                    found.friendly_name.as_deref(),
                    capabilities.is_none_or(|c| c.voice),
                    capabilities.is_some_and(|c| c.sms),
                )
                .await?;
            tracing::warn!(tenant_id, "an interrupted number purchase was completed");
            Ok(Reconciled::Active(stored))
        }
        None => {
            state
                .store
                .remove_number(tenant_id, &reserved.phone_number)
                .await?;
            tracing::warn!(tenant_id, "an interrupted number purchase was rolled back");
            Ok(Reconciled::Released)
        }
    }
}

/// The tenant's own reservation of `number` from a purchase that stopped, if that is what
/// holds it.
async fn own_stale_reservation(
    state: &AppState,
    tenant_id: &str,
    number: &E164,
) -> Result<Option<PhoneNumber>> {
    match state.store.number(tenant_id, number.as_str()).await {
        Ok(n) if n.status == NumberStatus::Provisioning && is_stale(&n) => Ok(Some(n)),
        Ok(_) | Err(Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn is_stale(number: &PhoneNumber) -> bool {
    chrono::DateTime::parse_from_rfc3339(&number.created_at)
        .ok()
        .and_then(|created| {
            chrono::Utc::now()
                .signed_duration_since(created)
                .to_std()
                .ok()
        })
        .is_none_or(|age| age >= PURCHASE_STALE_AFTER)
}
