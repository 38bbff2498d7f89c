//! What the agent of a call is made of: the persona, prompt and voice of a predefined scenario
//! or of one of the tenant's custom scenarios. Phone calls (the media bridge) and browser
//! sessions (the signalling function) resolve their scenario here, within the tenant only.

use crate::domain::ids::ScenarioId;
use crate::domain::scenarios;
use crate::error::{Error, Result};
use crate::store::Store;

/// The voice when a custom scenario's voice is not one Realtime has.
const FALLBACK_VOICE: &str = "marin";

#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub persona: String,
    pub prompt: String,
    pub voice: String,
    /// Where `transfer_call` sends a phone call (custom scenarios that name one).
    pub transfer_number: Option<String>,
    /// What an answering machine is told (custom scenarios that set one).
    pub voicemail_message: Option<String>,
}

/// The agent of `scenario` for `tenant_id`; 404 when it is neither a predefined key nor one
/// of this tenant's custom scenarios (another tenant's id included).
pub async fn resolve(store: &Store, tenant_id: &str, scenario: &str) -> Result<Agent> {
    if let Some(s) = scenarios::predefined(scenario) {
        return Ok(Agent {
            persona: s.persona.to_string(),
            prompt: s.prompt.to_string(),
            voice: s.voice_config.voice.to_string(),
            transfer_number: None,
            voicemail_message: None,
        });
    }
    let not_found = || Error::NotFound("Scenario not found".into());
    // Only a well-formed custom scenario id is looked up (no oversized key reaches the store).
    let id = ScenarioId::parse(scenario, "scenario").map_err(|_| not_found())?;
    let custom = match store.scenario(tenant_id, id.as_str()).await {
        Ok(custom) => custom,
        Err(Error::NotFound(_)) => return Err(not_found()),
        Err(e) => return Err(e),
    };
    let voice = scenarios::resolve_voice(&custom.fields.voice_type).unwrap_or(FALLBACK_VOICE);
    Ok(Agent {
        persona: custom.fields.persona,
        prompt: custom.fields.prompt,
        voice: voice.to_string(),
        transfer_number: custom.fields.transfer_number,
        voicemail_message: custom.fields.voicemail_message,
    })
}
