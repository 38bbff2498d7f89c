//! Fails when a grant of `shared/src/store/access.rs` was never used by a run of the black-box
//! suite: a policy action no code path needs is one more than IAM should give.
//!
//! `make test` runs the suite with `LOCAL_IAM_USED=<file>` (the local stack then appends each
//! grant it allowed: `<principal>\t<action>`) and this binary with the same file.
//!
//! Usage: `unused-grants <file>`

use std::collections::BTreeSet;
use std::process::ExitCode;

use shared::store::access::{self, GSI1_USE};

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: unused-grants <file written by LOCAL_IAM_USED>");
        return ExitCode::from(2);
    };
    let used = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let used: BTreeSet<(&str, &str)> = used
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .collect();

    let mut unused = Vec::new();
    for grant in access::all() {
        let who = grant.who.to_string();
        let granted = grant
            .actions
            .iter()
            .map(|a| a.iam())
            .chain(grant.gsi1.then(|| GSI1_USE.to_string()));
        for action in granted {
            if !used.contains(&(who.as_str(), action.as_str())) {
                unused.push(format!("{who}: {action}"));
            }
        }
    }
    if unused.is_empty() {
        println!("every grant in shared/src/store/access.rs was used by the suite");
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "grants in shared/src/store/access.rs that no test needed (remove them, or add the \
         test that shows the code path needing them):"
    );
    for line in &unused {
        eprintln!("  {line}");
    }
    ExitCode::FAILURE
}
