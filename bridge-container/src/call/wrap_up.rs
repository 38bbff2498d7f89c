//! Telling the agent that the call's time is nearly up, so it says goodbye itself rather than
//! being cut off mid-sentence at the call's limit (the longest call, or the month's minutes
//! left when it started).

use std::time::Duration;

use tokio::time::Instant;

/// How long before the end the agent is told, at most. Enough for a short goodbye; a call
/// shorter than four times this is told a quarter of its length before its end.
const LEAD: Duration = Duration::from_secs(20);

/// When a call of `length` that started at `started` is told to wrap up; none for a call with
/// no time at all.
pub(super) fn moment(started: Instant, length: Duration) -> Option<Instant> {
    (!length.is_zero()).then(|| started + length - (length / 4).min(LEAD))
}

/// What the model is told, with the time left.
pub(super) fn notice(left: Duration) -> String {
    let seconds = left.as_secs().max(1);
    let unit = if seconds == 1 { "second" } else { "seconds" };
    format!(
        "[The call's time is nearly up: it ends in about {seconds} {unit}. Wrap up now and briefly say goodbye.]"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_calls_are_told_twenty_seconds_ahead_short_ones_a_quarter_of_their_length() {
        let start = Instant::now();
        assert_eq!(
            moment(start, Duration::from_secs(1800)),
            Some(start + Duration::from_secs(1780))
        );
        assert_eq!(
            moment(start, Duration::from_secs(8)),
            Some(start + Duration::from_secs(6))
        );
        assert_eq!(moment(start, Duration::ZERO), None);
        assert!(notice(Duration::from_millis(400)).contains("about 1 second."));
        assert!(notice(Duration::from_secs(20)).contains("about 20 seconds."));
    }
}
