//! template.yaml's IAM policies against the access list in code (`shared::store::access`):
//! every function and the bridge are granted exactly the DynamoDB actions (and index) their
//! entry lists, no more and no less, and every entry belongs to a function. The local stack
//! enforces the same list on every request (`infra::permissions`), so each black-box test
//! also shows its route needs no more than that.

use shared::store::access::{self, Action, Grant, Principal};

use super::*;

/// What a list of IAM statements grants on the table: its DynamoDB actions, and whether the
/// `GSI1` index is among the resources.
fn table_grant(statements: &Value) -> (BTreeSet<String>, bool) {
    let mut actions = BTreeSet::new();
    let mut gsi1 = false;
    for statement in statements.as_sequence().into_iter().flatten() {
        let listed: Vec<&str> = statement["Action"]
            .as_sequence()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_else(|| statement["Action"].as_str().into_iter().collect());
        if !listed.iter().any(|a| a.starts_with("dynamodb:")) {
            continue;
        }
        actions.extend(listed.iter().map(|a| a.to_string()));
        gsi1 |= serde_yaml::to_string(&statement["Resource"])
            .unwrap()
            .contains("/index/GSI1");
    }
    (actions, gsi1)
}

fn expected(grant: &Grant) -> (BTreeSet<String>, bool) {
    (grant.actions.iter().map(|a| a.iam()).collect(), grant.gsi1)
}

/// The statements of a function's inline policies.
fn function_statements(function: &Value) -> Value {
    let statements: Vec<Value> = function["Properties"]["Policies"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|p| p["Statement"].as_sequence().cloned().unwrap_or_default())
        .collect();
    Value::Sequence(statements)
}

#[test]
fn every_policy_grants_exactly_what_the_access_list_says() {
    let t = template();
    let mut used: BTreeSet<String> = BTreeSet::new();
    for (name, resource) in t["Resources"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        let grants: Vec<&Grant> = match resource["Type"].as_str() {
            Some("AWS::Serverless::Function") => {
                let routes: Vec<(String, String)> = resource["Properties"]["Events"]
                    .as_mapping()
                    .into_iter()
                    .flatten()
                    .filter(|(_, e)| e["Type"] == "HttpApi")
                    .map(|(_, e)| {
                        let p = &e["Properties"];
                        (
                            p["Method"].as_str().unwrap().to_ascii_uppercase(),
                            p["Path"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect();
                if routes.is_empty() {
                    // A worker: named by its crate (`target/lambda/<crate>/`).
                    let code = resource["Properties"]["CodeUri"].as_str().unwrap();
                    let worker = code.trim_end_matches('/').rsplit('/').next().unwrap();
                    vec![access::worker(worker).unwrap_or_else(|| {
                        panic!("{name}: no worker {worker} in shared/src/store/access.rs")
                    })]
                } else {
                    routes
                        .iter()
                        .map(|(m, p)| {
                            access::route(m, p).unwrap_or_else(|| {
                                panic!("{name}: {m} {p} is not in shared/src/store/access.rs")
                            })
                        })
                        .collect()
                }
            }
            _ => continue,
        };
        let granted = table_grant(&function_statements(resource));
        for grant in grants {
            assert_eq!(
                granted,
                expected(grant),
                "{name}'s policy differs from {:?} in shared/src/store/access.rs",
                grant.who
            );
            used.insert(format!("{:?}", grant.who));
        }
    }

    let bridge = access::worker("bridge").unwrap();
    let role = &t["Resources"]["BridgeTaskRole"]["Properties"]["Policies"];
    let statements: Vec<Value> = role
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p["PolicyDocument"]["Statement"]
                .as_sequence()
                .cloned()
                .unwrap()
        })
        .collect();
    assert_eq!(
        table_grant(&Value::Sequence(statements)),
        expected(bridge),
        "BridgeTaskRole differs from the bridge's grant"
    );
    used.insert(format!("{:?}", bridge.who));

    for grant in access::all() {
        assert!(
            used.contains(&format!("{:?}", grant.who)),
            "{:?} is in the access list but no function of template.yaml has it",
            grant.who
        );
    }
}

#[test]
fn grants_are_listed_once_and_name_only_real_actions() {
    let mut seen = BTreeSet::new();
    for grant in access::all() {
        assert!(
            seen.insert(format!("{:?}", grant.who)),
            "{:?} twice",
            grant.who
        );
        let distinct: BTreeSet<&Action> = grant.actions.iter().collect();
        assert_eq!(
            distinct.len(),
            grant.actions.len(),
            "{:?} repeats an action",
            grant.who
        );
        if grant.gsi1 {
            assert!(
                grant.allows(Action::Query),
                "{:?}: GSI1 without Query",
                grant.who
            );
        }
        if let Principal::Route(route) = grant.who {
            let (method, path) = route.split_once(' ').expect("<METHOD> <path>");
            assert!(
                ["GET", "POST", "PUT", "DELETE"].contains(&method) && path.starts_with('/'),
                "{route}"
            );
        }
    }
}
