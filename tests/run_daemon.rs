//! `oewsprobe run` as a real process against the simulator: schedules, no overlap, no catch-up storm,
//! the query budget as the simulator counts it, graceful shutdown recording every started run once, SIGHUP.

mod support;

use oewsprobe::probe::{FailureClass, Verdict};
use oewsprobe::store::Store;
use std::process::Command;
use std::time::Duration;
use support::daemon::Daemon;
use support::process::{BIN, SimProcess};

fn probe(schedule: &str, path_and_body: &str, queries: u32) -> String {
    format!(
        "queries = {queries}\nschedule = \"{schedule}\"\n[request]\n{path_and_body}\ntimeout = \"10s\"\n[expect]\nstatus = 200\n"
    )
}

const HEALTH: &str = "path = \"/api/v1/health\"";
const QUERY: &str = "method = \"POST\"\npath = \"/api/v1/query\"\nbody = { query = \"What are software developer salaries in Seattle?\", enable_charts = false }";

fn requests(sim: &SimProcess, route: &str) -> u64 {
    sim.stats()["requests"][route].as_u64().unwrap_or(0)
}

#[test]
fn a_probe_that_outlasts_its_interval_never_overlaps_and_skips_missed_ticks() {
    let sim = SimProcess::start(&["--fault", "slow=2500ms"]);
    let daemon = Daemon::start(
        &sim.url,
        "",
        &[("slow.toml", &probe("* * * * * *", HEALTH, 0))],
    );
    std::thread::sleep(Duration::from_millis(7_500));
    let (code, stderr, store, _dir) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let records = store.records_since(0).expect("records");
    // Every second is due, each run takes 2.5 s: with no overlap and no backlog, about one run per 3 s.
    assert!(
        (2..=3).contains(&records.len()),
        "{} runs in 7.5 s: {records:?}",
        records.len()
    );
    for pair in records.windows(2) {
        let first_end = pair[0].scheduled_at_ms + pair[0].latency.as_millis() as u64;
        assert!(
            pair[1].scheduled_at_ms >= first_end,
            "runs overlap: {pair:?}"
        );
    }
    assert_eq!(
        requests(&sim, "GET /api/v1/health") as usize,
        records.len(),
        "every run reached the sim once"
    );
}

#[test]
fn the_query_budget_holds_as_the_simulator_counts_it() {
    let sim = SimProcess::start(&[]);
    let probes = [
        ("q1.toml", probe("* * * * * *", QUERY, 1)),
        ("q2.toml", probe("* * * * * *", QUERY, 1)),
        ("health.toml", probe("* * * * * *", HEALTH, 0)),
    ];
    let probes: Vec<(&str, &str)> = probes.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let daemon = Daemon::start(
        &sim.url,
        "[budget]\nqueries_per_hour = 3\nexempt_loopback = false",
        &probes,
    );
    std::thread::sleep(Duration::from_millis(4_500));
    let (code, stderr, store, _dir) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        sim.stats()["valid_queries"],
        3,
        "never more than the budget of 3 per hour"
    );
    let records = store.records_since(0).expect("records");
    let skipped: Vec<_> = records
        .iter()
        .filter(|r| r.class == Some(FailureClass::Budget))
        .collect();
    assert!(
        skipped.len() >= 3,
        "runs over the budget are recorded as skipped: {records:?}"
    );
    assert!(skipped.iter().all(|r| r.verdict == Verdict::Inconclusive));
    assert!(
        records.iter().filter(|r| r.probe == "health").count() >= 3,
        "free probes keep running"
    );
}

#[test]
fn sigterm_lets_in_flight_probes_finish_and_records_each_run_once() {
    let sim = SimProcess::start(&["--fault", "slow=1500ms"]);
    let probes = [
        ("a.toml", probe("* * * * * *", HEALTH, 0)),
        ("b.toml", probe("* * * * * *", HEALTH, 0)),
    ];
    let probes: Vec<(&str, &str)> = probes.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let daemon = Daemon::start(&sim.url, "", &probes);
    std::thread::sleep(Duration::from_millis(2_300));
    let in_flight_before_stop = requests(&sim, "GET /api/v1/health");
    assert!(
        in_flight_before_stop >= 2,
        "runs are in flight when the signal comes"
    );
    let (code, stderr, store, _dir) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let records = store.records_since(0).expect("records");
    assert_eq!(
        records.len() as u64,
        requests(&sim, "GET /api/v1/health"),
        "every started run recorded once"
    );
    assert!(
        records.iter().all(|r| r.verdict == Verdict::Pass),
        "in-flight runs finished, not cut: {records:?}"
    );
    assert!(stderr.contains("oewsprobe run: stopped;"), "{stderr}");
}

#[test]
fn sighup_with_an_invalid_config_keeps_the_old_one_running() {
    let sim = SimProcess::start(&[]);
    let daemon = Daemon::start(
        &sim.url,
        "",
        &[("h.toml", &probe("* * * * * *", HEALTH, 0))],
    );
    std::thread::sleep(Duration::from_millis(1_500));
    std::fs::write(
        daemon.dir.path().join("probes").join("broken.toml"),
        "[request]\npath = \"nope\"\n",
    )
    .expect("write");
    daemon.signal("HUP");
    std::thread::sleep(Duration::from_millis(2_000));
    let before = requests(&sim, "GET /api/v1/health");
    std::thread::sleep(Duration::from_millis(1_500));
    assert!(
        requests(&sim, "GET /api/v1/health") > before,
        "still probing after the rejected reload"
    );
    let (code, stderr, _store, _dir) = daemon.stop();
    assert_eq!(code, Some(0));
    assert!(
        stderr.contains("SIGHUP: the new config is invalid; keeping the old one:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("broken.toml: request.path: \"nope\" must start with \"/\""),
        "{stderr}"
    );
}

#[test]
fn release_start_list_and_end_use_the_configured_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("oewsprobe.toml");
    std::fs::write(
        &config,
        format!("probes_dir = \"{}\"\n", support::shipped_probes().display()),
    )
    .expect("config");
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    assert_eq!(
        run(&[
            "release",
            "start",
            "--version",
            "main-bbb",
            "--rollback-to",
            "main-aaa",
            "--watch",
            "2h"
        ]),
        (
            Some(0),
            "release main-bbb recorded (rollback to main-aaa); watching for 2h\n".to_string()
        )
    );
    let (code, list) = run(&["release", "list"]);
    assert_eq!(code, Some(0));
    assert!(
        list.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("main-bbb")
                && l.contains("main-aaa")
                && l.contains(" left")),
        "{list}"
    );
    assert_eq!(
        run(&["release", "end"]),
        (Some(0), "release main-bbb: watch ended\n".to_string())
    );
    assert_eq!(
        run(&["release", "end"]),
        (Some(0), "no open release watch\n".to_string())
    );
    let store = Store::open(&dir.path().join("oewsprobe.sqlite")).expect("store");
    assert_eq!(store.releases().expect("releases").len(), 1);
}

#[test]
fn scheduled_bursts_are_recorded_and_share_the_query_budget() {
    scheduled_bursts_share_the_query_budget(false);
}

/// The same over HTTPS: the burst's load transport trusts the main config's `[tls] ca_file`.
#[test]
fn scheduled_bursts_over_https_are_recorded_and_share_the_query_budget() {
    scheduled_bursts_share_the_query_budget(true);
}

fn scheduled_bursts_share_the_query_budget(https: bool) {
    let pki = tempfile::tempdir().expect("tempdir");
    let (ca, cert) = support::tls_front::loopback_pki();
    let (sim, trust) = if https {
        let (cert_file, key_file) = cert.write(pki.path(), "sim");
        let ca_file = ca.write(pki.path(), "ca.pem");
        (
            SimProcess::start_tls(&cert_file, &key_file),
            format!("\n[tls]\nca_file = \"{}\"", ca_file.display()),
        )
    } else {
        (SimProcess::start(&[]), String::new())
    };
    let stats = || {
        if !https {
            return sim.stats();
        }
        let body = support::tls_front::https_get(
            sim.url.trim_start_matches("https://"),
            "/__sim/stats",
            &ca.cert,
        );
        serde_json::from_str::<serde_json::Value>(&body).expect("stats JSON")
    };
    let burst = format!(
        "queries = 1\n[burst]\nschedule = \"*/2 * * * * *\"\nrequests = 3\nslo = \"5s\"\n[request]\n{QUERY}\ntimeout = \"10s\"\n[expect]\nstatus = 200\n"
    );
    let daemon = Daemon::start(
        &sim.url,
        &format!("[budget]\nqueries_per_hour = 4\nexempt_loopback = false{trust}"),
        &[("q.toml", &burst)],
    );
    std::thread::sleep(Duration::from_millis(5_000));
    let (code, stderr, store, _dir) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stats()["valid_queries"],
        3,
        "one burst of 3 fits the budget of 4, the next does not"
    );
    let records = store.records_since(0).expect("records");
    assert!(records.iter().all(|r| r.probe == "q-burst"), "{records:?}");
    assert_eq!(
        records
            .iter()
            .filter(|r| r.verdict == Verdict::Pass)
            .count(),
        1,
        "{records:?}"
    );
    assert!(
        records
            .iter()
            .filter(|r| r.class == Some(FailureClass::Budget))
            .count()
            >= 1,
        "{records:?}"
    );
}
