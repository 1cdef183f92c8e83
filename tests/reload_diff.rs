//! A reload is a diff, with a real daemon, the simulator (valid queries take 3 s) and real signals: probes that
//! did not change keep their loops (no gap in their records, `/healthz` stays 200); a changed probe's run in
//! flight finishes under the old definition and is recorded before its new loop starts; a removed probe stops,
//! a new one starts; a stop past `run.shutdown_grace` records the abandoned run as `aborted`, so every
//! spend has its record.

mod support;

use oewsprobe::probe::{FailureClass, Verdict};
use oewsprobe::store::{Store, StoredRecord};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::process::{Daemon, SimProcess};
use support::release::wait_for;

const HEALTH: &str = "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"2s\"\n[expect]\nstatus = 200\n";

/// A valid query every second; each takes the simulator's 3 s, so one is nearly always in flight.
fn query(status: u16) -> String {
    format!(
        "schedule = \"* * * * * *\"\nqueries = 1\n[request]\nmethod = \"POST\"\npath = \"/api/v1/query\"\nbody = {{ query = \"What are software developer salaries in Seattle?\", enable_charts = false }}\ntimeout = \"10s\"\n[expect]\nstatus = {status}\n"
    )
}

struct Setup {
    dir: tempfile::TempDir,
    _sim: SimProcess,
    status: String,
}

impl Setup {
    fn new(grace: &str) -> Setup {
        let sim = SimProcess::start(&["--latency", "3s"]);
        let status = format!("127.0.0.1:{}", support::servers::free_port());
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("probes")).expect("probes");
        std::fs::write(dir.path().join("probes/health.toml"), HEALTH).expect("probe");
        std::fs::write(dir.path().join("probes/query.toml"), query(200)).expect("probe");
        let config = format!(
            "target = \"{}\"\nprobes_dir = \"probes\"\n[run]\njitter = \"0s\"\nshutdown_grace = \"{grace}\"\n[budget]\nqueries_per_hour = 1000\nexempt_loopback = false\n[status]\nlisten = \"{status}\"\n",
            sim.url
        );
        std::fs::write(dir.path().join("oewsprobe.toml"), config).expect("config");
        Setup {
            dir,
            _sim: sim,
            status,
        }
    }

    fn daemon(&self) -> Daemon {
        Daemon::start(
            &self.dir.path().join("oewsprobe.toml"),
            &self.dir.path().join("daemon.log"),
            &[],
        )
    }

    fn probe_file(&self, name: &str) -> PathBuf {
        self.dir.path().join("probes").join(name)
    }

    /// Every record so far, by scheduled time (empty until the daemon has created the store).
    fn records(&self) -> Vec<StoredRecord> {
        let path = self.dir.path().join("oewsprobe.sqlite");
        if !path.exists() {
            return Vec::new();
        }
        let mut records = Store::open(&path)
            .and_then(|s| s.records_since(0))
            .unwrap_or_default();
        records.sort_by_key(|r| r.scheduled_at_ms);
        records
    }

    fn of(&self, probe: &str) -> Vec<StoredRecord> {
        self.records()
            .into_iter()
            .filter(|r| r.probe == probe)
            .collect()
    }

    /// Returns once a query is in flight: 1.5 s after a query run was recorded (the next one starts within a
    /// second and takes 3 s).
    fn query_in_flight(&self) {
        wait_for("a first query record", Duration::from_secs(20), || {
            !self.of("query").is_empty()
        });
        let seen = self.of("query").len();
        wait_for("the next query record", Duration::from_secs(10), || {
            self.of("query").len() > seen
        });
        std::thread::sleep(Duration::from_millis(1_500));
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

/// The largest gap between consecutive scheduled times.
fn largest_gap(records: &[StoredRecord]) -> u64 {
    records
        .windows(2)
        .map(|w| w[1].scheduled_at_ms - w[0].scheduled_at_ms)
        .max()
        .unwrap_or_default()
}

#[test]
fn a_reload_keeps_unchanged_probe_loops_running_and_healthz_up() {
    let setup = Setup::new("10s");
    let daemon = setup.daemon();
    setup.query_in_flight();
    let addr = setup.status.clone();
    let poller = std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(5);
        let mut codes = Vec::new();
        while Instant::now() < until {
            codes.push(support::http_get(&addr, "/healthz").0);
            std::thread::sleep(Duration::from_millis(100));
        }
        codes
    });
    std::thread::sleep(Duration::from_millis(300));
    daemon.signal("HUP");
    let codes = poller.join().expect("poller");
    assert!(
        codes.iter().all(|&c| c == 200),
        "/healthz during the reload: {codes:?}"
    );
    assert!(
        daemon.log().contains(
            "oewsprobe run: SIGHUP: configuration reloaded (probe loops: 2 kept, 0 changed, 0 started, 0 stopped; other loops: 1 kept, 2 restarted, 0 started, 0 stopped)\n"
        ),
        "{}",
        daemon.log()
    );
    assert_eq!(daemon.stop(), Some(0));
    let health = setup.of("health");
    assert!(health.len() >= 8, "{}", health.len());
    assert!(
        largest_gap(&health) <= 2_000,
        "a gap of {} ms in health's records",
        largest_gap(&health)
    );
}

#[test]
fn a_changed_probes_run_in_flight_is_recorded_under_the_old_definition() {
    let setup = Setup::new("1s");
    let daemon = setup.daemon();
    setup.query_in_flight();
    // query now expects 201 (every new run fails); health is removed; models is new.
    std::fs::write(setup.probe_file("query.toml"), query(201)).expect("probe");
    std::fs::remove_file(setup.probe_file("health.toml")).expect("remove");
    std::fs::write(
        setup.probe_file("models.toml"),
        HEALTH.replace("/api/v1/health", "/api/v1/models"),
    )
    .expect("probe");
    let reload_ms = now_ms();
    daemon.signal("HUP");
    wait_for(
        "a run under the new definition",
        Duration::from_secs(15),
        || setup.of("query").iter().any(|r| r.verdict == Verdict::Fail),
    );
    let log = daemon.log();
    assert_eq!(daemon.stop(), Some(0));
    let queries = setup.of("query");
    let in_flight = queries
        .iter()
        .rfind(|r| r.scheduled_at_ms < reload_ms)
        .expect("a query started before the reload");
    assert!(
        reload_ms - in_flight.scheduled_at_ms < 3_000,
        "the query in flight at the reload is recorded: {queries:?}"
    );
    assert_eq!(in_flight.verdict, Verdict::Pass, "{queries:?}");
    for pair in queries.windows(2) {
        let end = pair[0].scheduled_at_ms + pair[0].latency.as_millis() as u64;
        assert!(
            pair[1].scheduled_at_ms >= end,
            "a probe's runs never overlap: {queries:?}"
        );
    }
    assert!(
        queries
            .iter()
            .filter(|r| r.scheduled_at_ms > reload_ms)
            .all(|r| r.verdict == Verdict::Fail),
        "{queries:?}"
    );
    let health = setup.of("health");
    assert!(
        health.iter().all(|r| r.scheduled_at_ms < reload_ms + 1_000),
        "the removed probe stopped: {health:?}"
    );
    assert!(!setup.of("models").is_empty(), "the new probe started");
    assert!(
        log.contains(
            "oewsprobe run: SIGHUP: configuration reloaded (probe loops: 0 kept, 1 changed, 1 started, 1 stopped; other loops: 1 kept, 2 restarted, 0 started, 0 stopped)\n"
        ),
        "{log}"
    );
}

#[test]
fn a_stop_past_the_grace_records_the_abandoned_run_as_aborted() {
    let setup = Setup::new("1s");
    let daemon = setup.daemon();
    setup.query_in_flight();
    assert_eq!(daemon.stop(), Some(0));
    let log = std::fs::read_to_string(setup.dir.path().join("daemon.log")).expect("log");
    assert!(
        log.contains(
            "oewsprobe run: 1 loops still running after 1s; abandoning them (their runs are recorded as aborted)\n"
        ),
        "{log}"
    );
    let queries = setup.of("query");
    let last = queries.last().expect("query records");
    assert_eq!(
        (last.verdict, last.class),
        (Verdict::Inconclusive, Some(FailureClass::Aborted)),
        "{queries:?}"
    );
    let store = Store::open(&setup.dir.path().join("oewsprobe.sqlite")).expect("store");
    let spends = store.spends_since(0).expect("spends");
    assert!(!spends.is_empty());
    let records = setup.records();
    for spend in spends {
        assert!(
            records
                .iter()
                .any(|r| r.probe == spend.probe && r.scheduled_at_ms == spend.at_ms),
            "the spend at {} of {} has no record",
            spend.at_ms,
            spend.probe
        );
    }
}

#[test]
fn a_changed_credential_header_is_a_changed_probe() {
    let setup = Setup::new("1s");
    let config = setup.dir.path().join("oewsprobe.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        format!("{text}[headers]\nAuthorization = \"Bearer old-token\"\n"),
    )
    .expect("config");
    let daemon = setup.daemon();
    wait_for("the first health record", Duration::from_secs(20), || {
        !setup.of("health").is_empty()
    });
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replace("old-token", "new-token")).expect("config");
    daemon.signal("HUP");
    wait_for("the reload", Duration::from_secs(10), || {
        daemon.log().contains("configuration reloaded")
    });
    let log = daemon.log();
    assert_eq!(daemon.stop(), Some(0));
    assert!(
        log.contains(
            "oewsprobe run: SIGHUP: configuration reloaded (probe loops: 0 kept, 2 changed, 0 started, 0 stopped; other loops: 1 kept, 2 restarted, 0 started, 0 stopped)\n"
        ),
        "{log}"
    );
    assert!(!log.contains("token"), "{log}");
}
