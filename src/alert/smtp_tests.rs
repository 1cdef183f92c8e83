//! The mailer without a network: security modes, mailboxes, the built mail's headers and parts, setup errors,
//! and a Debug that shows no password.

use super::smtp::message;
use super::{Mailer, RenderedEmail, SmtpSecurity, SmtpSettings, parse_mailbox};
use crate::rollback::Secret;
use lettre::message::Mailbox;
use std::time::Duration;

fn settings() -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port: 2525,
        security: SmtpSecurity::Plain,
        username: Some("oewsprobe".into()),
        password: Some(Secret::new(b"hunter2-secret".to_vec())),
        from: "oewsprobe <oewsprobe@example.org>".into(),
        to: vec!["sre@example.org".into(), "oncall@example.org".into()],
        timeout: Duration::from_secs(10),
        ca_file: None,
    }
}

fn email(in_reply_to: Option<&str>) -> RenderedEmail {
    RenderedEmail {
        subject: "[oewsprobe][resolved] RESOLVED: health — http://127.0.0.1:9".into(),
        text: "resolved\n".into(),
        html: "<p>resolved</p>".into(),
        message_id: "<oewsprobe.default.resolved.2@oewsprobe.invalid>".into(),
        in_reply_to: in_reply_to.map(String::from),
    }
}

#[test]
fn security_names_and_default_ports() {
    for name in SmtpSecurity::NAMES {
        let security = SmtpSecurity::parse(name).expect("known");
        assert_eq!(security.to_string(), name);
    }
    assert_eq!(SmtpSecurity::parse("ssl"), None);
    let ports = [
        SmtpSecurity::Plain,
        SmtpSecurity::StartTls,
        SmtpSecurity::Tls,
    ]
    .map(SmtpSecurity::default_port);
    assert_eq!(ports, [25, 587, 465]);
}

#[test]
fn servers_are_named_host_colon_port() {
    let mut s = settings();
    assert_eq!(s.server(), "127.0.0.1:2525");
    s.host = "::1".into();
    assert_eq!(s.server(), "[::1]:2525");
}

#[test]
fn mailboxes_with_and_without_names() {
    let named = parse_mailbox("oewsprobe <oewsprobe@example.org>").expect("named");
    assert_eq!(named.name.as_deref(), Some("oewsprobe"));
    assert_eq!(named.email.to_string(), "oewsprobe@example.org");
    assert_eq!(
        parse_mailbox("sre-at-example.org").expect_err("bad"),
        "\"sre-at-example.org\" is not a mail address; write it like \
         \"sre@example.org\" or \"SRE <sre@example.org>\""
    );
    assert!(parse_mailbox("sre@").is_err());
    assert!(parse_mailbox("SRE <sre@example.org").is_err());
}

#[test]
fn the_mail_carries_threading_headers_and_both_bodies() {
    let s = settings();
    let to: Vec<Mailbox> = s.to.iter().map(|t| parse_mailbox(t).expect("to")).collect();
    let from = parse_mailbox(&s.from).expect("from");
    let parent = "<oewsprobe.default.alert.1@oewsprobe.invalid>";
    let raw = message(&from, &to, &email(Some(parent))).expect("builds");
    let text = String::from_utf8(raw.formatted()).expect("utf-8");
    for header in [
        "From: oewsprobe <oewsprobe@example.org>\r\n",
        "To: sre@example.org, oncall@example.org\r\n",
        "Message-ID: <oewsprobe.default.resolved.2@oewsprobe.invalid>\r\n",
        "In-Reply-To: <oewsprobe.default.alert.1@oewsprobe.invalid>\r\n",
        "References: <oewsprobe.default.alert.1@oewsprobe.invalid>\r\n",
        "Content-Type: multipart/alternative;",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "Content-Type: text/html; charset=utf-8\r\n",
    ] {
        assert!(text.contains(header), "{header:?} missing in:\n{text}");
    }
    assert!(text.contains("\r\nDate: "), "{text}");
    let first = message(&from, &to, &email(None)).expect("builds");
    let first = String::from_utf8(first.formatted()).expect("utf-8");
    assert!(!first.contains("In-Reply-To:") && !first.contains("References:"));
}

#[tokio::test]
async fn the_mailer_shows_no_password() {
    let mailer = Mailer::new(&settings()).expect("builds");
    let shown = format!("{mailer:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("127.0.0.1:2525"), "{shown}");
}

#[tokio::test]
async fn setup_errors_name_the_server_and_the_problem() {
    let mut half = settings();
    half.password = None;
    assert_eq!(
        Mailer::new(&half).expect_err("half a login").to_string(),
        "SMTP 127.0.0.1:2525: give both username and password, or neither"
    );
    let mut bad_ca = settings();
    bad_ca.security = SmtpSecurity::Tls;
    bad_ca.ca_file = Some("/nonexistent/ca.pem".into());
    assert_eq!(
        Mailer::new(&bad_ca).expect_err("no file").to_string(),
        "SMTP 127.0.0.1:2525: cannot read /nonexistent/ca.pem: No such file or directory (os error 2)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, "hello\n").expect("write");
    assert_eq!(
        crate::tls::read_certificates(&not_pem).expect_err("no cert"),
        format!(
            "{}: no certificate in it (expected \"-----BEGIN CERTIFICATE-----\")",
            not_pem.display()
        )
    );
}

#[tokio::test]
async fn the_mailer_can_be_shared_between_tasks() {
    fn shared<T: Send + Sync>(_: &T) {}
    fn sendable<F: std::future::Future + Send>(_: F) {}
    let mailer = Mailer::new(&settings()).expect("builds");
    shared(&mailer);
    // Built, never polled: nothing is sent.
    sendable(mailer.send(&email(None)));
}
