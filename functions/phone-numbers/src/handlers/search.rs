use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shared::http::{AuthUser, JsonBody};
use shared::{AppState, Error, FieldError, Result};
use utoipa::ToSchema;

use crate::view::CapabilitiesView;

pub const MAX_LIMIT: u32 = 30;

#[derive(Deserialize, ToSchema)]
pub struct SearchRequest {
    /// Three-digit area code (a string or a number).
    #[schema(value_type = Option<String>, nullable = false, pattern = "^[2-9][0-9]{2}$")]
    area_code: Option<serde_json::Value>,
    /// Digits (or letters) the number must contain; `*` matches any one digit.
    #[schema(nullable = false, max_length = 16, pattern = "^[A-Za-z0-9*]*$")]
    contains: Option<String>,
    /// 1 to 30; default 10.
    #[schema(nullable = false, minimum = 1, maximum = 30)]
    limit: Option<u32>,
    /// ISO country code among the allowed destination countries; default US.
    #[schema(nullable = false)]
    country: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvailableNumberView {
    phone_number: String,
    friendly_name: Option<String>,
    locality: Option<String>,
    region: Option<String>,
    capabilities: CapabilitiesView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    available_numbers: Vec<AvailableNumberView>,
}

struct Query {
    country: String,
    area_code: Option<u16>,
    contains: Option<String>,
    limit: u32,
}

fn validate(body: SearchRequest, allowed: &[String]) -> Result<Query> {
    let mut errors = Vec::new();
    let area_code = match body.area_code {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => {
            let text = match &v {
                serde_json::Value::String(s) => s.trim().to_string(),
                other => other.to_string(),
            };
            match text.parse::<u16>() {
                Ok(code) if (200..=999).contains(&code) && text.len() == 3 => Some(code),
                _ => {
                    errors.push(FieldError::new(
                        "area_code",
                        "must be a three-digit area code",
                    ));
                    None
                }
            }
        }
    };
    let contains = body
        .contains
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    if let Some(c) = &contains
        && (c.len() > 16 || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '*'))
    {
        errors.push(FieldError::new(
            "contains",
            "must be up to 16 digits, letters or * wildcards",
        ));
    }
    let limit = body.limit.unwrap_or(10);
    if !(1..=MAX_LIMIT).contains(&limit) {
        errors.push(FieldError::new(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let country = body
        .country
        .unwrap_or_else(|| "US".into())
        .to_ascii_uppercase();
    if !allowed.contains(&country) {
        errors.push(FieldError::new(
            "country",
            format!(
                "must be one of the enabled countries: {}",
                allowed.join(", ")
            ),
        ));
    }
    if errors.is_empty() {
        Ok(Query {
            country,
            area_code,
            contains,
            limit,
        })
    } else {
        Err(Error::Validation(errors))
    }
}

/// Search Twilio's inventory of local numbers.
#[utoipa::path(post, path = "/twilio/search-numbers", tag = "phone-numbers",
    security(("bearer" = [])),
    request_body = SearchRequest,
    responses(
        (status = 200, description = "Numbers available to buy", body = SearchResult),
        (status = 401, description = "Not authenticated", body = shared::error::Problem),
        (status = 422, description = "Invalid fields", body = shared::error::Problem),
        (status = 502, description = "Twilio unavailable", body = shared::error::Problem),
        (status = 503, description = "Telephony not configured", body = shared::error::Problem),
    ))]
pub async fn search(
    State(state): State<AppState>,
    _user: AuthUser,
    JsonBody(body): JsonBody<SearchRequest>,
) -> Result<Json<SearchResult>> {
    let client = shared::calling::twilio(&state)?;
    let query = validate(body, &state.config.telephony.allowed_countries)?;
    let found = client
        .search_local(
            &query.country,
            query.area_code,
            query.contains.as_deref(),
            query.limit,
        )
        .await
        .map_err(|e| shared::calling::twilio_error(e, "area_code"))?;
    Ok(Json(SearchResult {
        available_numbers: found
            .into_iter()
            .map(|n| AvailableNumberView {
                capabilities: CapabilitiesView {
                    voice: n.capabilities.as_ref().is_some_and(|c| c.voice),
                    sms: n.capabilities.as_ref().is_some_and(|c| c.sms),
                },
                phone_number: n.phone_number,
                friendly_name: n.friendly_name,
                locality: n.locality,
                region: n.region,
            })
            .collect(),
    }))
}
