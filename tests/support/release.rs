//! Helpers of the release-watch and lifecycle tests: waiting for a condition, a file's lines, and the newest
//! release's decisions as stored.
#![allow(dead_code)]

use oewsprobe::store::Store;
use std::path::Path;
use std::time::{Duration, Instant};

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
