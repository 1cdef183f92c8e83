//! `[alert]` from TOML text to compiled settings: the defaults, every key, and the defaults that follow
//! from other keys.

use super::FieldError;
use super::alert::compile_alert;
use crate::alert::{
    AlertPolicy, AlertSettings, GroupPolicy, MaintenanceWindow, RetryPolicy, SmtpSecurity,
    SmtpSettings,
};
use crate::config::{RawConfig, parse_toml};
use crate::rollback::Secret;
use crate::schedule::CronSchedule;
use std::path::Path;
use std::time::Duration;

fn compiled(text: &str) -> (AlertSettings, Vec<FieldError>) {
    let raw: RawConfig = parse_toml(text).expect("parses");
    let mut errors = Vec::new();
    let settings = compile_alert(
        &raw.alert,
        Path::new("/etc/oewsprobe"),
        super::values::Secrets::Resolve,
        &mut errors,
    );
    (settings, errors)
}

#[test]
fn no_alert_table_gives_the_defaults_and_no_email() {
    let (settings, errors) = compiled("");
    assert!(errors.is_empty());
    assert_eq!(settings, AlertSettings::default());
    assert_eq!(settings.smtp, None);
    assert_eq!(settings.policy.window, 3);
    assert_eq!(settings.retry.max, Duration::from_secs(1800));
}

#[test]
fn a_full_alert_table_compiles_key_for_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = dir.path().join("smtp-password");
    std::fs::write(&secret, "s3cret\n").expect("write");
    let text = format!(
        "[alert]\nfire_after = 2\nwindow = 5\nresolve_after = 3\nremind_every = \"1h\"\nsend_resolved = false\n\
         group_wait = \"10s\"\ngroup_interval = \"2m\"\nretry_initial = \"5s\"\nretry_max = \"1m\"\n\
         give_up_after = \"6h\"\n\
         [alert.smtp]\nhost = \"127.0.0.1\"\nsecurity = \"tls\"\nusername = \"oewsprobe\"\n\
         password = \"file:{}\"\nfrom = \"oewsprobe <oewsprobe@example.org>\"\n\
         to = [\"sre@example.org\", \"On Call <oncall@example.org>\"]\ntimeout = \"3s\"\n\
         [[alert.maintenance]]\nname = \"weekly deploy\"\ncron = \"0 0 2 * * Sun\"\nduration = \"2h\"\n\
         probes = [\"query-trace\"]\nreason = \"planned deploys\"\n",
        secret.display()
    );
    let (settings, errors) = compiled(&text);
    assert_eq!(errors, []);
    let s = Duration::from_secs;
    assert_eq!(
        settings,
        AlertSettings {
            policy: AlertPolicy {
                fire_after: 2,
                window: 5,
                resolve_after: 3,
                remind_every: s(3600),
                send_resolved: false,
            },
            group: GroupPolicy {
                group_wait: s(10),
                group_interval: s(120),
            },
            smtp: Some(SmtpSettings {
                host: "127.0.0.1".into(),
                port: 465,
                security: SmtpSecurity::Tls,
                username: Some("oewsprobe".into()),
                password: Some(Secret::new(b"s3cret".to_vec())),
                from: "oewsprobe <oewsprobe@example.org>".into(),
                to: vec![
                    "sre@example.org".into(),
                    "On Call <oncall@example.org>".into()
                ],
                timeout: s(3),
                ca_file: None,
            }),
            retry: RetryPolicy {
                initial: s(5),
                max: s(60),
                give_up_after: s(6 * 3600),
            },
            maintenance: vec![MaintenanceWindow {
                name: "weekly deploy".into(),
                schedule: CronSchedule::parse("0 0 2 * * Sun").expect("cron"),
                duration: s(7200),
                probes: vec!["query-trace".into()],
                reason: Some("planned deploys".into()),
            }],
        }
    );
}

#[test]
fn the_port_follows_the_security_and_the_window_follows_fire_after() {
    let smtp =
        "[alert.smtp]\nhost = \"127.0.0.1\"\nfrom = \"a@example.org\"\nto = [\"b@example.org\"]\n";
    for (security, port) in [("plain", 25), ("starttls", 587), ("tls", 465)] {
        let (settings, errors) = compiled(&format!("{smtp}security = \"{security}\"\n"));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(settings.smtp.expect("smtp").port, port, "{security}");
    }
    let (settings, _) = compiled(smtp);
    let smtp = settings.smtp.expect("smtp");
    assert_eq!((smtp.security, smtp.port), (SmtpSecurity::StartTls, 587));
    let (settings, errors) = compiled("[alert]\nfire_after = 5\n");
    assert!(errors.is_empty());
    assert_eq!(settings.policy.window, 5, "K failures in a row");
}
