//! IAM, locally: every store call a route or worker makes is checked against its grant in
//! `shared::store::access`, the list `template.yaml`'s policies are tested against. A call
//! outside the grant fails as `AccessDeniedException` would on AWS, so a black-box test that
//! passes here also passes with the deployed policy.
//!
//! The grant travels with the request in a task-local, set by a route layer (HTTP) or by the
//! local worker loops. Work spawned onto other tasks leaves the scope and is not checked (the
//! media bridge's calls are such work; its grant is checked against the template only).

use std::future::Future;

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
    let client = state.store.client();
    let config = client.config().to_builder().interceptor(Guard).build();
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
struct Guard;

impl Intercept for Guard {
    fn name(&self) -> &'static str {
        "LocalIamGuard"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(grant) = GRANT.try_with(|g| *g) else {
            return Ok(()); // outside any route or worker: set-up, tests' own reads
        };
        let refused = match needs(context) {
            Some((actions, index)) => actions
                .iter()
                .find(|a| !grant.allows(**a))
                .map(|a| a.iam())
                .or_else(|| {
                    (index == Some(GSI1) && !grant.gsi1)
                        .then(|| format!("dynamodb:Query on index {GSI1}"))
                }),
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
