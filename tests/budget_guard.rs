//! The query budget guards `check` as it guards `burst` and `run`, loopback targets included: a check whose
//! probes would spend more than `budget.queries_per_hour` is refused before anything is sent, unless `--force`,
//! and the refusal names the free probes to run instead. In `run`, the ledger keeps what runs spent: a
//! throttled run spends nothing.

mod support;

use oewsprobe::probe::FailureClass;
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::daemon::Daemon;
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

/// A query probe spending one valid query, on `schedule`.
fn query_probe(schedule: &str) -> String {
    format!(
        "queries = 1\nschedule = \"{schedule}\"\n[request]\nmethod = \"POST\"\npath = \"/api/v1/query\"\n\
         body = {{ query = \"What are software developer salaries in Seattle?\", enable_charts = false }}\n\
         [expect]\nstatus = 200\n"
    )
}

#[test]
fn a_throttled_run_in_run_spends_nothing_and_the_ledger_says_so() {
    let sim = SimProcess::start(&["--fault", "rate_limited"]);
    // Three query probes a second apart, and a budget of one query an hour: each run reserves its query, and
    // only when a throttled run gives it back can the next probe be admitted.
    let probes = [
        ("q0.toml", query_probe("*/3 * * * * *")),
        ("q1.toml", query_probe("1/3 * * * * *")),
        ("q2.toml", query_probe("2/3 * * * * *")),
    ];
    let probes: Vec<(&str, &str)> = probes.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let daemon = Daemon::start(&sim.url, "[budget]\nqueries_per_hour = 1", &probes);
    let deadline = Instant::now() + Duration::from_secs(15);
    while daemon.records() < 3 {
        assert!(Instant::now() < deadline, "{}", daemon.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
    let (code, stderr, store, _dir) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let records = store.records_since(0).expect("records");
    assert!(
        records
            .iter()
            .all(|r| r.class == Some(FailureClass::Throttled)),
        "each probe was admitted and throttled, none skipped for the budget: {records:?}"
    );
    assert_eq!(sim.stats()["throttled"], records.len() as u64);
    let spends = store.spends_since(0).expect("ledger");
    assert_eq!(spends.len(), records.len(), "one reservation per run");
    assert!(spends.iter().all(|s| s.queries == 0), "{spends:?}");
    let hour_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
        - 3_600_000;
    assert_eq!(store.spent_since(hour_ago).expect("spent"), 0);
    let stored = store.latest_record("q1").expect("read").expect("a q1 run");
    assert_eq!(stored["queries"], 0);
    assert_eq!(
        stored["request"],
        serde_json::json!({"method": "POST", "url": format!("{}/api/v1/query", sim.url)})
    );
    assert_eq!(
        stored["findings"][0]["message"],
        "POST /api/v1/query: expected 200, got 429 — rate limited (10 queries/hour per client): lower the query \
         budget (budget.queries_per_hour) — body: {\"error\":\"Rate limit exceeded: 10 per 1 hour\"}"
    );
}
