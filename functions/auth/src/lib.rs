//! Accounts and sessions: register, login (JSON or OAuth2 form), `/token`, refresh-token
//! rotation, logout and `/users/me`. One handler per file under `handlers/`.

mod handlers;
mod session;

use shared::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use session::TokenResponse;

/// Every route of the auth context.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::register::register))
        .routes(routes!(handlers::login::login))
        .routes(routes!(handlers::token::token))
        .routes(routes!(handlers::refresh::refresh))
        .routes(routes!(handlers::logout::logout))
        .routes(routes!(handlers::me::me))
}
