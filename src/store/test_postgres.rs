//! A real PostgreSQL 15 server for tests (Debian's `postgresql` package): one per test process, started on
//! first use in a temp dir (initdb as the `postgres` user when run as root), listening on 127.0.0.1 and a free
//! port only, stopped and removed when the test process ends (a watchdog shell waits for it). Each test makes
//! its own database ([`database`]). Shared by the unit tests (`store::test_postgres`) and `tests/support`.
//!
//! No test skips when PostgreSQL is missing: [`server`] panics, saying what to install.
// Shared by the unit tests and tests/support: each uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The superuser the tests connect as (trusted on loopback).
pub const SUPERUSER: &str = "oewsprobe_test";
/// A role that must give its password (scram-sha-256), to test `run.store_password`.
pub const PASSWORD_ROLE: &str = "oewsprobe_pw";
/// Its password.
pub const PASSWORD: &str = "s3cret-for-tests";

/// The running server.
#[derive(Debug)]
pub struct Server {
    pub port: u16,
    pub dir: PathBuf,
    bin: PathBuf,
    /// Options beyond [`options`]' (TLS).
    extra: String,
    /// Outlives this process on purpose: it stops the server after it.
    _watchdog: std::process::Child,
}

/// Where Debian installs PostgreSQL's programs.
fn bin_dir() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|dir| dir.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.retain(|bin| bin.join("initdb").is_file());
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL is not installed ({}/*/bin/initdb missing): install Debian's `postgresql` package \
             (scripts/test does)",
            root.display()
        )
    })
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `program args…`, as the `postgres` user when this process is root (initdb refuses to run as root).
fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// The server's options: loopback and `port` only, its socket in `dir`, durability off (a test server).
fn options(port: u16, dir: &Path) -> String {
    format!(
        "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=200",
        dir.display()
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The server of this test process, started on first use.
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(start)
}

/// A server of its own, for a test that stops and starts it ([`Server::restart`]); stopped like the shared
/// one when the test process ends.
pub fn start() -> Server {
    start_with(String::new(), |_| {})
}

/// A server of its own that also speaks TLS (`ssl = on`) with the certificate chain and key in these PEM
/// texts; plain connections are still taken.
pub fn start_tls(chain_pem: &str, key_pem: &str) -> Server {
    start_with(
        "-c ssl=on -c ssl_cert_file=server.pem -c ssl_key_file=server-key.pem".into(),
        |data| {
            std::fs::write(data.join("server.pem"), chain_pem).expect("the server's certificate");
            let key = data.join("server-key.pem");
            std::fs::write(&key, key_pem).expect("the server's key");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
                .expect("the key's mode");
            if is_root() {
                let chown = Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(data.join("server.pem"))
                    .arg(&key)
                    .status()
                    .expect("chown");
                assert!(chown.success(), "chown of the server's key failed");
            }
        },
    )
}

/// A server with `extra` options; `prepare` is given its data directory after initdb.
fn start_with(extra: String, prepare: impl FnOnce(&Path)) -> Server {
    let bin = bin_dir();
    let dir = std::env::temp_dir().join(format!(
        "oewsprobe-pg-{}-{}",
        std::process::id(),
        free_port()
    ));
    let data = dir.join("data");
    std::fs::create_dir_all(&dir).expect("the server's temp dir");
    if is_root() {
        let chown = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .expect("chown");
        assert!(chown.success(), "chown of {} failed", dir.display());
    }
    let initdb = as_postgres(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-U", SUPERUSER, "-A", "trust", "--no-sync", "-E", "UTF8"])
        .output()
        .expect("initdb runs");
    assert!(
        initdb.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&initdb.stderr)
    );
    // Trust for the superuser; the password role must give its password.
    std::fs::write(
        data.join("pg_hba.conf"),
        format!(
            "local all all trust\nhost all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n\
             host all all 127.0.0.1/32 trust\n"
        ),
    )
    .expect("pg_hba.conf");
    prepare(&data);
    let port = free_port();
    // The watchdog: starts the server, waits for this process to end, then stops the server and removes
    // its files.
    let postgres = format!(
        "{runuser} {bin}/postgres -D {data} {options} {extra}",
        options = options(port, &dir),
        runuser = if is_root() {
            "runuser -u postgres --"
        } else {
            ""
        },
        bin = bin.display(),
        data = data.display(),
    );
    let script = format!(
        "{postgres} >{log} 2>&1 &\n\
         while kill -0 {parent} 2>/dev/null; do sleep 0.5; done\n\
         kill -INT $(head -1 {data}/postmaster.pid) 2>/dev/null; sleep 3; rm -rf {dir}\n",
        log = dir.join("server.log").display(),
        parent = std::process::id(),
        data = data.display(),
        dir = dir.display(),
    );
    let watchdog = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server's watchdog starts");
    let server = Server {
        port,
        dir,
        bin,
        extra,
        _watchdog: watchdog,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut client = loop {
        match server.connect("postgres") {
            Ok(client) => break client,
            Err(e) if Instant::now() > deadline => panic!(
                "the test PostgreSQL server did not start on port {port}: {e}; its log: {}",
                std::fs::read_to_string(server.dir.join("server.log")).unwrap_or_default()
            ),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    client
        .batch_execute(&format!(
            "CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{PASSWORD}' CREATEDB"
        ))
        .expect("the password role");
    server
}

impl Server {
    /// Stops the server (fast: sessions are ended), keeps it down for `down`, and starts it again with
    /// the same data, port and options.
    pub fn restart(&self, down: Duration) {
        self.stop();
        std::thread::sleep(down);
        self.start_again();
    }

    /// Stops the server (fast: sessions are ended); [`Server::start_again`] starts it with the same data.
    pub fn stop(&self) {
        let stop = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["stop", "-m", "fast", "-w"])
            .output()
            .expect("pg_ctl stop");
        assert!(
            stop.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&stop.stderr)
        );
    }

    /// Starts the stopped server again with the same data, port and options.
    pub fn start_again(&self) {
        let options = format!("{} {}", options(self.port, &self.dir), self.extra);
        let start = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .arg("-l")
            .arg(self.dir.join("server-restarted.log"))
            .args(["-o", &options, "start", "-w"])
            .stdout(Stdio::null())
            .output()
            .expect("pg_ctl start");
        assert!(
            start.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&start.stderr)
        );
    }

    /// A client of `database`, as the superuser.
    pub fn connect(&self, database: &str) -> Result<postgres::Client, postgres::Error> {
        postgres::Config::new()
            .host("127.0.0.1")
            .port(self.port)
            .user(SUPERUSER)
            .dbname(database)
            .connect(postgres::NoTls)
    }

    /// The URL of `database` for `user`, as `run.store` takes it.
    pub fn url(&self, user: &str, database: &str) -> String {
        format!("postgres://{user}@127.0.0.1:{}/{database}", self.port)
    }
}

/// A new, empty database on the test server, owned by [`PASSWORD_ROLE`] (so both roles can use it); returns
/// its URL for the superuser.
pub fn database() -> String {
    server().database()
}

impl Server {
    /// A new, empty database on this server (as [`database`] on the shared one).
    pub fn database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        self.connect("postgres")
            .and_then(|mut c| {
                c.batch_execute(&format!("CREATE DATABASE {name} OWNER {PASSWORD_ROLE}"))
            })
            .expect("a test database");
        self.url(SUPERUSER, &name)
    }
}
