//! Reading the calendar: upcoming events (all-day ones as dates), busy periods from the
//! FreeBusy API, and free meeting slots computed from them in the tenant's zone.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::TenantCalendar;
use crate::domain::calendar::{Slot, SlotQuery, free_slots};
use crate::error::Result;
use crate::google::calendar::{Event, EventQuery, EventTime, Period};

/// The shortest notice a slot may be offered or booked with.
pub const MIN_NOTICE: Duration = Duration::minutes(15);
/// Google answers at most 2500 events per page; nobody needs more than this many upcoming.
pub const MAX_EVENTS: u32 = 250;

/// An event as the API and the agent see it: `start`/`end` are a date-time in the tenant's
/// zone, or a date for all-day events.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    /// `No title` when the event has none.
    pub summary: String,
    #[schema(example = "2026-11-02T09:00:00-05:00")]
    pub start: String,
    pub end: String,
    pub all_day: bool,
    pub location: Option<String>,
    pub description: Option<String>,
}

fn time_text(t: &EventTime) -> String {
    match (&t.date_time, &t.date) {
        (Some(dt), _) => dt.to_rfc3339(),
        (None, Some(d)) => d.to_string(),
        (None, None) => String::new(),
    }
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        EventView {
            all_day: e.start.date_time.is_none() && e.start.date.is_some(),
            start: time_text(&e.start),
            end: time_text(&e.end),
            summary: e
                .summary
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "No title".into()),
            id: e.id,
            location: e.location,
            description: e.description,
        }
    }
}

impl TenantCalendar {
    /// Events from now until `days_ahead` days from now, earliest first.
    pub async fn upcoming_events(
        &self,
        max_results: u32,
        days_ahead: u32,
    ) -> Result<Vec<EventView>> {
        let now = Utc::now();
        let zone = self.settings.time_zone.name();
        let query = EventQuery {
            calendar_id: &self.settings.calendar_id,
            time_min: now,
            time_max: Some(now + Duration::days(i64::from(days_ahead))),
            max_results: max_results.min(MAX_EVENTS),
            time_zone: zone,
            private_properties: Vec::new(),
        };
        let apis = self.apis();
        let events = self
            .call(|token| {
                let query = query.clone();
                async move { apis.calendar.events(&token, &query).await }
            })
            .await?;
        Ok(events.into_iter().map(EventView::from).collect())
    }

    /// Busy periods of the booking calendar between `from` and `to`.
    pub async fn busy(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Period>> {
        let apis = self.apis();
        let calendar_id = self.settings.calendar_id.clone();
        let zone = self.settings.time_zone.name();
        self.call(|token| {
            let calendar_id = calendar_id.clone();
            async move {
                apis.calendar
                    .busy(&token, &calendar_id, from, to, zone)
                    .await
            }
        })
        .await
    }

    /// Whether nothing is busy between `start` and `end`, with the settings' buffer around
    /// it; the conflicting periods if something is.
    pub async fn conflicts(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Vec<Period>> {
        let buffer = self.settings.buffer();
        let busy = self.busy(start - buffer, end + buffer).await?;
        let slot = Slot { start, end };
        Ok(busy
            .into_iter()
            .filter(|b| {
                crate::domain::calendar::slots::conflicts(slot, std::slice::from_ref(b), buffer)
            })
            .collect())
    }

    /// The connected account's calendars it can add events to.
    pub async fn writable_calendars(&self) -> Result<Vec<crate::google::calendar::CalendarEntry>> {
        let apis = self.apis();
        self.call(|token| async move { apis.calendar.calendars(&token).await })
            .await
    }

    /// Free slots for `query` (its `not_before` raised to now plus the minimum notice).
    pub async fn free_slots(&self, mut query: SlotQuery) -> Result<Vec<Slot>> {
        query.not_before = query.not_before.max(Utc::now() + MIN_NOTICE);
        if query.to <= query.from {
            return Ok(Vec::new());
        }
        let buffer = self.settings.buffer();
        let busy = self.busy(query.from - buffer, query.to + buffer).await?;
        Ok(free_slots(&self.settings, &query, &busy))
    }
}
