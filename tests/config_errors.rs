//! Broken configuration: a table of files, each with its exact messages; every error of every file at once.

mod support;

use oewsprobe::config::{self, Sources};
use std::path::Path;

const VALID: &str = "[request]\npath = \"/api/v1/health\"\n";

fn errors_of(config_text: Option<&str>, probes: &[(&str, &str)]) -> Vec<String> {
    let dir = support::probe_dir(probes);
    let config_path = dir.path().join("oewsprobe.toml.cfg");
    std::fs::write(&config_path, config_text.unwrap_or("")).expect("write config");
    let sources = Sources {
        config: Some(config_path),
        probes_dir: Some(dir.path().to_path_buf()),
        target: None,
    };
    let errors = config::load(&sources).expect_err("the config is broken");
    let prefix = format!("{}/", dir.path().display());
    errors
        .0
        .iter()
        .map(|e| e.to_string().replace(&prefix, ""))
        .collect()
}

#[test]
fn broken_probe_files_each_get_their_exact_message() {
    let cases: [(&str, &[&str]); 11] = [
        (
            "[request]\npath = \"/x\"\n[burst]\nrequests = 0\n",
            &[
                "p.toml: burst.schedule: missing; give a cron schedule, e.g. \"0 45 3 * * *\"",
                "p.toml: burst.requests: 0 is out of range; give 1 to 1000",
            ],
        ),
        (
            "[request]\npath = \"/x\"\n[expect]\nstauts = 200\n",
            &["p.toml: expect.stauts: unknown key \"stauts\" — did you mean \"status\"?"],
        ),
        (
            "[reqest]\npath = \"/x\"\n",
            &[
                "p.toml: reqest: unknown key \"reqest\" — did you mean \"request\"?",
                "p.toml: request: missing [request] table (at least request.path)",
            ],
        ),
        (
            "[request]\n",
            &["p.toml: request.path: missing; give the request path, e.g. \"/api/v1/health\""],
        ),
        (
            "[request]\npath = \"api\"\n",
            &["p.toml: request.path: \"api\" must start with \"/\""],
        ),
        (
            "[request]\npath = \"/x\"\nmethod = \"FETCH\"\n",
            &[
                "p.toml: request.method: \"FETCH\" is not an HTTP method (one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)",
            ],
        ),
        (
            "[request]\npath = \"/x\"\ntimeout = \"soon\"\n",
            &[
                "p.toml: request.timeout: \"soon\" is not a duration (expected number at 0); write it like \"30s\", \"2m\" or \"1h 30m\"",
            ],
        ),
        (
            "[request]\npath = \"/x\"\n[expect]\nstatus = \"ok\"\nmax_body = \"lots\"\n",
            &[
                "p.toml: expect.status: \"ok\" is not a status; write 200, \"2xx\" or a list like [200, 201]",
                "p.toml: expect.max_body: \"lots\" is not a size; write it like 4096, \"512KiB\" or \"4MiB\"",
            ],
        ),
        (
            "[request]\npath = \"/x\"\nbody = { a = 1 }\nbody_text = \"{}\"\n",
            &["p.toml: request.body_text: give either body or body_text, not both"],
        ),
        (
            "queries = -1\n[request]\npath = \"/x\"\n",
            &["p.toml: queries: -1 is out of range; give 0 to 1000"],
        ),
        (
            "[request]\npath = \"/x\"\n[[expect.json]]\npath = \"$.a\"\nequals = 1\nfrobnicate = true\n",
            &[
                "p.toml: expect.json[0].frobnicate: unknown key \"frobnicate\" (known keys: path, exists, type, non_empty, length, min_length, max_length, equals, not_equals, one_of, matches)",
            ],
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(
            errors_of(None, &[("p.toml", text)]),
            expected,
            "for:\n{text}"
        );
    }
}

#[test]
fn errors_in_several_files_and_the_config_are_reported_at_once() {
    let errors = errors_of(
        Some("target = \"ftp://x\"\n[defaults]\ntimeout = \"0s\"\n"),
        &[
            (
                "a.toml",
                "[request]\npath = \"/x\"\n[expect]\nlatency = \"fast\"\n",
            ),
            ("b.toml", VALID),
            ("Bad Name.toml", VALID),
            ("c.toml", "[request\n"),
        ],
    );
    assert_eq!(
        errors,
        [
            "oewsprobe.toml.cfg: defaults.timeout: \"0s\" is zero; give a positive duration like \"30s\"",
            "oewsprobe.toml.cfg: target: \"ftp://x\": the target must be an http:// or https:// URL",
            "Bad Name.toml: \"Bad Name\" is not a valid probe name: use lower-case letters, digits, '-' and '_' in the file name",
            "a.toml: expect.latency: \"fast\" is not a duration (expected number at 0); write it like \"30s\", \"2m\" or \"1h 30m\"",
            "c.toml: TOML syntax error at line 1, column 9: unclosed table, expected `]`",
        ]
    );
}

#[test]
fn a_missing_config_file_or_probe_directory_is_named() {
    let sources = Sources {
        config: Some(Path::new("/nonexistent/oewsprobe.toml").to_path_buf()),
        probes_dir: None,
        target: None,
    };
    let errors = config::load(&sources).expect_err("missing");
    assert_eq!(
        errors.to_string(),
        "/nonexistent/oewsprobe.toml: cannot read the config file: No such file or directory (os error 2)\n\
         /nonexistent/probes: cannot read the probe directory: No such file or directory (os error 2)"
    );
    let empty = tempfile::tempdir().expect("tempdir");
    let sources = Sources {
        config: None,
        probes_dir: Some(empty.path().to_path_buf()),
        target: None,
    };
    let errors = config::load(&sources).expect_err("no probes");
    assert_eq!(
        errors.to_string(),
        format!(
            "{}: no probe files (*.toml) in this directory",
            empty.path().display()
        )
    );
}

#[test]
fn the_target_override_is_validated_and_named() {
    let dir = support::probe_dir(&[("p.toml", VALID)]);
    let sources = Sources {
        config: None,
        probes_dir: Some(dir.path().to_path_buf()),
        target: Some("localhost:8000".into()),
    };
    let errors = config::load(&sources).expect_err("bad target");
    assert_eq!(
        errors.to_string(),
        "--target/OEWSPROBE_TARGET: \"localhost:8000\": the target must be an http:// or https:// URL"
    );
}

#[test]
fn the_shipped_probe_set_validates() {
    let plan = support::plan("http://127.0.0.1:9", &support::shipped_probes());
    assert_eq!(plan.probes.len(), 8);
    assert_eq!(
        plan.probes.iter().map(|p| p.queries).sum::<u32>(),
        5,
        "four queries plus the invalid-model probe"
    );
}

#[test]
fn the_example_config_in_deploy_compiles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = Sources {
        config: Some(root.join("deploy/oewsprobe.toml")),
        probes_dir: None,
        target: Some("http://127.0.0.1:9".into()),
    };
    let plan = config::load(&sources).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.probes.len(), 8);
    assert_eq!(
        plan.settings.headers,
        [(
            "User-Agent".to_string(),
            "oewsprobe/0.1 (synthetic monitor)".to_string()
        )]
    );
}

const SMTP: &str = "[alert.smtp]\nhost = \"127.0.0.1\"\nfrom = \"oewsprobe@example.org\"\nto = [\"sre@example.org\"]\n";

#[test]
fn broken_alert_sections_each_get_their_exact_message() {
    let cases: [(String, &[&str]); 8] = [
        (
            format!("{SMTP}username = \"oewsprobe\"\npassword = \"hunter2\"\n"),
            &[
                "oewsprobe.toml.cfg: alert.smtp.password: give the secret by reference, \"env:NAME\" or \"file:PATH\", never inline",
            ],
        ),
        (
            format!("{SMTP}username = \"oewsprobe\"\n"),
            &[
                "oewsprobe.toml.cfg: alert.smtp.password: missing; a username is given, so give its password by reference: \"env:NAME\" or \"file:PATH\"",
            ],
        ),
        (
            "[alert]\nfire_after = 3\nwindow = 2\n".to_string(),
            &[
                "oewsprobe.toml.cfg: alert.window: 2 is less than fire_after (3); the window must hold at least fire_after runs",
            ],
        ),
        (
            format!("{SMTP}security = \"startls\"\n"),
            &[
                "oewsprobe.toml.cfg: alert.smtp.security: \"startls\" is not a security mode — did you mean \"starttls\"?",
            ],
        ),
        (
            format!("{SMTP}security = \"smtps\"\n"),
            &[
                "oewsprobe.toml.cfg: alert.smtp.security: \"smtps\" is not a security mode (one of plain, starttls, tls)",
            ],
        ),
        (
            SMTP.replace("[\"sre@example.org\"]", "[\"sre@example.org\", \"oncall-at-example.org\"]"),
            &[
                "oewsprobe.toml.cfg: alert.smtp.to[1]: \"oncall-at-example.org\" is not a mail address; write it like \"sre@example.org\" or \"SRE <sre@example.org>\"",
            ],
        ),
        (
            "[[alert.maintenance]]\nname = \"deploy\"\ncron = \"0 0 2 * * Sun\"\nduration = \"2h\"\nprobes = [\"helth\", \"zzz\"]\n"
                .to_string(),
            &[
                "oewsprobe.toml.cfg: alert.maintenance[0].probes[0]: unknown probe \"helth\" — did you mean \"health\"?",
                "oewsprobe.toml.cfg: alert.maintenance[0].probes[1]: unknown probe \"zzz\" (known probes: health)",
            ],
        ),
        (
            "[alert]\nfire_afterr = 3\n[alert.smtp]\nhots = \"127.0.0.1\"\n".to_string(),
            &[
                "oewsprobe.toml.cfg: alert.fire_afterr: unknown key \"fire_afterr\" — did you mean \"fire_after\"?",
                "oewsprobe.toml.cfg: alert.smtp.hots: unknown key \"hots\" — did you mean \"host\"?",
                "oewsprobe.toml.cfg: alert.smtp.host: missing; give the SMTP server's host name or address",
                "oewsprobe.toml.cfg: alert.smtp.from: missing; give the sender, e.g. from = \"oewsprobe <oewsprobe@example.org>\"",
                "oewsprobe.toml.cfg: alert.smtp.to: missing; list at least one recipient, e.g. to = [\"sre@example.org\"]",
            ],
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(
            errors_of(Some(&text), &[("health.toml", VALID)]),
            expected,
            "for:\n{text}"
        );
    }
}

#[test]
fn every_alert_error_is_reported_at_once() {
    let text = "[alert]\nresolve_after = 0\nretry_initial = \"1m\"\nretry_max = \"30s\"\nremind_every = \"soon\"\n\
                [alert.smtp]\nhost = \"127.0.0.1\"\nport = 70000\npassword = \"env:OEWSPROBE_TEST_SURELY_UNSET\"\n\
                from = \"nobody\"\nto = []\nca_file = \"missing-ca.pem\"\n\
                [[alert.maintenance]]\nname = \"deploy\"\ncron = \"0 0 2 * *\"\n\
                [[alert.maintenance]]\nname = \"deploy\"\ncron = \"every sunday\"\nduration = \"0s\"\n";
    assert_eq!(
        errors_of(Some(text), &[("health.toml", VALID)]),
        [
            "oewsprobe.toml.cfg: alert.resolve_after: 0 is out of range; give 1 to 1000",
            "oewsprobe.toml.cfg: alert.remind_every: \"soon\" is not a duration (expected number at 0); write it like \"30s\", \"2m\" or \"1h 30m\"",
            "oewsprobe.toml.cfg: alert.retry_max: 30s is shorter than retry_initial (1m); give at least that",
            "oewsprobe.toml.cfg: alert.smtp.port: 70000 is out of range; give 1 to 65535",
            "oewsprobe.toml.cfg: alert.smtp.password: the environment variable OEWSPROBE_TEST_SURELY_UNSET is not set",
            "oewsprobe.toml.cfg: alert.smtp.username: missing; a password is given, so give the username it belongs to",
            "oewsprobe.toml.cfg: alert.smtp.from: \"nobody\" is not a mail address; write it like \"sre@example.org\" or \"SRE <sre@example.org>\"",
            "oewsprobe.toml.cfg: alert.smtp.to: an empty list sends to no one; list at least one recipient",
            "oewsprobe.toml.cfg: alert.smtp.ca_file: cannot read missing-ca.pem: No such file or directory (os error 2)",
            "oewsprobe.toml.cfg: alert.maintenance[0].duration: missing; give how long the window stays open, e.g. duration = \"2h\"",
            "oewsprobe.toml.cfg: alert.maintenance[1].name: window \"deploy\" is already defined at alert.maintenance[0]; give each its own name",
            "oewsprobe.toml.cfg: alert.maintenance[1].cron: \"every sunday\" has 2 fields; give 6 or 7 (seconds first, e.g. \"0 */5 * * * *\") or a 5-field crontab line (e.g. \"*/5 * * * *\", read as second 0)",
            "oewsprobe.toml.cfg: alert.maintenance[1].duration: \"0s\" is zero; give a positive duration like \"30s\"",
        ]
    );
}

#[test]
fn the_commented_alert_example_in_deploy_compiles_once_uncommented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("deploy/oewsprobe.toml")).expect("read");
    let (head, example) = text.split_once("# [alert]\n").expect("an [alert] example");
    let dir = tempfile::tempdir().expect("tempdir");
    let password = dir.path().join("smtp-password");
    std::fs::write(&password, "example\n").expect("write");
    let reference = format!("file:{}", password.display());
    let uncommented: Vec<String> = example
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| {
            let key = l.split(" = ").next().unwrap_or_default();
            l.starts_with('[')
                || (l.contains(" = ") && key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        })
        .filter(|l| !l.starts_with("ca_file")) // the example path does not exist here
        .map(|l| l.replace("env:OEWSPROBE_SMTP_PASSWORD", &reference))
        .collect();
    let config = dir.path().join("oewsprobe.toml");
    std::fs::write(
        &config,
        format!("{head}[alert]\n{}\n", uncommented.join("\n")),
    )
    .expect("write");
    let sources = Sources {
        config: Some(config),
        probes_dir: Some(support::shipped_probes()),
        target: Some("http://127.0.0.1:9".into()),
    };
    let plan = config::load(&sources).unwrap_or_else(|e| panic!("{e}"));
    let alert = &plan.settings.alert;
    let smtp = alert.smtp.as_ref().expect("[alert.smtp]");
    assert_eq!(
        (smtp.server(), smtp.to.len(), smtp.username.as_deref()),
        ("smtp.example.org:587".to_string(), 1, Some("oewsprobe"))
    );
    assert_eq!(alert.maintenance.len(), 1);
    assert_eq!(alert.maintenance[0].probes, ["query-trace"]);
}

#[test]
fn telemetry_and_status_errors_each_get_their_exact_message() {
    let errors = errors_of(
        Some(
            "[telemetry]\nendpoint = \"ftp://x\"\nprotocol = \"udp\"\nexport_interval = \"0s\"\ntimeout = \"soon\"\n\
             headers = { \"Authorization\" = \"env:OEWSPROBE_TEST_SURELY_UNSET\", \"Bad Name\" = \"x\" }\n\
             [status]\nlisten = \"metrics.example:9464\"\n",
        ),
        &[("p.toml", VALID)],
    );
    assert_eq!(
        errors,
        [
            "oewsprobe.toml.cfg: status.listen: \"metrics.example:9464\" is not a listen address; write it like \"127.0.0.1:9464\"",
            "oewsprobe.toml.cfg: telemetry.protocol: \"udp\" is not a protocol; give \"http/protobuf\" or \"grpc\"",
            "oewsprobe.toml.cfg: telemetry.endpoint: \"ftp://x\": the endpoint must be an http:// or https:// URL with a host",
            "oewsprobe.toml.cfg: telemetry.timeout: \"soon\" is not a duration (expected number at 0); write it like \"30s\", \"2m\" or \"1h 30m\"",
            "oewsprobe.toml.cfg: telemetry.export_interval: \"0s\" is zero; give a positive duration like \"30s\"",
            "oewsprobe.toml.cfg: telemetry.headers.Authorization: the environment variable OEWSPROBE_TEST_SURELY_UNSET is not set",
            "oewsprobe.toml.cfg: telemetry.headers.Bad Name: \"Bad Name\" is not a valid header name",
        ]
    );
    let unknown = errors_of(
        Some("[telemetry]\nendpiont = \"http://127.0.0.1:4318\"\n[status]\nlisen = \"9464\"\n"),
        &[("p.toml", VALID)],
    );
    assert_eq!(
        unknown,
        [
            "oewsprobe.toml.cfg: telemetry.endpiont: unknown key \"endpiont\" — did you mean \"endpoint\"?",
            "oewsprobe.toml.cfg: status.lisen: unknown key \"lisen\" — did you mean \"listen\"?",
        ]
    );
}

#[test]
fn otel_environment_errors_name_the_variable() {
    let dir = support::probe_dir(&[("p.toml", VALID)]);
    let mut command = std::process::Command::new(support::process::BIN);
    for var in support::otlp::UNSET {
        command.env_remove(var);
    }
    let out = command
        .args(["validate", "--probes"])
        .arg(dir.path())
        .args(["--config", "/dev/null"])
        .env("OEWSPROBE_TARGET", "http://127.0.0.1:9")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "127.0.0.1:4318")
        .env("OTEL_METRIC_EXPORT_INTERVAL", "1m")
        .output()
        .expect("validate");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "OTEL_EXPORTER_OTLP_PROTOCOL: \"http/json\" is not supported; give \"http/protobuf\" or \"grpc\"\n\
         OTEL_EXPORTER_OTLP_ENDPOINT: \"127.0.0.1:4318\" is not a URL (relative URL without a base); write it like \"http://127.0.0.1:4318\"\n\
         OTEL_METRIC_EXPORT_INTERVAL: \"1m\" is not a positive number of milliseconds\n\
         3 error(s)\n"
    );
}

#[test]
fn rollback_env_takes_only_variable_names() {
    let errors = errors_of(
        Some("[rollback]\nenv = [\"DOCKER_HOST\", \"9LIVES\", \"A-B\", \"\", \"PATH=/x\"]\n"),
        &[("p.toml", VALID)],
    );
    let message = |name: &str| {
        format!(
            "oewsprobe.toml.cfg: rollback.env: {name} is not an environment variable name; use letters, digits and _, not starting with a digit"
        )
    };
    assert_eq!(
        errors,
        [
            message("\"9LIVES\""),
            message("\"A-B\""),
            message("\"\""),
            message("\"PATH=/x\""),
        ]
    );
}

#[test]
fn retention_errors_name_the_file_and_key() {
    let errors = errors_of(
        Some(
            "[run]\nretention = \"7d\"\nretention_raw = \"7d\"\nretention_failures = \"1d\"\nretention_hour = \"1d\"\nretention_day = \"never\"\n",
        ),
        &[("p.toml", VALID)],
    );
    assert_eq!(
        errors,
        [
            "oewsprobe.toml.cfg: run.retention: give either run.retention (the former name of run.retention_raw) or run.retention_raw, not both",
            "oewsprobe.toml.cfg: run.retention_day: \"never\" is not a duration (expected number at 0); write it like \"30s\", \"2m\" or \"1h 30m\", or \"forever\"",
            "oewsprobe.toml.cfg: run.retention_failures: \"1d\" is shorter than run.retention_raw (\"7d\"); give at least as long",
            "oewsprobe.toml.cfg: run.retention_hour: \"1d\" is shorter than run.retention_minute (30days (the default)); give at least as long",
        ]
    );
}

#[test]
fn the_bound_on_records_waiting_for_the_store_is_checked() {
    for (value, error) in [
        ("9", "9 is out of range; give 10 to 10000000"),
        ("10000001", "10000001 is out of range; give 10 to 10000000"),
        ("\"many\"", "invalid type: string \"many\", expected i64"),
    ] {
        let errors = errors_of(
            Some(&format!("[run]\nmax_waiting_records = {value}\n")),
            &[("p.toml", VALID)],
        );
        assert_eq!(
            errors,
            [format!(
                "oewsprobe.toml.cfg: run.max_waiting_records: {error}"
            )]
        );
    }
}

#[test]
fn tls_errors_name_the_file_the_key_and_the_certificate_file() {
    let errors = errors_of(
        Some("[tls]\nca_file = \"missing.pem\"\nserver_name = \"not a name\"\n"),
        &[
            (
                "x.toml",
                "[request]\npath = \"/api/v1/health\"\n[tls]\nca_file = \"/nope.pem\"\n",
            ),
            ("text.pem", "hello\n"),
            (
                "y.toml",
                "[request]\npath = \"/api/v1/health\"\n[tls]\nca_file = \"text.pem\"\n\
                 [expect.tls]\nmin_days_left = 5000\nmin_version = \"1.1\"\n",
            ),
            (
                "z.toml",
                "[request]\npath = \"/api/v1/health\"\n[expect.tls]\nmin_days_left = 20\nwarn_days_left = 10\n",
            ),
        ],
    );
    assert_eq!(
        errors,
        [
            "oewsprobe.toml.cfg: tls.ca_file: cannot read missing.pem: No such file or directory (os error 2)",
            "oewsprobe.toml.cfg: tls.server_name: \"not a name\" is not a DNS name or an IP address",
            "x.toml: tls.ca_file: cannot read /nope.pem: No such file or directory (os error 2)",
            "y.toml: tls.ca_file: text.pem: no certificate in it (expected \"-----BEGIN CERTIFICATE-----\")",
            "y.toml: expect.tls.min_days_left: 5000 is out of range; give 0 to 3650",
            "y.toml: expect.tls.min_version: \"1.1\" is not a TLS version; give \"1.2\" or \"1.3\"",
            "z.toml: expect.tls.warn_days_left: 10 is below min_days_left (20); the warning comes before the failure",
        ]
    );
}
