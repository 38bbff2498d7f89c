use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use shared::http::AuthUser;
use shared::store::audit::{AuditAction, AuditEntry};
use shared::{AppState, Error};

/// A signed-in platform administrator. The flag is read from the user item on every request
/// (not from the token), so taking it away takes effect at once.
pub struct Administrator {
    pub user: AuthUser,
}

impl FromRequestParts<AppState> for Administrator {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        let is_admin = state
            .store
            .user(&user.tenant_id)
            .await?
            .is_some_and(|u| u.is_admin);
        if !is_admin {
            tracing::warn!(user_id = %user.user_id, "administration refused to a non-administrator");
            return Err(Error::Forbidden(
                "Only platform administrators may do this".into(),
            ));
        }
        Ok(Administrator { user })
    }
}

impl Administrator {
    /// An audit entry of this administrator's, stamped now.
    pub fn audit(&self, action: AuditAction) -> AuditEntry {
        AuditEntry::now(&self.user.user_id, Some(&self.user.email), action)
    }
}
