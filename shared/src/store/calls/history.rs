//! The tenant's call history: newest first, filtered by status, direction and creation time,
//! a page at a time (see [`crate::store::pages`]: call ids are ULIDs, so a time window is a
//! key range).

use super::{CallRecord, from_item};
use crate::domain::calls::{CallStatus, Direction};
use crate::error::{FieldError, Result};
use crate::store::pages::{ItemFilter, Listing, TimeWindow};
use crate::store::{Store, keys};

/// Filters of the call history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallFilter {
    status: Option<CallStatus>,
    direction: Option<Direction>,
    window: TimeWindow,
}

impl CallFilter {
    /// Refuses a window (`from`, `to`: creation times, epoch milliseconds) that ends before it
    /// starts, naming the field.
    pub fn new(
        status: Option<CallStatus>,
        direction: Option<Direction>,
        from_ms: Option<u64>,
        to_ms: Option<u64>,
    ) -> std::result::Result<CallFilter, Vec<FieldError>> {
        Ok(CallFilter {
            status,
            direction,
            window: TimeWindow::new(from_ms, to_ms, ("from", "to"))?,
        })
    }
}

impl Store {
    /// The tenant's calls, newest first, `limit` per page, and the cursor of the next page.
    /// The cursor only ever resumes this tenant's listing with these filters.
    pub async fn list_calls(
        &self,
        tenant_id: &str,
        filter: &CallFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<(Vec<CallRecord>, Option<String>)> {
        let listing = Listing {
            tenant_id,
            prefix: keys::CALL_PREFIX,
            window: filter.window,
            filter: ItemFilter::default()
                .equal("status", filter.status.map(CallStatus::as_str))
                .equal("direction", filter.direction.map(Direction::as_str)),
        };
        let (items, next) = self.list_page(&listing, limit, cursor).await?;
        let calls = items.iter().map(from_item).collect::<Result<Vec<_>>>()?;
        Ok((calls, next))
    }
}
