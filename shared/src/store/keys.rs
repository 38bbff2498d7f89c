//! The key design of the single table. Every key the code builds comes from here.
//!
//! | entity              | PK                               | SK               |
//! |---------------------|----------------------------------|------------------|
//! | user (= tenant)     | `TENANT#<tid>`                   | `USER`           |
//! |   (GSI1: directory) | `GSI1PK = TENANTS`               | `GSI1SK = <created_at>#<tid>` |
//! | onboarding          | `TENANT#<tid>`                   | `ONBOARDING`     |
//! | custom scenario     | `TENANT#<tid>`                   | `SCENARIO#<id>`  |
//! | phone number        | `TENANT#<tid>`                   | `NUMBER#<e164>`  |
//! | call                | `TENANT#<tid>`                   | `CALL#<ulid>`    |
//! | calendar connection | `TENANT#<tid>`                   | `CALENDAR`       |
//! | scheduled call      | `TENANT#<tid>`                   | `SCHEDULE#<id>`  |
//! | transcript          | `TENANT#<tid>`                   | `TRANSCRIPT#<call id>` |
//! | transcript flow     | `TENANT#<tid>`                   | `TRPAGE#<call id>#<n>` |
//! | webhook endpoint    | `TENANT#<tid>`                   | `WEBHOOK#<id>`   |
//! | webhook delivery    | `TENANT#<tid>`                   | `WHLOG#<webhook id>#<ulid>` |
//! | daily call counter  | `TENANT#<tid>`                   | `CALLDAY#<date>` |
//! | browser session     | `TENANT#<tid>`                   | `RTCSESSION#<call id>` |
//! | usage of a day      | `TENANT#<tid>`                   | `USAGE#<date>`   |
//! | usage of a month    | `TENANT#<tid>`                   | `USAGEMONTH#<yyyy-mm>` |
//! | e-mail -> user      | `EMAIL#<normalised email>`       | `EMAIL`          |
//! | number -> tenant    | `PHONE#<e164>`                   | `PHONE`          |
//! | Call SID -> call    | `CALLSID#<sid>`                  | `CALLSID`        |
//! | transcript SID -> call | `TRANSCRIPTSID#<sid>`         | `TRANSCRIPTSID`  |
//! | callbacks before the SID was linked | `CALLSID#<sid>`  | `EARLY`          |
//! | calls/second pacing | `CPS#<account>`                  | `CPS`            |
//! | refresh token       | `RT#<sha256 of token>`           | `RT`             |
//! | refresh family      | `RTFAM#<family id>`              | `RTFAM`          |
//! | rate-limit window   | `RL#<bucket>#<subject>#<window>` | `RL`             |
//! | job the queue refused | `KEPTJOBS`                     | `<rfc3339>#<ulid>` |
//! | audit log entry     | `AUDIT`                          | `<rfc3339>#<ulid>` |
//! | (never written: the reachability check reads it) | `PROBE` | `PROBE`   |
//!
//! Items that start from outside a tenant (an e-mail at login, a refresh token) are marker
//! items written in the same transaction as what they point to. `expires_at` (epoch seconds)
//! is the TTL attribute; code always re-checks it because TTL deletion is lazy.

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const TTL_ATTRIBUTE: &str = "expires_at";

pub const USER: &str = "USER";
pub const ONBOARDING: &str = "ONBOARDING";
pub const SCENARIO_PREFIX: &str = "SCENARIO#";
pub const NUMBER_PREFIX: &str = "NUMBER#";
pub const CALL_PREFIX: &str = "CALL#";
pub const CALENDAR: &str = "CALENDAR";
pub const EMAIL: &str = "EMAIL";
pub const REFRESH: &str = "RT";
pub const FAMILY: &str = "RTFAM";
pub const RATE_LIMIT: &str = "RL";
pub const PHONE: &str = "PHONE";
pub const CALL_SID: &str = "CALLSID";
pub const EARLY_CALLBACK: &str = "EARLY";
pub const SCHEDULE_PREFIX: &str = "SCHEDULE#";
pub const TRANSCRIPT_PREFIX: &str = "TRANSCRIPT#";
pub const TRANSCRIPT_SID: &str = "TRANSCRIPTSID";
pub const WEBHOOK_PREFIX: &str = "WEBHOOK#";
pub const CPS: &str = "CPS";
pub const PROBE: &str = "PROBE";
pub const KEPT_JOBS: &str = "KEPTJOBS";
pub const AUDIT: &str = "AUDIT";
pub const USAGE_DAY_PREFIX: &str = "USAGE#";

pub fn tenant(tenant_id: &str) -> String {
    format!("TENANT#{tenant_id}")
}

pub fn scenario(scenario_id: &str) -> String {
    format!("{SCENARIO_PREFIX}{scenario_id}")
}

pub fn email(normalised: &str) -> String {
    format!("EMAIL#{normalised}")
}

pub fn refresh(token_hash: &str) -> String {
    format!("RT#{token_hash}")
}

pub fn family(family_id: &str) -> String {
    format!("RTFAM#{family_id}")
}

pub fn rate_limit(bucket: &str, subject: &str, window_start: i64) -> String {
    format!("RL#{bucket}#{subject}#{window_start}")
}

pub fn number(e164: &str) -> String {
    format!("{NUMBER_PREFIX}{e164}")
}

pub fn phone(e164: &str) -> String {
    format!("PHONE#{e164}")
}

pub fn call(call_id: &str) -> String {
    format!("{CALL_PREFIX}{call_id}")
}

pub fn call_sid(sid: &str) -> String {
    format!("CALLSID#{sid}")
}

pub fn transcript_sid(sid: &str) -> String {
    format!("TRANSCRIPTSID#{sid}")
}

pub fn call_day(date: &str) -> String {
    format!("CALLDAY#{date}")
}

pub fn schedule(schedule_id: &str) -> String {
    format!("{SCHEDULE_PREFIX}{schedule_id}")
}

pub fn browser_session(call_id: &str) -> String {
    format!("RTCSESSION#{call_id}")
}

/// A tenant's usage aggregate of one UTC day (`YYYY-MM-DD`, so keys sort by date).
pub fn usage_day(date: &str) -> String {
    format!("{USAGE_DAY_PREFIX}{date}")
}

/// A tenant's usage aggregate of one UTC month (`YYYY-MM`). `USAGEMONTH#` sorts after every
/// `USAGE#<date>` key, so a range of days never reaches a month.
pub fn usage_month(month: &str) -> String {
    format!("USAGEMONTH#{month}")
}

pub fn cps(account: &str) -> String {
    format!("CPS#{account}")
}
