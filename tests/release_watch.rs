//! The release watch end to end: the daemon, the simulator, a fault injected after `release start`, and a
//! real hook command. The hook runs exactly once, with the right environment, also across `kill -9`; it does
//! not run when the fault was there before the release, nor in dry-run (the decision is recorded instead).

mod support;

use oewsprobe::store::Store;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::process::{BIN, SimProcess};
use support::release::{
    FAST_WATCH, HEALTH_OBJECTIVE, assert_one_rollback, lines, outcomes, release_start_with,
    wait_for,
};

const PROBE: &str = "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"2s\"\n[expect]\nstatus = 200\n";

const SECRET_VAR: &str = "OEWSPROBE_TEST_WEBHOOK_SECRET";
const SECRET: &str = "s3cret-for-tests";

const QUERY_PROBE: &str = "schedule = \"* * * * * *\"\n[request]\nmethod = \"POST\"\npath = \"/api/v1/query\"\nbody = { query = \"What are software developer salaries in Seattle?\", enable_charts = false }\ntimeout = \"2s\"\n[expect]\nstatus = 200\n";

/// Seconds-scale watch settings: every duration is configuration.
fn config(target: &str, hook_log: &Path, enabled: bool, watch: &str) -> String {
    format!(
        r#"target = "{target}"
probes_dir = "probes"
[run]
jitter = "0s"
[release]
watch = "{watch}"
{fast_watch}[rollback]
enabled = {enabled}
command = ["sh", "-c", "echo \"$OEWSPROBE_RELEASE $OEWSPROBE_ROLLBACK_TO [$OEWSPROBE_REASON]\" >> {log}; test -s \"$OEWSPROBE_EVIDENCE\""]
timeout = "10s"
recovery = "30s"
{objective}"#,
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
    fn new(enabled: bool) -> Setup {
        Setup::with(enabled, PROBE, "2m")
    }

    /// `probe` is written as the `health` probe the objective covers.
    fn with(enabled: bool, probe: &str, watch: &str) -> Setup {
        let sim = SimProcess::start(&[]);
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("probes")).expect("probes");
        std::fs::write(dir.path().join("probes/health.toml"), probe).expect("probe");
        let text = config(&sim.url, &dir.path().join("hook.log"), enabled, watch);
        std::fs::write(dir.path().join("oewsprobe.toml"), text).expect("config");
        Setup { dir, sim }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("oewsprobe.toml")
    }

    fn daemon(&self) -> Child {
        self.daemon_with(&[])
    }

    /// The daemon with extra environment variables.
    fn daemon_with(&self, env: &[(&str, &str)]) -> Child {
        Command::new(BIN)
            .args(["run", "--config"])
            .arg(self.config())
            .env_remove("OEWSPROBE_TARGET")
            .env(SECRET_VAR, SECRET)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("daemon")
    }

    fn release_start(&self) {
        self.release_start_as("main-bbb");
    }

    fn release_start_as(&self, version: &str) {
        release_start_with(&self.config(), version, &[(SECRET_VAR, SECRET)]);
    }

    fn fault(&self, fault: &str) {
        self.sim.set_faults(&[fault]);
    }

    /// Replaces `from` with `to` in the config file (which must contain it).
    fn edit_config(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.config()).expect("config");
        assert!(text.contains(from), "the config has no {from:?}");
        std::fs::write(self.config(), text.replace(from, to)).expect("config");
    }

    /// With the daemon running: a healthy baseline, `release start`, then `health_down` until the hook's outcome
    /// (`hook_…`) is recorded.
    fn breach_until_the_hooks_outcome(&self) {
        std::thread::sleep(Duration::from_secs(5));
        self.release_start();
        std::thread::sleep(Duration::from_secs(2));
        self.fault("health_down");
        wait_for("the hook's outcome", Duration::from_secs(30), || {
            self.outcomes().iter().any(|o| o.starts_with("hook_"))
        });
    }

    /// The daemon through a healthy baseline, `release start`, `before_fault`, the fault, and `after`; then
    /// killed.
    fn release_then_fault(&self, baseline: u64, before_fault: u64, fault: &str, after: u64) {
        let mut daemon = self.daemon();
        std::thread::sleep(Duration::from_secs(baseline));
        self.release_start();
        std::thread::sleep(Duration::from_secs(before_fault));
        self.fault(fault);
        std::thread::sleep(Duration::from_secs(after));
        kill(&mut daemon);
    }

    /// Asserts that no hook ran and no rollback (real or dry-run) was decided; returns the outcomes.
    fn assert_no_rollback(&self) -> Vec<String> {
        assert!(self.hook_lines().is_empty(), "{:?}", self.hook_lines());
        let outcomes = self.outcomes();
        assert!(
            !outcomes
                .iter()
                .any(|o| o.starts_with("rollback") || o.starts_with("would_rollback")),
            "{outcomes:?}"
        );
        outcomes
    }

    fn hook_lines(&self) -> Vec<String> {
        lines(&self.dir.path().join("hook.log"))
    }

    fn outcomes(&self) -> Vec<String> {
        outcomes(&self.dir.path().join("oewsprobe.sqlite"))
    }
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_fault_after_the_release_runs_the_hook_exactly_once_even_across_kill_9() {
    let setup = Setup::new(true);
    let mut daemon = setup.daemon();
    std::thread::sleep(Duration::from_secs(5)); // a healthy baseline
    setup.release_start();
    std::thread::sleep(Duration::from_secs(2));
    setup.fault("health_down");
    wait_for("the hook", Duration::from_secs(20), || {
        !setup.hook_lines().is_empty()
    });
    std::thread::sleep(Duration::from_secs(3)); // the breach continues
    kill(&mut daemon); // SIGKILL: no graceful anything
    setup.sim.set_faults(&[]); // the rollback "worked": health is back
    let mut daemon = setup.daemon();
    wait_for("the recovery check", Duration::from_secs(20), || {
        setup
            .outcomes()
            .iter()
            .any(|o| o.starts_with("recovery_verified: "))
    });
    kill(&mut daemon);
    let lines = setup.hook_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("main-bbb main-aaa ["), "{}", lines[0]);
    let outcomes = setup.outcomes();
    assert_one_rollback(&outcomes);
    assert!(
        outcomes
            .iter()
            .any(|o| o.starts_with("hook_succeeded: rollback hook exited 0")),
        "{outcomes:?}"
    );
}

#[test]
fn no_hook_when_the_fault_was_there_before_the_release() {
    let setup = Setup::new(true);
    let mut daemon = setup.daemon();
    std::thread::sleep(Duration::from_secs(2));
    setup.fault("health_down");
    std::thread::sleep(Duration::from_secs(5)); // broken before the release
    setup.release_start();
    std::thread::sleep(Duration::from_secs(6));
    kill(&mut daemon);
    let outcomes = setup.assert_no_rollback();
    assert!(
        outcomes.iter().any(|o| o.starts_with("hold: ")),
        "{outcomes:?}"
    );
}

#[test]
fn dry_run_records_the_decision_and_calls_nothing() {
    let setup = Setup::new(false);
    let mut daemon = setup.daemon();
    std::thread::sleep(Duration::from_secs(5));
    setup.release_start();
    std::thread::sleep(Duration::from_secs(2));
    setup.fault("health_down");
    wait_for("the dry-run decision", Duration::from_secs(20), || {
        setup
            .outcomes()
            .iter()
            .any(|o| o.starts_with("would_rollback: "))
    });
    std::thread::sleep(Duration::from_secs(2));
    kill(&mut daemon);
    assert!(setup.hook_lines().is_empty(), "dry run calls no hook");
    let outcomes = setup.outcomes();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.starts_with("would_rollback: "))
            .count(),
        1,
        "recorded once: {outcomes:?}"
    );
}

#[test]
fn only_throttled_runs_never_roll_back() {
    let setup = Setup::with(true, QUERY_PROBE, "2m");
    // After the release every query gets 429: inconclusive, never bad.
    setup.release_then_fault(5, 1, "rate_limited", 7);
    setup.assert_no_rollback();
}

#[test]
fn no_hook_once_the_watch_window_has_ended() {
    let setup = Setup::with(true, PROBE, "3s");
    setup.release_then_fault(5, 4, "health_down", 6); // the 3 s watch is over before the fault
    setup.assert_no_rollback();
}

#[test]
fn too_few_samples_since_the_warm_up_never_roll_back() {
    let setup = Setup::new(true);
    setup.edit_config("\nmin_samples = 2\n", "\nmin_samples = 1000\n");
    setup.release_then_fault(5, 2, "health_down", 7);
    let outcomes = setup.assert_no_rollback();
    let too_few: Vec<_> = outcomes
        .iter()
        .filter(|o| o.ends_with("fewer than the 1000 required"))
        .collect();
    assert_eq!(
        too_few.len(),
        1,
        "the hold is recorded once, not once per new sample: {outcomes:?}"
    );
}

/// Every webhook call received: its signature header and its body.
type Received = std::sync::Arc<std::sync::Mutex<Vec<(Option<String>, Vec<u8>)>>>;

/// A webhook receiver on loopback: every POST's signature header and body.
fn webhook_receiver() -> (String, Received) {
    use axum::{Router, body::Bytes, http::HeaderMap, routing::post};
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = received.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async move {
            let receive = post(move |headers: HeaderMap, body: Bytes| {
                let sink = sink.clone();
                async move {
                    let signature = headers
                        .get("x-oewsprobe-signature")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    sink.lock().expect("lock").push((signature, body.to_vec()));
                    "ok"
                }
            });
            // `/hook/{capability}`: a webhook URL whose path is itself a credential.
            let app = Router::new()
                .route("/hook", receive.clone())
                .route("/hook/{capability}", receive);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr")).expect("send");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    let addr = rx.recv().expect("receiver address");
    (format!("http://{addr}/hook"), received)
}

#[test]
fn the_webhook_gets_the_evidence_signed_once_and_the_secret_stays_out_of_the_store() {
    let (url, received) = webhook_receiver();
    let setup = Setup::new(true);
    setup.edit_config(
        "recovery = \"30s\"\n",
        &format!(
            "recovery = \"30s\"\nwebhook = \"{url}\"\nwebhook_secret = \"env:{SECRET_VAR}\"\n"
        ),
    );
    let mut daemon = setup.daemon();
    std::thread::sleep(Duration::from_secs(5));
    setup.release_start();
    std::thread::sleep(Duration::from_secs(2));
    setup.fault("health_down");
    wait_for("the webhook", Duration::from_secs(20), || {
        !received.lock().expect("lock").is_empty()
    });
    std::thread::sleep(Duration::from_secs(2));
    kill(&mut daemon);
    let calls = received.lock().expect("lock").clone();
    assert_eq!(calls.len(), 1, "one webhook call");
    let (signature, body) = &calls[0];
    let expected = oewsprobe::rollback::signature(
        &oewsprobe::rollback::Secret::new(SECRET.as_bytes().to_vec()),
        body,
    );
    assert_eq!(signature.as_deref(), Some(expected.as_str()));
    let evidence: serde_json::Value = serde_json::from_slice(body).expect("JSON evidence");
    assert_eq!(evidence["release"]["version"], "main-bbb");
    assert_eq!(setup.hook_lines().len(), 1, "the command hook ran too");
    let outcomes = setup.outcomes();
    assert!(
        outcomes
            .iter()
            .any(|o| o.starts_with("hook_succeeded: rollback hook exited 0")
                && o.contains("webhook answered 200")),
        "{outcomes:?}"
    );
    let store_bytes = std::fs::read(setup.dir.path().join("oewsprobe.sqlite")).expect("store file");
    assert!(
        !String::from_utf8_lossy(&store_bytes).contains(SECRET),
        "the secret is not stored"
    );
}

#[test]
fn budget_skips_never_roll_back() {
    let setup = Setup::with(true, &format!("queries = 1\n{QUERY_PROBE}"), "2m");
    setup.edit_config(
        "[release]\n",
        "[budget]\nqueries_per_hour = 0\nexempt_loopback = false\n[release]\n",
    );
    setup.release_then_fault(3, 0, "error500", 6); // error500 would fail every query, if one were sent
    assert_eq!(
        setup.sim.stats()["valid_queries"],
        0,
        "the budget let nothing through"
    );
    setup.assert_no_rollback();
}

const SMTP_PASSWORD: &str = "smtp-pw-for-tests";
const OTLP_TOKEN: &str = "otlp-token-for-tests";
const WEBHOOK_CAPABILITY: &str = "capability-for-tests";

#[test]
fn the_hook_gets_an_allow_listed_environment_and_no_secret_reaches_the_store() {
    let (url, received) = webhook_receiver();
    let setup = Setup::new(true);
    let dir = setup.dir.path();
    let secrets = [SECRET, SMTP_PASSWORD, OTLP_TOKEN];
    std::fs::write(dir.join("secrets.txt"), secrets.join("\n")).expect("secrets file");
    let unused_port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let hook = format!(
        r#"command = ["sh", "-c", "env > {env}; echo hook-output-marker; env; cat {secrets}; echo >> {log}"]"#,
        env = dir.join("hook.env").display(),
        secrets = dir.join("secrets.txt").display(),
        log = dir.join("hook.log").display(),
    );
    let text = std::fs::read_to_string(setup.config()).expect("config");
    let command = text
        .lines()
        .find(|l| l.starts_with("command = "))
        .expect("command line");
    setup.edit_config(command, &hook);
    setup.edit_config(
        "recovery = \"30s\"\n",
        &format!(
            "recovery = \"30s\"\nenv = [\"OEWSPROBE_TEST_PASSED\"]\nwebhook = \"{url}/{WEBHOOK_CAPABILITY}\"\nwebhook_secret = \"env:{SECRET_VAR}\"\n\
             [alert.smtp]\nhost = \"127.0.0.1\"\nport = {unused_port}\nsecurity = \"plain\"\nusername = \"u\"\n\
             password = \"env:OEWSPROBE_TEST_SMTP_PASSWORD\"\nfrom = \"oewsprobe@example.org\"\nto = [\"ops@example.org\"]\n\
             [telemetry]\nendpoint = \"http://127.0.0.1:{unused_port}\"\nheaders = {{ Authorization = \"env:OEWSPROBE_TEST_OTLP\" }}\n"
        ),
    );
    let bearer = format!("Bearer {OTLP_TOKEN}");
    let mut daemon = setup.daemon_with(&[
        ("OEWSPROBE_TEST_SMTP_PASSWORD", SMTP_PASSWORD),
        ("OEWSPROBE_TEST_OTLP", &bearer),
        ("OEWSPROBE_TEST_PASSED", "passed-on"),
        ("OEWSPROBE_TEST_NOT_PASSED", "kept-back"),
    ]);
    setup.breach_until_the_hooks_outcome();
    kill(&mut daemon); // SIGKILL: the WAL stays as it is
    assert_eq!(received.lock().expect("lock").len(), 1, "one webhook call");
    let outcomes = setup.outcomes();
    assert!(
        outcomes
            .iter()
            .any(|o| o.starts_with("hook_succeeded: rollback hook exited 0")),
        "{outcomes:?}"
    );
    let hook_env = std::fs::read_to_string(dir.join("hook.env")).expect("the hook's env");
    assert!(
        hook_env.contains("OEWSPROBE_TEST_PASSED=passed-on\n"),
        "{hook_env}"
    );
    assert!(
        hook_env.contains("OEWSPROBE_RELEASE=main-bbb\n"),
        "{hook_env}"
    );
    assert!(
        !hook_env.contains("OEWSPROBE_TEST_NOT_PASSED"),
        "{hook_env}"
    );
    let mut stored = String::new();
    for file in ["oewsprobe.sqlite", "oewsprobe.sqlite-wal"] {
        let bytes = std::fs::read(dir.join(file)).unwrap_or_default();
        stored.push_str(&String::from_utf8_lossy(&bytes));
    }
    assert!(
        stored.contains("hook-output-marker"),
        "the hook's output is stored"
    );
    assert!(
        stored.contains("[redacted]"),
        "the secrets it printed are redacted"
    );
    for secret in secrets.iter().chain([&WEBHOOK_CAPABILITY]) {
        assert!(
            !hook_env.contains(secret),
            "{secret} is in the hook's environment"
        );
        assert!(!stored.contains(secret), "{secret} is in the store");
    }
}

#[test]
fn a_version_with_a_slash_gets_its_evidence_file_beside_the_store() {
    let setup = Setup::new(true);
    let mut daemon = setup.daemon();
    std::thread::sleep(Duration::from_secs(5));
    setup.release_start_as("feature/x");
    std::thread::sleep(Duration::from_secs(2));
    setup.fault("health_down");
    wait_for("the hook's outcome", Duration::from_secs(30), || {
        setup.outcomes().iter().any(|o| o.starts_with("hook_"))
    });
    kill(&mut daemon);
    let outcomes = setup.outcomes();
    assert!(
        outcomes
            .iter()
            .any(|o| o.starts_with("hook_succeeded: rollback hook exited 0")),
        "the hook found its evidence file: {outcomes:?}"
    );
    let evidence: Vec<String> = std::fs::read_dir(setup.dir.path())
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("rollback-"))
        .collect();
    assert_eq!(evidence.len(), 1, "{evidence:?}");
    assert!(
        evidence[0].starts_with("rollback-feature_x-") && evidence[0].ends_with(".json"),
        "{evidence:?}"
    );
}

/// Whether `pid` is a live process (not gone, not a zombie waiting to be reaped).
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'))
    })
}

/// Replaces the hook command of the config.
fn set_hook(setup: &Setup, command: &str) {
    let text = std::fs::read_to_string(setup.config()).expect("config");
    let old = text
        .lines()
        .find(|l| l.starts_with("command = "))
        .expect("command line");
    setup.edit_config(old, &format!("command = {command}"));
}

#[test]
fn a_hook_past_its_timeout_leaves_no_process_of_its_group_running() {
    let setup = Setup::new(true);
    let pid_file = setup.dir.path().join("child.pid");
    set_hook(
        &setup,
        &format!(
            r#"["sh", "-c", "sleep 60 & echo $! > {}; echo started a child; sleep 60"]"#,
            pid_file.display()
        ),
    );
    setup.edit_config("timeout = \"10s\"", "timeout = \"1s\"");
    let mut daemon = setup.daemon();
    setup.breach_until_the_hooks_outcome();
    let outcomes = setup.outcomes();
    assert!(
        outcomes
            .iter()
            .any(|o| o.starts_with("hook_failed: rollback hook killed after its timeout")),
        "{outcomes:?}"
    );
    let child = std::fs::read_to_string(&pid_file).expect("the child's pid");
    assert!(
        !alive(child.trim()),
        "the hook's child {} outlived hook_failed",
        child.trim()
    );
    kill(&mut daemon);
    let store = Store::open(&setup.dir.path().join("oewsprobe.sqlite")).expect("store");
    let release = store.releases().expect("releases").remove(0);
    let failed = store
        .decisions(release.id)
        .expect("decisions")
        .into_iter()
        .find(|d| d.outcome == "hook_failed")
        .expect("hook_failed");
    assert_eq!(
        failed.evidence["command"]["stdout"], "started a child\n",
        "the output before the kill is kept"
    );
}
