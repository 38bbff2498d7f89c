//! The scheduled-call shape clients see.

use serde::Serialize;
use shared::domain::calls::ScheduleStatus;
use shared::store::schedules::ScheduledCall;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    /// Same as `schedule_id`.
    pub id: String,
    pub schedule_id: String,
    pub phone_number: String,
    pub scenario: String,
    /// RFC 3339, UTC.
    pub scheduled_time: String,
    pub status: ScheduleStatus,
    /// The call placed, once `placed`.
    pub call_id: Option<String>,
    /// Why it failed, when `failed`.
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<ScheduledCall> for ScheduleView {
    fn from(s: ScheduledCall) -> Self {
        Self {
            id: s.schedule_id.clone(),
            schedule_id: s.schedule_id,
            phone_number: s.phone_number,
            scenario: s.scenario,
            scheduled_time: s.scheduled_time,
            status: s.status,
            call_id: s.call_id,
            error: s.error,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}
