pub mod enhanced;
pub mod manage;
pub mod stored;
pub mod summarize;
pub mod webhook;
pub mod whisper;
