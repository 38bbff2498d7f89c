//! Application state, built once per cold start and shared by every request.

use std::sync::Arc;

use crate::auth::{captcha, jwt};
use crate::config::{Config, sdk_config};
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub keys: jwt::Keys,
    pub captcha: captcha::Verifier,
}

impl AppState {
    /// Builds the AWS clients and everything derived from the configuration.
    pub async fn new(config: Config) -> Self {
        crate::telemetry::register_secrets(config.secret_values());
        let sdk = sdk_config(&config.aws).await;
        let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), &config.table_name);
        Self {
            keys: jwt::Keys::new(
                &config.jwt_secret,
                &config.jwt_issuer,
                config.access_token_ttl,
            ),
            captcha: captcha::Verifier::new(config.captcha.clone()),
            store,
            config: Arc::new(config),
        }
    }
}
