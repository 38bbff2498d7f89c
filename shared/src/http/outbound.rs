//! The HTTP client that calls tenants' URLs (webhook deliveries). A tenant chooses where it
//! points, so the client must not become a way into the platform's network: it resolves names
//! itself and connects only to public addresses (see [`crate::domain::webhooks::is_public`]),
//! follows no redirects, and gives up after a short timeout. In development mode it connects
//! anywhere, for receivers on this machine.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::webhooks::is_public;

/// How long a tenant's endpoint may take to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Resolves with the system resolver and keeps public addresses only.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| is_public(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// The client for tenants' URLs.
pub fn tenant_client(development_mode: bool) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("ai-phone-agents-webhooks/1");
    if !development_mode {
        builder = builder.dns_resolver(Arc::new(PublicOnly));
    }
    builder.build().unwrap_or_default()
}
