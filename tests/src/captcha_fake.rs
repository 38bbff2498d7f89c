//! A local siteverify endpoint speaking the shared reCAPTCHA / hCaptcha / Turnstile protocol:
//! form `secret` + `response` (+ `remoteip`) in, JSON `{"success": bool}` out. It accepts only
//! [`crate::VALID_CAPTCHA`] presented with [`crate::CAPTCHA_SECRET`].

use std::collections::HashMap;

use axum::routing::post;
use axum::{Form, Json, Router};
use serde_json::{Value, json};

async fn siteverify(Form(form): Form<HashMap<String, String>>) -> Json<Value> {
    let ok = form.get("secret").map(String::as_str) == Some(crate::CAPTCHA_SECRET)
        && form.get("response").map(String::as_str) == Some(crate::VALID_CAPTCHA);
    if ok {
        Json(json!({ "success": true, "hostname": "localhost" }))
    } else {
        Json(json!({ "success": false, "error-codes": ["invalid-input-response"] }))
    }
}

/// Serves the fake on the current runtime; returns its siteverify URL.
pub async fn start() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = Router::new().route("/siteverify", post(siteverify));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}/siteverify"))
}
