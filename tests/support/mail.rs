//! Real SMTP servers on loopback for alert-email tests: `tests/support/smtp_inbox.py` (aiosmtpd, from PyPI,
//! installed by `scripts/test`), which keeps every accepted message as a file in an inbox folder, startable
//! and stoppable on the same port; and a throwaway certificate authority for its TLS.
#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How the SMTP server speaks TLS.
#[derive(Debug, Clone)]
pub enum Tls {
    /// Implicit TLS (SMTPS) with this certificate and key (PEM).
    Implicit(PathBuf, PathBuf),
    /// STARTTLS offered, and required before any mail, with this certificate and key (PEM).
    Starttls(PathBuf, PathBuf),
}

/// How an SMTP inbox is started.
#[derive(Debug, Clone, Default)]
pub struct InboxOptions {
    /// The login the server requires (AUTH PLAIN or LOGIN, also over plain SMTP).
    pub login: Option<(String, String)>,
    /// Plain SMTP (and no STARTTLS offered) when `None`.
    pub tls: Option<Tls>,
    /// The first message's DATA is answered only after this long.
    pub slow_first: Option<Duration>,
}

/// A running SMTP server on 127.0.0.1:`port` whose accepted messages the test reads from its inbox folder.
/// Its whole process group is killed on drop. The inbox is kept across [`SmtpInbox::stop`] and
/// [`SmtpInbox::start_again`].
pub struct SmtpInbox {
    pub port: u16,
    options: InboxOptions,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl SmtpInbox {
    /// Plain SMTP, no login.
    pub fn start() -> SmtpInbox {
        SmtpInbox::start_with(InboxOptions::default())
    }

    pub fn start_with(options: InboxOptions) -> SmtpInbox {
        let mut inbox = SmtpInbox {
            port: super::servers::free_port(),
            options,
            child: None,
            dir: tempfile::tempdir().expect("tempdir"),
        };
        inbox.start_again();
        inbox
    }

    /// Starts the server (again) on the same port and inbox; waits until it accepts connections.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "the SMTP inbox is already running");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_inbox.py");
        let mut command = Command::new("python3");
        command
            .arg(script)
            .args(["--port", &self.port.to_string()])
            .arg("--inbox")
            .arg(self.inbox());
        match &self.options.tls {
            Some(Tls::Implicit(cert, key)) => command.arg("--tls").arg(cert).arg(key),
            Some(Tls::Starttls(cert, key)) => command.arg("--starttls").arg(cert).arg(key),
            None => &mut command,
        };
        if let Some((user, pass)) = &self.options.login {
            command.args(["--login", user, pass]);
        }
        if let Some(slow) = self.options.slow_first {
            command.args(["--slow-first", &slow.as_secs_f64().to_string()]);
        }
        let log = std::fs::File::create(self.log_path()).expect("SMTP inbox log");
        let child = command
            .process_group(0)
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("python3 must be on PATH (the SMTP inbox is a Python script)");
        self.child = Some(child);
        let listening = format!("listening on {}", self.port);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.log().contains(&listening) {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            let log = self.log();
            assert!(
                !log.contains("No module named 'aiosmtpd'"),
                "the SMTP inbox needs aiosmtpd: python3 -m pip install -r tests/requirements.txt \
                 (scripts/test installs it)"
            );
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "the SMTP inbox did not start ({exited:?}):\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server and every process it started; returns once its port refuses connections.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // The group id is the child's pid (`process_group(0)`).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .status();
        let _ = child.kill();
        let _ = child.wait();
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "the SMTP inbox's port stays open"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every email received, oldest first: `id`, `subject`, `from` and `to` (`[{address, name}]`), `headers`
    /// (lower-case names), `text`, `html` and `envelope` (`from`, `to`).
    pub fn emails(&self) -> Vec<serde_json::Value> {
        let mut names: Vec<String> = std::fs::read_dir(self.inbox())
            .expect("read the inbox")
            .map(|entry| {
                entry
                    .expect("inbox entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.ends_with(".json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|name| {
                let text =
                    std::fs::read_to_string(self.inbox().join(name)).expect("read a message");
                let mut email: serde_json::Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("inbox JSON {name} ({e}): {text}"));
                email["id"] = name.trim_end_matches(".json").into();
                email
            })
            .collect()
    }

    /// Waits until at least `n` emails arrived; returns them all. Panics after `timeout`.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let emails = self.emails();
            if emails.len() >= n {
                return emails;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} emails after {timeout:?}; server log:\n{}",
                emails.len(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The raw message as received, for the email with this `id`.
    pub fn source(&self, id: &str) -> String {
        std::fs::read_to_string(self.inbox().join(format!("{id}.eml"))).expect("the raw message")
    }

    /// The id of the server's process group while it runs (the same as its pid).
    pub fn process_group(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What the server printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn inbox(&self) -> PathBuf {
        self.dir.path().join("inbox")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("smtp.log")
    }
}

impl Drop for SmtpInbox {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A certificate authority made for one test, and a server certificate it signed for 127.0.0.1, as PEM files.
pub struct TestCa {
    pub ca_file: PathBuf,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestCa {
    pub fn new() -> TestCa {
        use super::certs::{self, Validity};
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = certs::TestCa::new("oewsprobe test CA");
        let (cert_file, key_file) = ca
            .issue(&["127.0.0.1", "localhost"], Validity::normal())
            .write(dir.path(), "server");
        TestCa {
            ca_file: ca.write(dir.path(), "ca.pem"),
            cert_file,
            key_file,
            _dir: dir,
        }
    }

    /// Implicit TLS with this server certificate.
    pub fn implicit_tls(&self) -> Option<Tls> {
        Some(Tls::Implicit(self.cert_file.clone(), self.key_file.clone()))
    }

    /// STARTTLS, offered and required, with this server certificate.
    pub fn starttls(&self) -> Option<Tls> {
        Some(Tls::Starttls(self.cert_file.clone(), self.key_file.clone()))
    }
}
