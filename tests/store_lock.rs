//! One `run` per store: a second daemon on the same store exits 2 naming the first one's pid; store-only
//! commands keep working while `run` holds the store; a `kill -9` releases the lock.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::process::{BIN, Daemon, SimProcess};

const PROBE: &str = "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"2s\"\n[expect]\nstatus = 200\n";

/// A config, its probe and its store in `dir`.
fn setup(dir: &Path, target: &str) -> PathBuf {
    std::fs::create_dir(dir.join("probes")).expect("probes");
    std::fs::write(dir.join("probes/health.toml"), PROBE).expect("probe");
    let config = dir.join("oewsprobe.toml");
    let text = format!("target = \"{target}\"\nprobes_dir = \"probes\"\n[run]\njitter = \"0s\"\n");
    std::fs::write(&config, text).expect("config");
    config
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `oewsprobe ARGS --config CONFIG`; returns the exit code and stderr.
fn oewsprobe(args: &[&str], config: &Path) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("OEWSPROBE_TARGET")
        .output()
        .expect("oewsprobe");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_second_run_on_the_same_store_exits_2_and_store_commands_still_work() {
    let sim = SimProcess::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = setup(dir.path(), &sim.url);
    let first = Daemon::start(&config, &dir.path().join("first.log"), &[]);
    wait_for("the first daemon", Duration::from_secs(20), || {
        first.log().contains("oewsprobe run: watching")
    });
    let second_log = dir.path().join("second.log");
    let mut second = Daemon::start(&config, &second_log, &[]);
    let code = second.wait_exit(Duration::from_secs(20));
    assert_eq!(code, Some(2));
    assert_eq!(
        std::fs::read_to_string(&second_log).expect("log"),
        format!(
            "oewsprobe run: another oewsprobe run (pid {}) is using this store: {}\n",
            first.pid(),
            dir.path().join("oewsprobe.sqlite").display()
        )
    );
    for args in [
        &["status"][..],
        &[
            "silence",
            "add",
            "--all",
            "--for",
            "1h",
            "--reason",
            "maintenance",
        ],
        &[
            "release",
            "start",
            "--version",
            "main-b",
            "--rollback-to",
            "main-a",
        ],
    ] {
        let (code, stderr) = oewsprobe(args, &config);
        assert!(matches!(code, Some(0 | 1)), "{args:?}: {code:?} {stderr}");
    }
    assert!(
        !first.log().contains("another oewsprobe run"),
        "{}",
        first.log()
    );
    assert_eq!(first.stop(), Some(0));
}

#[test]
fn the_lock_of_a_killed_run_does_not_block_the_next() {
    let sim = SimProcess::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = setup(dir.path(), &sim.url);
    let log = dir.path().join("daemon.log");
    let mut first = Daemon::start(&config, &log, &[]);
    wait_for("the first daemon", Duration::from_secs(20), || {
        first.log().contains("oewsprobe run: watching")
    });
    first.signal("KILL");
    first.wait_exit(Duration::from_secs(20));
    assert!(
        dir.path().join("oewsprobe.sqlite.lock").exists(),
        "the lock file stays"
    );
    let next = Daemon::start(&config, &log, &[]);
    wait_for("the next daemon", Duration::from_secs(20), || {
        next.log().matches("oewsprobe run: watching").count() == 2
    });
    assert!(
        !next.log().contains("another oewsprobe run"),
        "{}",
        next.log()
    );
    drop(first);
    assert_eq!(next.stop(), Some(0));
}
