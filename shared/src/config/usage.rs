//! Usage metering: the prices the estimated cost is worked out with, and the monthly cap on
//! call minutes each tenant gets unless an administrator set one of its own.
//!
//! Prices are estimates an operator copies from the providers' price lists (USD); they are
//! applied when usage is read, so a price corrected later corrects past estimates too.

use super::Source;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    pub prices: Prices,
    /// Call minutes (all channels) a tenant may use per UTC calendar month; `None`: no cap.
    pub monthly_minute_cap: Option<u32>,
}

/// USD per minute of call and per million Realtime tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    pub phone_inbound_minute: f64,
    pub phone_outbound_minute: f64,
    pub browser_minute: f64,
    /// A transferred caller's minute with the person: the dialled leg and the caller's own
    /// leg, which stays up meanwhile.
    pub transfer_minute: f64,
    pub transcription_minute: f64,
    pub text_input_million: f64,
    pub audio_input_million: f64,
    pub text_output_million: f64,
    pub audio_output_million: f64,
}

pub(super) fn usage(source: &dyn Source) -> Result<Usage> {
    let price = |key: &str, default: f64| parse_price(source, key).map(|p| p.unwrap_or(default));
    Ok(Usage {
        prices: Prices {
            phone_inbound_minute: price("PRICE_PHONE_INBOUND_PER_MINUTE", 0.0085)?,
            phone_outbound_minute: price("PRICE_PHONE_OUTBOUND_PER_MINUTE", 0.014)?,
            browser_minute: price("PRICE_BROWSER_PER_MINUTE", 0.0)?,
            transfer_minute: price("PRICE_TRANSFER_PER_MINUTE", 0.028)?,
            transcription_minute: price("PRICE_TRANSCRIPTION_PER_MINUTE", 0.015)?,
            text_input_million: price("PRICE_TEXT_INPUT_PER_MILLION_TOKENS", 4.0)?,
            audio_input_million: price("PRICE_AUDIO_INPUT_PER_MILLION_TOKENS", 32.0)?,
            text_output_million: price("PRICE_TEXT_OUTPUT_PER_MILLION_TOKENS", 16.0)?,
            audio_output_million: price("PRICE_AUDIO_OUTPUT_PER_MILLION_TOKENS", 64.0)?,
        },
        monthly_minute_cap: match super::parse_u32(source, "MONTHLY_MINUTE_CAP")? {
            None => Some(DEFAULT_MONTHLY_MINUTE_CAP),
            Some(0) => None,
            Some(cap) => Some(cap),
        },
    })
}

/// A cap by default, so a new deployment cannot run up an unbounded bill by mistake.
pub const DEFAULT_MONTHLY_MINUTE_CAP: u32 = 1000;

fn parse_price(source: &dyn Source, key: &str) -> Result<Option<f64>> {
    source
        .get(key)
        .map(|v| match v.trim().parse::<f64>() {
            Ok(p) if p.is_finite() && p >= 0.0 => Ok(p),
            _ => Err(Error::Config(format!(
                "{key} must be a price in USD (a number, 0 or more)"
            ))),
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Usage> {
        let source: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        usage(&source)
    }

    #[test]
    fn the_cap_defaults_on_and_zero_turns_it_off() {
        assert_eq!(
            read(&[]).unwrap().monthly_minute_cap,
            Some(DEFAULT_MONTHLY_MINUTE_CAP)
        );
        assert_eq!(
            read(&[("MONTHLY_MINUTE_CAP", "0")])
                .unwrap()
                .monthly_minute_cap,
            None
        );
        assert_eq!(
            read(&[("MONTHLY_MINUTE_CAP", "30")])
                .unwrap()
                .monthly_minute_cap,
            Some(30)
        );
    }

    #[test]
    fn prices_must_be_numbers_of_zero_or_more() {
        let prices = read(&[("PRICE_BROWSER_PER_MINUTE", "0.002")])
            .unwrap()
            .prices;
        assert_eq!(prices.browser_minute, 0.002);
        for bad in ["-1", "NaN", "inf", "cheap"] {
            let err = read(&[("PRICE_PHONE_INBOUND_PER_MINUTE", bad)]).unwrap_err();
            assert!(err.to_string().contains("PRICE_PHONE_INBOUND_PER_MINUTE"));
        }
    }
}
