//! Hostile input as the real binary meets it: every bound refused with its exact message (file and key, or
//! flag), exit 2 and no panic; a reload with an over-complex file leaves the running daemon probing.

mod support;

use std::process::Command;
use std::time::Duration;
use support::daemon::Daemon;
use support::process::{BIN, SimProcess};

const HEALTH: &str = "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\n";

/// A probe whose check selects through `steps` wildcards.
fn wildcard_probe(steps: usize) -> String {
    format!(
        "{HEALTH}[[expect.json]]\npath = \"${}.b\"\nexists = true\n",
        "[*]".repeat(steps)
    )
}

/// `oewsprobe ARGS` in `dir` with no config but the given one: exit code, stdout, stderr.
fn oewsprobe(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("OEWSPROBE_TARGET")
        .output()
        .expect("run oewsprobe");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn validate_refuses_a_26_step_selector_with_its_file_and_key() {
    let dir = support::probe_dir(&[("deep.toml", &wildcard_probe(26))]);
    std::fs::write(dir.path().join("oewsprobe.toml"), "probes_dir = \".\"\n").expect("config");
    let (code, _out, err) = oewsprobe(dir.path(), &["validate", "--config", "oewsprobe.toml"]);
    assert_eq!(code, Some(2), "{err}");
    let selector = format!("${}.b", "[*]".repeat(26));
    let want = format!(
        "deep.toml: expect.json[0].path: invalid selector {selector:?}: selector too complex: more than 8 \"[*]\" and filter steps at position 26"
    );
    assert!(err.contains(&want), "{err}");
}

#[test]
fn sighup_with_a_26_step_selector_keeps_the_daemon_probing() {
    let sim = SimProcess::start(&[]);
    let daemon = Daemon::start(&sim.url, "", &[("h.toml", HEALTH)]);
    std::thread::sleep(Duration::from_millis(1_500));
    let probes = daemon.dir.path().join("probes");
    std::fs::write(probes.join("deep.toml"), wildcard_probe(26)).expect("write");
    daemon.signal("HUP");
    std::thread::sleep(Duration::from_millis(2_000));
    let before = daemon.records();
    std::thread::sleep(Duration::from_millis(1_500));
    assert!(daemon.records() > before, "still probing after the reload");
    let (code, stderr, _store, _dir) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("SIGHUP: the new config is invalid; keeping the old one:"),
        "{stderr}"
    );
    assert!(stderr.contains("selector too complex"), "{stderr}");
}
