//! The platform's own Twilio account as administrators see it: status and balance. Tenants
//! never see it (it is the whole platform's money).

use serde::Serialize;
use utoipa::ToSchema;

use super::{Client, TwilioError};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformAccount {
    account_sid: String,
    status: Option<String>,
    balance: String,
    currency: String,
}

/// Asks Twilio for the account and its balance (both at once).
pub async fn platform_account(client: &Client) -> Result<PlatformAccount, TwilioError> {
    let (account, balance) = tokio::try_join!(client.account(), client.balance())?;
    Ok(PlatformAccount {
        account_sid: account.sid,
        status: account.status,
        balance: balance.balance,
        currency: balance.currency,
    })
}
