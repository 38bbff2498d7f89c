//! Browser voice sessions (OpenAI Realtime over WebRTC): `POST /realtime/session` starts a
//! session for one of the tenant's scenarios, `POST /realtime/signal` exchanges the browser's
//! SDP offer for OpenAI's answer with the platform's key (the browser never holds a key or a
//! secret that outlives the call), records the call and hands it to the media bridge, which
//! runs the call's tools and limits through its sideband.

mod handlers;

use shared::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every route of the realtime context.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::session::create_session))
        .routes(routes!(handlers::signal::signal))
}
