//! The tenancy property: random sequences of create, read, update, delete, list and action
//! calls by three tenants over every tenant-owned entity (custom scenarios, phone numbers,
//! calls, scheduled calls, webhook endpoints, browser sessions, calendar connections, and the
//! transcripts their calls produce), through the HTTP API on moto with every provider
//! simulated. After every call and at the end of each sequence:
//!
//! - no tenant reads, changes, lists or learns the existence of another tenant's item: its
//!   ids answer 404 with the same body as an id that never existed, and change nothing;
//! - every tenant's view (each list endpoint, each of its items) equals the model the test
//!   keeps of what that tenant did.
//!
//! proptest generates the sequences (and shrinks a failing one to the shortest it can find).

use std::future::Future;

use e2e_tests::Options;
use e2e_tests::calendar_rig;
use e2e_tests::client::{Client, Reply, Session, email};
use e2e_tests::platform_rig::PlatformRig;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::Method;
use serde_json::{Value, json};

/// A real Chromium offer, for browser sessions.
const OFFER: &str = include_str!("../../fixtures/chromium-offer.sdp");
const TENANTS: usize = 3;
/// Sequences per run, and calls per sequence.
const CASES: u32 = 24;
const MAX_OPS: usize = 32;
/// The per-tenant limits of the stack (the configuration's defaults).
const MAX_NUMBERS: usize = 3;
const MAX_WEBHOOKS: usize = 5;

/// The kinds of item a tenant owns and the test can name by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scenario,
    Number,
    Call,
    Schedule,
    Webhook,
    Session,
}

const KINDS: [Kind; 6] = [
    Kind::Scenario,
    Kind::Number,
    Kind::Call,
    Kind::Schedule,
    Kind::Webhook,
    Kind::Session,
];

/// One API call: `by` acts; `owner` and `pick` choose an item (`pick` modulo the owner's items
/// of that kind; with none, an id that never existed).
#[derive(Debug, Clone)]
enum Op {
    Create {
        by: usize,
        kind: Kind,
    },
    Read {
        by: usize,
        owner: usize,
        kind: Kind,
        pick: usize,
    },
    /// Update a scenario, release a number, hang up a call, cancel a schedule, delete a
    /// webhook, send an offer to a session: each kind's change.
    Change {
        by: usize,
        owner: usize,
        kind: Kind,
        pick: usize,
    },
    /// Delete a scenario (the other change a scenario has).
    DeleteScenario {
        by: usize,
        owner: usize,
        pick: usize,
    },
    ConnectCalendar {
        by: usize,
    },
    DisconnectCalendar {
        by: usize,
    },
    /// Read one of the owner's transcripts (their calls make them).
    ReadTranscript {
        by: usize,
        owner: usize,
        pick: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let tenant = || 0..TENANTS;
    let kind = || proptest::sample::select(KINDS.to_vec());
    prop_oneof![
        3 => (tenant(), kind()).prop_map(|(by, kind)| Op::Create { by, kind }),
        3 => (tenant(), tenant(), kind(), 0..4usize)
            .prop_map(|(by, owner, kind, pick)| Op::Read { by, owner, kind, pick }),
        3 => (tenant(), tenant(), kind(), 0..4usize)
            .prop_map(|(by, owner, kind, pick)| Op::Change { by, owner, kind, pick }),
        1 => (tenant(), tenant(), 0..4usize)
            .prop_map(|(by, owner, pick)| Op::DeleteScenario { by, owner, pick }),
        1 => tenant().prop_map(|by| Op::ConnectCalendar { by }),
        1 => tenant().prop_map(|by| Op::DisconnectCalendar { by }),
        1 => (tenant(), tenant(), 0..4usize)
            .prop_map(|(by, owner, pick)| Op::ReadTranscript { by, owner, pick }),
    ]
}

/// What one tenant has, as the test knows it.
#[derive(Debug, Default)]
struct Tenant {
    scenarios: Vec<(String, String)>,
    numbers: Vec<String>,
    calls: Vec<String>,
    /// Id, and whether it was canceled.
    schedules: Vec<(String, bool)>,
    webhooks: Vec<String>,
    /// Id, and whether an offer used it.
    sessions: Vec<(String, bool)>,
    calendar: bool,
}

impl Tenant {
    fn ids(&self, kind: Kind) -> Vec<String> {
        match kind {
            Kind::Scenario => self.scenarios.iter().map(|(id, _)| id.clone()).collect(),
            Kind::Number => self.numbers.clone(),
            Kind::Call => self.calls.clone(),
            Kind::Schedule => self.schedules.iter().map(|(id, _)| id.clone()).collect(),
            Kind::Webhook => self.webhooks.clone(),
            Kind::Session => self.sessions.iter().map(|(id, _)| id.clone()).collect(),
        }
    }
}

/// Ids that never named anything, of each kind's shape (a 404 must look the same for them).
fn unknown_id(kind: Kind) -> String {
    match kind {
        Kind::Scenario => "custom_01jz0000000000000000000000".into(),
        Kind::Number => "+14155559999".into(),
        _ => "01jz0000000000000000000000".into(),
    }
}

fn escaped(id: &str) -> String {
    id.replace('+', "%2B")
}

/// A failed expectation, with what the API said.
fn fail(what: impl std::fmt::Display, reply: &Reply) -> TestCaseError {
    TestCaseError::fail(format!("{what}: {} {}", reply.status, reply.text))
}

fn expect_status(reply: &Reply, allowed: &[u16], what: &str) -> Result<(), TestCaseError> {
    if allowed.contains(&reply.status) {
        Ok(())
    } else {
        Err(fail(format!("{what} (expected one of {allowed:?})"), reply))
    }
}

struct World<'a> {
    platform: &'a PlatformRig,
    c: Client,
    sessions: Vec<Session>,
    tenants: Vec<Tenant>,
    /// Distinct values for created items.
    serial: usize,
}

impl World<'_> {
    fn token(&self, t: usize) -> Option<&str> {
        Some(self.sessions[t].access_token.as_str())
    }

    /// The id `pick` chooses among `owner`'s items of `kind`, if any.
    fn pick(&self, owner: usize, kind: Kind, pick: usize) -> Option<String> {
        let ids = self.tenants[owner].ids(kind);
        (!ids.is_empty()).then(|| ids[pick % ids.len()].clone())
    }

    /// The path that reads an item of `kind`.
    fn read_path(kind: Kind, id: &str) -> Option<String> {
        Some(match kind {
            Kind::Scenario => format!("/custom-scenarios/{id}"),
            Kind::Call => format!("/calls/{id}"),
            Kind::Schedule => format!("/scheduled-calls/{id}"),
            Kind::Webhook => format!("/webhooks/{id}/deliveries"),
            // Numbers and sessions have no item of their own to read: lists only.
            Kind::Number | Kind::Session => return None,
        })
    }

    /// The request that changes an item of `kind`.
    async fn change(&self, by: usize, kind: Kind, id: &str) -> Reply {
        let token = self.token(by);
        match kind {
            Kind::Scenario => {
                let body = json!({"persona": format!("Changed persona {id}"), "prompt": "Help callers book a visit", "voice_type": "cedar"});
                self.c
                    .json(
                        Method::PUT,
                        &format!("/custom-scenarios/{id}"),
                        token,
                        &body,
                    )
                    .await
            }
            Kind::Number => {
                self.c
                    .delete(&format!("/twilio/release-number/{}", escaped(id)), token)
                    .await
            }
            Kind::Call => {
                self.c
                    .post(&format!("/calls/{id}/hangup"), token, &json!({}))
                    .await
            }
            Kind::Schedule => {
                self.c
                    .delete(&format!("/scheduled-calls/{id}"), token)
                    .await
            }
            Kind::Webhook => self.c.delete(&format!("/webhooks/{id}"), token).await,
            Kind::Session => {
                let offer = json!({"session_id": id, "type": "offer", "sdp": OFFER});
                self.c.post("/realtime/signal", token, &offer).await
            }
        }
    }

    /// Another tenant's id must answer exactly as an id that never existed.
    fn same_as_unknown(
        &self,
        reply: &Reply,
        unknown: &Reply,
        what: &str,
    ) -> Result<(), TestCaseError> {
        expect_status(reply, &[404], what)?;
        let detail = |r: &Reply| r.body["detail"].clone();
        if detail(reply) != detail(unknown) {
            return Err(fail(
                format!(
                    "{what}: another tenant's id answers unlike an unknown one ({})",
                    unknown.text
                ),
                reply,
            ));
        }
        Ok(())
    }

    async fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match *op {
            Op::Create { by, kind } => self.create(by, kind).await,
            Op::Read {
                by,
                owner,
                kind,
                pick,
            } => {
                let Some(id) = self.pick(owner, kind, pick) else {
                    return Ok(());
                };
                let Some(path) = Self::read_path(kind, &id) else {
                    return Ok(());
                };
                let reply = self.c.get(&path, self.token(by)).await;
                if by == owner {
                    expect_status(&reply, &[200], &format!("{kind:?} read by its owner"))?;
                    if kind == Kind::Scenario {
                        let persona = &self.tenants[owner].scenarios
                            [pick % self.tenants[owner].scenarios.len()]
                        .1;
                        if reply.body["persona"] != persona.as_str() {
                            return Err(fail("the scenario is not as its owner left it", &reply));
                        }
                    }
                    Ok(())
                } else {
                    let unknown_path = Self::read_path(kind, &unknown_id(kind)).expect("readable");
                    let unknown = self.c.get(&unknown_path, self.token(by)).await;
                    self.same_as_unknown(
                        &reply,
                        &unknown,
                        &format!("{kind:?} read by another tenant"),
                    )
                }
            }
            Op::Change {
                by,
                owner,
                kind,
                pick,
            } => {
                let Some(id) = self.pick(owner, kind, pick) else {
                    return Ok(());
                };
                let reply = self.change(by, kind, &id).await;
                if by != owner {
                    let unknown = self.change(by, kind, &unknown_id(kind)).await;
                    // (A session id is checked before its owner: the unknown one is a 404 too.)
                    return self.same_as_unknown(
                        &reply,
                        &unknown,
                        &format!("{kind:?} changed by another tenant"),
                    );
                }
                self.changed(owner, kind, &id, &reply)
            }
            Op::DeleteScenario { by, owner, pick } => {
                let Some(id) = self.pick(owner, Kind::Scenario, pick) else {
                    return Ok(());
                };
                let path = format!("/custom-scenarios/{id}");
                let reply = self.c.delete(&path, self.token(by)).await;
                if by == owner {
                    expect_status(&reply, &[200], "a scenario deleted by its owner")?;
                    self.tenants[owner].scenarios.retain(|(s, _)| *s != id);
                    Ok(())
                } else {
                    let unknown_path = format!("/custom-scenarios/{}", unknown_id(Kind::Scenario));
                    let unknown = self.c.delete(&unknown_path, self.token(by)).await;
                    self.same_as_unknown(&reply, &unknown, "a scenario deleted by another tenant")
                }
            }
            Op::ConnectCalendar { by } => {
                if !self.tenants[by].calendar {
                    let token = self.sessions[by].access_token.clone();
                    self.serial += 1;
                    let account = format!("owner{by}-{}@gmail.com", self.serial);
                    self.platform
                        .google
                        .add_account(&account, "America/New_York");
                    calendar_rig::connect(&self.platform.rig.stack, &token, &account).await;
                    self.tenants[by].calendar = true;
                }
                Ok(())
            }
            Op::DisconnectCalendar { by } => {
                let reply = self
                    .c
                    .delete("/google-calendar/connection", self.token(by))
                    .await;
                if self.tenants[by].calendar {
                    expect_status(&reply, &[204], "a connected calendar disconnected")?;
                } else {
                    expect_status(&reply, &[204, 404, 409], "no calendar to disconnect")?;
                }
                self.tenants[by].calendar = false;
                Ok(())
            }
            Op::ReadTranscript { by, owner, pick } => {
                let listed = self
                    .c
                    .get("/api/enhanced-transcripts/", self.token(owner))
                    .await;
                expect_status(&listed, &[200], "the owner's transcripts")?;
                let Some(items) = listed.body.as_array().filter(|a| !a.is_empty()) else {
                    return Ok(());
                };
                let sid = items[pick % items.len()]["transcript_sid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let reply = self
                    .c
                    .get(&format!("/api/enhanced-transcripts/{sid}"), self.token(by))
                    .await;
                if by == owner {
                    expect_status(&reply, &[200], "a transcript read by its owner")
                } else {
                    let unknown = self
                        .c
                        .get(
                            "/api/enhanced-transcripts/GT00000000000000000000000000000000",
                            self.token(by),
                        )
                        .await;
                    self.same_as_unknown(&reply, &unknown, "a transcript read by another tenant")
                }
            }
        }
    }

    async fn create(&mut self, by: usize, kind: Kind) -> Result<(), TestCaseError> {
        self.serial += 1;
        let n = self.serial;
        let token = self.token(by);
        let tenant = &self.tenants[by];
        match kind {
            Kind::Scenario => {
                let persona = format!("Persona {n} of tenant {by}");
                let body = json!({"persona": persona, "prompt": "Help callers book a visit", "voice_type": "marin"});
                let reply = self.c.post("/realtime/custom-scenario", token, &body).await;
                expect_status(&reply, &[201], "a scenario created")?;
                let id = reply.body["scenario_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                self.tenants[by].scenarios.push((id, persona));
            }
            Kind::Number => {
                let found = self
                    .c
                    .post(
                        "/twilio/search-numbers",
                        token,
                        &json!({"area_code": "415", "limit": 1}),
                    )
                    .await;
                expect_status(&found, &[200], "a number search")?;
                let number = found.body["availableNumbers"][0]["phoneNumber"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let reply = self
                    .c
                    .post(
                        "/twilio/provision-number",
                        token,
                        &json!({"phone_number": number}),
                    )
                    .await;
                if tenant.numbers.len() < MAX_NUMBERS {
                    expect_status(&reply, &[201], "a number bought")?;
                    self.tenants[by].numbers.push(number);
                } else {
                    expect_status(&reply, &[400], "a number past the limit")?;
                }
            }
            Kind::Call => {
                let reply = self.c.get("/make-call/%2B14155550123/default", token).await;
                expect_status(&reply, &[200], "a call placed")?;
                let id = reply.body["call_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                self.tenants[by].calls.push(id);
            }
            Kind::Schedule => {
                let when = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
                let body = json!({"phone_number": "+14155550123", "scenario": "default", "scheduled_time": when});
                let reply = self.c.post("/schedule-call", token, &body).await;
                expect_status(&reply, &[201], "a call scheduled")?;
                let id = reply.body["schedule_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                self.tenants[by].schedules.push((id, false));
            }
            Kind::Webhook => {
                let body = json!({"url": format!("https://hooks.example.com/tenant{by}/{n}")});
                let reply = self.c.post("/webhooks", token, &body).await;
                if tenant.webhooks.len() < MAX_WEBHOOKS {
                    expect_status(&reply, &[201], "a webhook registered")?;
                    let id = reply.body["id"].as_str().unwrap_or_default().to_string();
                    self.tenants[by].webhooks.push(id);
                } else {
                    expect_status(&reply, &[400], "a webhook past the limit")?;
                }
            }
            Kind::Session => {
                let reply = self
                    .c
                    .post("/realtime/session", token, &json!({"scenario": "default"}))
                    .await;
                expect_status(&reply, &[201], "a browser session")?;
                let id = reply.body["session_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                self.tenants[by].sessions.push((id, false));
            }
        }
        Ok(())
    }

    /// The owner's change answered `reply`: check it and update the model.
    fn changed(
        &mut self,
        owner: usize,
        kind: Kind,
        id: &str,
        reply: &Reply,
    ) -> Result<(), TestCaseError> {
        let tenant = &mut self.tenants[owner];
        match kind {
            Kind::Scenario => {
                expect_status(reply, &[200], "a scenario updated by its owner")?;
                if let Some(s) = tenant.scenarios.iter_mut().find(|(s, _)| s == id) {
                    s.1 = format!("Changed persona {id}");
                }
            }
            Kind::Number => {
                expect_status(reply, &[200], "a number released by its owner")?;
                tenant.numbers.retain(|n| n != id);
            }
            // Hung up, or already over (the simulated caller hangs up after a few seconds).
            Kind::Call => expect_status(reply, &[200, 409], "a call hung up by its owner")?,
            Kind::Schedule => {
                let entry = tenant
                    .schedules
                    .iter_mut()
                    .find(|(s, _)| s == id)
                    .expect("modelled");
                expect_status(
                    reply,
                    if entry.1 { &[409] } else { &[200] },
                    "a schedule canceled by its owner",
                )?;
                entry.1 = true;
            }
            Kind::Webhook => {
                expect_status(reply, &[200], "a webhook deleted by its owner")?;
                tenant.webhooks.retain(|w| w != id);
            }
            Kind::Session => {
                let entry = tenant
                    .sessions
                    .iter_mut()
                    .find(|(s, _)| s == id)
                    .expect("modelled");
                if entry.1 {
                    expect_status(reply, &[409], "a used session offered again")?;
                } else {
                    expect_status(reply, &[200], "an offer to the owner's session")?;
                    entry.1 = true;
                    tenant.calls.push(id.to_string());
                }
            }
        }
        Ok(())
    }

    /// Every tenant's lists equal the model, and its transcripts are of its own calls.
    async fn views_match(&self) -> Result<(), TestCaseError> {
        for (t, tenant) in self.tenants.iter().enumerate() {
            let token = self.token(t);
            let ids =
                |reply: &Reply, items: &Value, field: &str| -> Result<Vec<String>, TestCaseError> {
                    expect_status(reply, &[200], "a list")?;
                    let mut ids: Vec<String> = items
                        .as_array()
                        .ok_or_else(|| fail("a list that is not an array", reply))?
                        .iter()
                        .map(|i| i[field].as_str().unwrap_or_default().to_string())
                        .collect();
                    ids.sort();
                    Ok(ids)
                };
            let sorted = |mut v: Vec<String>| {
                v.sort();
                v
            };
            let scenarios = self.c.get("/custom-scenarios", token).await;
            let numbers = self.c.get("/twilio/user-numbers", token).await;
            let calls = self.c.get("/calls?limit=100", token).await;
            let schedules = self.c.get("/scheduled-calls", token).await;
            let webhooks = self.c.get("/webhooks", token).await;
            let calendar = self.c.get("/google-calendar/connection", token).await;
            let views = [
                (
                    "scenarios",
                    ids(&scenarios, &scenarios.body, "scenario_id")?,
                    tenant.ids(Kind::Scenario),
                ),
                (
                    "numbers",
                    ids(&numbers, &numbers.body, "phoneNumber")?,
                    tenant.ids(Kind::Number),
                ),
                (
                    "calls",
                    ids(&calls, &calls.body["calls"], "call_id")?,
                    tenant.ids(Kind::Call),
                ),
                (
                    "schedules",
                    ids(&schedules, &schedules.body, "schedule_id")?,
                    tenant.ids(Kind::Schedule),
                ),
                (
                    "webhooks",
                    ids(&webhooks, &webhooks.body, "id")?,
                    tenant.ids(Kind::Webhook),
                ),
            ];
            for (what, seen, model) in views {
                let model = sorted(model);
                if seen != model {
                    return Err(TestCaseError::fail(format!(
                        "tenant {t} lists {what} {seen:?}, the model says {model:?}"
                    )));
                }
            }
            if calendar.body["connected"] != tenant.calendar {
                return Err(fail(
                    format!(
                        "tenant {t}'s calendar connection (model: {})",
                        tenant.calendar
                    ),
                    &calendar,
                ));
            }
            let transcripts = self.c.get("/api/enhanced-transcripts/", token).await;
            expect_status(&transcripts, &[200], "the transcripts")?;
            for item in transcripts.body.as_array().into_iter().flatten() {
                let call = item["call_id"].as_str().unwrap_or_default();
                if !tenant.calls.iter().any(|c| c == call) {
                    return Err(fail(
                        format!("tenant {t} lists a transcript of a call not its own ({call})"),
                        &transcripts,
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Runs `future` to completion on `runtime` (proptest's cases are synchronous).
fn block_on<F: Future>(runtime: &tokio::runtime::Runtime, future: F) -> F::Output {
    runtime.block_on(future)
}

#[test]
fn no_tenant_ever_sees_or_changes_another_tenants_items() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let platform = block_on(&runtime, PlatformRig::start(Options::default()));
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let sequences = proptest::collection::vec(op(), 1..MAX_OPS);
    let result = runner.run(&sequences, |ops| {
        block_on(&runtime, async {
            let c = platform.rig.stack.client();
            let mut sessions = Vec::new();
            for t in 0..TENANTS {
                sessions.push(c.register(&email(&format!("tenancy-{t}"))).await);
            }
            let mut world = World {
                platform: &platform,
                c,
                sessions,
                tenants: (0..TENANTS).map(|_| Tenant::default()).collect(),
                serial: 0,
            };
            for op in &ops {
                world
                    .apply(op)
                    .await
                    .map_err(|e| TestCaseError::fail(format!("{op:?}: {e}")))?;
            }
            world.views_match().await
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
