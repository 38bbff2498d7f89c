//! What each function may do to the table: the DynamoDB actions of its IAM policy, for every
//! route and worker, listed per context in this one place.
//!
//! Three checks keep this list honest: a test compares every policy in `template.yaml` with
//! it (tests/tests/api/template/permissions.rs); the local stack enforces it like IAM would,
//! refusing any store call a route was not granted (infra/src/permissions.rs), so every
//! black-box test proves its route's grant is enough; and `make test` records which grants the
//! black-box suite used and fails on any it never needed (infra/src/bin/unused-grants.rs), so
//! no grant stays that no code path uses. Transactions need the actions of their parts, as on
//! AWS (IAM has no `TransactWriteItems` action).

/// A DynamoDB action, as IAM names it (`dynamodb:<Action>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    GetItem,
    Query,
    PutItem,
    UpdateItem,
    DeleteItem,
    ConditionCheckItem,
    BatchWriteItem,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::GetItem,
        Action::Query,
        Action::PutItem,
        Action::UpdateItem,
        Action::DeleteItem,
        Action::ConditionCheckItem,
        Action::BatchWriteItem,
    ];

    /// The IAM action, e.g. `dynamodb:GetItem`.
    pub fn iam(self) -> String {
        format!("dynamodb:{self:?}")
    }
}

/// Who acts on the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Principal {
    /// The function of one HTTP route: `"<METHOD> <path template>"`, as the router names it.
    Route(&'static str),
    /// A function or task that no route reaches: `scheduled-call-runner`, `job-worker`, `bridge`.
    Worker(&'static str),
}

impl std::fmt::Display for Principal {
    /// The route (`POST /calls/{call_id}/hangup`) or the worker's name.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Principal::Route(r) | Principal::Worker(r) => f.write_str(r),
        }
    }
}

/// How a use of the `GSI1` grant is named beside the actions (a `Query` on the index).
pub const GSI1_USE: &str = "dynamodb:Query on index GSI1";

/// What one principal may do.
#[derive(Debug)]
pub struct Grant {
    pub who: Principal,
    pub actions: &'static [Action],
    /// May query the `GSI1` index as well as the table.
    pub gsi1: bool,
}

impl Grant {
    pub fn allows(&self, action: Action) -> bool {
        self.actions.contains(&action)
    }

    const fn with_gsi1(self) -> Self {
        Grant { gsi1: true, ..self }
    }
}

const fn grant(who: Principal, actions: &'static [Action]) -> Grant {
    Grant {
        who,
        actions,
        gsi1: false,
    }
}

/// One bounded context (a crate under `functions/`, or the bridge) and its grants.
pub struct Context {
    pub name: &'static str,
    pub grants: &'static [Grant],
}

/// The grant of an HTTP route (`method` upper case, `path` as the router's template). A
/// trailing slash does not count: API Gateway routes `/x/` to the function of `/x`.
pub fn route(method: &str, path: &str) -> Option<&'static Grant> {
    let path = without_trailing_slash(path);
    all().find(|g| match g.who {
        Principal::Route(r) => r
            .split_once(' ')
            .is_some_and(|(m, p)| m == method && without_trailing_slash(p) == path),
        Principal::Worker(_) => false,
    })
}

fn without_trailing_slash(path: &str) -> &str {
    match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => path,
    }
}

/// The grant of a worker (`scheduled-call-runner`, `job-worker`, `bridge`).
pub fn worker(name: &str) -> Option<&'static Grant> {
    all().find(|g| matches!(g.who, Principal::Worker(w) if w == name))
}

/// Every grant of every context.
pub fn all() -> impl Iterator<Item = &'static Grant> {
    CONTEXTS.iter().flat_map(|c| c.grants.iter())
}

use Action::*;
use Principal::{Route, Worker};

pub const CONTEXTS: &[Context] = &[
    Context {
        name: "auth",
        grants: &[
            grant(Route("POST /auth/register"), &[PutItem, UpdateItem]),
            grant(Route("POST /auth/login"), &[GetItem, PutItem, UpdateItem]),
            grant(Route("POST /token"), &[GetItem, PutItem, UpdateItem]),
            grant(
                Route("POST /auth/refresh"),
                &[GetItem, PutItem, UpdateItem, ConditionCheckItem],
            ),
            grant(Route("POST /auth/logout"), &[GetItem, UpdateItem]),
            grant(Route("GET /users/me"), &[GetItem]),
            grant(Route("POST /update-user-name"), &[GetItem, UpdateItem]),
            grant(Route("GET /protected"), &[GetItem, UpdateItem]),
            grant(Route("GET /auth/captcha-key"), &[]),
        ],
    },
    Context {
        name: "scenarios",
        grants: &[
            grant(Route("GET /scenarios"), &[GetItem]),
            grant(Route("GET /scenarios/{key}"), &[GetItem]),
            grant(
                Route("POST /realtime/custom-scenario"),
                &[GetItem, PutItem, UpdateItem],
            ),
            grant(Route("GET /custom-scenarios"), &[GetItem, Query]),
            grant(Route("GET /custom-scenarios/{scenario_id}"), &[GetItem]),
            grant(
                Route("PUT /custom-scenarios/{scenario_id}"),
                &[GetItem, UpdateItem],
            ),
            grant(
                Route("DELETE /custom-scenarios/{scenario_id}"),
                &[GetItem, UpdateItem, DeleteItem],
            ),
        ],
    },
    Context {
        name: "onboarding",
        grants: &[
            grant(
                Route("GET /onboarding/status"),
                &[GetItem, Query, UpdateItem],
            ),
            grant(
                Route("GET /onboarding/next-action"),
                &[GetItem, Query, UpdateItem],
            ),
            grant(
                Route("POST /onboarding/complete-step"),
                &[GetItem, Query, UpdateItem],
            ),
            grant(
                Route("POST /onboarding/initialize"),
                &[GetItem, Query, UpdateItem],
            ),
            grant(
                Route("GET /onboarding/check-step/{step}"),
                &[GetItem, Query, UpdateItem],
            ),
        ],
    },
    Context {
        name: "platform",
        grants: &[
            grant(Route("GET /health"), &[]),
            grant(Route("GET /openapi.json"), &[]),
            grant(Route("GET /docs"), &[]),
            grant(Route("GET /docs/app.js"), &[]),
        ],
    },
    Context {
        name: "phone-numbers",
        grants: &[
            grant(Route("GET /twilio/account"), &[GetItem, Query]),
            grant(Route("POST /twilio/search-numbers"), &[GetItem]),
            grant(
                Route("POST /twilio/provision-number"),
                &[GetItem, PutItem, UpdateItem, DeleteItem],
            ),
            grant(
                Route("GET /twilio/user-numbers"),
                &[GetItem, Query, UpdateItem, DeleteItem],
            ),
            grant(Route("GET /twilio/user-primary-number"), &[GetItem, Query]),
            grant(
                Route("DELETE /twilio/release-number/{phone_number}"),
                &[GetItem, UpdateItem, DeleteItem],
            ),
            grant(Route("GET /twilio/inbound-scenario"), &[GetItem]),
            grant(
                Route("PUT /twilio/inbound-scenario"),
                &[GetItem, UpdateItem],
            ),
        ],
    },
    Context {
        name: "calls",
        grants: &[
            grant(
                Route("GET /make-call/{phone_number}/{scenario}"),
                &[GetItem, Query, PutItem, UpdateItem],
            ),
            grant(
                Route("GET /make-custom-call/{phone_number}/{scenario_id}"),
                &[GetItem, Query, PutItem, UpdateItem],
            ),
            grant(Route("GET /calls"), &[GetItem, Query]),
            grant(Route("GET /calls/{call_id}"), &[GetItem, Query]),
            grant(Route("POST /calls/{call_id}/hangup"), &[GetItem]),
            grant(Route("GET /usage"), &[GetItem, Query]),
            grant(
                Route("GET /google-calendar/make-calendar-call/{phone_number}"),
                &[GetItem, Query, PutItem, UpdateItem],
            ),
        ],
    },
    Context {
        name: "twilio-webhooks",
        grants: &[
            grant(
                Route("POST /twilio/voice/inbound"),
                &[GetItem, Query, PutItem, UpdateItem],
            ),
            grant(
                Route("POST /twilio/call-status"),
                &[GetItem, Query, PutItem, UpdateItem],
            ),
            grant(
                Route("POST /twilio/recording-status"),
                &[GetItem, PutItem, UpdateItem],
            ),
            grant(
                Route("POST /twilio/transfer-status"),
                &[GetItem, UpdateItem],
            ),
            grant(
                Route("POST /twilio/amd-status"),
                &[GetItem, PutItem, UpdateItem],
            ),
        ],
    },
    Context {
        name: "schedules",
        grants: &[
            grant(
                Route("POST /schedule-call"),
                &[GetItem, PutItem, UpdateItem, DeleteItem],
            ),
            grant(
                Route("POST /google-calendar/schedule"),
                &[GetItem, PutItem, UpdateItem, DeleteItem],
            ),
            grant(Route("GET /scheduled-calls"), &[GetItem, Query]),
            grant(Route("GET /scheduled-calls/{schedule_id}"), &[GetItem]),
            grant(
                Route("DELETE /scheduled-calls/{schedule_id}"),
                &[GetItem, UpdateItem],
            ),
        ],
    },
    Context {
        name: "calendar",
        grants: &[
            grant(
                Route("GET /google-calendar/auth"),
                &[GetItem, PutItem, UpdateItem],
            ),
            grant(
                Route("GET /google-calendar/callback"),
                &[UpdateItem, DeleteItem],
            ),
            grant(Route("GET /google-calendar/connection"), &[GetItem]),
            grant(
                Route("DELETE /google-calendar/connection"),
                &[GetItem, DeleteItem],
            ),
            grant(Route("GET /google-calendar/settings"), &[GetItem]),
            grant(
                Route("PUT /google-calendar/settings"),
                &[GetItem, PutItem, UpdateItem],
            ),
            grant(
                Route("GET /google-calendar/calendars"),
                &[GetItem, UpdateItem],
            ),
            grant(Route("GET /google-calendar/events"), &[GetItem, UpdateItem]),
            grant(
                Route("GET /google-calendar/check-availability"),
                &[GetItem, UpdateItem],
            ),
            grant(
                Route("GET /google-calendar/find-slots"),
                &[GetItem, UpdateItem],
            ),
        ],
    },
    Context {
        name: "scheduled-call-runner",
        grants: &[grant(
            Worker("scheduled-call-runner"),
            &[GetItem, Query, PutItem, UpdateItem],
        )],
    },
    Context {
        name: "job-worker",
        grants: &[grant(
            Worker("job-worker"),
            &[
                GetItem,
                Query,
                PutItem,
                UpdateItem,
                DeleteItem,
                BatchWriteItem,
            ],
        )],
    },
    Context {
        name: "transcripts",
        grants: &[
            grant(Route("POST /twilio-transcripts/webhook-callback"), &[]),
            grant(Route("GET /api/enhanced-transcripts"), &[GetItem, Query]),
            grant(
                Route("GET /api/enhanced-transcripts/{transcript_sid}"),
                &[GetItem, Query],
            ),
            grant(
                Route("GET /api/transcripts/{transcript_sid}"),
                &[GetItem, Query],
            ),
            grant(Route("GET /stored-twilio-transcripts"), &[GetItem, Query]),
            grant(
                Route("GET /stored-twilio-transcripts/{transcript_sid}"),
                &[GetItem, Query],
            ),
            grant(Route("GET /stored-transcripts"), &[GetItem, Query]),
            grant(
                Route("GET /stored-transcripts/{transcript_sid}"),
                &[GetItem, Query],
            ),
            grant(
                Route("POST /api/transcripts/fetch-and-store/{transcript_sid}"),
                &[GetItem, Query, PutItem, UpdateItem, BatchWriteItem],
            ),
            grant(
                Route("POST /api/enhanced-twilio-transcripts/fetch-and-store"),
                &[GetItem, Query, PutItem, UpdateItem, BatchWriteItem],
            ),
            grant(
                Route("POST /api/enhanced-transcripts/{transcript_sid}/re-enhance"),
                &[GetItem, Query, PutItem, UpdateItem, BatchWriteItem],
            ),
            grant(
                Route("POST /api/import-twilio-transcripts"),
                &[GetItem, Query, PutItem, UpdateItem, BatchWriteItem],
            ),
            grant(
                Route("DELETE /twilio-transcripts/{transcript_sid}"),
                &[GetItem, Query, UpdateItem, DeleteItem, BatchWriteItem],
            ),
            grant(
                Route("POST /api/transcripts/{transcript_sid}/summarize"),
                &[GetItem, Query, UpdateItem],
            ),
            grant(Route("POST /whisper/transcribe"), &[GetItem, UpdateItem]),
        ],
    },
    Context {
        name: "webhooks",
        grants: &[
            grant(Route("POST /webhooks"), &[GetItem, PutItem, UpdateItem]),
            grant(Route("GET /webhooks"), &[GetItem, Query]),
            grant(
                Route("DELETE /webhooks/{webhook_id}"),
                &[GetItem, UpdateItem, DeleteItem],
            ),
            grant(
                Route("GET /webhooks/{webhook_id}/deliveries"),
                &[GetItem, Query],
            ),
        ],
    },
    Context {
        name: "realtime",
        grants: &[
            grant(
                Route("POST /realtime/session"),
                &[GetItem, PutItem, UpdateItem],
            ),
            grant(
                Route("POST /realtime/signal"),
                &[GetItem, PutItem, UpdateItem],
            ),
        ],
    },
    Context {
        name: "admin",
        grants: &[
            grant(Route("GET /admin/tenants"), &[GetItem, Query, PutItem]).with_gsi1(),
            grant(
                Route("POST /admin/tenants/{tenant_id}/suspend"),
                &[GetItem, Query, PutItem, UpdateItem],
            ),
            grant(
                Route("POST /admin/tenants/{tenant_id}/reinstate"),
                &[GetItem, PutItem, UpdateItem],
            ),
            grant(
                Route("PUT /admin/tenants/{tenant_id}/minute-cap"),
                &[GetItem, PutItem, UpdateItem],
            ),
            grant(Route("GET /admin/twilio-account"), &[GetItem, PutItem]),
            grant(Route("GET /admin/audit-log"), &[GetItem, Query, PutItem]),
        ],
    },
    Context {
        name: "bridge",
        grants: &[grant(
            Worker("bridge"),
            &[GetItem, Query, PutItem, UpdateItem, DeleteItem],
        )
        .with_gsi1()],
    },
];
