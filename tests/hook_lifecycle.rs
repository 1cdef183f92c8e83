//! A rollback hook across the daemon's lifecycle, with a real daemon, the simulator, a breach after
//! `release start` and a hook that takes seconds: a reload leaves it running; a stop waits for it (telling
//! systemd over a real `NOTIFY_SOCKET`); a second signal ends it and records `hook_interrupted`; a `kill -9`
//! while it runs is found at the next start and recorded (and emailed) as `hook_outcome_unknown`.

mod support;

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::mail::SmtpInbox;
use support::process::{Daemon, SimProcess};
use support::release::{FAST_WATCH, HEALTH_OBJECTIVE, lines, outcomes, release_start, wait_for};

const PROBE: &str = "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"2s\"\n[expect]\nstatus = 200\n";

/// A watch that rolls back within seconds of a breach, a hook that takes 6 s, and a 1 s shutdown grace.
fn config(target: &str, hook_log: &Path, smtp: &str) -> String {
    format!(
        r#"target = "{target}"
probes_dir = "probes"
[run]
jitter = "0s"
shutdown_grace = "1s"
[release]
{fast_watch}[rollback]
enabled = true
command = ["sh", "-c", "echo started >> {log}; sleep 6; echo finished >> {log}"]
timeout = "30s"
recovery = "30s"
{objective}{smtp}"#,
        log = hook_log.display(),
        fast_watch = FAST_WATCH,
        objective = HEALTH_OBJECTIVE,
    )
}

struct Setup {
    dir: tempfile::TempDir,
    sim: SimProcess,
}

impl Setup {
    /// The hook ran to its end once, and that is the one outcome recorded: `hook_succeeded`.
    fn assert_the_hook_ran_once_and_succeeded(&self) {
        assert_eq!(self.hook_lines(), ["started", "finished"]);
        let outcomes = self.hook_outcomes();
        assert_eq!(outcomes.len(), 1, "{outcomes:?}");
        assert!(
            outcomes[0].starts_with("hook_succeeded: rollback hook exited 0 after "),
            "{outcomes:?}"
        );
    }

    fn new(smtp: &str) -> Setup {
        let sim = SimProcess::start(&[]);
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("probes")).expect("probes");
        std::fs::write(dir.path().join("probes/health.toml"), PROBE).expect("probe");
        let text = config(&sim.url, &dir.path().join("hook.log"), smtp);
        std::fs::write(dir.path().join("oewsprobe.toml"), text).expect("config");
        Setup { dir, sim }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("oewsprobe.toml")
    }

    fn daemon(&self, env: &[(&str, &str)]) -> Daemon {
        Daemon::start(&self.config(), &self.dir.path().join("daemon.log"), env)
    }

    /// A healthy baseline, `release start`, then the breach; returns once the hook has started.
    fn breach_until_the_hook_starts(&self) {
        std::thread::sleep(Duration::from_secs(5));
        release_start(&self.config());
        std::thread::sleep(Duration::from_secs(2));
        self.sim.set_faults(&["health_down"]);
        wait_for("the hook to start", Duration::from_secs(20), || {
            self.hook_lines() == ["started"]
        });
    }

    fn hook_lines(&self) -> Vec<String> {
        lines(&self.dir.path().join("hook.log"))
    }

    /// The release's outcomes that are about the hook (`hook_*`).
    fn hook_outcomes(&self) -> Vec<String> {
        outcomes(&self.dir.path().join("oewsprobe.sqlite"))
            .into_iter()
            .filter(|o| o.starts_with("hook_"))
            .collect()
    }
}

#[test]
fn a_reload_during_the_hook_leaves_it_running_and_its_outcome_is_recorded() {
    let setup = Setup::new("");
    let daemon = setup.daemon(&[]);
    setup.breach_until_the_hook_starts();
    std::thread::sleep(Duration::from_secs(2));
    daemon.signal("HUP");
    wait_for("the hook's outcome", Duration::from_secs(20), || {
        !setup.hook_outcomes().is_empty()
    });
    setup.assert_the_hook_ran_once_and_succeeded();
    // The watch loop is kept too (the first of the other loops).
    assert!(
        daemon.log().contains(
            "oewsprobe run: SIGHUP: configuration reloaded (probe loops: 1 kept, 0 changed, 0 started, 0 stopped; other loops: 1 kept, 2 restarted, 0 started, 0 stopped)\n"
        ),
        "{}",
        daemon.log()
    );
    assert_eq!(daemon.stop(), Some(0));
}

#[test]
fn a_stop_during_the_hook_waits_for_it_ignores_a_reload_and_tells_systemd() {
    let setup = Setup::new("");
    let socket = setup.dir.path().join("notify.sock");
    let systemd = UnixDatagram::bind(&socket).expect("bind the notify socket");
    systemd
        .set_read_timeout(Some(Duration::from_secs(1)))
        .expect("timeout");
    let mut daemon = setup.daemon(&[("NOTIFY_SOCKET", socket.to_str().expect("utf-8"))]);
    setup.breach_until_the_hook_starts();
    std::thread::sleep(Duration::from_secs(1));
    daemon.signal("TERM");
    std::thread::sleep(Duration::from_secs(1));
    daemon.signal("HUP"); // `systemctl reload` while stopping ends nothing
    assert_eq!(daemon.wait_exit(Duration::from_secs(20)), Some(0));
    setup.assert_the_hook_ran_once_and_succeeded();
    let log = daemon.log();
    assert!(
        log.contains(
            "oewsprobe run: waiting for the rollback hook to finish (at most 35s; a second signal ends it)\n"
        ),
        "{log}"
    );
    assert!(
        log.contains("oewsprobe run: SIGHUP while stopping: ignored\n"),
        "{log}"
    );
    assert!(log.contains("oewsprobe run: stopped; "), "{log}");
    let mut told = Vec::new();
    let mut buf = [0u8; 256];
    while let Ok(n) = systemd.recv(&mut buf) {
        told.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert_eq!(
        told,
        ["READY=1", "STOPPING=1", "EXTEND_TIMEOUT_USEC=35000000"]
    );
}

#[test]
fn a_second_signal_during_the_hook_ends_it_and_records_hook_interrupted() {
    let setup = Setup::new("");
    let mut daemon = setup.daemon(&[]);
    setup.breach_until_the_hook_starts();
    daemon.signal("TERM");
    std::thread::sleep(Duration::from_secs(2));
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0));
    assert_eq!(
        setup.hook_outcomes(),
        [
            "hook_interrupted: the daemon was stopped while the rollback hook ran; the hook was ended"
        ]
    );
    assert!(daemon.log().contains(
        "oewsprobe run: release main-bbb: the daemon was stopped while the rollback hook ran; the hook was ended; recorded hook_interrupted\n"
    ));
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(setup.hook_lines(), ["started"], "the hook was ended");
}

#[test]
fn kill_9_during_the_hook_is_recorded_and_emailed_as_outcome_unknown_at_the_next_start() {
    let smtp = SmtpInbox::start();
    let mail = format!(
        "[alert.smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\nfrom = \"oewsprobe <oewsprobe@example.org>\"\nto = [\"sre@example.org\"]\n",
        smtp.port
    );
    let setup = Setup::new(&mail);
    let daemon = setup.daemon(&[]);
    setup.breach_until_the_hook_starts();
    drop(daemon); // SIGKILL while the hook runs
    let daemon = setup.daemon(&[]);
    wait_for("the unknown outcome", Duration::from_secs(20), || {
        !setup.hook_outcomes().is_empty()
    });
    let outcomes = setup.hook_outcomes();
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    let prefix = "hook_outcome_unknown: the process ended while the rollback hook claimed at ";
    let suffix = " ran; whether it completed is unknown";
    assert!(
        outcomes[0].starts_with(prefix) && outcomes[0].ends_with(suffix),
        "{outcomes:?}"
    );
    let line = format!(
        "oewsprobe run: release main-bbb: {}; recorded hook_outcome_unknown\n",
        outcomes[0].trim_start_matches("hook_outcome_unknown: ")
    );
    assert!(daemon.log().contains(&line), "{}", daemon.log());
    let subject = format!(
        "[oewsprobe][critical] release main-bbb: rollback hook outcome UNKNOWN — {}",
        setup.sim.url
    );
    wait_for("the email", Duration::from_secs(20), || {
        smtp.emails()
            .iter()
            .any(|e| e["subject"] == subject.as_str())
    });
}
