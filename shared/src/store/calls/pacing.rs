//! How fast calls may be placed: a per-tenant cap on outbound calls per UTC day, and the Twilio
//! account's calls-per-second (CPS) budget, shared by every instance of every function that
//! places calls.
//!
//! CPS pacing hands out start times ("slots") at least `1/CPS` apart. The account has one
//! pacing item holding the start of the next free slot; a placer reads it, takes
//! `max(now, next)` and moves `next` one interval on with a conditional write (one per slot
//! taken: if another placer moved it first, the write fails and it reads again). It then sleeps
//! until its slot starts. Slots come from one counter, so two creates are never closer than the
//! interval, whichever instance makes them, and a burst is spread out instead of being let
//! through at every second boundary.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::store::{ItemExt, Store, epoch_now, keys, n, s, written};

/// A placer that wakes this much after its slot began (a stalled instance) does not use it:
/// the next slot's owner may already be sending, so it takes a later slot instead. Generous
/// enough that a busy host's late timer wake-ups do not make every placer give its slot up
/// again and again (Twilio queues a create that beats the pace, so a slightly late one costs
/// nothing; a livelock would refuse every call).
const MAX_LATENESS: Duration = Duration::from_millis(100);

/// Slots a late placer gives up before it sends late anyway: on a host so busy that timers
/// keep waking late, taking slot after slot would only end in refusing the call.
const MAX_LATE_RETAKES: u32 = 3;

/// Conditional-write races lost before giving up (each loss means another placer took a slot,
/// so this bounds the work, not the wait).
const MAX_ATTEMPTS: u32 = 64;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Store {
    /// Counts one outbound call against the tenant's daily cap (UTC days); 429 once it is
    /// reached, until midnight UTC.
    pub async fn count_outbound_call(&self, tenant_id: &str, cap: u32) -> Result<()> {
        let now = chrono::Utc::now();
        let day = now.format("%Y-%m-%d").to_string();
        let counted = self
            .increment_below(
                keys::tenant(tenant_id),
                &keys::call_day(&day),
                cap,
                epoch_now() + 3 * 86_400,
            )
            .await?;
        if counted {
            return Ok(());
        }
        let midnight = (now.date_naive() + chrono::Days::new(1))
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp())
            .unwrap_or(now.timestamp() + 3600);
        Err(Error::RateLimited {
            detail: format!("Daily outbound call limit reached ({cap} calls per day)"),
            retry_after: (midnight - now.timestamp()).max(1) as u64,
        })
    }

    /// Waits for a slot in the Twilio account's calls-per-second budget and returns when it
    /// has begun. Gives up (503) when the next free slot is more than `max_wait` away.
    pub async fn pace_call(
        &self,
        account_sid: &str,
        per_second: u32,
        max_wait: Duration,
    ) -> Result<()> {
        let interval_ms = i64::from(1000_u32.div_ceil(per_second.max(1)));
        let mut late_retakes = 0;
        for _ in 0..MAX_ATTEMPTS {
            let seen = self.next_slot(account_sid).await?;
            let now = now_ms();
            let slot = seen.unwrap_or(now).max(now);
            if slot - now > max_wait.as_millis() as i64 {
                return Err(busy());
            }
            if !self
                .take_slot(account_sid, seen, slot + interval_ms)
                .await?
            {
                continue;
            }
            let wait = (slot - now_ms()).max(0) as u64;
            tokio::time::sleep(Duration::from_millis(wait)).await;
            if now_ms() - slot <= MAX_LATENESS.as_millis() as i64
                || late_retakes == MAX_LATE_RETAKES
            {
                // (A host too busy to wake on time sends late rather than refusing the call.)
                return Ok(());
            }
            late_retakes += 1;
            tracing::warn!(
                late_ms = now_ms() - slot,
                "woke too late for a calls-per-second slot; taking another"
            );
        }
        Err(busy())
    }

    /// The start of the next free slot (epoch milliseconds); `None` when no call was ever
    /// paced (or the item expired).
    async fn next_slot(&self, account_sid: &str) -> Result<Option<i64>> {
        let item = self.get(keys::cps(account_sid), keys::CPS).await?;
        Ok(item.and_then(|i| i.num("next_at_ms").ok()))
    }

    /// Moves the next free slot to `next_ms` if nobody moved it since `seen` was read.
    async fn take_slot(&self, account_sid: &str, seen: Option<i64>, next_ms: i64) -> Result<bool> {
        let request = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::cps(account_sid)))
            .key(keys::SK, s(keys::CPS))
            .update_expression("SET next_at_ms = :next, #expires = :expires")
            .expression_attribute_names("#expires", keys::TTL_ATTRIBUTE)
            .expression_attribute_values(":next", n(next_ms))
            // Long after the slot: by then `now` is later than any slot it could hold.
            .expression_attribute_values(":expires", n(next_ms / 1000 + 3600));
        let request = match seen {
            Some(at) => request
                .condition_expression("next_at_ms = :seen")
                .expression_attribute_values(":seen", n(at)),
            None => request.condition_expression("attribute_not_exists(next_at_ms)"),
        };
        written(request.send().await)
    }
}

fn busy() -> Error {
    Error::Unavailable("The calling capacity is busy; please retry shortly".into())
}
