//! Helpers of the release-watch and lifecycle tests: seconds-scale watch settings and the `health` objective
//! they watch, waiting for a condition, a file's lines, and the newest release's decisions as stored.
#![allow(dead_code)]

use oewsprobe::store::Store;
use std::path::Path;
use std::time::{Duration, Instant};

/// The `[release]` keys (after `watch`) of a watch that decides within seconds: every duration is configuration.
pub const FAST_WATCH: &str = "warmup = \"1s\"\nmin_samples = 2\nbaseline = \"4s\"\nbaseline_min_samples = 2\n\
                              prober_window = \"3s\"\nevaluate_every = \"300ms\"\n";

/// The objective over the `health` probe that these watches judge: 90 %, a page tier of 4 s / 2 s at 5×.
pub const HEALTH_OBJECTIVE: &str = "[[slo]]\nname = \"health\"\nprobes = [\"health\"]\ntarget = 0.9\nmin_bad = 2\n\
                                    [[slo.tiers]]\nseverity = \"page\"\nlong = \"4s\"\nshort = \"2s\"\nburn = 5\n";

/// Polls `done` every 50 ms; panics naming `what` after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The lines of `file` (none when it does not exist yet), e.g. what a test hook wrote.
pub fn lines(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The newest release's decisions in the store at `path`, oldest first, as `outcome: reason`.
pub fn outcomes(path: &Path) -> Vec<String> {
    let store = Store::open(path).expect("store");
    let release = store
        .releases()
        .expect("releases")
        .into_iter()
        .next()
        .expect("a release");
    store
        .decisions(release.id)
        .expect("decisions")
        .into_iter()
        .map(|d| format!("{}: {}", d.outcome, d.reason))
        .collect()
}
