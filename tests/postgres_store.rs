//! The commands on a PostgreSQL store (`run.store = "postgres://…"`, the password by reference): `run`
//! records its runs there and its status pages read them, `status` and `store stats` read them from another
//! process, `check` takes the config; the password never shows in any output.

mod support;

use oewsprobe::store::{Location, PgTarget, Store};
use std::process::Command;
use std::time::{Duration, Instant};
use support::daemon::Daemon;
use support::postgres::{PASSWORD, PASSWORD_ROLE};
use support::process::{BIN, SimProcess};

const HEALTH_EVERY_1S: &str = "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"2s\"\n[expect]\nstatus = 200\n";
const PASSWORD_VAR: &str = "OEWSPROBE_TEST_PG_PASSWORD";

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `oewsprobe ARGS --config CONFIG` with the password's variable set: (exit code, stdout, stderr).
fn oewsprobe(config: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .arg("--config")
        .arg(config)
        .env(PASSWORD_VAR, PASSWORD)
        .env_remove("OEWSPROBE_TARGET")
        .output()
        .expect("oewsprobe runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn run_status_and_store_stats_work_on_a_postgresql_store() {
    let sim = SimProcess::start(&[]);
    let database = support::postgres::database();
    let name = database.rsplit('/').next().expect("database name");
    let server = support::postgres::server();
    let url = server.url(PASSWORD_ROLE, name);
    let port = support::servers::free_port();
    let daemon = Daemon::start_with(
        &sim.url,
        &format!(
            "store = \"{url}\"\nstore_password = \"env:{PASSWORD_VAR}\"\n[status]\nlisten = \"127.0.0.1:{port}\""
        ),
        &[("health.toml", HEALTH_EVERY_1S)],
        &[],
        &[(PASSWORD_VAR, PASSWORD)],
    );
    let location = Location::Postgres {
        target: PgTarget::parse(&url).expect("url"),
        password: Some(oewsprobe::rollback::Secret::new(
            PASSWORD.as_bytes().to_vec(),
        )),
    };
    wait_for(
        "three runs in the PostgreSQL store",
        Duration::from_secs(30),
        || {
            assert!(
                !daemon.stderr().contains("oewsprobe run: store"),
                "{}",
                daemon.stderr()
            );
            daemon.stderr().contains("oewsprobe run: watching")
                && Store::open_at(&location)
                    .and_then(|s| s.record_count())
                    .unwrap_or(0)
                    >= 3
        },
    );
    assert!(
        daemon.stderr().contains(&format!("(store {url})")),
        "the start line names the store by its URL: {}",
        daemon.stderr()
    );
    assert!(
        !std::fs::exists(daemon.store_path()).expect("exists"),
        "no SQLite file made"
    );

    // The status pages read the store through their own connection.
    let (code, _, body) = support::http_get(&format!("127.0.0.1:{port}"), "/api/v1/status");
    assert_eq!(code, 200, "{body}");
    let status: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert!(body.contains("\"health\""), "{status}");

    // Another process reads it while the daemon writes.
    let config = daemon.dir.path().join("oewsprobe.toml");
    let (code, stdout, stderr) = oewsprobe(&config, &["status"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("health"), "{stdout}");
    let (code, stdout, stderr) = oewsprobe(&config, &["store", "stats"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains(&url), "stats name the store: {stdout}");
    let (code, stdout, stderr) = oewsprobe(&config, &["check"]);
    assert_eq!(code, Some(0), "check takes the config: {stdout}{stderr}");

    // Without its password the store is refused, naming it, never the password.
    let out = Command::new(BIN)
        .args(["status", "--config"])
        .arg(&config)
        .env_remove(PASSWORD_VAR)
        .output()
        .expect("status runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "run.store_password: the environment variable {PASSWORD_VAR} is not set"
        )),
        "{stderr}"
    );

    daemon.signal("TERM");
    let mut daemon = daemon;
    let (code, stderr) = daemon.wait_exit(Duration::from_secs(20));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains(PASSWORD), "the password never shows");
    let store = Store::open_at(&location).expect("open");
    let runs = store.records_since(0).expect("runs");
    assert!(
        runs.len() >= 3 && runs.iter().all(|r| r.probe == "health"),
        "{runs:?}"
    );
}

/// The PostgreSQL server restarts while `run` probes every second: the daemon keeps probing, keeps the
/// runs it could not write, and writes them once the server is back; no scheduled second is missing.
#[test]
fn runs_made_while_postgresql_restarts_are_written_once_it_is_back() {
    let sim = SimProcess::start(&[]);
    let server = support::postgres::start();
    let url = server.database();
    let daemon = Daemon::start(
        &sim.url,
        &format!("store = \"{url}\""),
        &[("health.toml", HEALTH_EVERY_1S)],
    );
    let location = Location::Postgres {
        target: PgTarget::parse(&url).expect("url"),
        password: None,
    };
    let count = || {
        Store::open_at(&location)
            .and_then(|s| s.record_count())
            .unwrap_or(0)
    };
    wait_for("three runs", Duration::from_secs(30), || {
        daemon.stderr().contains("oewsprobe run: watching") && count() >= 3
    });
    server.restart(Duration::from_secs(4));
    let after = count();
    wait_for(
        "the runs of the outage and after",
        Duration::from_secs(40),
        || count() >= after + 8,
    );
    daemon.signal("TERM");
    let mut daemon = daemon;
    let (code, stderr) = daemon.wait_exit(Duration::from_secs(20));
    assert_eq!(code, Some(0), "{stderr}");
    let seconds: Vec<u64> = Store::open_at(&location)
        .and_then(|s| s.records_since(0))
        .expect("runs")
        .iter()
        .map(|r| r.scheduled_at_ms / 1_000)
        .collect();
    let (first, last) = (seconds[0], seconds[seconds.len() - 1]);
    let missing: Vec<u64> = (first..=last).filter(|s| !seconds.contains(s)).collect();
    assert!(
        missing.is_empty(),
        "no second without its run: missing {missing:?}\n{stderr}"
    );
    assert!(last - first >= 10, "{seconds:?}");
    assert!(
        stderr.contains("the PostgreSQL store's connection was lost; connecting again"),
        "the outage was seen: {stderr}"
    );
}

/// `/healthz` of the daemon whose status listener is on `port`: (status, JSON body).
fn healthz(port: u16) -> (u16, serde_json::Value) {
    let (status, _, body) = support::http_get(&format!("127.0.0.1:{port}"), "/healthz");
    (status, serde_json::from_str(&body).expect("healthz JSON"))
}

/// The value of the first `/metrics` line that starts with `series`.
fn metric(port: u16, series: &str) -> Option<u64> {
    let (_, _, body) = support::http_get(&format!("127.0.0.1:{port}"), "/metrics");
    body.lines()
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

/// PostgreSQL stays down longer than `run.max_waiting_records` runs take: the daemon keeps probing, keeps the
/// newest runs up to the bound, drops the oldest of the outage and counts them (`/healthz`, `/metrics`, the
/// log); once the server is back the kept runs are written, and nothing committed before is lost — the store
/// misses exactly as many seconds as were counted dropped, one stretch at the start of the outage.
#[test]
fn a_long_postgresql_outage_drops_the_oldest_runs_past_the_bound_and_counts_them() {
    let sim = SimProcess::start(&[]);
    let server = support::postgres::start();
    let url = server.database();
    let port = support::servers::free_port();
    let daemon = Daemon::start(
        &sim.url,
        &format!(
            "store = \"{url}\"\nmax_waiting_records = 10\n[status]\nlisten = \"127.0.0.1:{port}\""
        ),
        &[("health.toml", HEALTH_EVERY_1S)],
    );
    let location = Location::Postgres {
        target: PgTarget::parse(&url).expect("url"),
        password: None,
    };
    let seconds = || -> Vec<u64> {
        Store::open_at(&location)
            .and_then(|s| s.records_since(0))
            .map(|runs| runs.iter().map(|r| r.scheduled_at_ms / 1_000).collect())
            .unwrap_or_default()
    };
    wait_for("three runs", Duration::from_secs(30), || {
        daemon.stderr().contains("oewsprobe run: watching") && seconds().len() >= 3
    });
    assert_eq!(healthz(port).1["records"]["dropped"], 0);
    let before = seconds();
    server.stop();
    let mut during = serde_json::Value::Null;
    wait_for(
        "the bound hit and 3 runs dropped",
        Duration::from_secs(40),
        || {
            let (status, body) = healthz(port);
            during = body;
            status == 503 && during["records"]["dropped"].as_u64().unwrap_or(0) >= 3
        },
    );
    assert_eq!(during["records"]["waiting"], 10, "{during}");
    assert!(
        during["reason"]
            .as_str()
            .unwrap_or_default()
            .starts_with("probe records cannot be written ("),
        "{during}"
    );
    let dropped_metric = |port| {
        metric(port, "oewsprobe_records_dropped_total{")
            .expect("oewsprobe_records_dropped_total in /metrics")
    };
    assert!(dropped_metric(port) >= 3, "the metric counts the drops");
    server.start_again();
    wait_for(
        "healthy again, nothing waiting",
        Duration::from_secs(40),
        || {
            let (status, body) = healthz(port);
            status == 200 && body["records"]["waiting"] == 0
        },
    );
    let (_, after) = healthz(port);
    let dropped = after["records"]["dropped"].as_u64().expect("dropped");
    assert_eq!(dropped_metric(port), dropped, "/metrics and /healthz agree");
    wait_for(
        "a few runs after the outage",
        Duration::from_secs(20),
        || seconds().len() as u64 >= before.len() as u64 + 12,
    );
    daemon.signal("TERM");
    let mut daemon = daemon;
    let (code, stderr) = daemon.wait_exit(Duration::from_secs(20));
    assert_eq!(code, Some(0), "{stderr}");
    let stored = seconds();
    assert!(
        before.iter().all(|s| stored.contains(s)),
        "every run committed before the outage is still there: {before:?} in {stored:?}"
    );
    let (first, last) = (stored[0], stored[stored.len() - 1]);
    let missing: Vec<u64> = (first..=last).filter(|s| !stored.contains(s)).collect();
    assert_eq!(
        missing.len() as u64,
        dropped,
        "the seconds missing are the runs counted dropped: {missing:?}\n{stderr}"
    );
    assert!(
        missing.windows(2).all(|w| w[1] == w[0] + 1) && missing[0] > before[before.len() - 1],
        "one stretch, the oldest of the outage: {missing:?} after {before:?}"
    );
    assert!(
        stderr.contains("the queue for the store is full: dropped the oldest probe record"),
        "{stderr}"
    );
}

/// `?sslmode=verify-full`: the store is reached over TLS, the server's certificate verified against
/// `sslrootcert` for the URL's host — `run` writes its runs that way and every session it opens is encrypted;
/// a certificate from another CA, one for another name, and a server without TLS are each refused with the
/// reason, never used in the clear.
#[test]
fn a_postgresql_store_over_tls_is_verified_and_never_falls_back_to_plain() {
    use support::certs::{TestCa, Validity};
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = TestCa::new("oewsprobe test PostgreSQL CA");
    let server_cert = ca.issue(&["127.0.0.1"], Validity::normal());
    let server = support::postgres::start_tls(&server_cert.chain_pem, &server_cert.key_pem);
    let ca_file = ca.write(dir.path(), "ca.pem");
    let url = server.database();
    let tls_url = |url: &str, ca: &std::path::Path| {
        format!("{url}?sslmode=verify-full&sslrootcert={}", ca.display())
    };
    let open = |url: &str| {
        Store::open_url(&PgTarget::parse(url).expect("the URL"), None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    // Another CA; a certificate for another name; a server that speaks no TLS.
    let other_ca = TestCa::new("another CA").write(dir.path(), "other-ca.pem");
    let refused = open(&tls_url(&url, &other_ca)).expect_err("another CA");
    assert!(
        refused.contains("invalid peer certificate: UnknownIssuer"),
        "{refused}"
    );
    let by_name = url.replace("@127.0.0.1:", "@localhost:");
    let refused = open(&tls_url(&by_name, &ca_file)).expect_err("another name");
    assert!(
        refused.contains("invalid peer certificate: certificate not valid for name \"localhost\""),
        "{refused}"
    );
    let plain_server = support::postgres::database();
    let refused = open(&tls_url(&plain_server, &ca_file)).expect_err("no TLS");
    assert!(refused.contains("server does not support TLS"), "{refused}");

    let sim = SimProcess::start(&[]);
    let daemon = Daemon::start(
        &sim.url,
        &format!("store = \"{}\"", tls_url(&url, &ca_file)),
        &[("health.toml", HEALTH_EVERY_1S)],
    );
    let location = Location::Postgres {
        target: PgTarget::parse(&tls_url(&url, &ca_file)).expect("url"),
        password: None,
    };
    wait_for("three runs over TLS", Duration::from_secs(30), || {
        Store::open_at(&location)
            .and_then(|s| s.record_count())
            .unwrap_or(0)
            >= 3
    });
    let database = url.rsplit('/').next().expect("database");
    let sessions: Vec<bool> = server
        .connect("postgres")
        .expect("admin")
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.datname = $1 AND a.application_name = 'oewsprobe'",
            &[&database],
        )
        .expect("sessions")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(
        !sessions.is_empty() && sessions.iter().all(|&ssl| ssl),
        "every session of the store is TLS: {sessions:?}"
    );
    daemon.signal("TERM");
    let mut daemon = daemon;
    let (code, stderr) = daemon.wait_exit(Duration::from_secs(20));
    assert_eq!(code, Some(0), "{stderr}");
}
