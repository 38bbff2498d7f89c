//! Asynchronous answering-machine detection (`MachineDetection` + `AsyncAmd=true` on a placed
//! call): once the call is answered, the verdict is posted to `AsyncAmdStatusCallback`, signed,
//! as Twilio does (`AccountSid`, `CallSid`, `AnsweredBy`, `MachineDetectionDuration`), after
//! the delay the test chose (a person is told apart within seconds, a machine at its beep).

use std::sync::Arc;
use std::time::Duration;

use super::{DeliveredCallback, Inner, Target, pairs, param};

/// Who answers the calls placed with detection on, and when the verdict comes.
#[derive(Clone, Debug)]
pub struct AmdVerdict {
    /// Twilio's `AnsweredBy`: `human`, `machine_end_beep`, `fax`, ...
    pub answered_by: String,
    pub after: Duration,
}

impl Default for AmdVerdict {
    fn default() -> Self {
        AmdVerdict {
            answered_by: "human".into(),
            after: Duration::from_millis(50),
        }
    }
}

/// The verdict's callback of a create request, when it asked for asynchronous detection.
pub(super) fn callback(form: &[(String, String)]) -> Option<Target> {
    let detects =
        param(form, "MachineDetection").is_some() && param(form, "AsyncAmd") == Some("true");
    let url = param(form, "AsyncAmdStatusCallback")?;
    detects.then(|| Target {
        url: url.into(),
        method: param(form, "AsyncAmdStatusCallbackMethod")
            .unwrap_or("POST")
            .into(),
    })
}

impl Inner {
    /// Posts the verdict on an answered call (after its delay).
    pub(super) async fn post_amd_verdict(self: Arc<Self>, sid: String, target: Target) {
        let verdict = self.state().amd.clone();
        tokio::time::sleep(verdict.after).await;
        let params = pairs(&[
            ("AccountSid", &self.account_sid),
            ("CallSid", &sid),
            ("AnsweredBy", &verdict.answered_by),
            (
                "MachineDetectionDuration",
                &verdict.after.as_millis().to_string(),
            ),
        ]);
        let response_status = match self.send_signed(&target.method, &target.url, &params).await {
            Ok((status, _)) => status,
            Err(_) => 0,
        };
        self.update_call(&sid, |call| {
            call.amd_callbacks.push(DeliveredCallback {
                url: target.url.clone(),
                params,
                response_status,
            })
        });
    }
}
