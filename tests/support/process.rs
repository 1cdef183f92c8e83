//! `oewsprobe` itself as a child process: the simulator command, killed on drop.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_oewsprobe");

/// `oewsprobe sim` as a child process on a free loopback port, killed on drop (HTTPS with `--tls-cert`).
pub struct SimProcess {
    child: Child,
    pub url: String,
}

impl SimProcess {
    pub fn start(extra: &[&str]) -> SimProcess {
        let port = super::servers::free_port();
        SimProcess::start_on(&format!("127.0.0.1:{port}"), extra)
    }

    /// The address it listens on (a plain-HTTP simulator's), for a proxy in front of it.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.url
            .trim_start_matches("http://")
            .parse()
            .expect("sim address")
    }

    /// The simulator listening on `listen` (an `IP:port` on loopback).
    pub fn start_on(listen: &str, extra: &[&str]) -> SimProcess {
        let listen = listen.to_string();
        let child = Command::new(BIN)
            .args(["sim", "--listen", &listen])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start oewsprobe sim");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(&listen).is_err() {
            assert!(Instant::now() < deadline, "sim did not listen on {listen}");
            std::thread::sleep(Duration::from_millis(20));
        }
        let scheme = if extra.contains(&"--tls-cert") {
            "https"
        } else {
            "http"
        };
        SimProcess {
            child,
            url: format!("{scheme}://{listen}"),
        }
    }
}

impl SimProcess {
    /// `oewsprobe sim` over HTTPS with this certificate chain and key (PEM files).
    pub fn start_tls(cert: &std::path::Path, key: &std::path::Path) -> SimProcess {
        let path = |p: &std::path::Path| p.to_str().expect("a UTF-8 path").to_string();
        SimProcess::start(&["--tls-cert", &path(cert), "--tls-key", &path(key)])
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SimProcess {
    /// The simulator's `/__sim/stats`, fetched with a plain HTTP/1.1 request.
    pub fn stats(&self) -> serde_json::Value {
        let (_, _, body) = super::http_get(self.url.trim_start_matches("http://"), "/__sim/stats");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("stats JSON ({e}): {body}"))
    }

    /// Replaces the simulator's faults (`PUT /__sim/faults`).
    pub fn set_faults(&self, faults: &[&str]) {
        use std::io::{Read, Write};
        let addr = self.url.trim_start_matches("http://");
        let body = serde_json::json!({ "faults": faults }).to_string();
        let mut s = std::net::TcpStream::connect(addr).expect("connect to sim");
        write!(
            s,
            "PUT /__sim/faults HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut response = String::new();
        s.read_to_string(&mut response).expect("read");
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }
}

/// `kill -s NAME` to `child`, with the shell's own `kill` (the tests need no procps).
pub fn signal(child: &Child, name: &str) {
    let status = Command::new("sh")
        .args(["-c", &format!("kill -s {name} {}", child.id())])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// `oewsprobe run --config FILE` as a child process with captured output, killed on drop.
pub struct Daemon {
    child: Child,
    log: std::path::PathBuf,
}

impl Daemon {
    /// Starts the daemon; its stdout and stderr go to `log` (appended, so restarts keep one log).
    pub fn start(config: &std::path::Path, log: &std::path::Path, env: &[(&str, &str)]) -> Daemon {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("daemon log");
        let child = Command::new(BIN)
            .args(["run", "--config"])
            .arg(config)
            .env_remove("OEWSPROBE_TARGET")
            .envs(env.iter().copied())
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .spawn()
            .expect("start oewsprobe run");
        Daemon {
            child,
            log: log.to_path_buf(),
        }
    }

    /// `kill -s NAME` to the daemon.
    pub fn signal(&self, name: &str) {
        signal(&self.child, name);
    }

    /// SIGTERM, then waits for the exit; returns the exit code.
    pub fn stop(mut self) -> Option<i32> {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            assert!(Instant::now() < deadline, "daemon did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the daemon to exit by itself (it is not signalled); returns its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the daemon did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything the daemon wrote so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
