//! A daemon with real history for the status page's tests: `oewsprobe run` probing the simulator through a
//! real Caddy every second (`health`, and `hostile`, whose 502 body is a script), a scheduled burst of
//! `health` every 2 s (`health-burst`), a dry-run release watch that has decided to roll back (the
//! simulator's `health_down` after `release start`), and the status listener on a free loopback port.
//! `hostile` expects the proxy's 502 with a JSON body, so its findings quote the script (a status finding of
//! a 502 gives the class's hint instead of the body).
#![allow(dead_code)]

use super::process::{BIN, SimProcess};
use super::release::{FAST_WATCH, HEALTH_OBJECTIVE, outcomes, wait_for};
use super::servers::{Caddy, caddy_proxy_with_502, free_port};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// What the hostile target answers: a 502 whose body is a script.
pub const HOSTILE_BODY: &str = "<script>alert(1)</script>";
/// The released version and the one to roll back to.
pub const VERSION: &str = "main-bbb";
pub const ROLLBACK_TO: &str = "main-aaa";

pub struct PageDaemon {
    pub dir: tempfile::TempDir,
    pub sim: SimProcess,
    _caddy: Caddy,
    child: Child,
    /// `127.0.0.1:PORT` of the status listener.
    pub addr: String,
}

impl Drop for PageDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PageDaemon {
    /// Starts everything and waits for the watch's dry-run rollback decision; the fault is then cleared.
    pub fn start() -> PageDaemon {
        let sim = SimProcess::start(&[]);
        let upstream = sim
            .url
            .trim_start_matches("http://")
            .parse()
            .expect("sim address");
        let caddy = caddy_proxy_with_502(upstream, "/hostile", HOSTILE_BODY);
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("probes")).expect("probes");
        let every_second = "schedule = \"* * * * * *\"\n";
        std::fs::write(
            dir.path().join("probes/health.toml"),
            format!("description = \"the API answers\"\n{every_second}[burst]\nschedule = \"*/2 * * * * *\"\nrequests = 3\nslo = \"5s\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"800ms\"\n[expect]\nstatus = 200\n"),
        )
        .expect("probe");
        std::fs::write(
            dir.path().join("probes/hostile.toml"),
            format!("{every_second}[request]\npath = \"/hostile\"\ntimeout = \"800ms\"\n[expect]\nstatus = 502\n[[expect.json]]\npath = \"$.status\"\nexists = true\n"),
        )
        .expect("probe");
        let port = free_port();
        let config = format!(
            "target = \"http://127.0.0.1:{caddy}\"\nprobes_dir = \"probes\"\n[run]\njitter = \"0s\"\n[status]\nlisten = \"127.0.0.1:{port}\"\n\
[release]\nwatch = \"10m\"\n{FAST_WATCH}{HEALTH_OBJECTIVE}\
[[slo]]\nname = \"health-latency\"\nprobes = [\"health\"]\ntarget = 0.95\nsli = \"latency\"\nthreshold = \"500ms\"\n",
            caddy = caddy.port,
        );
        std::fs::write(dir.path().join("oewsprobe.toml"), config).expect("config");
        let child = Command::new(BIN)
            .args(["run", "--config"])
            .arg(dir.path().join("oewsprobe.toml"))
            .env_remove("OEWSPROBE_TARGET")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr.log")).expect("log"))
            .spawn()
            .expect("start oewsprobe run");
        let daemon = PageDaemon {
            dir,
            sim,
            _caddy: caddy,
            child,
            addr: format!("127.0.0.1:{port}"),
        };
        wait_for("the status listener", Duration::from_secs(15), || {
            std::net::TcpStream::connect(&daemon.addr).is_ok()
        });
        // A healthy baseline, the release, then the fault until the watch decides.
        std::thread::sleep(Duration::from_secs(5));
        daemon.oewsprobe(&[
            "release",
            "start",
            "--version",
            VERSION,
            "--rollback-to",
            ROLLBACK_TO,
        ]);
        std::thread::sleep(Duration::from_secs(2));
        daemon.sim.set_faults(&["health_down"]);
        wait_for("the dry-run decision", Duration::from_secs(30), || {
            outcomes(&daemon.store())
                .iter()
                .any(|o| o.starts_with("would_rollback: "))
        });
        daemon.sim.set_faults(&[]);
        std::thread::sleep(Duration::from_secs(2));
        daemon
    }

    /// Sends signal `name` (`HUP`, …) to the daemon.
    pub fn signal(&self, name: &str) {
        super::process::signal(&self.child, name);
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("oewsprobe.toml")
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path().join("oewsprobe.sqlite")
    }

    /// `oewsprobe ARGS --config CONFIG`, which must exit 0; its stdout.
    pub fn oewsprobe(&self, args: &[&str]) -> String {
        let out = Command::new(BIN)
            .args(args)
            .arg("--config")
            .arg(self.config())
            .env_remove("OEWSPROBE_TARGET")
            .output()
            .expect("oewsprobe");
        assert_eq!(
            out.status.code(),
            Some(0),
            "oewsprobe {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `GET path` with extra request headers: (status, headers lower-cased, body).
    pub fn get(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, Vec<(String, String)>, String) {
        let (status, headers, body) = self.get_bytes(path, headers);
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    /// [`PageDaemon::get`], the body as the bytes sent (a compressed one stays compressed).
    pub fn get_bytes(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, Vec<(String, String)>, Vec<u8>) {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let extra: String = headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}\r\n"))
            .collect();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\n{extra}Connection: close\r\n\r\n",
            self.addr
        )
        .expect("send");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).expect("read");
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(response.len());
        let head = String::from_utf8_lossy(&response[..split]).into_owned();
        let body = response.get(split + 4..).unwrap_or_default().to_vec();
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {head}"));
        let headers = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        (status, headers, body)
    }
}

/// The value of header `name` (lower case).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
