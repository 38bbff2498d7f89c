//! What can happen to a call besides the conversation, as types: a transfer to a person (its
//! `<Dial>`'s outcome, Twilio's `DialCallStatus`) and who answered an outbound call
//! (answering-machine detection's `AnsweredBy`).

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::calls::UnknownStatus;

/// Where a transfer to a person stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TransferStatus {
    /// Twilio was asked to dial the person; no outcome yet.
    Dialing,
    /// The person answered and the two talked (until either hung up).
    Completed,
    Busy,
    NoAnswer,
    /// Twilio could not dial, or refused the redirect.
    Failed,
    /// The caller hung up while the person's phone rang.
    Canceled,
}

impl TransferStatus {
    const ALL: [TransferStatus; 6] = [
        TransferStatus::Dialing,
        TransferStatus::Completed,
        TransferStatus::Busy,
        TransferStatus::NoAnswer,
        TransferStatus::Failed,
        TransferStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TransferStatus::Dialing => "dialing",
            TransferStatus::Completed => "completed",
            TransferStatus::Busy => "busy",
            TransferStatus::NoAnswer => "no-answer",
            TransferStatus::Failed => "failed",
            TransferStatus::Canceled => "canceled",
        }
    }

    /// Twilio's `DialCallStatus` (`answered` is what a `<Dial>` still bridged reports).
    pub fn of_dial(status: &str) -> Option<TransferStatus> {
        match status {
            "answered" => Some(TransferStatus::Completed),
            "dialing" => None,
            other => other.parse().ok(),
        }
    }
}

impl FromStr for TransferStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TransferStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

/// Who answered an outbound call, as Twilio's asynchronous answering-machine detection says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnsweredBy {
    Human,
    /// A machine's greeting began; its end is still to come.
    MachineStart,
    /// A machine's greeting ended with a beep: the moment to speak.
    MachineEndBeep,
    MachineEndSilence,
    MachineEndOther,
    Fax,
    Unknown,
}

impl AnsweredBy {
    const ALL: [AnsweredBy; 7] = [
        AnsweredBy::Human,
        AnsweredBy::MachineStart,
        AnsweredBy::MachineEndBeep,
        AnsweredBy::MachineEndSilence,
        AnsweredBy::MachineEndOther,
        AnsweredBy::Fax,
        AnsweredBy::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AnsweredBy::Human => "human",
            AnsweredBy::MachineStart => "machine_start",
            AnsweredBy::MachineEndBeep => "machine_end_beep",
            AnsweredBy::MachineEndSilence => "machine_end_silence",
            AnsweredBy::MachineEndOther => "machine_end_other",
            AnsweredBy::Fax => "fax",
            AnsweredBy::Unknown => "unknown",
        }
    }

    /// A machine whose greeting is over: a message can be left now.
    pub fn is_machine_done(self) -> bool {
        matches!(
            self,
            AnsweredBy::MachineEndBeep
                | AnsweredBy::MachineEndSilence
                | AnsweredBy::MachineEndOther
        )
    }

    /// Anything but a person (a fax included).
    pub fn is_machine(self) -> bool {
        !matches!(self, AnsweredBy::Human | AnsweredBy::Unknown)
    }
}

impl FromStr for AnsweredBy {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AnsweredBy::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_statuses_map_to_transfer_outcomes() {
        assert_eq!(
            TransferStatus::of_dial("answered"),
            Some(TransferStatus::Completed)
        );
        assert_eq!(
            TransferStatus::of_dial("no-answer"),
            Some(TransferStatus::NoAnswer)
        );
        assert_eq!(TransferStatus::of_dial("dialing"), None);
        assert_eq!(TransferStatus::of_dial("ringing"), None);
    }

    #[test]
    fn answered_by_values_round_trip() {
        for value in AnsweredBy::ALL {
            assert_eq!(value.as_str().parse::<AnsweredBy>(), Ok(value));
        }
        assert!(AnsweredBy::MachineEndBeep.is_machine_done());
        assert!(!AnsweredBy::MachineStart.is_machine_done());
        assert!(AnsweredBy::MachineStart.is_machine());
        assert!(!AnsweredBy::Unknown.is_machine());
    }
}
