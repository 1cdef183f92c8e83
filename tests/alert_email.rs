//! Alert email end to end: `oewsprobe run` as a real process against the simulator, with a real SMTP server
//! (`tests/support/smtp_inbox.py` on aiosmtpd, installed by `scripts/test`) receiving the mail. One email per outage, a resolved notice threaded
//! under it, one grouped email when everything fails, nothing lost or doubled when SMTP is down (also across
//! a `kill -9`), a bounded number of emails from a flapping probe, silences, watch decisions, no password.

mod support;

use oewsprobe::store::Store;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use support::mail::{InboxOptions, SmtpInbox};
use support::process::{BIN, Daemon, SimProcess};

const WAIT: Duration = Duration::from_secs(20);
const PASSWORD_VAR: &str = "OEWSPROBE_TEST_SMTP_PASSWORD";
const PASSWORD: &str = "pw-Zq81-never-shown";

fn probe(path: &str) -> String {
    format!(
        "schedule = \"* * * * * *\"\n[request]\npath = \"{path}\"\ntimeout = \"2s\"\n[expect]\nstatus = 200\n"
    )
}

/// A folder with the config, the probes and the store.
struct Setup {
    dir: tempfile::TempDir,
    sim: SimProcess,
}

impl Setup {
    /// `probes`: (name, path); `alert`: extra lines of the `[alert]` table (else a 1 s group wait and a 3 s
    /// group interval); `smtp`: extra lines of `[alert.smtp]`; `extra`: more config after them.
    fn new(probes: &[(&str, &str)], smtp_port: u16, alert: &str, smtp: &str, extra: &str) -> Setup {
        let alert = if alert.is_empty() {
            "group_wait = \"1s\"\ngroup_interval = \"3s\""
        } else {
            alert
        };
        let sim = SimProcess::start(&[]);
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("probes")).expect("probes");
        for (name, path) in probes {
            std::fs::write(dir.path().join(format!("probes/{name}.toml")), probe(path))
                .expect("probe");
        }
        let config = format!(
            r#"target = "{target}"
probes_dir = "probes"
[run]
jitter = "0s"
[alert]
retry_initial = "300ms"
retry_max = "1s"
{alert}
[alert.smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "plain"
from = "oewsprobe <oewsprobe@example.org>"
to = ["sre@example.org", "oncall@example.org"]
{smtp}
{extra}
"#,
            target = sim.url
        );
        std::fs::write(dir.path().join("oewsprobe.toml"), config).expect("config");
        Setup { dir, sim }
    }

    /// One `health` probe, the default `[alert]` timing, plain SMTP on `smtp_port`, and `extra` config.
    fn health(smtp_port: u16, extra: &str) -> Setup {
        Setup::new(&[("health", "/api/v1/health")], smtp_port, "", "", extra)
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("oewsprobe.toml")
    }

    fn daemon(&self, env: &[(&str, &str)]) -> Daemon {
        Daemon::start(&self.config(), &self.dir.path().join("daemon.log"), env)
    }

    fn store(&self) -> Store {
        Store::open(&self.dir.path().join("oewsprobe.sqlite")).expect("store")
    }

    /// Runs an `oewsprobe` command with this config, without the SMTP password in its environment (the
    /// store-only commands need none); returns its stdout, asserting success.
    fn command(&self, args: &[&str]) -> String {
        let output = Command::new(BIN)
            .args(args)
            .arg("--config")
            .arg(self.config())
            .env_remove(PASSWORD_VAR)
            .output()
            .expect("run oewsprobe");
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

fn header<'a>(email: &'a serde_json::Value, name: &str) -> &'a str {
    email["headers"][name].as_str().unwrap_or_default()
}

fn subjects(emails: &[serde_json::Value]) -> Vec<&str> {
    emails
        .iter()
        .map(|e| e["subject"].as_str().unwrap_or_default())
        .collect()
}

/// Waits until `done` holds of the store.
fn wait_store(setup: &Setup, what: &str, done: impl Fn(&Store) -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done(&setup.store()) {
        if Instant::now() > deadline {
            let log =
                std::fs::read_to_string(setup.dir.path().join("daemon.log")).unwrap_or_default();
            panic!(
                "timed out waiting for {what}; status:\n{}\nlog:\n{log}",
                setup.command(&["status"])
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits for the first email and asserts it is the `health` alert firing.
fn assert_one_firing_health(smtp: &SmtpInbox) {
    let emails = smtp.wait_for(1, WAIT);
    let subject = emails[0]["subject"].as_str().unwrap_or_default();
    assert!(
        subject.starts_with("[oewsprobe][critical] FIRING: health — "),
        "{subject}"
    );
}

/// Asserts that the inbox still holds exactly `n` emails after `settle`.
fn still(smtp: &SmtpInbox, n: usize, settle: Duration) -> Vec<serde_json::Value> {
    std::thread::sleep(settle);
    let emails = smtp.emails();
    assert_eq!(emails.len(), n, "{:?}", subjects(&emails));
    emails
}

#[test]
fn a_fault_gives_one_alert_email_and_its_removal_one_resolved_email_threaded_under_it() {
    let smtp = SmtpInbox::start();
    let setup = Setup::health(smtp.port, "");
    let daemon = setup.daemon(&[]);
    std::thread::sleep(Duration::from_millis(2500));
    assert!(smtp.emails().is_empty(), "healthy: no email");
    let started = format!(
        "oewsprobe.sqlite); alert email to sre@example.org, oncall@example.org via 127.0.0.1:{} (plain)\n",
        smtp.port
    );
    assert!(daemon.log().contains(&started), "{}", daemon.log());
    setup.sim.set_faults(&["bad_gateway"]);
    let emails = smtp.wait_for(1, WAIT);
    let alert = &emails[0];
    assert_eq!(
        alert["subject"],
        format!("[oewsprobe][critical] FIRING: health — {}", setup.sim.url)
    );
    let text = alert["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("health — FIRING (class proxy_bad_gateway)"),
        "{text}"
    );
    assert!(
        text.contains("  - GET /api/v1/health: expected 200, got 502"),
        "{text}"
    );
    assert!(
        text.contains("hint: the reverse proxy cannot reach the container"),
        "{text}"
    );
    assert!(
        alert["html"]
            .as_str()
            .unwrap_or_default()
            .contains("<h3>health — FIRING")
    );
    let to: Vec<&str> = alert["to"]
        .as_array()
        .expect("to")
        .iter()
        .map(|t| t["address"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(to, ["sre@example.org", "oncall@example.org"]);
    assert_eq!(alert["from"][0]["address"], "oewsprobe@example.org");
    still(&smtp, 1, Duration::from_secs(3));

    setup.sim.set_faults(&[]);
    let emails = smtp.wait_for(2, WAIT);
    let resolved = &emails[1];
    assert_eq!(
        resolved["subject"],
        format!("[oewsprobe][resolved] RESOLVED: health — {}", setup.sim.url)
    );
    assert_eq!(
        header(resolved, "in-reply-to"),
        header(alert, "message-id"),
        "threaded under the alert"
    );
    assert!(header(alert, "message-id").starts_with("<oewsprobe.alerts.alert."));
    still(&smtp, 2, Duration::from_secs(3));
    assert_eq!(daemon.stop(), Some(0));
    let summary = setup.store().outbox_summary().expect("outbox");
    assert_eq!((summary.sent, summary.queued, summary.failed), (2, 0, 0));
}

#[test]
fn health_down_with_every_probe_failing_is_one_grouped_email() {
    let smtp = SmtpInbox::start();
    let probes = [
        ("health", "/api/v1/health"),
        ("models", "/api/v1/models"),
        ("ready", "/api/v1/health"),
        ("registry", "/api/v1/models"),
    ];
    let setup = Setup::new(&probes, smtp.port, "", "", "");
    let _daemon = setup.daemon(&[]);
    std::thread::sleep(Duration::from_millis(1500));
    setup.sim.set_faults(&["bad_gateway"]);
    let emails = smtp.wait_for(1, WAIT);
    assert_eq!(
        emails[0]["subject"],
        format!(
            "[oewsprobe][critical] FIRING: health, models, ready, registry — {}",
            setup.sim.url
        )
    );
    still(&smtp, 1, Duration::from_secs(4));
}

/// Waits until the outbox holds a notification that failed at least once.
fn wait_retrying(setup: &Setup) {
    wait_store(setup, "a failed delivery attempt", |store| {
        store.outbox_summary().is_ok_and(|s| s.retrying >= 1)
    });
}

/// A daemon whose alert fired while SMTP was down, once a delivery attempt has failed; `extra` is more config.
fn alert_fired_while_smtp_is_down(extra: &str) -> (SmtpInbox, Setup, Daemon) {
    let mut smtp = SmtpInbox::start();
    smtp.stop();
    let setup = Setup::health(smtp.port, extra);
    let daemon = setup.daemon(&[]);
    setup.sim.set_faults(&["error500"]);
    wait_retrying(&setup);
    (smtp, setup, daemon)
}

/// A `/metrics` line of the daemon's location (the host name: the tests set no `run.location`).
fn metric_line(name: &str, value: u64) -> String {
    format!(
        "{name}{{oewsprobe_location=\"{}\"}} {value}",
        oewsprobe::config::default_location()
    )
}

/// The `oewsprobe_notifications*` lines of the daemon's `/metrics`.
fn notification_metrics(listen: &str) -> Vec<String> {
    let (status, _, body) = support::http_get(listen, "/metrics");
    assert_eq!(status, 200);
    body.lines()
        .filter(|l| l.starts_with("oewsprobe_notifications"))
        .map(str::to_string)
        .collect()
}

#[test]
fn smtp_down_when_the_alert_fires_then_up_delivers_it_once() {
    let listen = format!("127.0.0.1:{}", support::servers::free_port());
    let (mut smtp, setup, daemon) =
        alert_fired_while_smtp_is_down(&format!("[status]\nlisten = \"{listen}\"\n"));
    let status = setup.command(&["status"]);
    let refused = format!(
        "last delivery error: SMTP 127.0.0.1:{}: cannot connect",
        smtp.port
    );
    assert!(status.contains(&refused), "{status}");
    assert!(
        daemon
            .log()
            .contains("alert email not delivered; will retry"),
        "{}",
        daemon.log()
    );
    // Visible in the metrics too: failed attempts counted, one notification waiting.
    let lines = notification_metrics(&listen);
    assert!(
        lines.contains(&metric_line("oewsprobe_notifications_queued", 1)),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("oewsprobe_notifications_failed_total{")),
        "{lines:?}"
    );
    smtp.start_again();
    smtp.wait_for(1, WAIT);
    still(&smtp, 1, Duration::from_secs(3));
    let lines = notification_metrics(&listen);
    assert!(
        lines.contains(&metric_line("oewsprobe_notifications_sent_total", 1)),
        "{lines:?}"
    );
    assert!(
        lines.contains(&metric_line("oewsprobe_notifications_queued", 0)),
        "{lines:?}"
    );
}

#[test]
fn an_open_maintenance_window_silences_the_alert() {
    let smtp = SmtpInbox::start();
    let window = "[[alert.maintenance]]\nname = \"always\"\ncron = \"* * * * * *\"\nduration = \"5s\"\nreason = \"load test\"\n";
    let setup = Setup::health(smtp.port, window);
    let _daemon = setup.daemon(&[]);
    setup.sim.set_faults(&["error500"]);
    wait_store(&setup, "the silenced notification", |store| {
        store.outbox_summary().is_ok_and(|s| s.silenced == 1)
    });
    let recorded = setup.store().notifications(1).expect("outbox");
    let by = recorded[0].silenced_by.as_deref().unwrap_or_default();
    assert!(
        by.starts_with("maintenance window \"always\" until ") && by.ends_with(": load test"),
        "{by}"
    );
    still(&smtp, 0, Duration::from_secs(2));
    let listing = setup.command(&["silence", "list"]);
    assert!(listing.starts_with("no active silences\nmaintenance window \"always\": every probe; \"* * * * * *\" for 5s; OPEN until "), "{listing}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_smtp_server_that_never_answers_delays_no_probe() {
    let hung = support::servers::hung_server().await;
    let smtp = "timeout = \"2s\"";
    let setup = Setup::new(&[("health", "/api/v1/health")], hung.port(), "", smtp, "");
    let daemon = setup.daemon(&[]);
    setup.sim.set_faults(&["error500"]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = setup.store().record_count().expect("count");
    tokio::time::sleep(Duration::from_secs(8)).await;
    let during = setup.store().record_count().expect("count") - before;
    // One run a second, on schedule, while every delivery attempt hangs until its 2 s timeout: had delivery
    // been on the probes' path, at most one run per timeout (4). A little slack for a loaded machine.
    assert!((6..=9).contains(&during), "{during} runs in 8 s");
    let summary = setup.store().outbox_summary().expect("outbox");
    assert_eq!((summary.queued, summary.sent), (1, 0));
    let error = summary.last_error.unwrap_or_default();
    assert_eq!(error, format!("SMTP {hung}: timed out after 2s"));
    drop(daemon);
}

#[test]
fn smtp_down_then_a_kill_9_then_smtp_up_still_delivers_exactly_once() {
    let (mut smtp, setup, daemon) = alert_fired_while_smtp_is_down("");
    drop(daemon); // SIGKILL
    smtp.start_again();
    let _restarted = setup.daemon(&[]);
    assert_one_firing_health(&smtp);
    // The fault goes on: the restarted daemon knows the alert already fired and was queued.
    still(&smtp, 1, Duration::from_secs(4));
    assert_eq!(setup.store().outbox_summary().expect("outbox").sent, 1);
}

#[test]
fn a_flapping_probe_sends_no_more_than_one_email_per_group_interval() {
    let smtp = SmtpInbox::start();
    // Every change of verdict is an alert event; at most one email per 6 s may tell of them.
    let alert = "fire_after = 1\nwindow = 1\nresolve_after = 1\ngroup_wait = \"1s\"\ngroup_interval = \"6s\"";
    let setup = Setup::new(&[("health", "/api/v1/health")], smtp.port, alert, "", "");
    setup.sim.set_faults(&["flaky=0.5"]);
    let started = Instant::now();
    let daemon = setup.daemon(&[]);
    std::thread::sleep(Duration::from_secs(18));
    assert_eq!(daemon.stop(), Some(0));
    let elapsed = started.elapsed().as_secs();
    std::thread::sleep(Duration::from_secs(1));
    let emails = smtp.emails().len() as u64;
    // The state machine's own events, replayed from the stored runs: far more than the emails.
    let policy = oewsprobe::alert::AlertPolicy {
        fire_after: 1,
        window: 1,
        resolve_after: 1,
        ..Default::default()
    };
    let mut state = oewsprobe::alert::AlertState::default();
    let mut events = 0;
    for record in setup.store().records_since(0).expect("records") {
        let (next, event) =
            oewsprobe::alert::step(&policy, &state, record.verdict, record.scheduled_at_ms);
        state = next;
        events += u64::from(event.is_some());
    }
    let bound = 1 + elapsed / 6;
    assert!(
        events > bound,
        "the probe flapped {events} times; the test needs more flapping than the bound {bound}"
    );
    assert!(
        emails >= 1 && emails <= bound,
        "{emails} emails for {events} alert events in {elapsed}s; bound {bound}"
    );
}

#[test]
fn a_silenced_alert_is_recorded_not_sent_and_is_announced_when_the_silence_is_removed() {
    let smtp = SmtpInbox::start();
    let setup = Setup::health(smtp.port, "");
    let added = setup.command(&[
        "silence",
        "add",
        "--probe",
        "health",
        "--for",
        "1h",
        "--reason",
        "planned maintenance",
    ]);
    assert!(
        added.starts_with("added silence #1: health until "),
        "{added}"
    );
    let _daemon = setup.daemon(&[]);
    setup.sim.set_faults(&["error500"]);
    wait_store(&setup, "the silenced notification", |store| {
        store.outbox_summary().is_ok_and(|s| s.silenced == 1)
    });
    still(&smtp, 0, Duration::from_secs(2));
    let recorded = setup.store().notifications(10).expect("outbox");
    assert!(recorded[0].silenced_by.as_deref().is_some_and(
        |s| s.starts_with("silence #1 until ") && s.ends_with(": planned maintenance")
    ));
    assert_eq!(
        setup.command(&["silence", "remove", "1"]),
        "silence #1 removed\n"
    );
    assert_one_firing_health(&smtp);
    still(&smtp, 1, Duration::from_secs(2));
}

#[test]
fn the_password_is_used_but_never_shown() {
    let smtp = SmtpInbox::start_with(InboxOptions {
        login: Some(("oewsprobe".into(), PASSWORD.into())),
        ..InboxOptions::default()
    });
    let login = format!("username = \"oewsprobe\"\npassword = \"env:{PASSWORD_VAR}\"");
    let setup = Setup::new(&[("health", "/api/v1/health")], smtp.port, "", &login, "");
    let daemon = setup.daemon(&[(PASSWORD_VAR, PASSWORD), ("RUST_LOG", "trace")]);
    setup.sim.set_faults(&["error500"]);
    let emails = smtp.wait_for(1, WAIT);
    let status = setup.command(&["status", "--format", "json"]);
    let source = smtp.source(emails[0]["id"].as_str().expect("id"));
    let log = daemon.log();
    assert!(
        log.contains("alert email sent"),
        "delivered with the login: {log}"
    );
    for (what, text) in [
        ("the log", &log),
        ("the email", &source),
        ("status", &status),
    ] {
        assert!(!text.contains(PASSWORD), "the password appears in {what}");
    }
}

#[test]
fn a_dry_run_watch_decision_and_an_slo_tier_breach_are_emailed() {
    let smtp = SmtpInbox::start();
    let extra = r#"[release]
warmup = "1s"
min_samples = 2
baseline = "4s"
baseline_min_samples = 2
prober_window = "3s"
evaluate_every = "300ms"
[rollback]
enabled = false
[[slo]]
name = "health"
probes = ["health"]
target = 0.9
min_bad = 2
[[slo.tiers]]
name = "fast"
severity = "page"
long = "4s"
short = "2s"
burn = 5
"#;
    let setup = Setup::health(smtp.port, extra);
    let _daemon = setup.daemon(&[]);
    std::thread::sleep(Duration::from_secs(5));
    setup.command(&["release", "start", "--version", "v2", "--rollback-to", "v1"]);
    std::thread::sleep(Duration::from_secs(2));
    setup.sim.set_faults(&["error500"]);
    let target = &setup.sim.url;
    let decision = format!(
        "[oewsprobe][warning] release v2: rollback to v1 would be called (dry run) — {target}"
    );
    let tier = format!(
        "[oewsprobe][critical] SLO health tier fast (page) burning its error budget — {target}"
    );
    let firing = format!("[oewsprobe][critical] FIRING: health — {target}");
    let deadline = Instant::now() + WAIT;
    loop {
        let emails = smtp.emails();
        let arrived = subjects(&emails);
        if [&decision, &tier, &firing]
            .iter()
            .all(|s| arrived.contains(&s.as_str()))
        {
            break;
        }
        assert!(Instant::now() < deadline, "{arrived:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let emails = still(&smtp, 3, Duration::from_secs(2));
    let decision_email = emails
        .iter()
        .find(|e| e["subject"] == decision.as_str())
        .expect("decision");
    assert!(
        decision_email["text"]
            .as_str()
            .unwrap_or_default()
            .contains("release under watch: v2")
    );
}
