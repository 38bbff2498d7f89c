use axum::Json;
use axum::extract::multipart::Field;
use axum::extract::{FromRequest, Multipart, Request, State};
use serde::Serialize;
use shared::http::AuthUser;
use shared::openai::Audio;
use shared::{AppState, Error, FieldError, Result};
use utoipa::ToSchema;

/// The largest file accepted: what an API Gateway request to Lambda can carry (6 MB, binary
/// bodies base64-encoded) with room for the form around it.
pub const MAX_AUDIO_BYTES: usize = 4 * 1024 * 1024;
/// The largest body read at all (more than API Gateway passes on to Lambda anyway).
pub const MAX_BODY_BYTES: usize = 4 * MAX_AUDIO_BYTES;

/// Audio formats OpenAI transcribes, by file extension, with their content type.
const FORMATS: [(&str, &str); 9] = [
    ("wav", "audio/wav"),
    ("mp3", "audio/mpeg"),
    ("mpga", "audio/mpeg"),
    ("mpeg", "audio/mpeg"),
    ("m4a", "audio/mp4"),
    ("mp4", "audio/mp4"),
    ("webm", "audio/webm"),
    ("ogg", "audio/ogg"),
    ("flac", "audio/flac"),
];

#[derive(Serialize, ToSchema)]
pub struct Transcription {
    /// Always `success`.
    status: &'static str,
    transcription: String,
}

/// The form of `POST /whisper/transcribe`, for the OpenAPI document.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct WhisperForm {
    /// The audio (wav, mp3, m4a, mp4, webm, ogg or flac), at most 4 MiB.
    #[schema(format = Binary, value_type = String)]
    file: Vec<u8>,
    /// ISO-639-1 code of the spoken language (`en`), if known.
    language: Option<String>,
}

fn too_large() -> Error {
    Error::TooLarge(format!(
        "The audio file is larger than {} MiB, the most a request can carry; send a shorter recording",
        MAX_AUDIO_BYTES / (1024 * 1024)
    ))
}

fn unreadable() -> Error {
    Error::BadRequest {
        detail: "Expected a multipart/form-data body with a `file` part".into(),
        errors: vec![FieldError::new("file", "is required")],
    }
}

/// The file part, checked for size and type.
async fn audio(field: Field<'_>) -> Result<Audio> {
    let file_name = field.file_name().unwrap_or("audio").to_string();
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    let declared = field.content_type().map(str::to_string);
    let content_type = FORMATS
        .iter()
        .find(|(ext, _)| *ext == extension)
        .map(|(_, ct)| ct.to_string())
        .or_else(|| declared.filter(|ct| ct.starts_with("audio/")))
        .ok_or_else(|| {
            Error::field(
                "file",
                "must be audio: wav, mp3, m4a, mp4, webm, ogg or flac",
            )
        })?;
    let bytes = field.bytes().await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            unreadable()
        }
    })?;
    if bytes.is_empty() {
        return Err(Error::field("file", "is empty"));
    }
    if bytes.len() > MAX_AUDIO_BYTES {
        return Err(too_large());
    }
    Ok(Audio {
        bytes: bytes.to_vec(),
        file_name,
        content_type,
    })
}

/// Transcribe an audio file with OpenAI (`/audio/transcriptions`, model from configuration).
#[utoipa::path(post, path = "/whisper/transcribe", tag = "transcripts",
    security(("bearer" = [])),
    request_body(content = WhisperForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The text", body = Transcription),
        (status = 400, description = "Not a multipart body", body = shared::error::Problem),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 413, description = "The file is over 4 MiB", body = shared::error::Problem),
        (status = 422, description = "Missing, empty or non-audio file, or a bad language", body = shared::error::Problem),
        (status = 429, description = "Rate limited", body = shared::error::Problem),
        (status = 502, description = "OpenAI unavailable", body = shared::error::Problem),
        (status = 503, description = "OpenAI not configured", body = shared::error::Problem),
    ))]
pub async fn transcribe(
    State(state): State<AppState>,
    user: AuthUser,
    request: Request,
) -> Result<Json<Transcription>> {
    state
        .store
        .rate_limit(
            "whisper",
            &user.tenant_id,
            &state.config.rate_limits.whisper,
        )
        .await?;
    let mut form = Multipart::from_request(request, &state)
        .await
        .map_err(|_| unreadable())?;
    let mut file = None;
    let mut language = None;
    while let Some(field) = form.next_field().await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            unreadable()
        }
    })? {
        match field.name() {
            Some("file") => file = Some(audio(field).await?),
            Some("language") => language = Some(field.text().await.map_err(|_| unreadable())?),
            _ => {}
        }
    }
    let file = file.ok_or_else(|| Error::field("file", "is required"))?;
    let language = language.filter(|l| !l.trim().is_empty());
    if let Some(code) = &language
        && !(code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase()))
    {
        return Err(Error::field(
            "language",
            "must be an ISO-639-1 code, e.g. en",
        ));
    }
    let openai = state.openai.as_ref().ok_or_else(|| {
        Error::Unavailable("Transcription is not configured on this deployment".into())
    })?;
    let text = openai
        .transcribe(file, language.as_deref())
        .await
        .map_err(|e| {
            tracing::warn!(status = e.status, "OpenAI could not transcribe an upload");
            Error::Upstream("The transcription service is unavailable; please retry shortly".into())
        })?;
    Ok(Json(Transcription {
        status: "success",
        transcription: text,
    }))
}
