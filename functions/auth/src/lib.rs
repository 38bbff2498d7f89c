//! Accounts and sessions: register, login (JSON or OAuth2 form), `/token`, refresh-token
//! rotation, logout, `/users/me`, the user's name, `/protected` and the CAPTCHA set-up a
//! frontend needs. One handler per file under `handlers/`.

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
        .routes(routes!(handlers::user_name::update_user_name))
        .routes(routes!(handlers::protected::protected))
        .routes(routes!(handlers::captcha_key::captcha_key))
}
