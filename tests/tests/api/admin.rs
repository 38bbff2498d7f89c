//! Platform administration: administrators are made only by the operator's command; every
//! admin route refuses anyone else; suspending a tenant ends its live calls and stops its
//! calls, scheduled calls, inbound numbers and browser sessions with a clear message until it
//! is reinstated; every administrator action is in the audit log.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use bridge::Settings;
use e2e_tests::Options;
use e2e_tests::TestStack;
use e2e_tests::bridge_rig::BridgeRig;
use e2e_tests::client::{Client, Reply, Session, email};
use e2e_tests::realtime_sim::SimConfig;
use infra::platform_admin::{self, Failure};
use reqwest::Method;
use serde_json::{Value, json};

async fn operator(stack: &TestStack, args: &[&str]) -> Result<String, Failure> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: HashMap<String, String> = stack.env.clone();
    platform_admin::run(&args, &env).await
}

/// A new user the operator made an administrator.
async fn administrator(stack: &TestStack) -> Session {
    let admin = stack.client().register(&email("ops")).await;
    operator(stack, &["promote", &admin.email])
        .await
        .expect("promoted");
    admin
}

/// Every admin route, called with `token`.
async fn every_admin_route(c: &Client, token: Option<&str>, tenant: &str) -> Vec<(String, Reply)> {
    let mut replies = Vec::new();
    for path in [
        "/admin/tenants",
        "/admin/twilio-account",
        "/admin/audit-log",
    ] {
        replies.push((format!("GET {path}"), c.get(path, token).await));
    }
    for action in ["suspend", "reinstate"] {
        let path = format!("/admin/tenants/{tenant}/{action}");
        let reply = c.post(&path, token, &json!({"reason": "abuse"})).await;
        replies.push((format!("POST {path}"), reply));
    }
    let path = format!("/admin/tenants/{tenant}/minute-cap");
    let reply = c
        .json(Method::PUT, &path, token, &json!({"monthly_minutes": 5}))
        .await;
    replies.push((format!("PUT {path}"), reply));
    replies
}

fn in_seconds(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339()
}

#[tokio::test]
async fn no_one_but_an_administrator_reaches_administration() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let user = c.register(&email("not-admin")).await;
    let victim = c.register(&email("victim")).await;
    let victim_id = c.tenant_id(&victim).await;
    let before = stack.partition(&victim_id).await;
    for (route, reply) in every_admin_route(&c, Some(&user.access_token), &victim_id).await {
        reply.assert_problem(403, &["Only platform administrators"], &route);
    }
    for (route, reply) in every_admin_route(&c, None, &victim_id).await {
        assert_eq!(reply.status, 401, "{route}: {}", reply.text);
    }
    // Nothing was changed, and no administrator's action was logged.
    assert_eq!(stack.partition(&victim_id).await, before);
    let store = stack.second_instance().await.store;
    assert!(store.audit_log(10, None).await.unwrap().entries.is_empty());
    // No route makes an administrator: the flag is not the user's to set.
    let me = c.get("/users/me", Some(&user.access_token)).await.body;
    assert_eq!(me["is_admin"], false);
}

#[tokio::test]
async fn the_operator_command_promotes_and_demotes_by_email_and_refuses_nonsense() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let admin = c.register(&email("ops")).await;
    let t = Some(admin.access_token.as_str());

    let upper = admin.email.to_uppercase();
    let promoted = operator(&stack, &["promote", &upper])
        .await
        .expect("promoted");
    assert!(promoted.contains("now an administrator"), "{promoted}");
    assert_eq!(c.get("/users/me", t).await.body["is_admin"], true);
    assert_eq!(c.get("/admin/tenants", t).await.status, 200);

    for (args, code) in [
        (vec!["promote"], 2),
        (vec!["promote", "not-an-email"], 2),
        (vec!["crown", &admin.email], 2),
        (vec!["promote", &admin.email, "extra"], 2),
        (vec!["promote", "nobody@example.com"], 3),
    ] {
        let failure = operator(&stack, &args).await.expect_err("refused");
        assert_eq!(failure.exit_code(), code, "{args:?}: {failure:?}");
    }
    let mut no_table = stack.env.clone();
    no_table.remove("TABLE_NAME");
    let failure = platform_admin::run(&["promote".into(), admin.email.clone()], &no_table)
        .await
        .expect_err("no table");
    assert_eq!(failure.exit_code(), 2);

    operator(&stack, &["demote", &admin.email])
        .await
        .expect("demoted");
    // At once, without a new token.
    c.get("/admin/tenants", t).await.assert_problem(
        403,
        &["Only platform administrators"],
        "demoted",
    );
    let log = stack
        .second_instance()
        .await
        .store
        .audit_log(10, None)
        .await
        .unwrap();
    let actions: Vec<(&str, &str)> = log
        .entries
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("demote_admin", "operator"),
            ("list_tenants", c.tenant_id(&admin).await.as_str()),
            ("promote_admin", "operator"),
        ]
    );
}

#[tokio::test]
async fn a_suspended_tenant_can_start_no_call_until_reinstated() {
    let rig = BridgeRig::start(
        SimConfig::default(),
        Settings::default(),
        Options::default().scheduler(Duration::from_millis(200)),
    )
    .await;
    let c = rig.stack.client();
    let tenant = &rig.session;
    let t = Some(tenant.access_token.as_str());
    let tenant_id = c.tenant_id(tenant).await;
    let admin = administrator(&rig.stack).await;
    let a = Some(admin.access_token.as_str());
    let number = "+13125550188";
    let bought = c
        .post(
            "/twilio/provision-number",
            t,
            &json!({"phone_number": number}),
        )
        .await;
    assert_eq!(bought.status, 201, "{}", bought.text);
    let due = c
        .post("/schedule-call", t, &json!({"phone_number": "+14155550123", "scenario": "default", "scheduled_time": in_seconds(3)}))
        .await;
    assert_eq!(due.status, 201, "{}", due.text);

    let directory = c.get("/admin/tenants", a).await;
    assert_eq!(directory.status, 200, "{}", directory.text);
    let listed: Vec<&str> = directory.body["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        [tenant.email.as_str(), admin.email.as_str()],
        "oldest first"
    );
    let row = &directory.body["tenants"][0];
    assert!(row["suspension"].is_null());
    assert_eq!(row["monthly_minute_cap"], 1000);
    assert_eq!(row["month_usage"]["call_minutes"], 0.0);

    // A call still live when the tenant is suspended (Twilio has not reported its end).
    rig.twilio.lose_status_callbacks();
    let live = rig.place_call("default").await;

    let suspended = c
        .post(
            &format!("/admin/tenants/{tenant_id}/suspend"),
            a,
            &json!({"reason": "  unpaid invoice  "}),
        )
        .await;
    assert_eq!(suspended.status, 200, "{}", suspended.text);
    assert_eq!(suspended.body["suspension"]["reason"], "unpaid invoice");
    // ...is ended at Twilio.
    assert_eq!(suspended.body["live_calls_ended"], 1, "{}", suspended.text);
    assert!(rig.twilio.call(&live.call_sid).unwrap().hung_up_by_api);

    // Calls on demand, new schedules and browser sessions are refused with the reason...
    let calls_before = rig.twilio.calls().len();
    c.get("/make-call/%2B14155550123/default", t)
        .await
        .assert_problem(403, &["suspended (unpaid invoice)"], "make-call");
    c.post("/schedule-call", t, &json!({"phone_number": "+14155550123", "scenario": "default", "scheduled_time": in_seconds(3600)}))
        .await
        .assert_problem(403, &["suspended"], "schedule-call");
    c.post("/realtime/session", t, &json!({"scenario": "default"}))
        .await
        .assert_problem(403, &["suspended"], "browser session");
    // ...a schedule that comes due fails with it...
    let schedule_id = due.body["schedule_id"].as_str().unwrap();
    let mut fired = Value::Null;
    for _ in 0..100 {
        fired = c
            .get(&format!("/scheduled-calls/{schedule_id}"), t)
            .await
            .body;
        if fired["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(fired["status"], "failed", "{fired}");
    assert!(
        fired["error"]
            .as_str()
            .unwrap()
            .contains("suspended (unpaid invoice)"),
        "{fired}"
    );
    assert_eq!(
        rig.twilio.calls().len(),
        calls_before,
        "Twilio was never asked"
    );
    // ...and the tenant's number apologises to callers.
    let answered = rig.twilio.inbound_call("+14155559876", number).await;
    assert!(
        answered.body.contains("<Say>") && !answered.body.contains("<Connect>"),
        "{}",
        answered.body
    );
    // The tenant still reads its own data.
    assert_eq!(c.get("/calls", t).await.status, 200);

    let reinstated = c
        .post(
            &format!("/admin/tenants/{tenant_id}/reinstate"),
            a,
            &json!({}),
        )
        .await;
    assert_eq!(reinstated.status, 200, "{}", reinstated.text);
    assert!(reinstated.body["suspension"].is_null());
    rig.place_call("default").await;

    // A cap of the tenant's own, then the deployment's back.
    let cap_path = format!("/admin/tenants/{tenant_id}/minute-cap");
    let capped = c
        .json(Method::PUT, &cap_path, a, &json!({"monthly_minutes": 0}))
        .await;
    assert_eq!(capped.status, 200, "{}", capped.text);
    assert_eq!(capped.body["own_minute_cap"], true);
    c.get("/make-call/%2B14155550123/default", t)
        .await
        .assert_problem(429, &["minutes are used up (0 minutes)"], "own cap");
    let uncapped = c
        .json(Method::PUT, &cap_path, a, &json!({"monthly_minutes": null}))
        .await;
    assert_eq!(
        uncapped.body["monthly_minute_cap"], 1000,
        "{}",
        uncapped.text
    );
    assert_eq!(uncapped.body["own_minute_cap"], false);

    // The platform's Twilio account, for administrators.
    let account = c.get("/admin/twilio-account", a).await;
    assert_eq!(account.status, 200, "{}", account.text);
    assert!(
        account.body["accountSid"]
            .as_str()
            .unwrap()
            .starts_with("AC")
    );

    // Every action is in the log, newest first, with who did it and to whom.
    let log = c.get("/admin/audit-log", a).await;
    assert_eq!(log.status, 200, "{}", log.text);
    let actions: Vec<&str> = log.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "view_platform_account",
            "set_minute_cap",
            "set_minute_cap",
            "reinstate_tenant",
            "suspend_tenant",
            "list_tenants",
            "promote_admin",
        ]
    );
    let suspension = &log.body["entries"][4];
    assert_eq!(suspension["tenant_id"], tenant_id.as_str());
    assert_eq!(suspension["actor_email"], admin.email.as_str());
    assert_eq!(suspension["detail"], "unpaid invoice");
}

#[tokio::test]
async fn bad_administration_requests_change_nothing() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let admin = administrator(&stack).await;
    let a = Some(admin.access_token.as_str());
    let tenant = c.register(&email("tenant")).await;
    let tenant_id = c.tenant_id(&tenant).await;
    let before = stack.partition(&tenant_id).await;

    for body in [
        json!({}),
        json!({"reason": "   "}),
        json!({"reason": "x".repeat(201)}),
        json!({"reason": "ok\u{0007}"}),
        json!({"reason": 7}),
    ] {
        let refused = c
            .post(&format!("/admin/tenants/{tenant_id}/suspend"), a, &body)
            .await;
        assert_eq!(refused.status, 422, "{body}: {}", refused.text);
        assert_eq!(
            refused.error_fields(),
            ["reason"],
            "{body}: {}",
            refused.text
        );
    }
    let cap_path = format!("/admin/tenants/{tenant_id}/minute-cap");
    for body in [
        json!({}),
        json!({"monthly_minutes": -1}),
        json!({"monthly_minutes": 1.5}),
        json!({"monthly_minutes": 1_000_001}),
        json!({"monthly_minutes": "lots"}),
    ] {
        let refused = c.json(Method::PUT, &cap_path, a, &body).await;
        assert_eq!(refused.status, 422, "{body}: {}", refused.text);
        assert_eq!(
            refused.error_fields(),
            ["monthly_minutes"],
            "{body}: {}",
            refused.text
        );
    }
    for missing in ["01jabcdefghjkmnpqrstvwxyz0", "TENANT%23x", "not-a-tenant"] {
        let refused = c
            .post(
                &format!("/admin/tenants/{missing}/suspend"),
                a,
                &json!({"reason": "x"}),
            )
            .await;
        refused.assert_problem(404, &["Tenant not found"], missing);
    }
    for query in ["limit=0", "limit=101", "cursor=bm9wZQ", "cursor=%25%25"] {
        let refused = c.get(&format!("/admin/tenants?{query}"), a).await;
        assert_eq!(refused.status, 422, "{query}: {}", refused.text);
        let refused = c.get(&format!("/admin/audit-log?{query}"), a).await;
        assert_eq!(refused.status, 422, "{query}: {}", refused.text);
    }
    assert_eq!(stack.partition(&tenant_id).await, before);

    // Pages follow their cursor to the end.
    c.register(&email("third")).await;
    let first = c.get("/admin/tenants?limit=2", a).await.body;
    assert_eq!(first["tenants"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = c
        .get(&format!("/admin/tenants?limit=2&cursor={cursor}"), a)
        .await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(second.body["tenants"].as_array().unwrap().len(), 1);
    assert!(second.body["next_cursor"].is_null(), "{}", second.text);
}

#[tokio::test]
async fn the_operator_puts_tenants_older_than_the_directory_into_it() {
    let stack = TestStack::start().await;
    let c = stack.client();
    let admin = administrator(&stack).await;
    let a = Some(admin.access_token.as_str());
    let old = c.register(&email("old-tenant")).await;
    let old_id = c.tenant_id(&old).await;
    // A user item as registrations wrote them before the directory existed.
    stack
        .dynamodb()
        .await
        .update_item()
        .table_name(&stack.table)
        .key("PK", AttributeValue::S(format!("TENANT#{old_id}")))
        .key("SK", AttributeValue::S("USER".into()))
        .update_expression("REMOVE GSI1PK, GSI1SK")
        .send()
        .await
        .expect("make the user item an old one");
    let listed = |body: &Value| -> Vec<String> {
        body["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["tenant_id"].as_str().unwrap().to_string())
            .collect()
    };
    let before = c.get("/admin/tenants", a).await.body;
    assert!(!listed(&before).contains(&old_id), "{before}");

    let done = operator(&stack, &["index-tenants"]).await.expect("indexed");
    assert_eq!(done, "1 tenants added to the directory");
    let after = c.get("/admin/tenants", a).await.body;
    assert!(listed(&after).contains(&old_id), "{after}");
    // Running it again adds nothing.
    let again = operator(&stack, &["index-tenants"]).await.expect("indexed");
    assert_eq!(again, "0 tenants added to the directory");
    let log = stack
        .second_instance()
        .await
        .store
        .audit_log(1, None)
        .await
        .unwrap();
    assert_eq!(log.entries[0].action.as_str(), "index_tenants");
}
