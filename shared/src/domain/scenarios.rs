//! Scenarios: the predefined business templates, custom-scenario validation, voices, and the
//! direction-aware instructions the agent receives.
//!
//! Responsible use is part of the product: no template impersonates a real person, fakes an
//! emergency or a prize, or harasses, and every instruction set tells the agent to be honest
//! about being an AI when asked.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::calls::Direction;
use super::phone::{E164, check_destination};
use crate::error::FieldError;

/// The current OpenAI Realtime voice names.
pub const REALTIME_VOICES: [&str; 10] = [
    "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar",
];

/// The reference app's `voice_type` keys, still accepted, and the voice each maps to.
pub const LEGACY_VOICE_TYPES: [(&str, &str); 9] = [
    ("aggressive_male", "ash"),
    ("concerned_female", "coral"),
    ("elderly_female", "shimmer"),
    ("professional_neutral", "alloy"),
    ("gentle_supportive", "echo"),
    ("warm_engaging", "ballad"),
    ("deep_authoritative", "sage"),
    ("energetic_upbeat", "verse"),
    ("clear_optimistic", "shimmer"),
];

/// Resolves a `voice_type` (a Realtime voice name or a legacy key) to the Realtime voice.
pub fn resolve_voice(voice_type: &str) -> Option<&'static str> {
    REALTIME_VOICES
        .iter()
        .find(|v| **v == voice_type)
        .copied()
        .or_else(|| {
            LEGACY_VOICE_TYPES
                .iter()
                .find(|(k, _)| *k == voice_type)
                .map(|(_, v)| *v)
        })
}

pub const TEXT_MIN: usize = 10;
pub const TEXT_MAX: usize = 5000;
pub const TEMPERATURE_MIN: f64 = 0.0;
pub const TEMPERATURE_MAX: f64 = 1.0;
pub const DEFAULT_TEMPERATURE: f64 = 0.7;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VoiceConfig {
    pub voice: &'static str,
    pub temperature: f64,
}

/// A predefined scenario, in the reference structure.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub key: &'static str,
    pub name: &'static str,
    pub persona: &'static str,
    pub prompt: &'static str,
    pub voice_config: VoiceConfig,
}

macro_rules! scenario {
    ($key:literal, $name:literal, $voice:literal, $temp:literal, $persona:literal, $prompt:literal) => {
        Scenario {
            key: $key,
            name: $name,
            persona: $persona,
            prompt: $prompt,
            voice_config: VoiceConfig {
                voice: $voice,
                temperature: $temp,
            },
        }
    };
}

/// The shipped templates. `default` is kept as a key because the reference clients use it.
pub const PREDEFINED: [Scenario; 7] = [
    scenario!(
        "default",
        "Front desk assistant",
        "marin",
        0.7,
        "Alex, a friendly and efficient front-desk assistant for a small business. Warm, concise, and patient.",
        "Help the person on the line with general questions about the business, take a message with their name, number and reason for calling when you cannot help directly, and confirm the details back before ending the call."
    ),
    scenario!(
        "appointment_reminder",
        "Appointment reminder",
        "coral",
        0.6,
        "Jamie, a courteous scheduling assistant calling on behalf of the business that booked the appointment.",
        "Remind the person of their upcoming appointment, confirm whether they can attend, and if not, offer to note a request to reschedule. Never ask for payment details or sensitive personal information."
    ),
    scenario!(
        "inbound_receptionist",
        "Inbound receptionist",
        "alloy",
        0.7,
        "Riley, the virtual receptionist of the business. Professional, welcoming and clear.",
        "Answer incoming calls, find out who is calling and why, answer simple questions about opening hours and services, and take a detailed message for the team when a person is needed."
    ),
    scenario!(
        "customer_feedback",
        "Customer feedback follow-up",
        "ballad",
        0.7,
        "Sam, a customer care representative following up after a recent purchase or visit.",
        "Ask whether the customer has a few minutes for two or three short questions about their recent experience, listen carefully, thank them for any feedback, and end politely if they are busy or not interested."
    ),
    scenario!(
        "reservation_booking",
        "Reservation booking",
        "verse",
        0.7,
        "Taylor, a cheerful reservations assistant for a restaurant.",
        "Help the caller book, change or cancel a table: collect the date, time, party size, name and a contact number, read the details back, and confirm. Mention that the restaurant will confirm by message."
    ),
    scenario!(
        "lead_qualification",
        "Lead qualification",
        "sage",
        0.6,
        "Morgan, a helpful sales development representative who contacts people who asked to be called back.",
        "Thank the person for their enquiry, ask a few questions to understand their needs, timeline and budget, and offer to book a follow-up with a specialist. Respect a no immediately and offer to remove them from the call list."
    ),
    scenario!(
        "calendar",
        "Calendar assistant",
        "alloy",
        0.7,
        "Casey, a friendly scheduling assistant who looks after the business's calendar.",
        "Help the person on the line find a time that suits them and book it, or cancel an appointment that was booked for them. Collect the date, time and purpose, check availability before offering or confirming a time, read the details back, and only confirm once the booking tool says it is done. This scenario needs a connected Google Calendar."
    ),
];

/// The predefined scenario whose calls get the tenant's calendar: its availability in the
/// instructions and the booking tools.
pub const CALENDAR: &str = "calendar";

pub fn is_calendar(key: &str) -> bool {
    key == CALENDAR
}

pub fn predefined(key: &str) -> Option<&'static Scenario> {
    PREDEFINED.iter().find(|s| s.key == key)
}

/// A custom scenario's editable fields (create and full-replace update).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CustomScenarioInput {
    /// Who the agent is (10 to 5000 characters).
    #[schema(required = true, nullable = false, min_length = 10, max_length = 5000)]
    pub persona: Option<String>,
    /// What the agent should achieve (10 to 5000 characters).
    #[schema(required = true, nullable = false, min_length = 10, max_length = 5000)]
    pub prompt: Option<String>,
    /// A Realtime voice name (`marin`, `alloy`, ...) or a reference `voice_type` key.
    #[schema(
        required = true,
        nullable = false,
        pattern = "^(alloy|ash|ballad|coral|echo|sage|shimmer|verse|marin|cedar|aggressive_male|concerned_female|elderly_female|professional_neutral|gentle_supportive|warm_engaging|deep_authoritative|energetic_upbeat|clear_optimistic)$"
    )]
    pub voice_type: Option<String>,
    /// 0.0 to 1.0; default 0.7.
    #[schema(nullable = false, minimum = 0.0, maximum = 1.0)]
    pub temperature: Option<f64>,
    /// A person's phone number (E.164, or 10 digits for the US and Canada) the agent may
    /// transfer a phone call to with its `transfer_call` tool; the same destination rules as
    /// any call. Absent or null: no transfers.
    pub transfer_number: Option<String>,
    /// What the agent says to an answering machine on an outbound call (10 to 1000
    /// characters), then hangs up. Absent or null: a message built from the scenario.
    #[schema(min_length = 10, max_length = 1000)]
    pub voicemail_message: Option<String>,
}

/// A validated custom scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomScenarioFields {
    pub persona: String,
    pub prompt: String,
    pub voice_type: String,
    pub temperature: f64,
    /// E.164, checked against the destination rules.
    pub transfer_number: Option<String>,
    pub voicemail_message: Option<String>,
}

/// The longest voicemail message kept: about a minute of speech.
pub const VOICEMAIL_MAX: usize = 1000;

impl CustomScenarioInput {
    /// Checks every field and reports all problems at once; a transfer number must be a
    /// destination calls may go to (`allowed_countries`, no emergency or premium numbers).
    pub fn validate(
        self,
        allowed_countries: &[String],
    ) -> Result<CustomScenarioFields, Vec<FieldError>> {
        let mut errors = Vec::new();
        let transfer_number = self
            .transfer_number
            .filter(|raw| !raw.trim().is_empty())
            .and_then(|raw| match transfer_destination(&raw, allowed_countries) {
                Ok(number) => Some(number),
                Err(e) => {
                    errors.push(e);
                    None
                }
            });
        let voicemail_message = self.voicemail_message.map(|message| {
            let message = message.trim().to_string();
            let len = message.chars().count();
            if !(TEXT_MIN..=VOICEMAIL_MAX).contains(&len) {
                errors.push(FieldError::new(
                    "voicemail_message",
                    format!("must be between {TEXT_MIN} and {VOICEMAIL_MAX} characters"),
                ));
            }
            message
        });
        let persona = text_field("persona", self.persona, &mut errors);
        let prompt = text_field("prompt", self.prompt, &mut errors);
        let voice_type = match self.voice_type.map(|v| v.trim().to_string()) {
            None => {
                errors.push(FieldError::new("voice_type", "is required"));
                String::new()
            }
            Some(v) if resolve_voice(&v).is_none() => {
                errors.push(FieldError::new(
                    "voice_type",
                    format!(
                        "must be one of: {}",
                        REALTIME_VOICES
                            .iter()
                            .chain(LEGACY_VOICE_TYPES.iter().map(|(k, _)| k))
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
                v
            }
            Some(v) => v,
        };
        // Kept to two decimals: all a model's temperature means, and what DynamoDB can store (it
        // refuses numbers below 1e-130, such as 5e-210).
        let temperature =
            (self.temperature.unwrap_or(DEFAULT_TEMPERATURE) * 100.0).round() / 100.0 + 0.0;
        if !(TEMPERATURE_MIN..=TEMPERATURE_MAX).contains(&temperature) {
            errors.push(FieldError::new(
                "temperature",
                format!("must be between {TEMPERATURE_MIN} and {TEMPERATURE_MAX}"),
            ));
        }
        if errors.is_empty() {
            Ok(CustomScenarioFields {
                persona,
                prompt,
                voice_type,
                temperature,
                transfer_number,
                voicemail_message,
            })
        } else {
            Err(errors)
        }
    }
}

/// A transfer number: a valid number that calls may be placed to.
fn transfer_destination(raw: &str, allowed_countries: &[String]) -> Result<String, FieldError> {
    const FIELD: &str = "transfer_number";
    let number = E164::parse(raw, FIELD)?;
    check_destination(&number, allowed_countries)
        .map_err(|refusal| FieldError::new(FIELD, refusal.message()))?;
    Ok(number.as_str().to_string())
}

fn text_field(name: &str, value: Option<String>, errors: &mut Vec<FieldError>) -> String {
    let Some(value) = value else {
        errors.push(FieldError::new(name, "is required"));
        return String::new();
    };
    let value = value.trim().to_string();
    let len = value.chars().count();
    if !(TEXT_MIN..=TEXT_MAX).contains(&len) {
        errors.push(FieldError::new(
            name,
            format!("must be between {TEXT_MIN} and {TEXT_MAX} characters"),
        ));
    }
    value
}

/// The rules every agent follows, whatever the scenario.
pub const SYSTEM_MESSAGE: &str = "You are a voice agent on a live phone call.\n\
1. Stay in the persona described below while you pursue the scenario's goal.\n\
2. Keep replies short and natural, as in a real phone conversation.\n\
3. If anyone asks whether they are talking to an AI or a recording, say honestly that you are an AI assistant. Never claim to be a human.\n\
4. Never ask for passwords, full card numbers or other sensitive credentials.\n\
5. If the person asks you to stop calling or wants to end the call, respect it politely.\n\
6. When interrupted, stop, acknowledge, and adapt.";

/// Assembles the agent's instructions, direction-aware (the reference `_get_instructions`
/// wording): outbound calls start with the purpose, inbound calls greet and find out who is
/// calling and why.
pub fn instructions(
    persona: &str,
    prompt: &str,
    direction: Direction,
    callee_name: Option<&str>,
) -> String {
    let mut blocks = vec![
        SYSTEM_MESSAGE.to_string(),
        format!("Persona: {persona}"),
        format!("Scenario: {prompt}"),
    ];
    match direction {
        Direction::Outbound => {
            blocks.push(
                "This is an outbound call that you initiated. Begin directly: introduce yourself as in your persona and state why you are calling, without asking how you can help."
                    .to_string(),
            );
            if let Some(name) = callee_name.map(str::trim).filter(|n| !n.is_empty()) {
                blocks.push(format!(
                    "The person's name is {name}. Address them by name and do not ask for it."
                ));
            }
        }
        Direction::Inbound => blocks.push(
            "This is an inbound call. Greet the caller immediately, introduce yourself as in your persona and ask how you can help. Early in the call ask \"May I get your name, please?\" and use it afterwards. Collect contact details and the reason for calling when relevant, without interrogating, and do not press if the caller prefers not to share."
                .to_string(),
        ),
        Direction::Browser => blocks.push(
            "This conversation takes place in the person's web browser, not over a phone line: there is no phone number and no call to transfer. Greet them immediately, introduce yourself as in your persona and ask how you can help."
                .to_string(),
        ),
    }
    blocks.join("\n\n")
}

/// What the agent is told on each kind of call: shown to tenants so they can see exactly how
/// their persona and prompt are framed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstructionsPreview {
    pub inbound: String,
    pub outbound: String,
}

impl InstructionsPreview {
    pub fn new(persona: &str, prompt: &str) -> Self {
        Self {
            inbound: instructions(persona, prompt, Direction::Inbound, None),
            outbound: instructions(persona, prompt, Direction::Outbound, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_templates_keep_default_and_use_known_voices() {
        assert!(predefined("default").is_some());
        for s in &PREDEFINED {
            assert!(REALTIME_VOICES.contains(&s.voice_config.voice), "{}", s.key);
            let text = format!("{} {}", s.persona, s.prompt).to_lowercase();
            for banned in ["emergency", "hospital", "won", "prize", "million", "mock"] {
                assert!(!text.contains(banned), "{} mentions {banned}", s.key);
            }
        }
        for gone in [
            "sister_emergency",
            "mother_emergency",
            "gameshow_host",
            "instigator",
            "yacht_party",
        ] {
            assert!(predefined(gone).is_none());
        }
    }

    #[test]
    fn instructions_are_direction_aware_and_honest() {
        let out = instructions("P", "Q", Direction::Outbound, Some("Ada"));
        assert!(out.contains("outbound call that you initiated"));
        assert!(out.contains("Ada"));
        let inb = instructions("P", "Q", Direction::Inbound, None);
        assert!(inb.contains("May I get your name"));
        for text in [out, inb] {
            assert!(text.contains("say honestly that you are an AI"));
            assert!(!text.to_lowercase().contains("never break character"));
            assert!(!text.to_lowercase().contains("reveal being an ai"));
        }
    }

    fn us_and_canada() -> Vec<String> {
        vec!["US".into(), "CA".into()]
    }

    #[test]
    fn validation_reports_every_field() {
        let errors = CustomScenarioInput {
            persona: Some("short".into()),
            prompt: None,
            voice_type: Some("robot".into()),
            temperature: Some(1.5),
            transfer_number: Some("911".into()),
            voicemail_message: Some("Hi".into()),
        }
        .validate(&us_and_canada())
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "transfer_number",
                "voicemail_message",
                "persona",
                "prompt",
                "voice_type",
                "temperature"
            ]
        );
    }

    #[test]
    fn a_transfer_number_must_be_a_destination_calls_may_go_to() {
        let input = |number: &str| CustomScenarioInput {
            persona: Some("A friendly receptionist".into()),
            prompt: Some("Help callers book a visit".into()),
            voice_type: Some("marin".into()),
            temperature: None,
            transfer_number: Some(number.into()),
            voicemail_message: None,
        };
        let kept = input("(415) 555-0199").validate(&us_and_canada()).unwrap();
        assert_eq!(kept.transfer_number.as_deref(), Some("+14155550199"));
        for refused in ["911", "+19005550100", "+442071838750", "call me"] {
            let errors = input(refused).validate(&us_and_canada()).unwrap_err();
            assert_eq!(errors[0].field, "transfer_number", "{refused}");
        }
        let blank = input(" ").validate(&us_and_canada()).unwrap();
        assert_eq!(blank.transfer_number, None);
    }

    #[test]
    fn temperatures_keep_two_decimals() {
        let input = |t: f64| CustomScenarioInput {
            persona: Some("A friendly receptionist".into()),
            prompt: Some("Help callers book a visit".into()),
            voice_type: Some("marin".into()),
            temperature: Some(t),
            transfer_number: None,
            voicemail_message: None,
        };
        for (given, kept) in [(4.97e-210, 0.0), (0.456, 0.46), (-0.001, 0.0), (1.004, 1.0)] {
            let fields = input(given).validate(&us_and_canada()).unwrap();
            assert_eq!(fields.temperature, kept, "{given}");
            assert!(fields.temperature.is_sign_positive(), "{given}");
        }
        assert!(input(f64::NAN).validate(&us_and_canada()).is_err());
        assert!(input(1.006).validate(&us_and_canada()).is_err());
    }

    #[test]
    fn legacy_voice_keys_still_resolve() {
        assert_eq!(resolve_voice("professional_neutral"), Some("alloy"));
        assert_eq!(resolve_voice("cedar"), Some("cedar"));
        assert_eq!(resolve_voice("nope"), None);
    }
}
