//! IAM, locally: every store call a route or worker makes is checked against its grant in
//! `shared::store::access`, the list `template.yaml`'s policies are tested against. A call
//! outside the grant fails as `AccessDeniedException` would on AWS, so a black-box test that
//! passes here also passes with the deployed policy.
//!
//! The grant travels with the request in a task-local, set by a route layer (HTTP) or by the
//! local worker loops. Work spawned onto other tasks leaves the scope and is not checked,
//! except in a process that is one principal throughout (the media bridge), whose store
//! carries its grant itself (`guarded_as`).
//!
//! With `LOCAL_IAM_USED=<file>` set, every allowed use is appended to that file as
//! `<principal>\t<action>` lines, so a run of the black-box suite shows which grants were
//! needed: `make test` then checks that no grant goes unused (`bin/unused-grants.rs`).

use std::collections::HashSet;
use std::future::Future;
use std::io::Write;
use std::sync::{LazyLock, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::{
    batch_write_item::BatchWriteItemInput, delete_item::DeleteItemInput, get_item::GetItemInput,
    put_item::PutItemInput, query::QueryInput, transact_write_items::TransactWriteItemsInput,
    update_item::UpdateItemInput,
};
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use shared::AppState;
use shared::store::Store;
use shared::store::access::{self, Action, Grant, Principal};
use shared::store::keys::GSI1;

tokio::task_local! {
    static GRANT: &'static Grant;
}

/// A route the access list forgot may do nothing.
static UNLISTED: Grant = Grant {
    who: Principal::Route("(a route missing from shared/src/store/access.rs)"),
    actions: &[],
    gsi1: false,
};

/// `state` with a store whose every call is checked against the grant in scope.
pub fn guarded(state: &AppState) -> AppState {
    with_guard(state, Guard { fixed: None })
}

/// `state` with a store whose every call, on whatever task, is checked against the grant of
/// `worker` (the media bridge: `"bridge"`).
pub fn guarded_as(state: &AppState, worker: &str) -> AppState {
    let fixed = access::worker(worker).unwrap_or(&UNLISTED);
    with_guard(state, Guard { fixed: Some(fixed) })
}

fn with_guard(state: &AppState, guard: Guard) -> AppState {
    let client = state.store.client();
    let config = client.config().to_builder().interceptor(guard).build();
    let mut state = state.clone();
    state.store = Store::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        state.store.table(),
    );
    state
}

/// Route layer: runs the handler under its route's grant.
pub async fn scope_route(matched: Option<MatchedPath>, request: Request, next: Next) -> Response {
    let grant = match &matched {
        Some(path) => access::route(request.method().as_str(), path.as_str()).unwrap_or(&UNLISTED),
        None => return next.run(request).await,
    };
    GRANT.scope(grant, next.run(request)).await
}

/// Runs a worker's `work` under its grant (`job-worker`, `scheduled-call-runner`).
pub async fn as_worker<F: Future>(name: &str, work: F) -> F::Output {
    let grant = access::worker(name).unwrap_or(&UNLISTED);
    GRANT.scope(grant, work).await
}

#[derive(Debug)]
struct Guard {
    /// The grant when none is in scope; `None` lets such calls through (set-up, tests' own
    /// reads).
    fixed: Option<&'static Grant>,
}

impl Intercept for Guard {
    fn name(&self) -> &'static str {
        "LocalIamGuard"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(grant) = GRANT.try_with(|g| *g).ok().or(self.fixed) else {
            return Ok(());
        };
        let refused = match needs(context) {
            Some((actions, index)) => {
                let on_gsi1 = index == Some(GSI1);
                let refused = actions
                    .iter()
                    .find(|a| !grant.allows(**a))
                    .map(|a| a.iam())
                    .or_else(|| (on_gsi1 && !grant.gsi1).then(|| access::GSI1_USE.to_string()));
                if refused.is_none() {
                    record_use(grant, &actions, on_gsi1);
                }
                refused
            }
            None => Some("an operation no function is granted".to_string()),
        };
        match refused {
            None => Ok(()),
            Some(what) => {
                tracing::error!(who = ?grant.who, action = %what, "store call outside the grant");
                Err(format!(
                    "AccessDeniedException: {:?} is not granted {what} (shared/src/store/access.rs)",
                    grant.who
                )
                .into())
            }
        }
    }
}

/// The file allowed uses are appended to, and the lines this process already wrote there.
struct UseLog {
    file: std::fs::File,
    written: HashSet<String>,
}

static USED: LazyLock<Option<Mutex<UseLog>>> = LazyLock::new(|| {
    let path = std::path::PathBuf::from(std::env::var_os("LOCAL_IAM_USED")?);
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("LOCAL_IAM_USED={path:?}: {e}"));
    Some(Mutex::new(UseLog {
        file,
        written: HashSet::new(),
    }))
});

/// Appends each new (principal, action) of one allowed call to the `LOCAL_IAM_USED` file.
/// One `write` per line: test processes append to the same file side by side.
fn record_use(grant: &Grant, actions: &[Action], on_gsi1: bool) {
    let Some(used) = USED.as_ref() else { return };
    let mut log = used.lock().unwrap_or_else(|e| e.into_inner());
    let names = actions
        .iter()
        .map(|a| a.iam())
        .chain(on_gsi1.then(|| access::GSI1_USE.to_string()));
    for name in names {
        let line = format!("{}\t{name}\n", grant.who);
        if log.written.insert(line.clone()) {
            log.file
                .write_all(line.as_bytes())
                .expect("LOCAL_IAM_USED is writable");
        }
    }
}

/// The IAM actions an operation needs and the index it queries; `None` for an operation no
/// function uses (a scan, a table description).
fn needs<'a>(
    context: &'a BeforeSerializationInterceptorContextRef<'_>,
) -> Option<(Vec<Action>, Option<&'a str>)> {
    let input = context.input();
    let one = |action| Some((vec![action], None));
    if input.downcast_ref::<GetItemInput>().is_some() {
        one(Action::GetItem)
    } else if let Some(q) = input.downcast_ref::<QueryInput>() {
        Some((vec![Action::Query], q.index_name()))
    } else if input.downcast_ref::<PutItemInput>().is_some() {
        one(Action::PutItem)
    } else if input.downcast_ref::<UpdateItemInput>().is_some() {
        one(Action::UpdateItem)
    } else if input.downcast_ref::<DeleteItemInput>().is_some() {
        one(Action::DeleteItem)
    } else if input.downcast_ref::<BatchWriteItemInput>().is_some() {
        one(Action::BatchWriteItem)
    } else if let Some(t) = input.downcast_ref::<TransactWriteItemsInput>() {
        let parts = t.transact_items().iter().filter_map(|item| {
            if item.put().is_some() {
                Some(Action::PutItem)
            } else if item.update().is_some() {
                Some(Action::UpdateItem)
            } else if item.delete().is_some() {
                Some(Action::DeleteItem)
            } else if item.condition_check().is_some() {
                Some(Action::ConditionCheckItem)
            } else {
                None
            }
        });
        Some((parts.collect(), None))
    } else {
        None
    }
}
