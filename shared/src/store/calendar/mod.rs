//! The calendar's items: a tenant's Google connection, its calendar settings, pending OAuth
//! states, and the appointments the platform booked.
//!
//! | item              | PK                           | SK                        |
//! |-------------------|------------------------------|---------------------------|
//! | connection        | `TENANT#<tid>`               | `CALENDAR`                |
//! | settings          | `TENANT#<tid>`               | `CALSETTINGS`             |
//! | booking           | `TENANT#<tid>`               | `BOOKING#<call id>#<start>` |
//! | slot claim        | `TENANT#<tid>`               | `BOOKSLOT#<calendar>#<start>` |
//! | OAuth state       | `OAUTHSTATE#<sha256(state)>` | `OAUTHSTATE`              |
//!
//! Bookings also carry `GSI1PK = BOOKCALLER#<tid>#<caller>` so a caller's appointments can be
//! found from any later call. Tokens and PKCE verifiers are stored sealed and bound to their
//! tenant (see `auth::seal`); an OAuth state is stored only as its hash.

pub mod bookings;
pub mod connection;
pub mod oauth_state;
pub mod settings;
