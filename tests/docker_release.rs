//! The runbook's release loop end to end on the real Docker engine: `oewsprobe run` on the host watches the
//! deployment through Caddy; a bad image deployed after `release start` breaches, and the shipped
//! `deploy/rollback-docker.sh` (configured only by its environment settings) brings the good image back,
//! exactly once across `kill -9`, after which the probes pass and the watch verifies the recovery. In dry-run
//! the bad container keeps running and `would_rollback` is recorded; a hook that fails is told with its own
//! words in `status` and the decision email.

mod support;

use oewsprobe::store::Store;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::docker::Deployment;
use support::mail::SmtpInbox;
use support::process::BIN;
use support::release::{FAST_WATCH, HEALTH_OBJECTIVE};

const HOOK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/rollback-docker.sh");

/// The monitor's folder: config, probe, store.
struct Monitor {
    dir: tempfile::TempDir,
}

impl Monitor {
    /// A 1 s `health` probe through Caddy, seconds-scale watch settings, the shipped Docker hook with the
    /// deployment's settings (and `extra` ones), rollback `enabled` or dry-run, and `more` config.
    fn new(deployment: &Deployment, enabled: bool, extra: &[(&str, &str)], more: &str) -> Monitor {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("probes")).expect("probes");
        std::fs::write(
            dir.path().join("probes/health.toml"),
            "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"2s\"\n[expect]\nstatus = 200\n",
        )
        .expect("probe");
        let mut settings: Vec<(String, String)> = deployment.hook_settings();
        settings.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut command = vec!["env".to_string()];
        command.extend(settings.iter().map(|(k, v)| format!("{k}={v}")));
        command.push(HOOK.to_string());
        let command = serde_json::to_string(&command).expect("json");
        let config = format!(
            r#"target = "{target}"
probes_dir = "probes"
[run]
jitter = "0s"
[release]
watch = "10m"
{fast_watch}[rollback]
enabled = {enabled}
command = {command}
timeout = "60s"
recovery = "30s"
{objective}{more}
"#,
            target = deployment.target(),
            fast_watch = FAST_WATCH,
            objective = HEALTH_OBJECTIVE,
        );
        std::fs::write(dir.path().join("oewsprobe.toml"), config).expect("config");
        Monitor { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("oewsprobe.toml")
    }

    fn start(&self) -> Child {
        Command::new(BIN)
            .args(["run", "--config"])
            .arg(self.config())
            .env_remove("OEWSPROBE_TARGET")
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.dir.path().join("daemon.log"))
                    .expect("log"),
            ))
            .spawn()
            .expect("oewsprobe run")
    }

    fn command(&self, args: &[&str]) -> String {
        let out = Command::new(BIN)
            .args(args)
            .arg("--config")
            .arg(self.config())
            .output()
            .expect("oewsprobe");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn release_start(&self, version: &str, rollback_to: &str) {
        self.command(&[
            "release",
            "start",
            "--version",
            version,
            "--rollback-to",
            rollback_to,
        ]);
    }

    fn store(&self) -> Store {
        Store::open(&self.dir.path().join("oewsprobe.sqlite")).expect("store")
    }

    /// The release's decisions as `outcome: reason`, oldest first.
    fn outcomes(&self) -> Vec<String> {
        support::release::outcomes(&self.dir.path().join("oewsprobe.sqlite"))
    }

    fn count(&self, prefix: &str) -> usize {
        self.outcomes()
            .iter()
            .filter(|o| o.starts_with(prefix))
            .count()
    }

    /// Failed runs of `health` stored so far.
    fn failed_runs(&self) -> usize {
        self.store()
            .records_since(0)
            .expect("records")
            .iter()
            .filter(|r| r.verdict == oewsprobe::probe::Verdict::Fail)
            .count()
    }

    fn wait_for(&self, what: &str, timeout: Duration, done: impl Fn(&Monitor) -> bool) {
        let deadline = Instant::now() + timeout;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; decisions: {:?}\nlog:\n{}",
                self.outcomes(),
                std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn kill_9(daemon: &mut Child) {
    let _ = daemon.kill();
    let _ = daemon.wait();
}

fn tag(image: &str) -> &str {
    image.rsplit_once(':').map_or(image, |(_, tag)| tag)
}

/// A deployment on the good image, with a bad one (every request answers 500) on the host.
fn deployed() -> (Deployment, String, String) {
    Deployment::with_good_and_bad(false)
}

#[test]
fn a_bad_release_is_rolled_back_by_the_shipped_hook_exactly_once_across_kill_9() {
    let (deployment, good, bad) = deployed();
    let monitor = Monitor::new(&deployment, true, &[], "");
    let mut daemon = monitor.start();
    std::thread::sleep(Duration::from_secs(5)); // a healthy baseline, through Caddy
    monitor.release_start(tag(&bad), tag(&good));
    deployment.deploy(&bad); // the runbook's deploy: stop, rm, run, network connect
    monitor.wait_for("a failed run", Duration::from_secs(20), |m| {
        m.failed_runs() >= 1
    });
    kill_9(&mut daemon); // in the middle of the breach, before any decision to roll back
    assert_eq!(monitor.count("rollback: "), 0, "{:?}", monitor.outcomes());
    let mut daemon = monitor.start();
    monitor.wait_for("the recovery", Duration::from_secs(90), |m| {
        m.count("recovery_verified: ") == 1
    });
    kill_9(&mut daemon);
    let mut daemon = monitor.start(); // and once more after the rollback: nothing is done again
    std::thread::sleep(Duration::from_secs(5));
    kill_9(&mut daemon);

    let outcomes = monitor.outcomes();
    assert_eq!(monitor.count("rollback: "), 1, "{outcomes:?}");
    assert_eq!(
        monitor.count("hook_succeeded: rollback hook exited 0 after "),
        1,
        "{outcomes:?}"
    );
    assert_eq!(monitor.count("recovery_verified: "), 1, "{outcomes:?}");
    assert_eq!(monitor.count("hook_failed"), 0, "{outcomes:?}");
    let scope = &deployment.scope;
    assert_eq!(scope.image_of(&deployment.container), good);
    assert!(scope.running(&deployment.container));
    assert!(
        scope
            .networks_of(&deployment.container)
            .contains(&deployment.network)
    );
    assert_eq!(deployment.proxy_status("/api/v1/health"), Some(200));
    // The hook's own account is kept with the outcome.
    let store = monitor.store();
    let release = store.releases().expect("releases").remove(0);
    let hook = store
        .decisions(release.id)
        .expect("decisions")
        .into_iter()
        .find(|d| d.outcome == "hook_succeeded")
        .expect("hook_succeeded");
    let stdout = hook.evidence["command"]["stdout"]
        .as_str()
        .unwrap_or_default();
    assert!(
        stdout.ends_with(&format!(
            "rollback: {good} is on the host\nrollback: {} is healthy on {good}\n",
            deployment.container
        )),
        "{stdout}"
    );
}

#[test]
fn in_dry_run_the_bad_container_keeps_running_and_would_rollback_is_recorded() {
    let (deployment, good, bad) = deployed();
    let monitor = Monitor::new(&deployment, false, &[], "");
    let mut daemon = monitor.start();
    std::thread::sleep(Duration::from_secs(5));
    monitor.release_start(tag(&bad), tag(&good));
    deployment.deploy(&bad);
    monitor.wait_for("the dry-run decision", Duration::from_secs(30), |m| {
        m.count("would_rollback: ") == 1
    });
    std::thread::sleep(Duration::from_secs(3));
    kill_9(&mut daemon);
    let outcomes = monitor.outcomes();
    assert_eq!(monitor.count("rollback: "), 0, "{outcomes:?}");
    assert_eq!(monitor.count("hook_"), 0, "{outcomes:?}");
    assert_eq!(deployment.scope.image_of(&deployment.container), bad);
    assert!(deployment.scope.running(&deployment.container));
}

#[test]
fn a_failed_hook_is_told_in_its_own_words_in_status_and_the_decision_email() {
    let (deployment, good, bad) = deployed();
    let smtp = SmtpInbox::start();
    let alert = format!(
        "[alert]\ngroup_wait = \"1s\"\ngroup_interval = \"3s\"\n[alert.smtp]\nhost = \"127.0.0.1\"\nport = {}\n\
         security = \"plain\"\nfrom = \"oewsprobe@example.org\"\nto = [\"sre@example.org\"]\n",
        smtp.port
    );
    // The previous image is neither on the host nor pullable: a registry on loopback where nothing listens.
    let registry = "127.0.0.1:9/varunr89/oews";
    let monitor = Monitor::new(&deployment, true, &[("OEWS_IMAGE", registry)], &alert);
    let mut daemon = monitor.start();
    std::thread::sleep(Duration::from_secs(5));
    monitor.release_start(tag(&bad), tag(&good));
    deployment.deploy(&bad);
    monitor.wait_for("the hook's failure", Duration::from_secs(60), |m| {
        m.count("hook_failed: ") == 1
    });
    let said = format!(
        "rollback failed: {registry}:{} is not on the host and cannot be pulled: ",
        tag(&good)
    );
    let status = monitor.command(&["status"]);
    let line = status
        .lines()
        .find(|l| l.starts_with("last decision: hook_failed — "))
        .unwrap_or_else(|| panic!("{status}"));
    assert!(
        line.starts_with(&format!(
            "last decision: hook_failed — rollback hook exited 1: {said}"
        )),
        "{line}"
    );
    assert!(line.contains("; nothing was changed ("), "{line}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let email = loop {
        let emails = smtp.emails();
        if let Some(email) = emails.iter().find(|e| {
            e["subject"]
                .as_str()
                .is_some_and(|s| s.contains("rollback hook FAILED"))
        }) {
            break email.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no hook_failed email among {:?}",
            emails
                .iter()
                .map(|e| e["subject"].clone())
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let text = email["text"].as_str().unwrap_or_default();
    assert!(text.contains(&said), "{text}");
    kill_9(&mut daemon);
    // Nothing was changed: the bad container still runs, on the proxy network.
    assert_eq!(deployment.scope.image_of(&deployment.container), bad);
    assert!(deployment.scope.running(&deployment.container));
}
