//! Hostile input as the real binary meets it: every bound refused with its exact message (file and key, or
//! flag), exit 2 and no panic; a reload with an over-complex file leaves the running daemon probing.

mod support;

use std::process::Command;
use std::time::Duration;
use support::daemon::Daemon;
use support::process::{BIN, SimProcess};

const HEALTH: &str = "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\n";

/// A probe whose check selects through `steps` wildcards.
fn wildcard_probe(steps: usize) -> String {
    format!(
        "{HEALTH}[[expect.json]]\npath = \"${}.b\"\nexists = true\n",
        "[*]".repeat(steps)
    )
}

/// `oewsprobe ARGS` in `dir` with no config but the given one: exit code, stdout, stderr.
fn oewsprobe(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("OEWSPROBE_TARGET")
        .output()
        .expect("run oewsprobe");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn validate_refuses_a_26_step_selector_with_its_file_and_key() {
    let dir = support::probe_dir(&[("deep.toml", &wildcard_probe(26))]);
    std::fs::write(dir.path().join("oewsprobe.toml"), "probes_dir = \".\"\n").expect("config");
    let (code, _out, err) = oewsprobe(dir.path(), &["validate", "--config", "oewsprobe.toml"]);
    assert_eq!(code, Some(2), "{err}");
    let selector = format!("${}.b", "[*]".repeat(26));
    let want = format!(
        "deep.toml: expect.json[0].path: invalid selector {selector:?}: selector too complex: more than 8 \"[*]\" and filter steps at position 26"
    );
    assert!(err.contains(&want), "{err}");
}

#[test]
fn sighup_with_a_26_step_selector_keeps_the_daemon_probing() {
    let sim = SimProcess::start(&[]);
    let daemon = Daemon::start(&sim.url, "", &[("h.toml", HEALTH)]);
    std::thread::sleep(Duration::from_millis(1_500));
    let probes = daemon.dir.path().join("probes");
    std::fs::write(probes.join("deep.toml"), wildcard_probe(26)).expect("write");
    daemon.signal("HUP");
    std::thread::sleep(Duration::from_millis(2_000));
    let before = daemon.records();
    std::thread::sleep(Duration::from_millis(1_500));
    assert!(daemon.records() > before, "still probing after the reload");
    let (code, stderr, _store, _dir) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("SIGHUP: the new config is invalid; keeping the old one:"),
        "{stderr}"
    );
    assert!(stderr.contains("selector too complex"), "{stderr}");
}

/// Every error of loading `config` with one probe file `p.toml`, with the folder's path left out.
fn load_errors(config: &str, probe: &str) -> Vec<String> {
    let dir = support::probe_dir(&[("p.toml", probe)]);
    let config_path = dir.path().join("oewsprobe.cfg");
    std::fs::write(&config_path, config).expect("write config");
    let sources = oewsprobe::config::Sources {
        config: Some(config_path),
        probes_dir: Some(dir.path().to_path_buf()),
        target: None,
    };
    let errors = oewsprobe::config::load(&sources).expect_err("refused");
    let prefix = format!("{}/", dir.path().display());
    errors
        .0
        .iter()
        .map(|e| e.to_string().replace(&prefix, ""))
        .collect()
}

#[test]
fn every_duration_key_is_bounded_with_its_file_and_key() {
    const HUGE: &str = "300000000000y";
    let long = |key: &str, max: &str| format!("{key}: \"{HUGE}\" is too long; give at most {max}");
    let cases: Vec<(String, String, Vec<String>)> = vec![
        (
            String::new(),
            format!("{HEALTH}timeout = \"{HUGE}\"\nconnect_timeout = \"{HUGE}\"\n[expect]\nlatency = \"{HUGE}\"\n"),
            vec![
                format!("p.toml: {}", long("request.timeout", "1h")),
                format!("p.toml: {}", long("request.connect_timeout", "1h")),
                format!("p.toml: {}", long("expect.latency", "1h")),
            ],
        ),
        (
            String::new(),
            format!("{HEALTH}[burst]\nschedule = \"0 0 * * * *\"\nslo = \"{HUGE}\"\n"),
            vec![format!("p.toml: {}", long("burst.slo", "1h"))],
        ),
        (
            format!(
                "[defaults]\ntimeout = \"{HUGE}\"\nconnect_timeout = \"2h\"\n[run]\nshutdown_grace = \"{HUGE}\"\nretention = \"{HUGE}\"\njitter = \"{HUGE}\"\n"
            ),
            HEALTH.to_string(),
            vec![
                format!("oewsprobe.cfg: {}", long("defaults.timeout", "1h")),
                "oewsprobe.cfg: defaults.connect_timeout: \"2h\" is too long; give at most 1h".to_string(),
                format!("oewsprobe.cfg: {}", long("run.retention", "3650days")),
                format!("oewsprobe.cfg: {}", long("run.jitter", "1h")),
                format!("oewsprobe.cfg: {}", long("run.shutdown_grace", "1h")),
            ],
        ),
        (
            format!(
                "[release]\nwatch = \"{HUGE}\"\nevaluate_every = \"1ns\"\n[rollback]\ntimeout = \"{HUGE}\"\nrecovery = \"{HUGE}\"\n"
            ),
            HEALTH.to_string(),
            vec![
                format!("oewsprobe.cfg: {}", long("release.watch", "365days")),
                "oewsprobe.cfg: release.evaluate_every: \"1ns\" is too short; give at least 100ms".to_string(),
                format!("oewsprobe.cfg: {}", long("rollback.timeout", "1h")),
                format!("oewsprobe.cfg: {}", long("rollback.recovery", "1h")),
            ],
        ),
        (
            format!(
                "[alert]\nremind_every = \"{HUGE}\"\n[[alert.maintenance]]\nname = \"m\"\ncron = \"0 0 3 * * *\"\nduration = \"{HUGE}\"\n[telemetry]\ntimeout = \"{HUGE}\"\n[[slo]]\nname = \"s\"\nprobes = [\"p\"]\nsli = \"latency\"\nthreshold = \"{HUGE}\"\ntarget = 0.99\nperiod = \"{HUGE}\"\n[[slo.tiers]]\nseverity = \"page\"\nburn = 2\nlong = \"{HUGE}\"\nshort = \"1h\"\n"
            ),
            HEALTH.to_string(),
            vec![
                format!("oewsprobe.cfg: {}", long("alert.remind_every", "3650days")),
                format!("oewsprobe.cfg: {}", long("alert.maintenance[0].duration", "365days")),
                format!("oewsprobe.cfg: {}", long("telemetry.timeout", "1h")),
                format!("oewsprobe.cfg: {}", long("slo[0].threshold", "1h")),
                format!("oewsprobe.cfg: {}", long("slo[0].period", "365days")),
                format!("oewsprobe.cfg: {}", long("slo[0].tiers[0].long", "365days")),
            ],
        ),
        (
            "[run]\njitter = \"1s\"\n".to_string(),
            HEALTH.to_string(),
            vec![
                "oewsprobe.cfg: run.jitter: \"1s\" is not below the shortest interval between firings of probe \"p\" (1s); give less, or \"0s\"".to_string(),
            ],
        ),
    ];
    for (config, probe, want) in cases {
        assert_eq!(load_errors(&config, &probe), want, "{config}\n{probe}");
    }
}

#[test]
fn check_and_validate_refuse_a_huge_timeout_without_a_panic() {
    let probe = format!("{HEALTH}timeout = \"300000000000y\"\n");
    let dir = support::probe_dir(&[("p.toml", &probe)]);
    std::fs::write(
        dir.path().join("oewsprobe.toml"),
        "target = \"http://127.0.0.1:9\"\nprobes_dir = \".\"\n",
    )
    .expect("config");
    let want = "p.toml: request.timeout: \"300000000000y\" is too long; give at most 1h";
    for command in ["validate", "check"] {
        let (code, _out, err) = oewsprobe(dir.path(), &[command, "--config", "oewsprobe.toml"]);
        assert_eq!(code, Some(2), "{command}: {err}");
        assert!(err.contains(want), "{command}: {err}");
        assert!(!err.contains("panicked"), "{command}: {err}");
    }
}

/// A folder with `oewsprobe.cfg` (store `s.sqlite`, target a closed loopback port) and one probe `p`.
fn store_setup() -> tempfile::TempDir {
    let dir = support::probe_dir(&[("p.toml", HEALTH)]);
    std::fs::write(
        dir.path().join("oewsprobe.cfg"),
        "target = \"http://127.0.0.1:9\"\nprobes_dir = \".\"\n[run]\nstore = \"s.sqlite\"\n",
    )
    .expect("config");
    dir
}

#[test]
fn silence_for_is_bounded_and_a_far_silence_still_renders() {
    let dir = store_setup();
    let add = |duration: &str| {
        oewsprobe(
            dir.path(),
            &[
                "silence",
                "add",
                "--config",
                "oewsprobe.cfg",
                "--all",
                "--for",
                duration,
                "--reason",
                "r",
            ],
        )
    };
    let (code, out, err) = add("8000y");
    assert_eq!((code, out.as_str()), (Some(2), ""), "{err}");
    assert!(
        err.starts_with(
            "error: invalid value '8000y' for '--for <DURATION>': \"8000y\" is too long; give at most 365days\n"
        ),
        "{err}"
    );
    let (code, _, err) = add("365days");
    assert_eq!(code, Some(0), "{err}");
    // A silence stored before the bound (year 10000) still renders everywhere.
    let store = oewsprobe::store::Store::open(&dir.path().join("s.sqlite")).expect("store");
    store
        .add_silence(Some("p"), 0, 253_402_300_800_000, "old")
        .expect("silence");
    drop(store);
    for args in [
        &["silence", "list", "--config", "oewsprobe.cfg"][..],
        &[
            "silence",
            "list",
            "--config",
            "oewsprobe.cfg",
            "--format",
            "json",
        ],
        &["status", "--config", "oewsprobe.cfg"],
    ] {
        let (code, out, err) = oewsprobe(dir.path(), args);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_ne!(code, Some(101), "{args:?}: {err}");
        if args[0] == "silence" {
            assert_eq!(code, Some(0), "{args:?}: {err}");
            assert!(out.contains("+10000-01-01T00:00:00Z"), "{args:?}: {out}");
        }
    }
}

#[test]
fn burst_refuses_rates_and_durations_out_of_bounds_with_exit_2() {
    let dir = store_setup();
    let burst = |flags: &[&str]| {
        let mut args = vec!["burst", "--config", "oewsprobe.cfg", "--probe", "p"];
        args.extend_from_slice(flags);
        oewsprobe(dir.path(), &args)
    };
    let rate = |shown: &str| {
        format!("--rate {shown}: give a rate from 0.001 to 10000 requests per second\n")
    };
    let cases = [
        (vec!["--rate", "1e-19", "--duration", "10s"], rate("1e-19")),
        (vec!["--rate", "0", "--duration", "10s"], rate("0.0")),
        (vec!["--rate=-2", "--duration", "10s"], rate("-2.0")),
        (vec!["--rate", "NaN", "--duration", "10s"], rate("NaN")),
        (vec!["--rate", "inf", "--duration", "10s"], rate("inf")),
        (
            vec!["--rate", "20000", "--duration", "10s"],
            rate("20000.0"),
        ),
    ];
    for (flags, want) in cases {
        let (code, out, err) = burst(&flags);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (Some(2), "", want.as_str()),
            "{flags:?}"
        );
    }
    for (flags, shown, bound) in [
        (
            ["--duration", "300000000000y", "--concurrency", "1"],
            "'300000000000y' for '--duration <DURATION>'",
            "\"300000000000y\" is too long; give at most 1day",
        ),
        (
            ["--duration", "25h", "--concurrency", "1"],
            "'25h' for '--duration <DURATION>'",
            "\"25h\" is too long; give at most 1day",
        ),
        (
            ["--slo", "300000000000y", "-n", "1"],
            "'300000000000y' for '--slo <SLO>'",
            "\"300000000000y\" is too long; give at most 1h",
        ),
    ] {
        let (code, _, err) = burst(&flags);
        let want = format!("error: invalid value {shown}: {bound}\n");
        assert_eq!(code, Some(2), "{flags:?}: {err}");
        assert!(err.starts_with(&want), "{flags:?}: {err}");
    }
}

#[test]
fn a_target_with_credentials_is_refused_everywhere_without_showing_them() {
    let dir = store_setup();
    let secret_target = "http://probe:s3cret@127.0.0.1:9";
    let refused = "\"http://***@127.0.0.1:9\": credentials in a URL would be shown in output and logs and stored \
                   with every record; remove them and send a header instead, e.g. [headers] Authorization = \"Basic ...\"";
    fn config(command: &str) -> Vec<&str> {
        let mut args = vec![command, "--config", "oewsprobe.cfg"];
        if command == "burst" {
            args.extend(["--probe", "p"]);
        }
        args
    }
    for command in ["check", "burst"] {
        let args = [&config(command)[..], &["--target", secret_target]].concat();
        let (code, out, err) = oewsprobe(dir.path(), &args);
        assert_eq!(code, Some(2), "{command}: {err}");
        let want = format!("--target/OEWSPROBE_TARGET: {refused}");
        assert!(err.contains(&want), "{command}: {err}");
        assert!(
            !format!("{out}{err}").contains("s3cret"),
            "{command}: {out}{err}"
        );
    }
    std::fs::write(
        dir.path().join("oewsprobe.cfg"),
        format!("target = \"{secret_target}\"\nprobes_dir = \".\"\n[run]\nstore = \"s.sqlite\"\n"),
    )
    .expect("config");
    let (code, out, err) = oewsprobe(dir.path(), &config("validate"));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("oewsprobe.cfg: target: {refused}")),
        "{err}"
    );
    assert!(!format!("{out}{err}").contains("s3cret"), "{out}{err}");
    // The daemon refuses to start: nothing logged or stored holds the credentials.
    let mut daemon = Daemon::start(secret_target, "", &[("h.toml", HEALTH)]);
    let (code, stderr) = daemon.wait_exit(Duration::from_secs(10));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(refused), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
    let store = std::fs::read(daemon.store_path()).unwrap_or_default();
    assert!(!String::from_utf8_lossy(&store).contains("s3cret"));
}

/// Answers every request with headers declaring a 100 MB body, sends 20 bytes of it and holds the connection.
async fn lying_length_server() -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n{\"status\": \"healthy";
                let _ = socket.write_all(head.as_bytes()).await;
                tokio::time::sleep(Duration::from_secs(30)).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_lying_content_length_over_the_cap_is_too_large_in_both_transports() {
    use oewsprobe::load::{HttpChoice, LoadTransport, Progress, Shape, run_load};
    use oewsprobe::probe::{Caller, FailureClass, PreparedRequest, Verdict};
    use std::sync::Arc;
    let server = lying_length_server().await;
    let target = format!("http://{server}");
    let dir = support::probe_dir(&[(
        "p.toml",
        "[request]\npath = \"/api/v1/health\"\ntimeout = \"3s\"\n[expect]\nstatus = 200\nmax_body = \"1KiB\"\n",
    )]);
    let plan = support::plan(&target, dir.path());
    // `check` and `run`: the probe client (reqwest).
    let record = support::run_all(&plan).await.remove(0);
    assert_eq!(
        (record.verdict, record.class),
        (Verdict::Fail, Some(FailureClass::TooLarge)),
        "{:?}",
        record.findings
    );
    // `burst`: the load transport (hyper), over HTTP and over HTTPS through a TLS front.
    let spec = Arc::new(plan.probes.into_iter().next().expect("one probe"));
    let (ca, cert) = support::tls_front::loopback_pki();
    let front = support::tls_front::tls_front(server, &cert).await;
    let trusting = support::tls_front::trusting(&ca.cert);
    let cases = [
        (
            target,
            LoadTransport::new(
                HttpChoice::Negotiate,
                oewsprobe::tls::TlsSettings::default(),
            ),
        ),
        (
            format!("https://{front}"),
            LoadTransport::with_tls_config(HttpChoice::Negotiate, trusting),
        ),
    ];
    for (target, transport) in cases {
        let target = url::Url::parse(&target).expect("url");
        let request = PreparedRequest::new(&spec.request, &target).expect("prepared");
        let stats = run_load(
            spec.clone(),
            Arc::new(request),
            Shape::Once { n: 2 },
            &transport,
            Duration::from_secs(5),
            Arc::new(Progress::default()),
            Caller::OneShot,
        )
        .await
        .expect("run")
        .stats;
        assert_eq!(
            stats.failed.get(&FailureClass::TooLarge),
            Some(&2),
            "{target}: {:?}",
            stats.failed
        );
    }
}

#[test]
fn validate_names_the_probe_files_it_skips_and_why() {
    let dir = support::probe_dir(&[("p.toml", HEALTH), ("X.TOML", HEALTH), ("notes.md", "")]);
    let probes = dir.path();
    std::os::unix::fs::symlink(probes.join("gone"), probes.join("d.toml")).expect("symlink");
    std::fs::create_dir(probes.join("dir.toml")).expect("dir");
    let status = Command::new("mkfifo")
        .arg(probes.join("f.toml"))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let config = tempfile::NamedTempFile::new().expect("config");
    let (code, out, err) = oewsprobe(
        probes,
        &[
            "validate",
            "--config",
            &config.path().display().to_string(),
            "--probes",
            ".",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("ok: 1 probes (p);"), "{out}");
    assert_eq!(
        err,
        "./X.TOML: skipped: the extension \".TOML\" is not \".toml\" (lower case)\n\
         ./d.toml: skipped: a symbolic link to nothing\n\
         ./dir.toml: skipped: a directory, not a regular file\n\
         ./f.toml: skipped: a FIFO (named pipe), not a regular file\n"
    );
}

#[test]
fn probe_and_config_files_over_1_mib_are_refused_with_their_name() {
    let big = format!("# {}\n{HEALTH}", "x".repeat(2 << 20));
    let dir = support::probe_dir(&[("p.toml", HEALTH), ("big.toml", &big)]);
    std::fs::write(dir.path().join("big.cfg"), &big).expect("config");
    let (code, _, err) = oewsprobe(
        dir.path(),
        &["validate", "--config", "big.cfg", "--probes", "."],
    );
    assert_eq!(code, Some(2), "{err}");
    let too_large =
        "the file is larger than 1 MiB (1048576 bytes), the most a config or probe file may hold";
    assert_eq!(
        err,
        format!(
            "big.cfg: cannot read the config file: {too_large}\n./big.toml: cannot read: {too_large}\n2 error(s)\n"
        )
    );
}
