//! The states a call and a scheduled call move through, as types: which values exist, the order
//! they come in, and which are final. Stored and sent as their wire strings (Twilio's call
//! statuses, `inbound`/`outbound`, the scheduled-call states).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Which way a call goes: a phone call in or out, or a voice session in a tenant's web
/// browser (WebRTC to OpenAI Realtime, no phone line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
    Browser,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::Browser => "browser",
        }
    }
}

/// A call's status: `initiating` while the platform has not yet heard back from Twilio, then
/// Twilio's own call statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CallStatus {
    /// Recorded, Twilio not yet asked (or its answer not yet stored).
    Initiating,
    Queued,
    Initiated,
    Ringing,
    InProgress,
    Completed,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
}

impl CallStatus {
    pub const ALL: [CallStatus; 10] = [
        CallStatus::Initiating,
        CallStatus::Queued,
        CallStatus::Initiated,
        CallStatus::Ringing,
        CallStatus::InProgress,
        CallStatus::Completed,
        CallStatus::Busy,
        CallStatus::NoAnswer,
        CallStatus::Failed,
        CallStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Initiating => "initiating",
            CallStatus::Queued => "queued",
            CallStatus::Initiated => "initiated",
            CallStatus::Ringing => "ringing",
            CallStatus::InProgress => "in-progress",
            CallStatus::Completed => "completed",
            CallStatus::Busy => "busy",
            CallStatus::NoAnswer => "no-answer",
            CallStatus::Failed => "failed",
            CallStatus::Canceled => "canceled",
        }
    }

    /// Where the status sits in a call's life. A call never moves to a lower rank, so a late
    /// or repeated callback cannot undo a later one; `queued` and `initiated` (Twilio sends
    /// either) share a rank, as do the final statuses.
    pub fn rank(self) -> u8 {
        match self {
            CallStatus::Initiating => 0,
            CallStatus::Queued | CallStatus::Initiated => 1,
            CallStatus::Ringing => 2,
            CallStatus::InProgress => 3,
            CallStatus::Completed
            | CallStatus::Busy
            | CallStatus::NoAnswer
            | CallStatus::Failed
            | CallStatus::Canceled => 4,
        }
    }

    /// The call is over: nothing moves it any more.
    pub fn is_final(self) -> bool {
        self.rank() == 4
    }
}

/// A status string that is not one of [`CallStatus`]'s (or [`ScheduleStatus`]'s) values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStatus(pub String);

impl fmt::Display for UnknownStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown status {:?}", self.0)
    }
}

impl std::error::Error for UnknownStatus {}

impl FromStr for CallStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CallStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

impl FromStr for Direction {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "inbound" => Ok(Direction::Inbound),
            "outbound" => Ok(Direction::Outbound),
            "browser" => Ok(Direction::Browser),
            _ => Err(UnknownStatus(s.to_string())),
        }
    }
}

/// A scheduled call's state: `pending` until its schedule fires, `dialing` once a runner has
/// claimed it, then one of the final states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleStatus {
    Pending,
    Dialing,
    Placed,
    Failed,
    Canceled,
}

impl ScheduleStatus {
    pub const ALL: [ScheduleStatus; 5] = [
        ScheduleStatus::Pending,
        ScheduleStatus::Dialing,
        ScheduleStatus::Placed,
        ScheduleStatus::Failed,
        ScheduleStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleStatus::Pending => "pending",
            ScheduleStatus::Dialing => "dialing",
            ScheduleStatus::Placed => "placed",
            ScheduleStatus::Failed => "failed",
            ScheduleStatus::Canceled => "canceled",
        }
    }

    /// `pending` < `dialing` < the final states.
    pub fn rank(self) -> u8 {
        match self {
            ScheduleStatus::Pending => 0,
            ScheduleStatus::Dialing => 1,
            ScheduleStatus::Placed | ScheduleStatus::Failed | ScheduleStatus::Canceled => 2,
        }
    }

    pub fn is_final(self) -> bool {
        self.rank() == 2
    }
}

impl FromStr for ScheduleStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScheduleStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

display_as_str!(Direction, CallStatus, ScheduleStatus);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_wire_strings() {
        for status in CallStatus::ALL {
            assert_eq!(status.as_str().parse::<CallStatus>(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::from(status.as_str())
            );
        }
        for status in ScheduleStatus::ALL {
            assert_eq!(status.as_str().parse::<ScheduleStatus>(), Ok(status));
        }
        assert!("in_progress".parse::<CallStatus>().is_err());
        assert_eq!("outbound".parse::<Direction>(), Ok(Direction::Outbound));
    }

    #[test]
    fn a_call_only_moves_forward_and_ends_once() {
        use CallStatus::*;
        assert!(Initiating.rank() < Queued.rank());
        assert_eq!(Queued.rank(), Initiated.rank());
        assert!(Ringing.rank() < InProgress.rank());
        let finals: Vec<_> = CallStatus::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(finals, [Completed, Busy, NoAnswer, Failed, Canceled]);
        assert!(ScheduleStatus::Placed.is_final() && !ScheduleStatus::Dialing.is_final());
    }
}
