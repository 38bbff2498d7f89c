//! The WebRTC calls of the simulated OpenAI, shared by its two halves: the HTTP simulator
//! creates them (`POST /v1/realtime/calls`) and ends them (`/hangup`), the Realtime simulator
//! serves their sideband sockets (`?call_id=`). A test plays the person in the browser through
//! [`RtcCalls::caller_turn`] (no media flows here) and [`RtcCalls::browser_left`].

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;
use tokio::sync::mpsc;

/// A WebRTC call the simulator answered: its id (`rtc_…`, as in the `Location` header), the
/// session it was created with, and whether it was hung up.
#[derive(Clone, Debug)]
pub struct RtcCall {
    pub call_id: String,
    pub session: Value,
    pub hung_up: bool,
    /// Sideband sockets opened on it so far.
    pub sidebands: usize,
}

/// What the test (or `/hangup`) asks of a call's sideband session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SidebandCommand {
    /// The person said something: a committed user turn, answered like any other.
    CallerTurn,
    /// The call ended (hung up, or the browser left): the sideband closes.
    End,
}

struct Entry {
    call: RtcCall,
    sideband: Option<mpsc::UnboundedSender<SidebandCommand>>,
}

#[derive(Clone, Default)]
pub struct RtcCalls(Arc<Mutex<Vec<Entry>>>);

impl RtcCalls {
    fn lock(&self) -> MutexGuard<'_, Vec<Entry>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new call with this session; returns its id.
    pub fn create(&self, session: Value) -> String {
        let call_id = format!("rtc_{}", shared::auth::random_token(12).replace('-', "x"));
        self.lock().push(Entry {
            call: RtcCall {
                call_id: call_id.clone(),
                session,
                hung_up: false,
                sidebands: 0,
            },
            sideband: None,
        });
        call_id
    }

    /// Every call, oldest first.
    pub fn all(&self) -> Vec<RtcCall> {
        self.lock().iter().map(|e| e.call.clone()).collect()
    }

    pub fn find(&self, call_id: &str) -> Option<RtcCall> {
        self.lock()
            .iter()
            .find(|e| e.call.call_id == call_id)
            .map(|e| e.call.clone())
    }

    /// Ends a live call (its sideband closes); `false` for an unknown call.
    pub fn hang_up(&self, call_id: &str) -> bool {
        self.command(call_id, SidebandCommand::End, true)
    }

    /// The person closed the page: the call ends as if hung up.
    pub fn browser_left(&self, call_id: &str) -> bool {
        self.hang_up(call_id)
    }

    /// The person says something on a live call; `false` when no sideband is open on it.
    pub fn caller_turn(&self, call_id: &str) -> bool {
        self.command(call_id, SidebandCommand::CallerTurn, false)
    }

    /// A sideband socket on a live call: its session and the commands for it. The latest
    /// socket gets the commands.
    pub(crate) fn open_sideband(
        &self,
        call_id: &str,
    ) -> Option<(Value, mpsc::UnboundedReceiver<SidebandCommand>)> {
        let mut calls = self.lock();
        let entry = calls
            .iter_mut()
            .find(|e| e.call.call_id == call_id && !e.call.hung_up)?;
        let (tx, rx) = mpsc::unbounded_channel();
        entry.sideband = Some(tx);
        entry.call.sidebands += 1;
        Some((entry.call.session.clone(), rx))
    }

    pub(crate) fn is_live(&self, call_id: &str) -> bool {
        self.find(call_id).is_some_and(|c| !c.hung_up)
    }

    fn command(&self, call_id: &str, command: SidebandCommand, ends: bool) -> bool {
        let mut calls = self.lock();
        let Some(entry) = calls.iter_mut().find(|e| e.call.call_id == call_id) else {
            return false;
        };
        if ends {
            entry.call.hung_up = true;
        }
        match &entry.sideband {
            Some(tx) => tx.send(command).is_ok() || ends,
            None => ends,
        }
    }
}
