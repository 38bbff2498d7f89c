//! The parts of the OpenAPI document that no single context owns: metadata, the bearer
//! security scheme and the shared schemas. Each context adds its routes with `utoipa-axum`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{FieldError, Problem};

pub const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "AI Phone Agents API",
        description = "Multi-tenant AI phone agents: phone numbers, scenarios, calls and onboarding."
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerScheme)
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// What every operation shares and the per-handler annotations leave out, applied to the
/// generated document:
/// - error bodies are `application/problem+json` (handlers name the `Problem` schema, which
///   utoipa files under `application/json`);
/// - an operation with a request body can answer 400 (unreadable body) and 422 (a field of
///   the wrong type), one with query parameters 400 (an unreadable query string), and one
///   behind the bearer scheme 401.
pub fn finish_document(doc: &mut serde_json::Value) {
    let problem_ref = "#/components/schemas/Problem";
    let problem =
        || serde_json::json!({"application/problem+json": {"schema": {"$ref": problem_ref}}});
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(operations) = item.as_object_mut() else {
            continue;
        };
        for operation in operations.values_mut() {
            let has_body = operation.get("requestBody").is_some();
            let has_query = operation
                .get("parameters")
                .and_then(|p| p.as_array())
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            let secured = operation.get("security").is_some();
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(|r| r.as_object_mut())
            else {
                continue;
            };
            for response in responses.values_mut() {
                let Some(content) = response.get_mut("content").and_then(|c| c.as_object_mut())
                else {
                    continue;
                };
                let is_problem = content
                    .get("application/json")
                    .and_then(|j| j.pointer("/schema/$ref"))
                    .and_then(|r| r.as_str())
                    == Some(problem_ref);
                if is_problem && let Some(json) = content.remove("application/json") {
                    content.insert("application/problem+json".into(), json);
                }
            }
            let mut add = |status: &str, description: &str| {
                responses.entry(status.to_string()).or_insert_with(
                    || serde_json::json!({"description": description, "content": problem()}),
                );
            };
            if has_body {
                add(
                    "400",
                    "The body could not be read as the declared content type",
                );
                add("422", "A field has the wrong type or an invalid value");
            }
            if has_query {
                // A parameter repeated (`?limit=1&limit=2`) or not decodable.
                add("400", "The query string could not be read");
            }
            if secured {
                add("401", "Not authenticated");
            }
        }
    }
}
