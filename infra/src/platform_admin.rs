//! The operator's command for platform administrators (`platform-admin`, a thin binary over
//! [`run`]): no HTTP route can make one, so taking over the platform needs the operator's AWS
//! credentials, not a stolen token.
//!
//! ```text
//! platform-admin promote <email>   make the user of <email> an administrator
//! platform-admin demote <email>    take it away
//! platform-admin index-tenants     put tenants registered before the directory existed in it
//! ```
//!
//! It needs the deployment's `TABLE_NAME`, and AWS credentials and region as the AWS CLI
//! finds them (`AWS_ENDPOINT_URL` for local AWS). Each change is written to the audit log with
//! the actor `operator`.

use std::collections::HashMap;

use shared::config::{Config, sdk_config};
use shared::domain::email;
use shared::store::Store;
use shared::store::audit::{AuditAction, AuditEntry, OPERATOR};

pub const USAGE: &str =
    "usage: platform-admin promote|demote <email> | index-tenants   (TABLE_NAME must be set)";

/// Why the command did not do what it was asked, with its exit status.
#[derive(Debug, PartialEq)]
pub enum Failure {
    /// 2: the arguments or the environment are wrong.
    Usage(String),
    /// 3: no user has the e-mail.
    NoSuchUser(String),
    /// 1: the store failed.
    Store(String),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Store(_) => 1,
            Failure::Usage(_) => 2,
            Failure::NoSuchUser(_) => 3,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Failure::Usage(m) | Failure::NoSuchUser(m) | Failure::Store(m) => m,
        }
    }
}

/// Runs the command (`args` without the program name) with the settings in `env`; what to
/// print on success.
pub async fn run(args: &[String], env: &HashMap<String, String>) -> Result<String, Failure> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (action, admin, raw_email) = match args.as_slice() {
        ["promote", email] => (AuditAction::PromoteAdmin, true, *email),
        ["demote", email] => (AuditAction::DemoteAdmin, false, *email),
        ["index-tenants"] => return index_tenants(&store(env).await?).await,
        _ => return Err(Failure::Usage(USAGE.into())),
    };
    let email = email::normalize(raw_email).map_err(|e| {
        Failure::Usage(format!(
            "{raw_email:?} is not an e-mail address: {}",
            e.message
        ))
    })?;
    let store = store(env).await?;
    let audit = |tenant_id: &str| {
        AuditEntry::now(OPERATOR, None, action)
            .on_tenant(tenant_id)
            .with_detail(email.clone())
    };
    match store.set_admin(&email, admin, audit).await {
        Ok(Some(tenant_id)) => {
            let done = if admin {
                "now an administrator"
            } else {
                "no longer an administrator"
            };
            Ok(format!("{email} (tenant {tenant_id}) is {done}"))
        }
        Ok(None) => Err(Failure::NoSuchUser(format!(
            "no user has the e-mail {email}"
        ))),
        Err(e) => Err(Failure::Store(format!("failed: {e}"))),
    }
}

/// The deployment's table, reached with the operator's AWS settings.
async fn store(env: &HashMap<String, String>) -> Result<Store, Failure> {
    let table = env
        .get("TABLE_NAME")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Failure::Usage(USAGE.into()))?;
    let sdk = sdk_config(&Config::aws_settings(env)).await;
    Ok(Store::new(shared::store::client(&sdk), table.clone()))
}

async fn index_tenants(store: &Store) -> Result<String, Failure> {
    let added = store
        .index_tenants()
        .await
        .map_err(|e| Failure::Store(format!("failed: {e}")))?;
    let done = format!("{added} tenants added to the directory");
    let entry = AuditEntry::now(OPERATOR, None, AuditAction::IndexTenants).with_detail(&done);
    store
        .record_audit(&entry)
        .await
        .map_err(|e| Failure::Store(format!("failed to write the audit entry: {e}")))?;
    Ok(done)
}
