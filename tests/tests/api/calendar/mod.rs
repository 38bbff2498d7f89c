//! Google Calendar end to end against the Google simulator: connecting (OAuth with PKCE) and
//! what a forged or stale callback cannot do, reading availability in the tenant's zone, and
//! calendar calls whose agent books and cancels appointments through the bridge.

mod availability;
mod calls;
mod oauth;

use e2e_tests::calendar_rig::google_sim;
use e2e_tests::client::{Session, email};
use e2e_tests::google_sim::GoogleSim;
use e2e_tests::{Options, TestStack};

/// A stack wired to a fresh Google simulator, and one registered tenant.
pub struct CalendarStack {
    pub google: GoogleSim,
    pub stack: TestStack,
    pub session: Session,
}

pub async fn calendar_stack() -> CalendarStack {
    calendar_stack_with(Options::default()).await
}

pub async fn calendar_stack_with(options: Options) -> CalendarStack {
    let google = google_sim().await;
    let stack = TestStack::start_with(options.google(&google)).await;
    let session = stack.client().register(&email("calendar")).await;
    CalendarStack {
        google,
        stack,
        session,
    }
}

impl CalendarStack {
    pub fn token(&self) -> &str {
        &self.session.access_token
    }

    /// Asserts every Calendar request the platform made kept to the discovery document.
    pub fn assert_no_contract_violations(&self) {
        let violations = self.google.violations();
        assert!(violations.is_empty(), "{violations:#?}");
    }
}
