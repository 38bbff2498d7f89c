//! The phone-number shapes clients see (camelCase, as the reference frontend reads them).

use serde::Serialize;
use shared::domain::phone::NumberStatus;
use shared::store::numbers::PhoneNumber;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct CapabilitiesView {
    pub voice: bool,
    pub sms: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NumberView {
    pub sid: Option<String>,
    pub phone_number: String,
    pub friendly_name: String,
    pub capabilities: CapabilitiesView,
    pub date_created: String,
    pub is_active: bool,
    /// `provisioning` while a purchase is in flight (or being reconciled), then `active`.
    pub status: NumberStatus,
}

impl From<PhoneNumber> for NumberView {
    fn from(n: PhoneNumber) -> Self {
        Self {
            sid: n.twilio_sid,
            friendly_name: n.friendly_name.unwrap_or_else(|| "No name set".into()),
            capabilities: CapabilitiesView {
                voice: n.voice,
                sms: n.sms,
            },
            date_created: n.created_at,
            is_active: n.status == NumberStatus::Active,
            status: n.status,
            phone_number: n.phone_number,
        }
    }
}
