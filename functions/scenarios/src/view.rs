//! The custom-scenario shape clients see.

use serde::Serialize;
use shared::domain::scenarios::{InstructionsPreview, Scenario, VoiceConfig, resolve_voice};
use shared::store::scenarios::CustomScenario;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomScenarioView {
    /// Same as `scenario_id` (the reference app's numeric id has no meaning here).
    pub id: String,
    pub scenario_id: String,
    pub persona: String,
    pub prompt: String,
    /// As submitted: a Realtime voice name or a reference `voice_type` key.
    pub voice_type: String,
    /// The Realtime voice the agent will speak with.
    pub voice: String,
    pub temperature: f64,
    /// Where `transfer_call` sends a phone call; null: no transfers.
    pub transfer_number: Option<String>,
    /// What the agent tells an answering machine; null: a message built from the scenario.
    pub voicemail_message: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The full instructions the agent receives on inbound and outbound calls.
    pub instructions: InstructionsPreview,
}

impl From<CustomScenario> for CustomScenarioView {
    fn from(s: CustomScenario) -> Self {
        Self {
            id: s.scenario_id.clone(),
            instructions: InstructionsPreview::new(&s.fields.persona, &s.fields.prompt),
            voice: resolve_voice(&s.fields.voice_type)
                .unwrap_or("marin")
                .to_string(),
            scenario_id: s.scenario_id,
            persona: s.fields.persona,
            prompt: s.fields.prompt,
            voice_type: s.fields.voice_type,
            temperature: s.fields.temperature,
            transfer_number: s.fields.transfer_number,
            voicemail_message: s.fields.voicemail_message,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A predefined template with the instructions built from it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PredefinedView {
    pub key: &'static str,
    pub name: &'static str,
    pub persona: &'static str,
    pub prompt: &'static str,
    pub voice_config: VoiceConfig,
    pub instructions: InstructionsPreview,
}

impl From<&'static Scenario> for PredefinedView {
    fn from(s: &'static Scenario) -> Self {
        Self {
            key: s.key,
            name: s.name,
            persona: s.persona,
            prompt: s.prompt,
            voice_config: s.voice_config.clone(),
            instructions: InstructionsPreview::new(s.persona, s.prompt),
        }
    }
}
