//! Phone numbers: E.164 normalisation and the destination rules that keep the platform from
//! being used to dial emergency services, short codes, premium-rate lines or countries the
//! operator has not allowed.

use crate::error::FieldError;

/// An E.164 number (`+` and 8 to 15 digits), normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct E164(String);

impl E164 {
    /// Accepts `+15551234567`, `15551234567`, `5551234567` (NANP, `+1` assumed) and the usual
    /// separators (spaces, dashes, dots, parentheses). `field` names the input in errors.
    pub fn parse(raw: &str, field: &str) -> Result<E164, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        let has_plus = trimmed.starts_with('+');
        let mut digits = String::with_capacity(trimmed.len());
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => {}
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(FieldError::new(
                        field,
                        "must be a phone number in E.164 format, e.g. +15551234567",
                    ));
                }
            }
        }
        let digits = match (has_plus, digits.len()) {
            (true, _) => digits,
            (false, 10) => format!("1{digits}"),
            (false, 11) if digits.starts_with('1') => digits,
            (false, n) if n <= 6 => digits, // short codes and emergency numbers, refused below
            (false, _) => {
                return Err(FieldError::new(
                    field,
                    "must be in E.164 format with a country code, e.g. +15551234567",
                ));
            }
        };
        if digits.len() <= 6 {
            return Ok(E164(digits));
        }
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(FieldError::new(
                field,
                "must be in E.164 format: + and 8 to 15 digits",
            ));
        }
        Ok(E164(format!("+{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn digits(&self) -> &str {
        self.0.trim_start_matches('+')
    }
}

impl std::fmt::Display for E164 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a tenant's number is in its life on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NumberStatus {
    /// Reserved for a purchase that is in flight (or was interrupted: see reconciliation).
    Provisioning,
    /// Bought, wired to the inbound webhook, usable.
    Active,
}

impl NumberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NumberStatus::Provisioning => "provisioning",
            NumberStatus::Active => "active",
        }
    }
}

impl std::str::FromStr for NumberStatus {
    type Err = crate::domain::calls::UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "provisioning" => Ok(NumberStatus::Provisioning),
            "active" => Ok(NumberStatus::Active),
            _ => Err(crate::domain::calls::UnknownStatus(s.to_string())),
        }
    }
}

/// Why a destination is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Emergency,
    ShortCode,
    PremiumRate,
    Country(String),
    UnknownCountry,
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::Emergency => "Emergency numbers can never be dialled by the platform".into(),
            Refusal::ShortCode => "Short codes and service numbers cannot be dialled".into(),
            Refusal::PremiumRate => "Premium-rate numbers cannot be dialled".into(),
            Refusal::Country(c) => format!("Calls to {c} are not enabled on this platform"),
            Refusal::UnknownCountry => "The destination country could not be determined".into(),
        }
    }
}

const EMERGENCY: [&str; 9] = ["911", "112", "999", "000", "110", "119", "933", "988", "08"];

/// NANP area codes of Canada; every other valid NANP code not in [`NANP_OTHER`] is the US.
const CANADA: [&str; 42] = [
    "204", "226", "236", "249", "250", "263", "289", "306", "343", "354", "365", "367", "368",
    "382", "403", "416", "418", "428", "431", "437", "438", "450", "468", "474", "506", "514",
    "519", "548", "579", "581", "584", "587", "604", "613", "639", "647", "672", "683", "705",
    "709", "742", "778",
];
const CANADA_MORE: [&str; 12] = [
    "780", "782", "807", "819", "825", "867", "873", "879", "902", "905", "942", "600",
];

/// NANP area codes outside the US and Canada (the Caribbean and Pacific members), the
/// classic destinations of call-back fraud, with their ISO country codes.
const NANP_OTHER: [(&str, &str); 25] = [
    ("242", "BS"),
    ("246", "BB"),
    ("264", "AI"),
    ("268", "AG"),
    ("284", "VG"),
    ("345", "KY"),
    ("441", "BM"),
    ("473", "GD"),
    ("649", "TC"),
    ("658", "JM"),
    ("664", "MS"),
    ("721", "SX"),
    ("758", "LC"),
    ("767", "DM"),
    ("784", "VC"),
    ("809", "DO"),
    ("829", "DO"),
    ("849", "DO"),
    ("868", "TT"),
    ("869", "KN"),
    ("876", "JM"),
    ("340", "VI"),
    ("670", "MP"),
    ("671", "GU"),
    ("684", "AS"),
];

/// NANP premium-rate and pay-per-call prefixes.
const NANP_PREMIUM: [&str; 2] = ["900", "976"];

/// Country calling codes outside NANP (longest prefix first where they overlap).
const CALLING_CODES: [(&str, &str); 24] = [
    ("44", "GB"),
    ("33", "FR"),
    ("49", "DE"),
    ("34", "ES"),
    ("39", "IT"),
    ("31", "NL"),
    ("32", "BE"),
    ("41", "CH"),
    ("43", "AT"),
    ("45", "DK"),
    ("46", "SE"),
    ("47", "NO"),
    ("48", "PL"),
    ("351", "PT"),
    ("353", "IE"),
    ("358", "FI"),
    ("61", "AU"),
    ("64", "NZ"),
    ("81", "JP"),
    ("82", "KR"),
    ("65", "SG"),
    ("52", "MX"),
    ("55", "BR"),
    ("91", "IN"),
];

/// The ISO country of a number, when it can be told.
pub fn country(number: &E164) -> Option<String> {
    let d = number.digits();
    if let Some(nanp) = d.strip_prefix('1') {
        let area = nanp.get(0..3)?;
        if CANADA.contains(&area) || CANADA_MORE.contains(&area) {
            return Some("CA".into());
        }
        if let Some((_, c)) = NANP_OTHER.iter().find(|(a, _)| *a == area) {
            return Some((*c).into());
        }
        return Some("US".into());
    }
    CALLING_CODES
        .iter()
        .filter(|(code, _)| d.starts_with(code))
        .max_by_key(|(code, _)| code.len())
        .map(|(_, c)| (*c).to_string())
}

/// Checks a destination against the abuse rules and the allowed countries.
pub fn check_destination(number: &E164, allowed_countries: &[String]) -> Result<(), Refusal> {
    let d = number.digits();
    if !number.as_str().starts_with('+') {
        return Err(
            if EMERGENCY.contains(&d) || d.len() <= 3 && d.ends_with("11") {
                Refusal::Emergency
            } else {
                Refusal::ShortCode
            },
        );
    }
    if let Some(nanp) = d.strip_prefix('1') {
        if nanp.len() != 10 {
            return Err(Refusal::ShortCode);
        }
        let (area, exchange) = (&nanp[0..3], &nanp[3..6]);
        // N11 service codes (211, 311, ..., 911) are never area codes of real lines.
        if area.ends_with("11") {
            return Err(if area == "911" {
                Refusal::Emergency
            } else {
                Refusal::ShortCode
            });
        }
        if area.starts_with('0')
            || area.starts_with('1')
            || exchange.starts_with('0')
            || exchange.starts_with('1')
        {
            return Err(Refusal::ShortCode);
        }
        if NANP_PREMIUM.contains(&area) || exchange == "976" {
            return Err(Refusal::PremiumRate);
        }
    }
    let country = country(number).ok_or(Refusal::UnknownCountry)?;
    if allowed_countries
        .iter()
        .any(|c| c.eq_ignore_ascii_case(&country))
    {
        Ok(())
    } else {
        Err(Refusal::Country(country))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> E164 {
        E164::parse(s, "phone_number").unwrap()
    }

    fn allowed() -> Vec<String> {
        vec!["US".into(), "CA".into()]
    }

    #[test]
    fn normalises_common_forms() {
        assert_eq!(p("+1 (415) 555-0100").as_str(), "+14155550100");
        assert_eq!(p("4155550100").as_str(), "+14155550100");
        assert_eq!(p("14155550100").as_str(), "+14155550100");
        assert_eq!(p("+442071838750").as_str(), "+442071838750");
        for bad in [
            "",
            "abc",
            "+1-415-555-01x0",
            "123456789",
            "+0123456789",
            "+1234567890123456",
        ] {
            assert!(E164::parse(bad, "to").is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_emergency_short_and_premium_numbers() {
        assert_eq!(
            check_destination(&p("911"), &allowed()),
            Err(Refusal::Emergency)
        );
        assert_eq!(
            check_destination(&p("112"), &allowed()),
            Err(Refusal::Emergency)
        );
        assert_eq!(
            check_destination(&p("+1911"), &allowed()),
            Err(Refusal::ShortCode)
        );
        assert_eq!(
            check_destination(&p("12345"), &allowed()),
            Err(Refusal::ShortCode)
        );
        assert_eq!(
            check_destination(&p("+19005550100"), &allowed()),
            Err(Refusal::PremiumRate)
        );
        assert_eq!(
            check_destination(&p("+14159765555"), &allowed()),
            Err(Refusal::PremiumRate)
        );
        assert_eq!(
            check_destination(&p("+14115550100"), &allowed()),
            Err(Refusal::ShortCode)
        );
    }

    #[test]
    fn allows_only_configured_countries() {
        assert_eq!(check_destination(&p("+14155550100"), &allowed()), Ok(()));
        assert_eq!(check_destination(&p("+14165550100"), &allowed()), Ok(()));
        assert_eq!(country(&p("+14165550100")).as_deref(), Some("CA"));
        assert_eq!(
            check_destination(&p("+18765550100"), &allowed()),
            Err(Refusal::Country("JM".into()))
        );
        assert_eq!(
            check_destination(&p("+442071838750"), &allowed()),
            Err(Refusal::Country("GB".into()))
        );
        assert_eq!(
            check_destination(&p("+442071838750"), &["GB".into()]),
            Ok(())
        );
        assert_eq!(
            check_destination(&p("+9995551234"), &allowed()),
            Err(Refusal::UnknownCountry)
        );
    }
}
