//! The rollups are written with the runs, in the same transaction: a daemon killed with SIGKILL leaves a store
//! whose rollups are exactly its raw runs rolled up, counting slow runs against the plan's latency thresholds.

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
