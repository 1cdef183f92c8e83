//! A loop that dies never leaves the daemon running blind: with a real daemon and the debug build's test
//! fault (`OEWSPROBE_TEST_PANIC_ONCE=health` panics the first run of `health`), the death is logged once with
//! its cause, `/healthz` turns 503 during the backoff, and the loop is started again and probes on.

mod support;

use oewsprobe::probe::{FailureClass, Verdict};
use oewsprobe::store::Store;
use std::time::{Duration, Instant};
use support::process::{Daemon, SimProcess};

const HEALTH: &str = "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"2s\"\n[expect]\nstatus = 200\n";

#[test]
fn a_probe_loop_that_panics_is_reported_once_and_restarted_and_healthz_shows_it() {
    let sim = SimProcess::start(&[]);
    let status = format!("127.0.0.1:{}", support::servers::free_port());
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("probes")).expect("probes");
    std::fs::write(dir.path().join("probes/health.toml"), HEALTH).expect("probe");
    std::fs::write(
        dir.path().join("probes/models.toml"),
        HEALTH.replace("health", "models"),
    )
    .expect("probe");
    let config = format!(
        "target = \"{}\"\nprobes_dir = \"probes\"\n[run]\njitter = \"0s\"\n[status]\nlisten = \"{status}\"\n",
        sim.url
    );
    std::fs::write(dir.path().join("oewsprobe.toml"), config).expect("config");
    let daemon = Daemon::start(
        &dir.path().join("oewsprobe.toml"),
        &dir.path().join("daemon.log"),
        &[("OEWSPROBE_TEST_PANIC_ONCE", "health")],
    );
    let until = Instant::now() + Duration::from_secs(7);
    let mut codes = Vec::new();
    while Instant::now() < until {
        // Once the listener is up.
        if std::net::TcpStream::connect(&status).is_ok() {
            codes.push(support::http_get(&status, "/healthz").0);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = daemon.log();
    assert_eq!(daemon.stop(), Some(0));
    let line = "oewsprobe run: loop probe health died (it panicked: test fault: OEWSPROBE_TEST_PANIC_ONCE=health); restarting it in 1s\n";
    assert_eq!(log.matches(line).count(), 1, "{log}");
    assert_eq!(log.matches(" died (").count(), 1, "{log}");
    // Until every loop has started, /healthz may answer 503: the death is the first 503 after a 200.
    let up = codes.iter().position(|&c| c == 200).unwrap_or(codes.len());
    let unhealthy = codes[up..].iter().position(|&c| c == 503).map(|i| up + i);
    assert!(
        unhealthy.is_some_and(|i| codes[i..].contains(&200)),
        "/healthz: 200, then 503 while the loop is dead, then 200 again: {codes:?}"
    );
    let store = Store::open(&dir.path().join("oewsprobe.sqlite")).expect("store");
    let mut health: Vec<_> = store
        .records_since(0)
        .expect("records")
        .into_iter()
        .filter(|r| r.probe == "health")
        .collect();
    health.sort_by_key(|r| r.scheduled_at_ms);
    let first = health.first().expect("health records");
    assert_eq!(
        (first.verdict, first.class),
        (Verdict::Inconclusive, Some(FailureClass::Aborted)),
        "the run that panicked is recorded: {health:?}"
    );
    assert!(
        health[1..].len() >= 3 && health[1..].iter().all(|r| r.verdict == Verdict::Pass),
        "the restarted loop probes on: {health:?}"
    );
}
