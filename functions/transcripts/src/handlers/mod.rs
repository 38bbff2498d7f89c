pub mod enhanced;
pub mod webhook;
