//! Alert email over a real SMTP server on loopback (`tests/support/smtp_inbox.py`, on aiosmtpd): `oewsprobe alert test`
//! end to end — plain, login, implicit TLS, STARTTLS, and each failure with its exact line and exit code —
//! and the mailer's threading headers as received.

mod support;

use oewsprobe::alert::{Mailer, RenderedEmail, SmtpSecurity, SmtpSettings};
use oewsprobe::rollback::Secret;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use support::mail::{InboxOptions, SmtpInbox, TestCa};

const TARGET: &str = "http://127.0.0.1:9";
const PASSWORD: &str = "s3cret-Pa55-for-alert-tests";
const PASSWORD_VAR: &str = "OEWSPROBE_TEST_SMTP_PASSWORD";
const WAIT: Duration = Duration::from_secs(10);

/// A config file with `[alert.smtp]` for port `port` and the extra lines `extra`.
fn config(port: u16, extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("oewsprobe.toml");
    let text = format!(
        "[alert.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nfrom = \"oewsprobe <oewsprobe@example.org>\"\n\
         to = [\"sre@example.org\", \"oncall@example.org\"]\ntimeout = \"5s\"\n{extra}"
    );
    std::fs::write(&path, text).expect("write config");
    (dir, path)
}

/// `oewsprobe alert test` with `config`, a local target, and `password` in the environment.
fn alert_test(config: &Path, password: &str) -> Output {
    alert_test_logged(config, password, "warn")
}

/// The same at a log level: `debug` shows what the libraries log, which must not include the password either.
fn alert_test_logged(config: &Path, password: &str, log_level: &str) -> Output {
    Command::new(support::process::BIN)
        .args(["--log-level", log_level, "alert", "test", "--config"])
        .arg(config)
        .arg("--probes")
        .arg(support::shipped_probes())
        .args(["--target", TARGET])
        .env(PASSWORD_VAR, password)
        .env_remove("RUST_LOG")
        .output()
        .expect("run oewsprobe")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn addresses(list: &serde_json::Value) -> Vec<&str> {
    list.as_array()
        .expect("address list")
        .iter()
        .map(|a| a["address"].as_str().expect("address"))
        .collect()
}

#[test]
fn alert_test_over_plain_smtp_delivers_one_exact_email() {
    let smtp = SmtpInbox::start();
    let (_dir, cfg) = config(smtp.port, "security = \"plain\"\n");
    let out = alert_test(&cfg, "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "sent a test email to sre@example.org, oncall@example.org via 127.0.0.1:{} (plain)\n",
            smtp.port
        )
    );
    smtp.wait_for(1, WAIT);
    std::thread::sleep(Duration::from_millis(300));
    let emails = smtp.emails();
    assert_eq!(emails.len(), 1, "exactly one email");
    let email = &emails[0];
    assert_eq!(
        email["subject"],
        "[oewsprobe][test] alert email works — http://127.0.0.1:9"
    );
    assert_eq!(addresses(&email["from"]), ["oewsprobe@example.org"]);
    assert_eq!(email["from"][0]["name"], "oewsprobe");
    assert_eq!(
        addresses(&email["to"]),
        ["sre@example.org", "oncall@example.org"]
    );
    let body = email["text"].as_str().expect("a text part");
    assert!(
        body.contains("target: http://127.0.0.1:9\nSMTP server: 127.0.0.1:"),
        "{body}"
    );
    let html = email["html"].as_str().expect("an html part");
    assert!(
        html.contains("<h2>oewsprobe: alert email works</h2>"),
        "{html}"
    );
    let id = email["id"].as_str().expect("id");
    assert!(
        smtp.source(id)
            .contains("Content-Type: multipart/alternative;")
    );
}

/// An SMTP server that requires the login `oewsprobe` / [`PASSWORD`], and a config that gives it by `env:`.
fn smtp_with_login() -> (SmtpInbox, tempfile::TempDir, std::path::PathBuf) {
    let smtp = SmtpInbox::start_with(InboxOptions {
        login: Some(("oewsprobe".into(), PASSWORD.into())),
        ..InboxOptions::default()
    });
    let login = format!(
        "security = \"plain\"\nusername = \"oewsprobe\"\npassword = \"env:{PASSWORD_VAR}\"\n"
    );
    let (dir, cfg) = config(smtp.port, &login);
    (smtp, dir, cfg)
}

#[test]
fn a_login_with_the_password_from_the_environment_delivers_and_never_shows_it() {
    let (smtp, _dir, cfg) = smtp_with_login();
    let out = alert_test_logged(&cfg, PASSWORD, "trace");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let emails = smtp.wait_for(1, WAIT);
    let source = smtp.source(emails[0]["id"].as_str().expect("id"));
    for shown in [&stdout, &stderr, &source] {
        assert!(!shown.contains(PASSWORD), "the password leaked:\n{shown}");
    }
}

#[test]
fn a_wrong_password_exits_2_naming_the_authentication_failure() {
    let (smtp, _dir, cfg) = smtp_with_login();
    let wrong = "wrong-Pa55-guess";
    let out = alert_test(&cfg, wrong);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr,
        format!(
            "oewsprobe alert test: SMTP 127.0.0.1:{}: authentication failed: 535 5.7.8 Authentication credentials invalid\n",
            smtp.port
        )
    );
    assert!(!stderr.contains(wrong) && !text(&out.stdout).contains(wrong));
    assert!(smtp.emails().is_empty());
}

#[test]
fn nothing_listening_exits_2_with_cannot_connect() {
    let port = support::servers::free_port();
    let (_dir, cfg) = config(port, "security = \"plain\"\n");
    let out = alert_test(&cfg, "");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "oewsprobe alert test: SMTP 127.0.0.1:{port}: cannot connect: Connection refused\n"
        )
    );
}

#[test]
fn a_server_that_never_answers_times_out() {
    // Connections complete in the listen backlog, but nothing ever reads or greets.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let (_dir, cfg) = config(port, "security = \"plain\"\n");
    let text_with_timeout = std::fs::read_to_string(&cfg)
        .expect("read")
        .replace("timeout = \"5s\"", "timeout = \"1s\"");
    std::fs::write(&cfg, text_with_timeout).expect("write");
    let out = alert_test(&cfg, "");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!("oewsprobe alert test: SMTP 127.0.0.1:{port}: timed out after 1s\n")
    );
}

#[test]
fn implicit_tls_with_the_ca_file_delivers() {
    let ca = TestCa::new();
    let smtp = SmtpInbox::start_with(InboxOptions {
        tls: ca.implicit_tls(),
        ..InboxOptions::default()
    });
    let tls = format!(
        "security = \"tls\"\nca_file = \"{}\"\n",
        ca.ca_file.display()
    );
    let (_dir, cfg) = config(smtp.port, &tls);
    let out = alert_test(&cfg, "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).ends_with(" (tls)\n"));
    let emails = smtp.wait_for(1, WAIT);
    assert_eq!(
        emails[0]["subject"],
        "[oewsprobe][test] alert email works — http://127.0.0.1:9"
    );
}

#[test]
fn an_untrusted_certificate_exits_2_with_a_certificate_error() {
    let ca = TestCa::new();
    let smtp = SmtpInbox::start_with(InboxOptions {
        tls: ca.implicit_tls(),
        ..InboxOptions::default()
    });
    let (_dir, cfg) = config(smtp.port, "security = \"tls\"\n");
    let out = alert_test(&cfg, "");
    assert_eq!(out.status.code(), Some(2));
    // Before it, the platform verifier logs the same failure at ERROR level.
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.lines().last().unwrap_or_default(),
        format!(
            "oewsprobe alert test: SMTP 127.0.0.1:{}: TLS handshake failed: invalid peer certificate: UnknownIssuer",
            smtp.port
        )
    );
    assert!(smtp.emails().is_empty());
}

#[test]
fn starttls_with_the_ca_file_delivers() {
    let ca = TestCa::new();
    let server = SmtpInbox::start_with(InboxOptions {
        tls: ca.starttls(),
        ..InboxOptions::default()
    });
    let starttls = format!(
        "security = \"starttls\"\nca_file = \"{}\"\n",
        ca.ca_file.display()
    );
    let (_dir, cfg) = config(server.port, &starttls);
    let out = alert_test(&cfg, "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "sent a test email to sre@example.org, oncall@example.org via 127.0.0.1:{} (starttls)\n",
            server.port
        )
    );
    // The server requires STARTTLS before MAIL, so a received message proves the upgrade happened.
    let emails = server.wait_for(1, WAIT);
    assert!(
        emails[0]["headers"]["message-id"]
            .as_str()
            .is_some_and(|id| id.starts_with("<oewsprobe.test.")),
        "{}",
        emails[0]
    );
}

#[test]
fn starttls_required_but_not_offered_exits_2() {
    // A server started without a certificate never offers STARTTLS.
    let smtp = SmtpInbox::start();
    let (_dir, cfg) = config(smtp.port, "security = \"starttls\"\n");
    let out = alert_test(&cfg, "");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "oewsprobe alert test: SMTP 127.0.0.1:{}: STARTTLS not offered by the server (security = \"starttls\" requires it)\n",
            smtp.port
        )
    );
    assert!(smtp.emails().is_empty());
}

#[test]
fn without_alert_smtp_the_command_says_email_is_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("oewsprobe.toml");
    std::fs::write(&cfg, "[alert]\nfire_after = 2\n").expect("write");
    let out = alert_test(&cfg, "");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "oewsprobe alert test: alert email is off: the config has no [alert.smtp] table (host, from, to)\n"
    );
}

fn settings(port: u16, password: Option<&str>) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::Plain,
        username: password.map(|_| "oewsprobe".to_string()),
        password: password.map(|p| Secret::new(p.as_bytes().to_vec())),
        from: "oewsprobe <oewsprobe@example.org>".into(),
        to: vec!["sre@example.org".into()],
        timeout: Duration::from_secs(5),
        ca_file: None,
    }
}

fn resolved_notice() -> RenderedEmail {
    RenderedEmail {
        subject: "[oewsprobe][resolved] RESOLVED: health — http://127.0.0.1:9".into(),
        text: "health resolved\n".into(),
        html: "<p>health resolved</p>".into(),
        message_id: "<oewsprobe.default.resolved.2000@oewsprobe.invalid>".into(),
        in_reply_to: Some("<oewsprobe.default.alert.1000@oewsprobe.invalid>".into()),
    }
}

#[tokio::test]
async fn the_mailer_sends_message_id_in_reply_to_and_references() {
    let smtp = SmtpInbox::start();
    let mailer = Mailer::new(&settings(smtp.port, None)).expect("mailer");
    mailer.send(&resolved_notice()).await.expect("sent");
    mailer
        .send(&RenderedEmail {
            message_id: "<oewsprobe.default.resolved.3000@oewsprobe.invalid>".into(),
            ..resolved_notice()
        })
        .await
        .expect("sent again over the pooled connection");
    let emails = smtp.wait_for(2, WAIT);
    let headers = &emails[0]["headers"];
    assert_eq!(
        headers["message-id"],
        "<oewsprobe.default.resolved.2000@oewsprobe.invalid>"
    );
    assert_eq!(
        headers["in-reply-to"],
        "<oewsprobe.default.alert.1000@oewsprobe.invalid>"
    );
    assert_eq!(
        headers["references"],
        "<oewsprobe.default.alert.1000@oewsprobe.invalid>"
    );
    let source = smtp.source(emails[0]["id"].as_str().expect("id"));
    assert!(source.contains("\nDate: "), "{source}");
    assert_eq!(
        emails[1]["headers"]["message-id"],
        "<oewsprobe.default.resolved.3000@oewsprobe.invalid>"
    );
}

#[tokio::test]
async fn a_refused_login_is_permanent_and_a_stopped_server_transient() {
    let mut smtp = SmtpInbox::start_with(InboxOptions {
        login: Some(("oewsprobe".into(), PASSWORD.into())),
        ..InboxOptions::default()
    });
    let port = smtp.port;
    let refused = Mailer::new(&settings(port, Some("not-it")))
        .expect("mailer")
        .send(&resolved_notice())
        .await
        .expect_err("wrong password");
    assert!(refused.is_permanent(), "{refused}");
    let mailer = Mailer::new(&settings(port, Some(PASSWORD))).expect("mailer");
    smtp.stop();
    let down = mailer
        .send(&resolved_notice())
        .await
        .expect_err("server down");
    assert!(!down.is_permanent(), "{down}");
    assert_eq!(
        down.to_string(),
        format!("SMTP 127.0.0.1:{port}: cannot connect: Connection refused")
    );
    smtp.start_again();
    mailer
        .send(&resolved_notice())
        .await
        .expect("delivered once the server is back on the same port");
    assert_eq!(smtp.wait_for(1, WAIT).len(), 1);
}

#[test]
fn the_smtp_server_stops_with_its_whole_process_group_and_keeps_mail_across_a_restart() {
    let mut smtp = SmtpInbox::start();
    let (_dir, cfg) = config(smtp.port, "security = \"plain\"\n");
    assert_eq!(alert_test(&cfg, "").status.code(), Some(0));
    smtp.wait_for(1, WAIT);
    let group = smtp.process_group().expect("running");
    smtp.stop();
    let alive = Command::new("kill")
        .args(["-0", "--", &format!("-{group}")])
        .stderr(std::process::Stdio::null())
        .status()
        .expect("kill -0");
    assert!(
        !alive.success(),
        "a process of the SMTP server's group survived"
    );
    smtp.start_again();
    assert_eq!(alert_test(&cfg, "").status.code(), Some(0));
    assert_eq!(smtp.wait_for(2, WAIT).len(), 2);
}

#[tokio::test]
async fn after_a_send_cut_off_by_the_timeout_the_next_one_gets_a_fresh_connection() {
    let server = SmtpInbox::start_with(InboxOptions {
        slow_first: Some(Duration::from_secs(3)),
        ..InboxOptions::default()
    });
    let mut slow = settings(server.port, None);
    slow.timeout = Duration::from_secs(1);
    let mailer = Mailer::new(&slow).expect("mailer");
    let cut_off = mailer
        .send(&resolved_notice())
        .await
        .expect_err("the first DATA takes 3 s");
    assert_eq!(
        cut_off.to_string(),
        format!("SMTP 127.0.0.1:{}: timed out after 1s", server.port)
    );
    assert!(!cut_off.is_permanent());
    // lettre hands the cut-off connection back to its pool in a task of its own: let that happen. That
    // connection still awaits its DATA reply; reused, its NOOP would wait for it too, past the timeout.
    tokio::time::sleep(Duration::from_millis(200)).await;
    mailer
        .send(&resolved_notice())
        .await
        .expect("the next email goes through a new connection");
    // The second DATA reached the server and its message is in the inbox.
    server.wait_for(1, WAIT);
    assert!(server.log().contains("DATA 2\n"), "{}", server.log());
}
