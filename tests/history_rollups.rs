//! The rollups are written with the runs, in the same transaction: a daemon killed with SIGKILL leaves a store
//! whose rollups are exactly its raw runs rolled up, counting slow runs against the plan's latency thresholds;
//! a reload that changes a threshold makes them track the new one.

mod support;

use oewsprobe::history::{Level, Rollup};
use oewsprobe::store::Store;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::daemon::Daemon;
use support::process::SimProcess;

const HEALTH_EVERY_1S: &str = "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"2s\"\n[expect]\nstatus = 200\n";

const LATENCY_SLO: &str = "[[slo]]\nname = \"fast-health\"\nprobes = [\"health\"]\nsli = \"latency\"\nthreshold = \"250ms\"\ntarget = 0.99\n";

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
    let config = daemon.dir.path().join("oewsprobe.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace("threshold = \"250ms\"", "threshold = \"1s\""),
    )
    .expect("config");
    daemon.signal("HUP");
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
    assert_eq!(
        store.latency_thresholds().expect("thresholds"),
        BTreeMap::from([("health".to_string(), vec![1_000_000])])
    );
    let written = rows(&store);
    assert!(
        written.values().all(|r| r.slow.keys().eq([&1_000_000])),
        "every row counts slow runs against 1 s, and no longer against 250 ms: {written:?}"
    );
    store.rebuild_rollups().expect("rebuild");
    assert_eq!(
        rows(&store),
        written,
        "the rollups are the raw runs rolled up"
    );
}
