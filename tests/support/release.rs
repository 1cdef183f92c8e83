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

/// `oewsprobe release start --version main-bbb --rollback-to main-aaa` with `config`; asserts it succeeded.
pub fn release_start(config: &Path) {
    release_start_with(config, "main-bbb", &[]);
}

/// `oewsprobe release start --version VERSION --rollback-to main-aaa` with `config` and the environment
/// variables `env`; asserts it succeeded.
pub fn release_start_with(config: &Path, version: &str, env: &[(&str, &str)]) {
    let out = std::process::Command::new(super::process::BIN)
        .args(["release", "start", "--version", version])
        .args(["--rollback-to", "main-aaa", "--config"])
        .arg(config)
        .envs(env.iter().copied())
        .output()
        .expect("release start");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    decisions_of(&store, release.id)
}

/// Asserts that `outcomes` (as [`outcomes`] gives them) hold exactly one rollback decision.
pub fn assert_one_rollback(outcomes: &[String]) {
    let rollbacks = outcomes
        .iter()
        .filter(|o| o.starts_with("rollback: "))
        .count();
    assert_eq!(rollbacks, 1, "{outcomes:?}");
}

/// The decisions about release `id` in `store`, oldest first, as `outcome: reason`.
pub fn decisions_of(store: &Store, id: i64) -> Vec<String> {
    store
        .decisions(id)
        .expect("decisions")
        .into_iter()
        .map(|d| format!("{}: {}", d.outcome, d.reason))
        .collect()
}
