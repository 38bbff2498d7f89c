//! The calendar's rules, independent of Google and of storage: a tenant's working week
//! ([`settings`]), the meeting slots free in it ([`slots`]), and how times are said to a
//! caller and written into the agent's instructions ([`speech`]).

pub mod settings;
pub mod slots;
pub mod speech;

pub use settings::{CalendarSettings, SettingsInput};
pub use slots::{Slot, SlotQuery, free_slots};
