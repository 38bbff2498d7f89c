//! The `<Dial>` of a call's new TwiML (a transfer to a person): the person's phone answers, or
//! not, and the `<Dial>`'s `action` gets the outcome as Twilio posts it (`DialCallStatus`,
//! `DialCallSid`, `DialCallDuration`), signed. What the action answers is kept on the call.

use std::sync::Arc;

use super::{DIAL_DELAY, Inner, new_sid, pairs};

/// How the dialled person's phone answers.
#[derive(Clone, Copy, Debug)]
pub enum DialOutcome {
    Answered { duration_secs: u32 },
    Busy,
    NoAnswer,
    Failed,
}

impl Default for DialOutcome {
    fn default() -> Self {
        DialOutcome::Answered { duration_secs: 25 }
    }
}

impl DialOutcome {
    fn status(self) -> &'static str {
        match self {
            DialOutcome::Answered { .. } => "completed",
            DialOutcome::Busy => "busy",
            DialOutcome::NoAnswer => "no-answer",
            DialOutcome::Failed => "failed",
        }
    }
}

impl Inner {
    /// Plays out the `<Dial>` of `xml` (nothing when it has none, or no `action`).
    pub(super) async fn dial(self: Arc<Self>, sid: String, xml: String) {
        let Some(action) = crate::twiml::attribute(&xml, "Dial", "action") else {
            return;
        };
        let outcome = self.state().dial_outcome;
        tokio::time::sleep(DIAL_DELAY).await;
        let mut params = pairs(&[
            ("AccountSid", &self.account_sid),
            ("CallSid", &sid),
            ("CallStatus", "in-progress"),
            ("DialCallStatus", outcome.status()),
        ]);
        if let DialOutcome::Answered { duration_secs } = outcome {
            params.extend(pairs(&[
                ("DialCallSid", &new_sid("CA")),
                ("DialCallDuration", &duration_secs.to_string()),
            ]));
        }
        let answer = match self.send_signed("POST", &action, &params).await {
            Ok((status, body)) => (status, body),
            Err(e) => (0, e),
        };
        self.update_call(&sid, |call| call.dial_answer = Some(answer));
    }
}
