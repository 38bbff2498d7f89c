//! Connecting and disconnecting a tenant's Google account.
//!
//! `/google-calendar/auth` (authenticated) stores a random state bound to the tenant with a
//! sealed PKCE verifier and hands out Google's consent URL. The callback (unauthenticated: it
//! is the browser coming back from Google) learns the tenant only by consuming that state, so
//! a forged, replayed, expired or foreign state connects nothing. The code is exchanged with
//! the verifier, so a code intercepted on the way is useless to anyone else.

use super::{GoogleApis, NOT_CONNECTED, apis, google_error};
use crate::error::{Error, Result};
use crate::google::oauth::{self, Pkce};
use crate::state::AppState;
use crate::store::calendar::connection::{ConnectionStatus, GrantWrite};

/// Longest `state` the callback looks up (ours are 43 characters).
const MAX_STATE: usize = 128;

/// Scopes without which the connection is useless: reading and booking events, and free/busy.
const NEEDED: [&str; 2] = [oauth::SCOPES[0], oauth::SCOPES[1]];

/// Starts a connection: the URL to send the tenant's browser to.
pub async fn start(state: &AppState, tenant_id: &str) -> Result<String> {
    let apis = apis(state)?;
    let oauth_state = crate::auth::random_token(32);
    let pkce = Pkce::generate();
    let sealed_verifier = apis
        .sealer
        .seal_bound(&pkce.verifier, tenant_id.as_bytes())?;
    let expires_at = chrono::Utc::now().timestamp() + apis.config.state_ttl.as_secs() as i64;
    state
        .store
        .create_oauth_state(&oauth_state, tenant_id, &sealed_verifier, expires_at)
        .await?;
    Ok(oauth::authorization_url(
        &apis.config,
        &oauth_state,
        &pkce.challenge,
    ))
}

/// What Google put on the callback URL.
#[derive(Debug, Default)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set instead of `code` when the user declined (`access_denied`) or Google failed.
    pub error: Option<String>,
}

/// Why a callback connected nothing, in words for the tenant.
#[derive(Debug, PartialEq, Eq)]
pub struct Failure(pub String);

impl Failure {
    fn new(text: &str) -> Self {
        Failure(text.to_string())
    }
}

/// Completes a connection from the callback; the tenant it was for on success.
pub async fn complete(
    state: &AppState,
    callback: Callback,
) -> std::result::Result<String, Failure> {
    let invalid =
        || Failure::new("This connection link is invalid or has expired. Please connect again.");
    let apis = apis(state).map_err(|_| Failure::new("Google Calendar is not configured."))?;
    let oauth_state = callback
        .state
        .filter(|s| !s.is_empty() && s.len() <= MAX_STATE)
        .ok_or_else(invalid)?;
    let pending = state
        .store
        .consume_oauth_state(&oauth_state)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "could not read an OAuth state");
            Failure::new("Something went wrong on our side. Please try again.")
        })?
        .ok_or_else(invalid)?;
    let tenant_id = pending.tenant_id;
    if let Some(error) = callback.error {
        tracing::info!(tenant_id, error, "Google consent not given");
        return Err(Failure::new("Access to Google Calendar was not granted."));
    }
    let code = callback
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(invalid)?;
    let verifier = apis
        .sealer
        .open_bound(&pending.sealed_verifier, tenant_id.as_bytes())
        .map_err(|_| invalid())?;
    let grant = apis.oauth.exchange_code(&code, &verifier).await.map_err(|e| {
        tracing::warn!(tenant_id, status = e.status, reason = ?e.reason, "Google refused the code exchange");
        Failure::new("Google did not accept the authorization. Please connect again.")
    })?;
    if let Some(missing) = NEEDED.iter().find(|scope| !grant.has_scope(scope)) {
        tracing::info!(tenant_id, missing, "Google grant lacks a needed scope");
        // An unusable grant is not kept at Google either.
        if let Err(e) = apis.oauth.revoke(&grant.access_token).await {
            tracing::warn!(tenant_id, error = %e, "could not revoke a partial grant");
        }
        return Err(Failure::new(
            "Please allow access to your calendar events and free/busy information.",
        ));
    }
    store_grant(state, apis, &tenant_id, &grant)
        .await
        .map_err(|e| match e {
            Error::Conflict(detail) => Failure(detail),
            other => {
                tracing::error!(tenant_id, error = %other, "could not store a Google grant");
                Failure::new("Something went wrong on our side. Please try again.")
            }
        })?;
    tracing::info!(tenant_id, "Google Calendar connected");
    Ok(tenant_id)
}

async fn store_grant(
    state: &AppState,
    apis: &GoogleApis,
    tenant_id: &str,
    grant: &oauth::Grant,
) -> Result<()> {
    let bind = tenant_id.as_bytes();
    let sealed_refresh = grant
        .refresh_token
        .as_deref()
        .map(|token| apis.sealer.seal_bound(token, bind))
        .transpose()?;
    let sealed_access = apis.sealer.seal_bound(&grant.access_token, bind)?;
    state
        .store
        .save_calendar_grant(
            tenant_id,
            &GrantWrite {
                sealed_refresh_token: sealed_refresh.as_deref(),
                sealed_access_token: &sealed_access,
                access_expires_at: chrono::Utc::now().timestamp() + grant.expires_in as i64,
                scopes: &grant.scope,
            },
        )
        .await
}

/// Revokes the grant at Google and forgets it. If Google cannot be reached the connection is
/// kept (502), so that nothing stays granted at Google that the platform forgot about.
pub async fn disconnect(state: &AppState, tenant_id: &str) -> Result<()> {
    let apis = apis(state)?;
    let connection = state
        .store
        .calendar_connection(tenant_id)
        .await?
        .ok_or_else(|| Error::NotFound(NOT_CONNECTED.into()))?;
    if connection.status == ConnectionStatus::Connected {
        match apis
            .sealer
            .open_bound(&connection.sealed_refresh_token, tenant_id.as_bytes())
        {
            Ok(refresh_token) => apis
                .oauth
                .revoke(&refresh_token)
                .await
                .map_err(google_error)?,
            // Sealed under a key since rotated: nothing the platform can revoke with.
            Err(_) => tracing::warn!(tenant_id, "stored Google token unreadable; forgetting it"),
        }
    }
    state.store.delete_calendar_connection(tenant_id).await?;
    tracing::info!(tenant_id, "Google Calendar disconnected");
    Ok(())
}
