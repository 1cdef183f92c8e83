//! Known drift end to end: `oewsprobe run` as a real process against `sim --profile as-built` with an
//! accepted baseline (no alert email, no SLO budget burnt, `status` says so), a new fault that fails and
//! alerts as usual, an entry removed and reloaded (SIGHUP) that fails again; `drift accept` writing the file;
//! `check` with and without `--accept-known`, resolved drift, a malformed file's error.

mod support;

use oewsprobe::store::Store;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::mail::SmtpInbox;
use support::process::{BIN, Daemon, SimProcess};

const WAIT: Duration = Duration::from_secs(20);

const HEALTH: &str = "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"2s\"\n[expect]\nstatus = 200\n";

/// A `[[known]]` table of `probe`, `check`, `expected`, `actual` and `accepted`, each given as a TOML value
/// (quoted as the file writes it).
fn known(values: [&str; 5]) -> String {
    let keys = ["probe", "check", "expected", "actual", "accepted"];
    let lines: String = keys
        .iter()
        .zip(values)
        .map(|(k, v)| format!("{k} = {v}\n"))
        .collect();
    format!("[[known]]\n{lines}")
}

/// The as-built service's health drift, accepted.
fn health_known() -> String {
    let entry = known([
        r#""health""#,
        r#""GET /api/v1/health""#,
        r#""200""#,
        r#""404""#,
        r#""2026-12-01""#,
    ]);
    format!("{entry}note = \"the service serves GET /health\"\n")
}

/// A folder with a config aimed at `sim`, the `health` probe, and `extra` config.
fn folder(sim: &SimProcess, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("probes")).expect("probes");
    std::fs::write(dir.path().join("probes/health.toml"), HEALTH).expect("probe");
    let config = format!(
        "target = \"{}\"\nprobes_dir = \"probes\"\n[run]\njitter = \"0s\"\n{extra}\n",
        sim.url
    );
    std::fs::write(dir.path().join("oewsprobe.toml"), config).expect("config");
    dir
}

fn oewsprobe(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--config")
        .arg(dir.join("oewsprobe.toml"))
        .env_remove("OEWSPROBE_TARGET")
        .output()
        .expect("run oewsprobe")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn store(dir: &Path) -> Store {
    Store::open(&dir.join("oewsprobe.sqlite")).expect("store")
}

/// Waits until `done` holds of the store (opened once the daemon has written to it).
fn wait_store(dir: &Path, daemon: &Daemon, what: &str, done: impl Fn(&Store) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        if daemon.log().contains("oewsprobe run: watching") && done(&store(dir)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; log:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn latest(store: &Store) -> serde_json::Value {
    store
        .latest_record("health")
        .expect("read")
        .map(|r| serde_json::to_value(r).expect("json"))
        .unwrap_or_default()
}

fn health_runs(store: &Store) -> Vec<oewsprobe::store::StoredRecord> {
    store
        .records_since(0)
        .expect("records")
        .into_iter()
        .filter(|r| r.probe == "health")
        .collect()
}

#[test]
fn a_daemon_with_an_accepted_baseline_sends_no_email_and_burns_no_budget_until_a_new_fault() {
    let smtp = SmtpInbox::start();
    let sim = SimProcess::start(&["--profile", "as-built"]);
    let extra = format!(
        "[[slo]]\nname = \"health\"\nprobes = [\"health\"]\ntarget = 0.99\n\
         [alert]\nfire_after = 2\ngroup_wait = \"1s\"\ngroup_interval = \"3s\"\n\
         [alert.smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\n\
         from = \"oewsprobe@example.org\"\nto = [\"sre@example.org\"]\n",
        smtp.port
    );
    let dir = folder(&sim, &extra);
    std::fs::write(dir.path().join("known-drift.toml"), health_known()).expect("baseline");
    let daemon = Daemon::start(
        &dir.path().join("oewsprobe.toml"),
        &dir.path().join("daemon.log"),
        &[],
    );
    wait_store(dir.path(), &daemon, "five health runs", |s| {
        health_runs(s).len() >= 5
    });
    // Past the group wait: an alert after 2 failures would have been sent by now.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(smtp.emails().len(), 0, "no email for known drift");
    let runs = health_runs(&store(dir.path()));
    assert!(
        runs.iter().all(|r| r.verdict.as_str() == "pass"),
        "{runs:?}"
    );
    let record = latest(&store(dir.path()));
    assert_eq!(
        (&record["verdict"], &record["class"], &record["findings"]),
        (
            &serde_json::json!("pass"),
            &serde_json::Value::Null,
            &serde_json::json!([])
        )
    );
    assert_eq!(
        record["known_drift"][0]["message"],
        "GET /api/v1/health: expected 200, got 404 — body: {\"detail\":\"Not Found\"}"
    );
    let status: serde_json::Value = serde_json::from_str(&stdout(&oewsprobe(
        dir.path(),
        &["status", "--format", "json"],
    )))
    .expect("status json");
    let budget = &status["objectives"][0]["budget"];
    assert_eq!(budget["counts"]["bad"], 0, "{budget}");
    assert!(budget["counts"]["good"].as_u64() >= Some(5), "{budget}");
    assert_eq!(budget["remaining"], 1.0, "{budget}");
    assert_eq!(status["probes"][0]["last_known_drift"], 1);
    let table = stdout(&oewsprobe(dir.path(), &["status"]));
    let line = table.lines().nth(1).expect("the health line");
    assert!(
        line.starts_with("health  PASS (known drift: 1)  -  "),
        "{table}"
    );

    // A new fault fails as usual, and alerts.
    sim.set_faults(&["bad_gateway"]);
    let firing = "[oewsprobe][critical] FIRING: health — ";
    let deadline = Instant::now() + WAIT;
    while !smtp
        .emails()
        .iter()
        .any(|e| e["subject"].as_str().is_some_and(|s| s.starts_with(firing)))
    {
        assert!(Instant::now() < deadline, "no alert: {:?}", smtp.emails());
        std::thread::sleep(Duration::from_millis(100));
    }
    let record = latest(&store(dir.path()));
    assert_eq!(
        (&record["verdict"], &record["class"]),
        (
            &serde_json::json!("fail"),
            &serde_json::json!("proxy_bad_gateway")
        )
    );
    assert_eq!(daemon.stop(), Some(0));
}

#[test]
fn removing_a_known_entry_and_reloading_makes_its_probe_fail_again() {
    let sim = SimProcess::start(&["--profile", "as-built"]);
    let dir = folder(&sim, "");
    let known = dir.path().join("known-drift.toml");
    std::fs::write(&known, health_known()).expect("baseline");
    let daemon = Daemon::start(
        &dir.path().join("oewsprobe.toml"),
        &dir.path().join("daemon.log"),
        &[],
    );
    wait_store(dir.path(), &daemon, "a known-drift pass", |s| {
        latest(s)["known_drift"]
            .as_array()
            .is_some_and(|k| k.len() == 1)
    });
    std::fs::write(&known, "").expect("empty baseline");
    daemon.signal("HUP");
    wait_store(dir.path(), &daemon, "health failing again", |s| {
        latest(s)["verdict"] == "fail"
    });
    let record = latest(&store(dir.path()));
    assert_eq!(
        (&record["class"], &record["findings"][0]["message"]),
        (
            &serde_json::json!("contract"),
            &serde_json::json!(
                "GET /api/v1/health: expected 200, got 404 — body: {\"detail\":\"Not Found\"}"
            )
        )
    );
    assert!(record.get("known_drift").is_none(), "{record}");
    assert!(
        daemon
            .log()
            .contains("SIGHUP: configuration reloaded (probe loops: 0 kept, 1 changed"),
        "{}",
        daemon.log()
    );
    assert_eq!(daemon.stop(), Some(0));
}

#[test]
fn a_malformed_baseline_is_a_config_error_naming_the_file_the_entry_and_the_key() {
    let sim = SimProcess::start(&["--profile", "as-built"]);
    let dir = folder(&sim, "[drift]\nknown_file = \"baseline/drift.toml\"\n");
    std::fs::create_dir(dir.path().join("baseline")).expect("baseline dir");
    let file: PathBuf = dir.path().join("baseline/drift.toml");
    std::fs::write(
        &file,
        format!("{}\n[[known]]\nprobe = \"helth\"\ncheck = \"x\"\nexpected = \"1\"\nactual = \"2\"\naccepted = \"yesterday\"\nseverity = \"low\"\n", health_known()),
    )
    .expect("baseline");
    let shown = file.display();
    let expected = format!(
        "{shown}: known[1].severity: unknown key \"severity\" (known keys: probe, check, expected, actual, accepted, note)\n\
         {shown}: known[1].probe: unknown probe \"helth\" — did you mean \"health\"?\n\
         {shown}: known[1].accepted: \"yesterday\" is not a date; give it as YYYY-MM-DD, e.g. \"2026-12-01\"\n"
    );
    let validated = format!("{expected}3 error(s)\n");
    for (command, wanted) in [
        (&["validate"][..], &validated),
        (&["run"][..], &expected),
        (&["check"][..], &expected),
        (&["drift", "accept"][..], &expected),
    ] {
        let output = oewsprobe(dir.path(), command);
        assert_eq!(
            (
                output.status.code(),
                String::from_utf8_lossy(&output.stderr).as_ref()
            ),
            (Some(2), wanted.as_str()),
            "{command:?}"
        );
    }
}

/// A folder aimed at `sim` with the shipped probes, and `known` as its baseline.
fn shipped_folder(sim: &SimProcess, known: &str) -> tempfile::TempDir {
    let dir = folder(sim, "[budget]\nqueries_per_hour = 100\n");
    let config = std::fs::read_to_string(dir.path().join("oewsprobe.toml")).expect("config");
    let config = config.replace(
        "probes_dir = \"probes\"",
        &format!(
            "probes_dir = {:?}",
            support::shipped_probes().display().to_string()
        ),
    );
    std::fs::write(dir.path().join("oewsprobe.toml"), config).expect("config");
    std::fs::write(dir.path().join("known-drift.toml"), known).expect("baseline");
    dir
}

const HEADER: &str = "\
# Known drift: contract findings accepted as known, so that `oewsprobe run` records them as passes (with the
# findings noted) instead of paging. Written by `oewsprobe drift accept`; review it and commit it. Remove an
# entry to make its finding fail again.
";

fn query_trace_known() -> String {
    known([
        r#""query-trace""#,
        r#""data_sources[1].agent""#,
        r#"'"cortex"'"#,
        r#"'"cortex_researcher"'"#,
        r#""2026-11-30""#,
    ])
}

fn models_stale() -> String {
    known([
        r#""models""#,
        r#""models""#,
        r#""present""#,
        r#""absent""#,
        r#""2026-11-30""#,
    ])
}

#[test]
fn drift_accept_on_the_as_built_sim_writes_the_selected_probes_findings_and_keeps_the_others() {
    let sim = SimProcess::start(&["--profile", "as-built"]);
    let dir = shipped_folder(
        &sim,
        &format!("{}\n{}", models_stale(), query_trace_known()),
    );
    let output = oewsprobe(
        dir.path(),
        &["drift", "accept", "--probe", "health", "--probe", "models"],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let file = dir.path().join("known-drift.toml");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        stdout(&output),
        format!(
            "oewsprobe drift accept: {}\n\
             added   health: GET /api/v1/health: expected 200, got 404\n\
             kept    query-trace: data_sources[1].agent: expected \"cortex\", got \"cortex_researcher\"\n\
             removed models: models: expected present, got absent\n\
             wrote {}: 2 known findings (1 added, 1 kept, 1 removed)\n",
            sim.url,
            file.display()
        )
    );
    assert_eq!(
        std::fs::read_to_string(&file).expect("baseline"),
        format!(
            "{HEADER}\n{}\n{}",
            known([
                r#""health""#,
                r#""GET /api/v1/health""#,
                r#""200""#,
                r#""404""#,
                &format!("\"{today}\"")
            ]),
            query_trace_known()
        )
    );
    // Nothing but the file itself is left beside it.
    assert!(!dir.path().join("known-drift.toml.tmp").exists());
    // Run again: the health entry is found again and kept as it is; an outage is skipped, never drift.
    sim.set_faults(&["bad_gateway"]);
    let output = oewsprobe(dir.path(), &["drift", "accept", "--probe", "health"]);
    assert_eq!(
        stdout(&output),
        format!(
            "oewsprobe drift accept: {}\n\
             kept    health: GET /api/v1/health: expected 200, got 404\n\
             kept    query-trace: data_sources[1].agent: expected \"cortex\", got \"cortex_researcher\"\n\
             skipped health: proxy_bad_gateway is not contract drift (an outage or no verdict); its known entries are kept\n\
             wrote {}: 2 known findings (0 added, 2 kept, 0 removed)\n",
            sim.url,
            file.display()
        )
    );
}

/// `check` on `dir` with `args`: exit code, the health lines of the table (its latency column blanked), and the
/// lines after the probes.
fn check(dir: &Path, args: &[&str]) -> (Option<i32>, Vec<String>) {
    let mut all = vec!["check", "--only", "health", "--only", "models"];
    all.extend_from_slice(args);
    let output = oewsprobe(dir, &all);
    let lines = stdout(&output)
        .lines()
        .skip(2)
        .filter(|l| !l.starts_with("models"))
        .map(|l| match l.strip_prefix("health ") {
            Some(rest) => format!("health {}", &rest[..rest.len() - 9]),
            None => l.to_string(),
        })
        .collect();
    (output.status.code(), lines)
}

#[test]
fn check_marks_known_findings_fails_on_them_unless_accept_known_and_reports_resolved_drift() {
    let sim = SimProcess::start(&["--profile", "as-built"]);
    let dir = shipped_folder(&sim, &format!("{}\n{}", health_known(), models_stale()));
    let known =
        "    - known: GET /api/v1/health: expected 200, got 404 — body: {\"detail\":\"Not Found\"}";
    let resolved = "resolved drift: models: models: expected present, got absent — no longer seen: its known entry can be removed";
    assert_eq!(
        check(dir.path(), &[]),
        (
            Some(1),
            vec![
                "health  FAIL          contract              404  ".to_string(),
                known.to_string(),
                "1 of 2 probes passed (1 failed, 0 inconclusive): FAIL".to_string(),
                "valid queries spent: 0".to_string(),
                resolved.to_string(),
            ]
        )
    );
    assert_eq!(
        check(dir.path(), &["--accept-known"]),
        (
            Some(0),
            vec![
                "health  PASS          -                     404  ".to_string(),
                known.to_string(),
                "2 of 2 probes passed (0 failed, 0 inconclusive): PASS".to_string(),
                "valid queries spent: 0".to_string(),
                resolved.to_string(),
            ]
        )
    );
    let output = oewsprobe(
        dir.path(),
        &[
            "check", "--only", "health", "--only", "models", "--format", "json",
        ],
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("json");
    assert_eq!(
        (
            &doc["verdict"],
            &doc["probes"][0]["findings"],
            &doc["probes"][0]["known_drift"][0]["actual"]
        ),
        (
            &serde_json::json!("fail"),
            &serde_json::json!([]),
            &serde_json::json!("404")
        )
    );
    assert_eq!(
        doc["resolved_drift"],
        serde_json::json!([{"probe": "models", "check": "models", "expected": "present",
                            "actual": "absent", "accepted": "2026-11-30"}])
    );
}
