//! Domain rules that do not depend on storage or HTTP.

pub mod email;
pub mod onboarding;
pub mod phone;
pub mod scenarios;
