//! Fleet mode's one leader, with real processes: three `oewsprobe run` agents on one PostgreSQL store (the
//! harness's own server), the simulator as the target, a real rollback hook and a real SMTP inbox. A release,
//! then the target broken: exactly one hook run and one alert email across the agents; `kill -9` of the
//! leader in the middle of the breach: another agent takes the lease over (the time is measured and printed),
//! and still the hook ran once, no email arrived twice and none is lost.

mod support;

use oewsprobe::store::{LEADER, NotificationState, PgTarget, Store};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::mail::SmtpInbox;
use support::process::{BIN, SimProcess};
use support::release::{
    FAST_WATCH, HEALTH_OBJECTIVE, assert_one_rollback, decisions_of, lines, release_start, wait_for,
};

const PROBE: &str = "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"2s\"\n[expect]\nstatus = 200\n";
/// A short lease, so that a takeover happens within seconds.
const TTL: Duration = Duration::from_secs(3);
const LOCATIONS: [&str; 3] = ["agent-a", "agent-b", "agent-c"];

/// One agent's config: the shared store, its own location, the short lease, the fast watch, a hook that
/// appends to `hook_log`, and alert email to the inbox.
fn config(target: &str, store: &str, location: &str, hook_log: &Path, smtp_port: u16) -> String {
    format!(
        r#"target = "{target}"
probes_dir = "probes"
[run]
jitter = "0s"
store = "{store}"
location = "{location}"
[fleet]
lease_ttl = "{ttl}s"
[release]
watch = "2m"
{FAST_WATCH}[rollback]
enabled = true
command = ["sh", "-c", "echo \"$OEWSPROBE_RELEASE\" >> {log}"]
timeout = "10s"
recovery = "60s"
{HEALTH_OBJECTIVE}[alert]
group_wait = "1s"
group_interval = "2s"
[alert.smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "plain"
from = "oewsprobe <oewsprobe@example.org>"
to = ["sre@example.org"]
"#,
        ttl = TTL.as_secs(),
        log = hook_log.display(),
    )
}

struct Agent {
    location: &'static str,
    child: Child,
    dir: tempfile::TempDir,
}

impl Agent {
    /// `oewsprobe run` in a folder of its own (its working directory: the evidence files go there).
    fn start(location: &'static str, config: &str) -> Agent {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("probes")).expect("probes");
        std::fs::write(dir.path().join("probes/health.toml"), PROBE).expect("probe");
        std::fs::write(dir.path().join("oewsprobe.toml"), config).expect("config");
        let child = Command::new(BIN)
            .args(["run", "--config"])
            .arg(dir.path().join("oewsprobe.toml"))
            .current_dir(dir.path())
            .env_remove("OEWSPROBE_TARGET")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr.log")).expect("stderr"))
            .spawn()
            .expect("start oewsprobe run");
        Agent {
            location,
            child,
            dir,
        }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("oewsprobe.toml")
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill();
    }
}

fn header<'a>(email: &'a serde_json::Value, name: &str) -> &'a str {
    email["headers"][name].as_str().unwrap_or_default()
}

/// The newest release's decisions, oldest first, as `outcome: reason`.
fn outcomes(store: &Store) -> Vec<String> {
    let releases = store.releases().expect("releases");
    releases
        .first()
        .map_or_else(Vec::new, |r| decisions_of(store, r.id))
}

#[test]
fn three_agents_roll_back_once_and_email_once_even_when_the_leader_is_killed_mid_breach() {
    let sim = SimProcess::start(&[]);
    let smtp = SmtpInbox::start();
    let url = support::postgres::database();
    let shared = tempfile::tempdir().expect("tempdir");
    let hook_log = shared.path().join("hook.log");
    let mut agents: Vec<Agent> = LOCATIONS
        .iter()
        .map(|location| {
            Agent::start(
                location,
                &config(&sim.url, &url, location, &hook_log, smtp.port),
            )
        })
        .collect();
    wait_for("every agent watching", Duration::from_secs(30), || {
        agents
            .iter()
            .all(|a| a.stderr().contains("oewsprobe run: watching"))
    });
    let store = Store::open_url(&PgTarget::parse(&url).expect("url"), None).expect("store");
    let leader = |store: &Store| store.lease(LEADER).expect("lease").expect("a leader");
    let first = leader(&store);
    let leads = |agent: &Agent, generation: u64| {
        agent
            .stderr()
            .contains(&format!("leads the fleet (lease generation {generation})"))
    };
    assert_eq!(
        agents.iter().filter(|a| leads(a, first.generation)).count(),
        1,
        "one agent leads"
    );

    std::thread::sleep(Duration::from_secs(5)); // a healthy baseline, probed from three locations
    release_start(&agents[0].config());
    std::thread::sleep(Duration::from_secs(2));
    sim.set_faults(&["health_down"]);
    wait_for("the hook", Duration::from_secs(30), || {
        !lines(&hook_log).is_empty()
    });

    // The breach goes on; the leader dies.
    let before = leader(&store);
    let dead = agents
        .iter()
        .position(|a| before.holder.starts_with(&format!("{}/", a.location)))
        .expect("the leader is one of the agents");
    agents[dead].kill();
    let killed_at = Instant::now();
    wait_for(
        "another agent to take the lease",
        Duration::from_secs(30),
        || leader(&store).generation > before.generation,
    );
    let failover = killed_at.elapsed();
    let after = leader(&store);
    println!(
        "failover: {} ms from kill -9 of {} to {} holding generation {} (lease TTL {} ms)",
        failover.as_millis(),
        before.holder,
        after.holder,
        after.generation,
        TTL.as_millis()
    );
    assert!(
        !after
            .holder
            .starts_with(&format!("{}/", agents[dead].location))
    );
    let successor = agents
        .iter()
        .position(|a| after.holder.starts_with(&format!("{}/", a.location)))
        .expect("the new leader is one of the agents");
    wait_for("the new leader to say so", Duration::from_secs(10), || {
        leads(&agents[successor], after.generation)
    });

    // The breach goes on under the new leader; then the rollback "worked": it verifies the recovery, and the
    // alert resolves.
    std::thread::sleep(Duration::from_secs(4));
    sim.set_faults(&[]);
    wait_for("the recovery check", Duration::from_secs(30), || {
        outcomes(&store)
            .iter()
            .any(|o| o.starts_with("recovery_verified: "))
    });
    let resolved = format!("[oewsprobe][resolved] RESOLVED: health — {}", sim.url);
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.outbox_summary().expect("outbox").queued > 0
        || !smtp
            .emails()
            .iter()
            .any(|e| e["subject"] == resolved.as_str())
    {
        if Instant::now() > deadline {
            let notifications: Vec<String> = store
                .notifications(100)
                .expect("notifications")
                .iter()
                .map(|n| format!("{:?} {} {}", n.state, n.email.subject, n.attempts))
                .collect();
            let logs: Vec<String> = agents
                .iter()
                .map(|a| format!("--- {}\n{}", a.location, a.stderr()))
                .collect();
            panic!(
                "not every notification delivered:\n{notifications:#?}\n{}",
                logs.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(3)); // nothing more arrives

    assert_eq!(lines(&hook_log), ["main-bbb"], "the hook ran exactly once");
    let outcomes = outcomes(&store);
    assert_one_rollback(&outcomes);
    let emails = smtp.emails();
    let firing = format!("[oewsprobe][critical] FIRING: health — {}", sim.url);
    let count = |subject: &str| emails.iter().filter(|e| e["subject"] == subject).count();
    assert_eq!(count(&firing), 1, "one alert email across three agents");
    assert_eq!(count(&resolved), 1);
    // No email twice, none lost: each notification the outbox says was sent arrived exactly once.
    let mut arrived: BTreeMap<&str, usize> = BTreeMap::new();
    for email in &emails {
        *arrived.entry(header(email, "message-id")).or_default() += 1;
    }
    let mut sent: BTreeMap<&str, usize> = BTreeMap::new();
    let notifications = store.notifications(1000).expect("notifications");
    for n in &notifications {
        assert_eq!(n.state, NotificationState::Sent, "{n:?}");
        *sent.entry(n.email.message_id.as_str()).or_default() += 1;
    }
    assert_eq!(
        arrived, sent,
        "every sent notification arrived exactly once"
    );
}

/// `oewsprobe status --format json` with `config`: the first objective's period counts (bad, location problems).
fn budget(config: &Path) -> (u64, u64) {
    let out = Command::new(BIN)
        .args(["status", "--window", "10m", "--format", "json", "--config"])
        .arg(config)
        .env_remove("OEWSPROBE_TARGET")
        .output()
        .expect("oewsprobe status");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    let counts = &json["objectives"][0]["budget"]["counts"];
    (
        counts["bad"].as_u64().unwrap_or(0),
        counts["location_problems"].as_u64().unwrap_or(0),
    )
}

/// Three agents on one PostgreSQL store, each reaching the target through its own Caddy, a release under
/// watch: the leader's own path is cut — its location is told by one `warning` email, and no alert fires, no
/// error budget is spent, no rollback runs; then the target breaks — exactly one rollback and exactly one
/// alert email across the three agents.
#[test]
fn a_cut_path_is_one_location_warning_and_a_broken_target_one_rollback_and_one_alert() {
    let sim = SimProcess::start(&[]);
    let smtp = SmtpInbox::start();
    let url = support::postgres::database();
    let shared = tempfile::tempdir().expect("tempdir");
    let hook_log = shared.path().join("hook.log");
    let mut proxies: Vec<Option<support::servers::Caddy>> = LOCATIONS
        .iter()
        .map(|_| Some(support::servers::caddy_proxy_to(sim.addr())))
        .collect();
    let agents: Vec<Agent> = LOCATIONS
        .iter()
        .zip(&proxies)
        .map(|(location, proxy)| {
            let target = format!("http://127.0.0.1:{}", proxy.as_ref().map_or(0, |c| c.port));
            Agent::start(
                location,
                &config(&target, &url, location, &hook_log, smtp.port),
            )
        })
        .collect();
    let logs = || {
        let logs: Vec<String> = agents
            .iter()
            .map(|a| format!("--- {}\n{}", a.location, a.stderr()))
            .collect();
        logs.join("\n")
    };
    wait_for("every agent watching", Duration::from_secs(30), || {
        agents
            .iter()
            .all(|a| a.stderr().contains("oewsprobe run: watching"))
    });
    let store = Store::open_url(&PgTarget::parse(&url).expect("url"), None).expect("store");
    std::thread::sleep(Duration::from_secs(5)); // a healthy baseline, probed from three locations
    release_start(&agents[0].config());

    // The leader's own path is cut.
    let holder = store
        .lease(LEADER)
        .expect("lease")
        .expect("a leader")
        .holder;
    let cut = agents
        .iter()
        .position(|a| holder.starts_with(&format!("{}/", a.location)))
        .expect("the leader is one of the agents");
    drop(proxies[cut].take());
    let warning = format!(
        "[oewsprobe][warning] health fails from {} only: a location problem, not an outage — ",
        LOCATIONS[cut]
    );
    let subjects = || -> Vec<String> {
        smtp.emails()
            .iter()
            .map(|e| e["subject"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    wait_for("the location's warning", Duration::from_secs(30), || {
        subjects().iter().any(|s| s.starts_with(&warning))
    });
    // Long enough for the page tier (4 s / 2 s), the watch (every 300 ms) and the alert policy to have acted.
    std::thread::sleep(Duration::from_secs(8));
    let (bad, location_problems) = budget(&agents[(cut + 1) % 3].config());
    assert_eq!(bad, 0, "no error budget spent\n{}", logs());
    assert!(location_problems >= 3, "{location_problems}");
    assert!(lines(&hook_log).is_empty(), "no rollback\n{}", logs());
    assert_eq!(
        subjects(),
        [subjects()
            .into_iter()
            .find(|s| s.starts_with(&warning))
            .expect("the warning")],
        "only the location's warning, once: no alert, no SLO notice\n{}",
        logs()
    );

    // The target breaks: an outage at every location.
    sim.set_faults(&["health_down"]);
    wait_for("the hook", Duration::from_secs(30), || {
        !lines(&hook_log).is_empty()
    });
    let firing = "[oewsprobe][critical] FIRING: health — ";
    wait_for("the alert email", Duration::from_secs(30), || {
        subjects().iter().any(|s| s.starts_with(firing))
    });
    std::thread::sleep(Duration::from_secs(4)); // nothing more of the kind arrives
    assert_eq!(lines(&hook_log), ["main-bbb"], "the hook ran exactly once");
    assert_one_rollback(&outcomes(&store));
    let subjects = subjects();
    let count = |prefix: &str| subjects.iter().filter(|s| s.starts_with(prefix)).count();
    assert_eq!(
        count(firing),
        1,
        "one alert email across three agents: {subjects:#?}"
    );
    assert_eq!(count(&warning), 1, "{subjects:#?}");
}
