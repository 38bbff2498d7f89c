//! Answering machines on outbound calls. With asynchronous answering-machine detection Twilio
//! starts the stream at once and posts its verdict later (`/twilio/amd-status` puts it on the
//! call record, which [`watch`] reads). Until the verdict the agent holds its greeting and the
//! caller's audio is kept back from the model, so a machine's greeting does not start a
//! conversation with it. A person then gets the greeting (and the model hears what they said
//! meanwhile); a machine whose message ended (its beep) gets the scenario's voicemail message,
//! after which the call ends; a fax ends the call.
//!
//! The verdict on a person comes within seconds; on a machine, only at its beep. So the hold
//! ends after [`HOLD_LIMIT`] without a verdict (the callback may be lost, the person silent),
//! and a machine verdict that comes later still gets the message: a machine records only what
//! is said after its beep.

use std::time::{Duration, Instant};

use shared::domain::receptionist::AnsweredBy;
use shared::store::Store;
use tokio::sync::oneshot;

/// The longest the greeting waits for a verdict.
pub(super) const HOLD_LIMIT: Duration = Duration::from_secs(8);
/// How often the call record is read for the verdict: often while the greeting waits for it,
/// then once a second (a machine's beep comes at the end of its greeting, and the message may
/// start a moment after it); and for how long: Twilio's detection gives up after 30 s
/// (`MachineDetectionTimeout`), then says `unknown`.
const POLL_WHILE_HOLDING: Duration = Duration::from_millis(250);
const POLL_AFTER_HOLD: Duration = Duration::from_secs(1);
const WATCH_FOR: Duration = Duration::from_secs(45);

/// What the call does about who answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// A person (or Twilio could not tell): the conversation goes on.
    Person,
    /// A machine's message ended: leave the voicemail.
    Machine,
    /// Nobody to talk to.
    Fax,
}

impl Verdict {
    /// The verdict an `AnsweredBy` settles, if it settles one (`machine_start` only says a
    /// machine is still talking).
    fn of(answered_by: AnsweredBy) -> Option<Verdict> {
        match answered_by {
            AnsweredBy::Human | AnsweredBy::Unknown => Some(Verdict::Person),
            AnsweredBy::Fax => Some(Verdict::Fax),
            AnsweredBy::MachineStart => None,
            AnsweredBy::MachineEndBeep
            | AnsweredBy::MachineEndSilence
            | AnsweredBy::MachineEndOther => Some(Verdict::Machine),
        }
    }
}

/// Reads the call record until it holds a verdict; the receiver errs once [`WATCH_FOR`] has
/// passed without one.
fn watch(store: Store, tenant_id: String, call_id: String) -> oneshot::Receiver<Verdict> {
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let started = tokio::time::Instant::now();
        let until = started + WATCH_FOR;
        while tokio::time::Instant::now() < until && !tx.is_closed() {
            match store.answered_by(&tenant_id, &call_id).await {
                Ok(Some(answered_by)) => {
                    if let Some(verdict) = Verdict::of(answered_by) {
                        let _ = tx.send(verdict);
                        return;
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(call_id, error = %e, "could not read who answered"),
            }
            let every = if started.elapsed() < HOLD_LIMIT {
                POLL_WHILE_HOLDING
            } else {
                POLL_AFTER_HOLD
            };
            tokio::time::sleep(every).await;
        }
    });
    rx
}

/// An outbound call's wait for its verdict, and the message it leaves on a machine.
pub(super) struct Voicemail {
    verdict: Option<oneshot::Receiver<Verdict>>,
    /// While set (and not passed), the greeting and the caller's audio are held back.
    hold_until: Option<Instant>,
    /// The scenario's own message; `None`: the model composes one from the scenario.
    message: Option<String>,
    /// Responses created before the message was asked for: the next one to complete is it.
    asked_after: Option<u32>,
    /// The message's instructions, when the verdict came before any session could take them.
    deferred: Option<String>,
    spoken: bool,
}

impl Voicemail {
    pub(super) fn start(
        store: Store,
        tenant_id: &str,
        call_id: &str,
        message: Option<String>,
    ) -> Voicemail {
        Voicemail {
            verdict: Some(watch(store, tenant_id.to_string(), call_id.to_string())),
            hold_until: Some(Instant::now() + HOLD_LIMIT),
            message,
            asked_after: None,
            deferred: None,
            spoken: false,
        }
    }

    /// Keeps the message's instructions for the session being opened.
    pub(super) fn defer(&mut self, instructions: String) {
        self.deferred = Some(instructions);
    }

    /// The instructions kept by [`Voicemail::defer`], once.
    pub(super) fn take_deferred(&mut self) -> Option<String> {
        self.deferred.take()
    }

    /// Whether the greeting and the caller's audio are still held back.
    pub(super) fn holding(&self) -> bool {
        self.hold_until.is_some()
    }

    /// When the hold runs out, if it holds.
    pub(super) fn hold_deadline(&self) -> Option<Instant> {
        self.hold_until
    }

    /// Ends the hold: `true` the first time (the caller then gets the greeting).
    pub(super) fn release(&mut self) -> bool {
        self.hold_until.take().is_some()
    }

    /// The verdict, once there is one; a watch that gave up counts as a person. Pending for
    /// ever after the first.
    pub(super) async fn verdict(&mut self) -> Verdict {
        match self.verdict.as_mut() {
            Some(rx) => {
                let verdict = rx.await.unwrap_or(Verdict::Person);
                self.verdict = None;
                verdict
            }
            None => std::future::pending().await,
        }
    }

    /// What the model is asked to say to the machine (`response.instructions`, which replace
    /// the session's for that response), noting that it was asked after `responses` responses.
    pub(super) fn leave(&mut self, responses: u32, persona_instructions: &str) -> String {
        self.hold_until = None;
        self.asked_after = Some(responses);
        match &self.message {
            Some(message) => format!(
                "An answering machine took this call and its beep has sounded. Say exactly the following message, word for word, and nothing else: \"{message}\""
            ),
            None => format!(
                "{persona_instructions}\n\nAn answering machine took this call and its beep has sounded. Leave a short voicemail now, in under 30 seconds: say who you are and why you are calling, as your persona and scenario describe, and how to be reached. Ask no questions; then stop talking."
            ),
        }
    }

    /// Notes a response that ended; `true` when it was the message, spoken in full (the call
    /// then ends once the machine has heard it).
    pub(super) fn on_response_done(&mut self, responses: u32, status: Option<&str>) -> bool {
        if self
            .asked_after
            .is_some_and(|asked| responses > asked && status == Some("completed"))
        {
            self.asked_after = None;
            self.spoken = true;
            return true;
        }
        false
    }

    pub(super) fn spoken(&self) -> bool {
        self.spoken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_settled_answer_is_a_verdict() {
        assert_eq!(Verdict::of(AnsweredBy::Human), Some(Verdict::Person));
        assert_eq!(Verdict::of(AnsweredBy::Unknown), Some(Verdict::Person));
        assert_eq!(Verdict::of(AnsweredBy::MachineStart), None);
        assert_eq!(
            Verdict::of(AnsweredBy::MachineEndSilence),
            Some(Verdict::Machine)
        );
        assert_eq!(Verdict::of(AnsweredBy::Fax), Some(Verdict::Fax));
    }

    #[test]
    fn the_message_is_the_first_response_completed_after_it_was_asked_for() {
        let mut voicemail = Voicemail {
            verdict: None,
            hold_until: None,
            message: Some("Hello, this is the practice.".into()),
            asked_after: None,
            deferred: None,
            spoken: false,
        };
        let instructions = voicemail.leave(3, "persona");
        assert!(instructions.contains("\"Hello, this is the practice.\""));
        // The response it cut short ends cancelled; one that completed before it was asked
        // for is not it either.
        assert!(!voicemail.on_response_done(3, Some("completed")));
        assert!(!voicemail.on_response_done(4, Some("cancelled")));
        assert!(voicemail.on_response_done(4, Some("completed")));
        assert!(voicemail.spoken());
    }
}
