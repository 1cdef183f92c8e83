//! The status listener cannot starve probing: a real daemon with 64 open files allowed, more idle connections
//! held to its status port than its connection cap, keeps probing every second; idle connections are closed
//! after the header-read timeout.

mod support;

use oewsprobe::probe::Verdict;
use oewsprobe::store::Store;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::process::{BIN, SimProcess};

/// `oewsprobe run` with `ulimit -n 64` (soft and hard), a 1 s health probe and the status listener on `port`.
fn start_daemon(dir: &std::path::Path, target: &str, port: u16) -> Child {
    std::fs::create_dir(dir.join("probes")).expect("probes dir");
    std::fs::write(
        dir.join("probes").join("h.toml"),
        "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"800ms\"\n[expect]\nstatus = 200\n",
    )
    .expect("probe");
    std::fs::write(
        dir.join("oewsprobe.toml"),
        format!(
            "target = \"{target}\"\nprobes_dir = \"probes\"\n[run]\njitter = \"0s\"\n[status]\nlisten = \"127.0.0.1:{port}\"\n"
        ),
    )
    .expect("config");
    Command::new("sh")
        .args(["-c", "ulimit -n 64 && exec \"$0\" run --config \"$1\""])
        .arg(BIN)
        .arg(dir.join("oewsprobe.toml"))
        .env_remove("OEWSPROBE_TARGET")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr.log")).expect("log"))
        .spawn()
        .expect("start the daemon")
}

/// (passed, other) runs recorded in the store since `since_ms`.
fn runs_since(dir: &std::path::Path, since_ms: u64) -> (usize, usize) {
    let records = Store::open(&dir.join("oewsprobe.sqlite"))
        .and_then(|s| s.records_since(since_ms))
        .expect("records");
    let passed = records
        .iter()
        .filter(|r| r.verdict == Verdict::Pass)
        .count();
    (passed, records.len() - passed)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

#[test]
fn idle_status_connections_beyond_the_cap_never_starve_probing() {
    let sim = SimProcess::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let port = support::servers::free_port();
    let mut daemon = start_daemon(dir.path(), &sim.url, port);
    let addr = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            Instant::now() < deadline,
            "the status listener did not open"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1_500));
    // 100 idle connections: more than the 64 descriptors the daemon may open at all.
    let held: Vec<std::net::TcpStream> = (0..100)
        .map(|_| std::net::TcpStream::connect(&addr).expect("connect"))
        .collect();
    let since = now_ms();
    std::thread::sleep(Duration::from_millis(4_000));
    let (passed, other) = runs_since(dir.path(), since);
    let stderr = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
    assert!(
        passed >= 3 && other == 0,
        "{passed} passed, {other} other\n{stderr}"
    );
    // Past the header-read timeout every held connection has been closed by the daemon.
    std::thread::sleep(Duration::from_millis(2_000));
    for mut stream in held {
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let mut byte = [0u8; 1];
        let read = stream.read(&mut byte);
        assert!(
            matches!(read, Ok(0))
                || read
                    .as_ref()
                    .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
            "still open: {read:?}"
        );
    }
    let (code, body) = {
        let (status, _, body) = support::http_get(&addr, "/healthz");
        (status, body)
    };
    assert_eq!(code, 200, "{body}");
    let _ = daemon.kill();
    let _ = daemon.wait();
}
