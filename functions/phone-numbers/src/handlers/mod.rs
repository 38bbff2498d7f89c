pub mod account;
pub mod inbound_scenario;
pub mod list;
pub mod primary;
pub mod provision;
pub mod release;
pub mod search;
