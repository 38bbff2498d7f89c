//! Metered usage: call time per channel, the time transferred callers spent with a person,
//! Realtime tokens by kind and transcription time, summed per tenant and UTC day, and the
//! estimated cost of a sum at configured prices.

use serde::Serialize;
use utoipa::ToSchema;

use super::calls::Direction;
use crate::config::Prices;

/// Realtime tokens by kind, as OpenAI counts them in `response.done`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Tokens {
    pub input_text: u64,
    pub input_audio: u64,
    pub output_text: u64,
    pub output_audio: u64,
}

impl Tokens {
    /// Each kind with the name its attribute is stored under.
    pub fn by_kind(&self) -> [(&'static str, u64); 4] {
        [
            ("input_text", self.input_text),
            ("input_audio", self.input_audio),
            ("output_text", self.output_text),
            ("output_audio", self.output_audio),
        ]
    }
}

/// Calls of one channel and direction that ended, and how long they ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct CallTime {
    pub calls: u64,
    pub seconds: u64,
}

impl CallTime {
    fn add(&mut self, other: CallTime) {
        self.calls += other.calls;
        self.seconds += other.seconds;
    }
}

/// Everything metered over some span (a day, a month, a request's range).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub phone_inbound: CallTime,
    pub phone_outbound: CallTime,
    pub browser: CallTime,
    /// Transfers a person took, and how long they talked with the caller (the `<Dial>` leg).
    pub transferred: CallTime,
    pub tokens: Tokens,
    pub transcription_seconds: u64,
}

impl Tally {
    /// One call that ended: its channel's time, and its tokens.
    pub fn of_call(direction: Direction, seconds: u64, tokens: Tokens) -> Tally {
        let mut tally = Tally {
            tokens,
            ..Tally::default()
        };
        *tally.channel_mut(direction) = CallTime { calls: 1, seconds };
        tally
    }

    /// One transfer a person took, and talked for `seconds`.
    pub fn of_transfer(seconds: u64) -> Tally {
        Tally {
            transferred: CallTime { calls: 1, seconds },
            ..Tally::default()
        }
    }

    pub fn channel(&self, direction: Direction) -> CallTime {
        match direction {
            Direction::Inbound => self.phone_inbound,
            Direction::Outbound => self.phone_outbound,
            Direction::Browser => self.browser,
        }
    }

    fn channel_mut(&mut self, direction: Direction) -> &mut CallTime {
        match direction {
            Direction::Inbound => &mut self.phone_inbound,
            Direction::Outbound => &mut self.phone_outbound,
            Direction::Browser => &mut self.browser,
        }
    }

    pub fn add(&mut self, other: &Tally) {
        for direction in DIRECTIONS {
            self.channel_mut(direction).add(other.channel(direction));
        }
        self.transferred.add(other.transferred);
        self.tokens.input_text += other.tokens.input_text;
        self.tokens.input_audio += other.tokens.input_audio;
        self.tokens.output_text += other.tokens.output_text;
        self.tokens.output_audio += other.tokens.output_audio;
        self.transcription_seconds += other.transcription_seconds;
    }

    /// Call seconds of every channel, a transferred caller's time with the person included
    /// (the platform's phone lines carry it): what the monthly cap counts.
    pub fn call_seconds(&self) -> u64 {
        DIRECTIONS
            .iter()
            .map(|d| self.channel(*d).seconds)
            .sum::<u64>()
            + self.transferred.seconds
    }

    /// The estimated cost in USD. Each channel's minutes are priced as they were used (by the
    /// second), not rounded up per call as a carrier may bill: this is an estimate.
    pub fn cost(&self, prices: &Prices) -> f64 {
        let minutes = |seconds: u64| seconds as f64 / 60.0;
        let millions = |tokens: u64| tokens as f64 / 1_000_000.0;
        minutes(self.phone_inbound.seconds) * prices.phone_inbound_minute
            + minutes(self.phone_outbound.seconds) * prices.phone_outbound_minute
            + minutes(self.browser.seconds) * prices.browser_minute
            + minutes(self.transferred.seconds) * prices.transfer_minute
            + minutes(self.transcription_seconds) * prices.transcription_minute
            + millions(self.tokens.input_text) * prices.text_input_million
            + millions(self.tokens.input_audio) * prices.audio_input_million
            + millions(self.tokens.output_text) * prices.text_output_million
            + millions(self.tokens.output_audio) * prices.audio_output_million
    }
}

/// A tally as the API reports it: call time per channel, tokens, transcription minutes, and the
/// estimated cost at the configured prices.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct UsageView {
    pub phone_inbound: ChannelView,
    pub phone_outbound: ChannelView,
    pub browser: ChannelView,
    /// Phone calls handed to a person (`transfer_call`) that the person took, and how long
    /// they talked (a phone call's own time is counted in its channel).
    pub transferred: ChannelView,
    /// Realtime tokens by kind.
    pub tokens: Tokens,
    pub transcription_minutes: f64,
    /// All call channels together.
    pub call_minutes: f64,
    /// USD, at the deployment's configured prices (an estimate, not an invoice).
    pub estimated_cost_usd: f64,
}

/// One channel's calls.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct ChannelView {
    pub calls: u64,
    pub seconds: u64,
    pub minutes: f64,
}

impl UsageView {
    pub fn of(tally: &Tally, prices: &Prices) -> UsageView {
        let channel = |time: CallTime| ChannelView {
            calls: time.calls,
            seconds: time.seconds,
            minutes: minutes(time.seconds),
        };
        UsageView {
            phone_inbound: channel(tally.phone_inbound),
            phone_outbound: channel(tally.phone_outbound),
            browser: channel(tally.browser),
            transferred: channel(tally.transferred),
            tokens: tally.tokens,
            transcription_minutes: minutes(tally.transcription_seconds),
            call_minutes: minutes(tally.call_seconds()),
            // To the hundredth of a cent: more digits would only be float noise.
            estimated_cost_usd: (tally.cost(prices) * 10_000.0).round() / 10_000.0,
        }
    }
}

/// Seconds as minutes, to the hundredth.
pub fn minutes(seconds: u64) -> f64 {
    (seconds as f64 / 60.0 * 100.0).round() / 100.0
}

/// Every channel and direction, in the order they are reported.
pub const DIRECTIONS: [Direction; 3] =
    [Direction::Inbound, Direction::Outbound, Direction::Browser];

/// A UTC calendar month, `YYYY-MM`: the span of the monthly cap.
pub fn month_of(date: chrono::NaiveDate) -> String {
    date.format("%Y-%m").to_string()
}

/// The first day of the month after `date`'s: when a used-up monthly cap is lifted.
pub fn next_month_start(date: chrono::NaiveDate) -> chrono::NaiveDate {
    use chrono::Datelike;
    let (year, month) = match date.month() {
        12 => (date.year() + 1, 1),
        m => (date.year(), m + 1),
    };
    chrono::NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices() -> Prices {
        Prices {
            phone_inbound_minute: 0.01,
            phone_outbound_minute: 0.02,
            browser_minute: 0.0,
            transfer_minute: 0.05,
            transcription_minute: 0.03,
            text_input_million: 4.0,
            audio_input_million: 32.0,
            text_output_million: 16.0,
            audio_output_million: 64.0,
        }
    }

    #[test]
    fn a_tally_sums_channels_tokens_and_transcription() {
        let tokens = Tokens {
            input_text: 1_000_000,
            input_audio: 500_000,
            output_text: 0,
            output_audio: 250_000,
        };
        let mut tally = Tally::of_call(Direction::Outbound, 120, tokens);
        tally.add(&Tally::of_call(Direction::Inbound, 60, Tokens::default()));
        tally.add(&Tally {
            transcription_seconds: 60,
            ..Tally::default()
        });
        tally.add(&Tally::of_transfer(120));
        assert_eq!(tally.call_seconds(), 300, "transferred time counts");
        assert_eq!(
            tally.phone_outbound,
            CallTime {
                calls: 1,
                seconds: 120
            }
        );
        // 2 min × 0.02 + 1 min × 0.01 + 2 min × 0.05 + 1 min × 0.03 + 4 + 16 + 16
        let expected = 0.04 + 0.01 + 0.1 + 0.03 + 4.0 + 16.0 + 16.0;
        assert!((tally.cost(&prices()) - expected).abs() < 1e-9);
    }

    #[test]
    fn months_roll_over_at_the_year_end() {
        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(next_month_start(day(2026, 12, 31)), day(2027, 1, 1));
        assert_eq!(next_month_start(day(2026, 2, 14)), day(2026, 3, 1));
        assert_eq!(month_of(day(2026, 2, 14)), "2026-02");
    }
}
