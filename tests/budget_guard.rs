//! The query budget guards `check` as it guards `burst` and `run`, loopback targets included: a check whose
//! probes would spend more than `budget.queries_per_hour` is refused before anything is sent, unless `--force`,
//! and the refusal names the free probes to run instead.

mod support;

use std::process::{Command, Output};
use support::process::{BIN, SimProcess};

fn check(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("check")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("OEWSPROBE_TARGET")
        .output()
        .expect("run oewsprobe check")
}

fn requests(sim: &SimProcess) -> u64 {
    let stats = sim.stats();
    let by_route = stats["requests"].as_object().cloned().unwrap_or_default();
    by_route
        .values()
        .filter_map(serde_json::Value::as_u64)
        .sum()
}

#[test]
fn a_check_over_the_query_budget_is_refused_before_sending_unless_forced() {
    let sim = SimProcess::start(&[]);
    let out = check(&["--target", &sim.url]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "refused: this check would spend 5 valid queries against {}, over the query budget of 4 per hour \
             (budget.queries_per_hour; the API allows 10 per hour per client, shared with real users, and each \
             valid query costs LLM calls). The budget applies to loopback targets too. Run only the free probes \
             with --only health --only models --only reject-short-query, raise budget.queries_per_hour (for a \
             simulator), or pass --force.\n",
            sim.url
        )
    );
    assert_eq!(requests(&sim), 0, "a refused check sends nothing");

    let out = check(&[
        "--target",
        &sim.url,
        "--only",
        "health",
        "--only",
        "models",
        "--only",
        "reject-short-query",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(requests(&sim), 3, "the free probes ran");

    let out = check(&["--force", "--target", &sim.url]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "oewsprobe check: --force: sending past the query budget\n"
    );
}

#[test]
fn exempting_loopback_from_the_budget_is_refused_with_its_key() {
    let dir = support::probe_dir(&[("p.toml", "[request]\npath = \"/api/v1/health\"\n")]);
    let config = dir.path().join("oewsprobe.cfg");
    std::fs::write(&config, "[budget]\nexempt_loopback = true\n").expect("config");
    let out = Command::new(BIN)
        .args(["validate", "--config"])
        .arg(&config)
        .args(["--probes"])
        .arg(dir.path())
        .output()
        .expect("validate");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "{}: budget.exempt_loopback: true is not supported: the query budget applies to every target, loopback \
             included (a loopback address may tunnel to the real API), in run, burst and check alike; remove the \
             key, and raise budget.queries_per_hour for a simulator\n1 error(s)\n",
            config.display()
        )
    );
}
