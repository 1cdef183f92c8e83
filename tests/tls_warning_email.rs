//! A certificate close to expiry is emailed once, as a warning notice, by `oewsprobe run` against the
//! simulator over TLS (a real SMTP server receiving): the run passes, and later runs send nothing more.

mod support;

use std::time::Duration;
use support::certs::{TestCa, Validity};
use support::mail::SmtpInbox;
use support::process::{Daemon, SimProcess};

#[test]
fn a_certificate_close_to_expiry_is_emailed_once_as_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = TestCa::new("warning CA");
    let validity = Validity::days(-1, 20);
    let (cert, key) = ca
        .issue(&["127.0.0.1"], validity)
        .write(dir.path(), "server");
    let sim = SimProcess::start_tls(&cert, &key);
    let smtp = SmtpInbox::start();
    std::fs::create_dir(dir.path().join("probes")).expect("probes");
    std::fs::write(
        dir.path().join("probes/health.toml"),
        "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"2s\"\n",
    )
    .expect("probe");
    let config = dir.path().join("oewsprobe.toml");
    std::fs::write(
        &config,
        format!(
            "target = \"{}\"\nprobes_dir = \"probes\"\n[run]\njitter = \"0s\"\n[tls]\nca_file = \"{}\"\n\
             [alert]\ngroup_wait = \"1s\"\n[alert.smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\n\
             from = \"oewsprobe <oewsprobe@example.org>\"\nto = [\"sre@example.org\"]\n",
            sim.url,
            ca.write(dir.path(), "ca.pem").display(),
            smtp.port
        ),
    )
    .expect("config");
    let _daemon = Daemon::start(&config, &dir.path().join("daemon.log"), &[]);
    let emails = smtp.wait_for(1, Duration::from_secs(20));
    assert_eq!(
        emails[0]["subject"],
        format!(
            "[oewsprobe][warning] health: certificate close to expiry — {}",
            sim.url
        )
    );
    let text = emails[0]["text"].as_str().unwrap_or_default();
    let line = format!(
        "tls: certificate for 127.0.0.1 expires in 20 days ({}), warning below 30",
        oewsprobe::tls::utc_text(validity.not_after.unix_timestamp())
    );
    assert!(text.contains(&line), "{text}");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(smtp.emails().len(), 1, "told once");
}
