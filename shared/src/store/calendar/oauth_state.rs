//! Pending OAuth states. `/google-calendar/auth` stores one per authorization URL it hands
//! out; the callback consumes it with a conditional delete, so a state works once, only
//! before it expires, and only for the tenant that asked for it. The state itself is never
//! stored (only its hash), and the PKCE verifier is sealed.

use aws_sdk_dynamodb::types::ReturnValue;

use super::super::{ItemExt, Store, epoch_now, keys, n, s};
use crate::auth::sha256_hex;
use crate::error::Result;

const SK: &str = "OAUTHSTATE";

fn pk(state: &str) -> String {
    format!("OAUTHSTATE#{}", sha256_hex(state))
}

/// What a consumed state gives back.
pub struct PendingAuthorization {
    pub tenant_id: String,
    pub sealed_verifier: String,
}

impl Store {
    pub async fn create_oauth_state(
        &self,
        state: &str,
        tenant_id: &str,
        sealed_verifier: &str,
        expires_at: i64,
    ) -> Result<()> {
        self.client()
            .put_item()
            .table_name(self.table())
            .item(keys::PK, s(pk(state)))
            .item(keys::SK, s(SK))
            .item("entity", s("oauth_state"))
            .item("tenant_id", s(tenant_id))
            .item("sealed_verifier", s(sealed_verifier))
            .item(keys::TTL_ATTRIBUTE, n(expires_at))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await?;
        Ok(())
    }

    /// Takes the state out of the table: `None` if it was never issued, already used, or
    /// expired (TTL deletion is lazy, so expiry is checked here too).
    pub async fn consume_oauth_state(&self, state: &str) -> Result<Option<PendingAuthorization>> {
        let result = self
            .client()
            .delete_item()
            .table_name(self.table())
            .key(keys::PK, s(pk(state)))
            .key(keys::SK, s(SK))
            .condition_expression("attribute_exists(PK)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let item = match result {
            Ok(out) => out.attributes,
            Err(e) if super::super::conditional_failed(&e) => None,
            Err(e) => return Err(e.into()),
        };
        let Some(item) = item else { return Ok(None) };
        if item.num::<i64>(keys::TTL_ATTRIBUTE)? <= epoch_now() {
            return Ok(None);
        }
        Ok(Some(PendingAuthorization {
            tenant_id: item.str("tenant_id")?,
            sealed_verifier: item.str("sealed_verifier")?,
        }))
    }
}
