//! `oewsprobe` itself as a child process: the simulator command, killed on drop.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_oewsprobe");

/// `oewsprobe sim` as a child process on a free loopback port, killed on drop.
pub struct SimProcess {
    child: Child,
    pub url: String,
}

impl SimProcess {
    pub fn start(extra: &[&str]) -> SimProcess {
        let port = super::servers::free_port();
        let listen = format!("127.0.0.1:{port}");
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
        SimProcess {
            child,
            url: format!("http://{listen}"),
        }
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
}
