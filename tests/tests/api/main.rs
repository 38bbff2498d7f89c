//! Black-box tests over HTTP against the local stack on moto. One test binary (one link step).

mod auth;
mod bridge;
mod browser;
mod calendar;
mod callbacks;
mod calls;
mod console;
mod faults;
mod generated;
mod google_contract;
mod input;
mod lambda_event;
mod logs;
mod numbers;
mod onboarding;
mod platform;
mod rate_limits;
mod scenarios;
mod schedules;
mod template;
mod tenancy;
mod tenant_webhooks;
mod tokens;
mod transcripts;
mod webhooks;
mod whisper;
