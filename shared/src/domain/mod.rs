//! Domain rules that do not depend on storage or HTTP.

pub mod calendar;
pub mod calls;
pub mod email;
pub mod ids;
pub mod onboarding;
pub mod phone;
pub mod receptionist;
pub mod scenarios;
pub mod transcripts;
pub mod usage;
pub mod webhooks;
