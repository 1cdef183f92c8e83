//! The rollups are written with the runs, in the same transaction: a daemon killed with SIGKILL leaves a store
//! whose rollups are exactly its raw runs rolled up, counting slow runs against the plan's latency thresholds;
//! a reload that changes a threshold makes them track the new one, and a stop in the middle of that rebuild
//! interrupts it without losing a run.

mod support;

use oewsprobe::history::{Level, Rollup};
use oewsprobe::probe::Verdict;
use oewsprobe::store::Store;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::daemon::Daemon;
use support::process::SimProcess;

const HEALTH_EVERY_1S: &str = "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"2s\"\n[expect]\nstatus = 200\n";

const LATENCY_SLO: &str = "[[slo]]\nname = \"fast-health\"\nprobes = [\"health\"]\nsli = \"latency\"\nthreshold = \"250ms\"\ntarget = 0.99\n";

/// Rewrites the daemon's latency objective to 1 s and sends SIGHUP.
fn reload_with_a_threshold_of_1s(daemon: &Daemon) {
    let config = daemon.dir.path().join("oewsprobe.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace("threshold = \"250ms\"", "threshold = \"1s\""),
    )
    .expect("config");
    daemon.signal("HUP");
}

/// The store's rollups count slow runs of `health` against `threshold_us` only, and are exactly its raw runs
/// rolled up.
fn assert_rollups_track_only(store: &Store, threshold_us: u64) {
    assert_eq!(
        store.latency_thresholds().expect("thresholds"),
        BTreeMap::from([("health".to_string(), vec![threshold_us])])
    );
    let written = rows(store);
    assert!(
        written.values().all(|r| r.slow.keys().eq([&threshold_us])),
        "every row counts slow runs against {threshold_us} µs only: {written:?}"
    );
    store.rebuild_rollups().expect("rebuild");
    assert_eq!(
        rows(store),
        written,
        "the rollups are the raw runs rolled up"
    );
}

fn rows(store: &Store) -> BTreeMap<(Level, u64), Rollup> {
    let mut out = BTreeMap::new();
    for level in Level::ALL {
        for (start, row) in store
            .rollup_rows("health", level, 0, u64::MAX)
            .expect("rows")
        {
            out.insert((level, start), row);
        }
    }
    out
}

#[test]
fn a_killed_daemon_leaves_rollups_that_agree_with_its_runs() {
    let sim = SimProcess::start(&[]);
    let mut daemon = Daemon::start(&sim.url, LATENCY_SLO, &[("health.toml", HEALTH_EVERY_1S)]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while daemon.records() < 3 {
        assert!(Instant::now() < deadline, "no records: {}", daemon.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
    daemon.child.kill().expect("SIGKILL");
    daemon.child.wait().expect("wait");

    let store = Store::open(&daemon.store_path()).expect("store");
    assert_eq!(
        store.latency_thresholds().expect("thresholds"),
        BTreeMap::from([("health".to_string(), vec![250_000])])
    );
    let written = rows(&store);
    let runs = store.records_since(0).expect("runs").len() as u64;
    for level in Level::ALL {
        let counted: u64 = written
            .iter()
            .filter(|((l, _), _)| *l == level)
            .map(|(_, r)| r.pass + r.fail + r.inconclusive)
            .sum();
        assert_eq!(counted, runs, "{level:?} rows count every run once");
    }
    assert!(written.values().all(|r| r.slow.contains_key(&250_000)));
    store.rebuild_rollups().expect("rebuild");
    assert_eq!(
        rows(&store),
        written,
        "the rollups are the raw runs rolled up"
    );
}

#[test]
fn a_reload_that_changes_a_latency_threshold_makes_the_rollups_track_it() {
    let sim = SimProcess::start(&[]);
    let daemon = Daemon::start(&sim.url, LATENCY_SLO, &[("health.toml", HEALTH_EVERY_1S)]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while daemon.records() < 2 {
        assert!(Instant::now() < deadline, "no records: {}", daemon.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
    reload_with_a_threshold_of_1s(&daemon);
    let rebuilt = "oewsprobe run: SIGHUP: the latency thresholds changed; rollups rebuilt from the raw runs held (";
    while !daemon.stderr().contains(rebuilt) {
        assert!(
            Instant::now() < deadline + Duration::from_secs(10),
            "no rebuild: {}",
            daemon.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Runs recorded after the rebuild are counted against the new threshold too.
    let before = daemon.records();
    while daemon.records() < before + 2 {
        assert!(
            Instant::now() < deadline + Duration::from_secs(20),
            "no runs after the rebuild"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (code, stderr, store, _dir) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert_rollups_track_only(&store, 1_000_000);
}

/// How many runs the store in `dir` holds (0 until the daemon has opened it).
fn runs_held(daemon: &Daemon) -> u64 {
    if !daemon.stderr().contains("oewsprobe run: watching") {
        return 0;
    }
    Store::open(&daemon.store_path())
        .and_then(|s| s.stats())
        .map_or(0, |s| s.runs)
}

/// A store of `runs` runs of `health`, one a second until a minute ago, counted against 250 ms.
fn store_with_runs(dir: &std::path::Path, runs: u64) {
    let store = Store::open(&dir.join("oewsprobe.sqlite")).expect("store");
    store
        .track_latency_thresholds(&BTreeMap::from([("health".to_string(), vec![250_000])]))
        .expect("thresholds");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    let first = now_ms - 60_000 - runs * 1_000;
    let records: Vec<_> = (0..runs)
        .map(|i| support::store::record("health", first + i * 1_000, Verdict::Pass))
        .collect();
    for batch in records.chunks(5_000) {
        store.insert_records(batch).expect("insert");
    }
}

#[test]
fn a_stop_during_a_reload_s_rebuild_interrupts_it_and_loses_no_run() {
    // Enough runs that rebuilding their rollups takes seconds: the stop comes in the middle of it.
    const HELD: u64 = 400_000;
    let dir = tempfile::tempdir().expect("tempdir");
    store_with_runs(dir.path(), HELD);
    let sim = SimProcess::start(&[]);
    let probes = [("health.toml", HEALTH_EVERY_1S)];
    let mut daemon = Daemon::start_in(dir, &sim.url, LATENCY_SLO, &probes, &[], &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while runs_held(&daemon) < HELD + 2 {
        assert!(Instant::now() < deadline, "no records: {}", daemon.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
    reload_with_a_threshold_of_1s(&daemon);
    while !daemon
        .stderr()
        .contains("oewsprobe run: SIGHUP: configuration reloaded")
    {
        assert!(Instant::now() < deadline, "no reload: {}", daemon.stderr());
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    daemon.signal("TERM");
    let (code, stderr) = daemon.wait_exit(Duration::from_secs(30));
    let store = Store::open(&daemon.store_path()).expect("store");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("oewsprobe run: the rollup rebuild for the new latency thresholds was interrupted after "),
        "{stderr}"
    );
    assert!(!stderr.contains("rollups rebuilt"), "{stderr}");
    // Nothing changed: the rollups still count against 250 ms, and are exactly the raw runs rolled up.
    assert_rollups_track_only(&store, 250_000);
    let recorded: u64 = stderr
        .split("oewsprobe run: stopped; ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no stop line: {stderr}"));
    let runs = store.stats().expect("stats").runs;
    assert_eq!(
        runs,
        HELD + recorded,
        "every run of the daemon was recorded"
    );
    drop(store);
    let dir = std::mem::replace(&mut daemon.dir, tempfile::tempdir().expect("tempdir"));

    // The next start makes them track the new threshold.
    let daemon = Daemon::start_in(
        dir,
        &sim.url,
        LATENCY_SLO.replace("250ms", "1s").as_str(),
        &probes,
        &[],
        &[],
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while runs_held(&daemon) <= runs {
        assert!(Instant::now() < deadline, "no records: {}", daemon.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
    let (code, stderr, store, _dir) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert_rollups_track_only(&store, 1_000_000);
}
