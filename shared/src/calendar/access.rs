//! One tenant's calendar, with an access token that is always fresh.
//!
//! The access token is refreshed shortly before it expires and written back (so the next
//! request, on any instance, does not refresh again). Two instances refreshing at once are
//! fine: the write is conditional on the version read, and the loser re-reads. A request
//! Google answers 401 is retried once with a forced refresh; a refresh token Google refuses
//! marks the connection revoked and every use answers 409 until the tenant reconnects.

use std::future::Future;

use tokio::sync::Mutex;

use super::{GoogleApis, NOT_CONNECTED, REVOKED, apis, google_error};
use crate::domain::calendar::CalendarSettings;
use crate::error::{Error, Result};
use crate::google::GoogleError;
use crate::state::AppState;
use crate::store::Store;
use crate::store::calendar::connection::{Connection, ConnectionStatus};

/// An access token this close to expiry is refreshed first.
const EXPIRY_MARGIN_SECS: i64 = 60;

pub struct TenantCalendar {
    apis: GoogleApis,
    store: Store,
    tenant_id: String,
    pub settings: CalendarSettings,
    /// The access token in use and its expiry (epoch seconds).
    token: Mutex<Option<(String, i64)>>,
}

impl std::fmt::Debug for TenantCalendar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantCalendar")
            .field("tenant_id", &self.tenant_id)
            .finish_non_exhaustive()
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl TenantCalendar {
    /// The tenant's calendar: 503 without Google configured, 409 when not connected or
    /// revoked.
    pub async fn open(state: &AppState, tenant_id: &str) -> Result<Self> {
        let apis = apis(state)?.clone();
        let (connection, settings) = tokio::try_join!(
            state.store.calendar_connection(tenant_id),
            state.store.calendar_settings(tenant_id),
        )?;
        match connection.map(|c| c.status) {
            None => return Err(Error::Conflict(NOT_CONNECTED.into())),
            Some(ConnectionStatus::Revoked) => return Err(Error::Conflict(REVOKED.into())),
            Some(ConnectionStatus::Connected) => {}
        }
        Ok(TenantCalendar {
            apis,
            store: state.store.clone(),
            tenant_id: tenant_id.to_string(),
            settings,
            token: Mutex::new(None),
        })
    }

    pub fn apis(&self) -> &GoogleApis {
        &self.apis
    }

    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    pub(crate) fn store_handle(&self) -> &Store {
        &self.store
    }

    /// Runs a Google request with a fresh token: the outer error is the platform's (not
    /// connected, revoked, store), the inner one Google's answer for the caller to read.
    pub async fn with_token<T, F, Fut>(
        &self,
        request: F,
    ) -> Result<std::result::Result<T, GoogleError>>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = std::result::Result<T, GoogleError>>,
    {
        let token = self.access_token(false).await?;
        match request(token).await {
            Err(e) if e.is_unauthorized() => {
                let token = self.access_token(true).await?;
                match request(token).await {
                    Err(e) if e.is_unauthorized() => {
                        self.revoked().await?;
                        Err(Error::Conflict(REVOKED.into()))
                    }
                    other => Ok(other),
                }
            }
            other => Ok(other),
        }
    }

    /// [`TenantCalendar::with_token`] with Google's failures turned into client errors.
    pub async fn call<T, F, Fut>(&self, request: F) -> Result<T>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = std::result::Result<T, GoogleError>>,
    {
        self.with_token(request).await?.map_err(google_error)
    }

    async fn access_token(&self, force_refresh: bool) -> Result<String> {
        let mut cached = self.token.lock().await;
        if !force_refresh
            && let Some((token, expires_at)) = cached.as_ref()
            && *expires_at - EXPIRY_MARGIN_SECS > now()
        {
            return Ok(token.clone());
        }
        let connection = self.connection().await?;
        if !force_refresh
            && let Some(sealed) = &connection.sealed_access_token
            && connection.access_expires_at - EXPIRY_MARGIN_SECS > now()
        {
            let token = self.open_sealed(sealed)?;
            *cached = Some((token.clone(), connection.access_expires_at));
            return Ok(token);
        }
        let fresh = self.refresh(&connection).await?;
        *cached = Some(fresh.clone());
        Ok(fresh.0)
    }

    async fn connection(&self) -> Result<Connection> {
        match self.store.calendar_connection(&self.tenant_id).await? {
            None => Err(Error::Conflict(NOT_CONNECTED.into())),
            Some(c) if c.status == ConnectionStatus::Revoked => {
                Err(Error::Conflict(REVOKED.into()))
            }
            Some(c) => Ok(c),
        }
    }

    fn open_sealed(&self, sealed: &str) -> Result<String> {
        self.apis
            .sealer
            .open_bound(sealed, self.tenant_id.as_bytes())
    }

    /// A new access token for the stored refresh token, written back.
    async fn refresh(&self, connection: &Connection) -> Result<(String, i64)> {
        let refresh_token = self.open_sealed(&connection.sealed_refresh_token)?;
        let grant = match self.apis.oauth.refresh(&refresh_token).await {
            Ok(grant) => grant,
            Err(e) if e.is_invalid_grant() => {
                self.revoked().await?;
                return Err(Error::Conflict(REVOKED.into()));
            }
            Err(e) => return Err(google_error(e)),
        };
        let expires_at = now() + grant.expires_in as i64;
        let sealed = self
            .apis
            .sealer
            .seal_bound(&grant.access_token, self.tenant_id.as_bytes())?;
        let written = self
            .store
            .store_refreshed_access(&self.tenant_id, &sealed, expires_at, connection.version)
            .await?;
        if !written {
            // Another request refreshed first (both tokens are valid) or the tenant
            // disconnected meanwhile, which the next read reports.
            self.connection().await?;
        }
        Ok((grant.access_token, expires_at))
    }

    async fn revoked(&self) -> Result<()> {
        tracing::warn!(tenant_id = %self.tenant_id, "Google refused the calendar grant; marking it revoked");
        self.store.mark_calendar_revoked(&self.tenant_id).await
    }
}
