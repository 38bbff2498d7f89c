//! The functions: each is the prebuilt binary of one crate, every route of the code has
//! exactly one function of its crate, and every function gets the configuration the code
//! requires.

use super::*;

/// The function crates: one per bounded context, plus the two event-driven ones.
fn function_crates() -> BTreeSet<String> {
    let mut crates: BTreeSet<String> = platform::contexts()
        .into_iter()
        .map(|(dir, _)| dir.strip_prefix("functions/").unwrap().to_string())
        .collect();
    crates.extend(["scheduled-call-runner".into(), "job-worker".into()]);
    crates
}

#[test]
fn every_function_is_the_prebuilt_binary_of_one_crate() {
    let t = template();
    let crates = function_crates();
    let functions = resources_of(&t, "AWS::Serverless::Function");
    let mut used = BTreeSet::new();
    for (name, r) in &functions {
        let code = &r["Properties"]["CodeUri"];
        let krate = function_crate(code)
            .unwrap_or_else(|| panic!("{name}: CodeUri {code:?} is not target/lambda/<crate>/"));
        assert!(crates.contains(krate), "{name}: no crate {krate}");
        assert!(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../functions"))
                .join(krate)
                .join("Cargo.toml")
                .exists(),
            "{name}: functions/{krate} is not a crate"
        );
        assert!(
            r["Metadata"]["BuildMethod"].is_null(),
            "{name}: prebuilt, not built by sam build"
        );
        used.insert(krate.to_string());
    }
    assert_eq!(used, crates, "every function crate is deployed");
    assert_eq!(functions.len(), 88);
}

/// A function of the template: its name, `CodeUri`, and HTTP API routes (method, path).
type TemplateFunction = (String, String, Vec<(String, String)>);

/// Every function of the template, with the crate directory its `CodeUri` names
/// (`functions/<crate>`).
fn http_functions(t: &Value) -> Vec<TemplateFunction> {
    let mut functions = Vec::new();
    for (name, r) in resources_of(t, "AWS::Serverless::Function") {
        let code = function_crate(&r["Properties"]["CodeUri"])
            .map(|c| format!("functions/{c}"))
            .unwrap_or_default();
        let mut routes = Vec::new();
        if let Some(events) = r["Properties"]["Events"].as_mapping() {
            for event in events.values() {
                if event["Type"] == "HttpApi" {
                    let p = &event["Properties"];
                    routes.push((
                        p["Method"].as_str().unwrap().to_ascii_uppercase(),
                        p["Path"].as_str().unwrap().to_string(),
                    ));
                }
            }
        }
        functions.push((name, code, routes));
    }
    functions
}

#[test]
fn every_route_of_the_code_has_exactly_one_function_of_its_crate() {
    let t = template();
    let functions = http_functions(&t);
    let mut routed: HashMap<(String, String), Vec<(&str, &str)>> = HashMap::new();
    for (name, code, routes) in &functions {
        for (method, path) in routes {
            routed
                .entry((method.clone(), route_key(path)))
                .or_default()
                .push((name, code));
        }
    }
    let mut expected = std::collections::HashSet::new();
    for (crate_dir, router) in platform::contexts() {
        let doc = serde_json::to_value(router.into_openapi()).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let key = (method.to_ascii_uppercase(), route_key(path));
                let functions = routed.get(&key).cloned().unwrap_or_default();
                assert_eq!(
                    functions.len(),
                    1,
                    "{method} {path} must have exactly one function, has {functions:?}"
                );
                assert_eq!(
                    functions[0].1, crate_dir,
                    "{method} {path} is served by {crate_dir}, not {}",
                    functions[0].0
                );
                expected.insert(key);
            }
        }
    }
    for key in routed.keys() {
        assert!(
            expected.contains(key),
            "template routes {key:?}, which no code serves"
        );
    }
}

#[test]
fn every_function_gets_the_configuration_the_code_requires() {
    let t = template();
    let globals = global_env(&t);
    // The keys put-secrets.sh fills in are the ones the code reads from the secret.
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/scripts/put-secrets.sh"
    ))
    .expect("infra/scripts/put-secrets.sh");
    for (key, _) in &filled_secret()[1..] {
        assert!(
            script.contains(&format!("\"{key}\"")),
            "put-secrets.sh lacks {key}"
        );
    }
    for (name, code, _) in http_functions(&t) {
        assert!(!code.is_empty(), "{name} has no crate");
        let mut vars = globals.clone();
        if let Some(own) =
            resource(&t, &name)["Properties"]["Environment"]["Variables"].as_mapping()
        {
            for (k, v) in own {
                vars.insert(k.as_str().unwrap().to_string(), v.clone());
            }
        }
        let env = deployed_environment(&t, &vars);
        let config = shared::Config::from_source(&env)
            .unwrap_or_else(|e| panic!("{name} would not start: {e}"));
        if code == "functions/schedules" {
            schedules::check_configuration(&config)
                .unwrap_or_else(|e| panic!("{name} would not start: {e}"));
        }
        assert!(
            config.google.is_some(),
            "{name}: the calendar is configured"
        );
        // Lambda allows 4 KB of environment variables, names included; count every value
        // that is not a parameter at a generous 128 bytes (ARNs, queue URLs).
        let size: usize = vars
            .iter()
            .map(|(k, v)| {
                let value = match reference(v) {
                    Some(p) if !t["Parameters"][p].is_null() => deployed_value(&t, v).len(),
                    _ => 128,
                };
                k.len() + value
            })
            .sum();
        assert!(size <= 3500, "{name}: {size} bytes of environment");
    }
    // And the bridge, with its own environment.
    let env = deployed_environment(&t, &bridge_env(&t));
    let config = shared::Config::from_source(&env)
        .unwrap_or_else(|e| panic!("the bridge would not start: {e}"));
    assert!(config.openai.api_key.is_some());
}
