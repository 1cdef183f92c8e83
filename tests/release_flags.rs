//! `release start` takes only image references for `--version` and `--rollback-to` and a bounded `--watch`:
//! each refusal is one exact line, exit 2, and nothing is recorded.

mod support;

use std::path::Path;
use std::process::Command;
use support::process::BIN;

fn release(args: &[&str], config: &Path) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .arg("release")
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("OEWSPROBE_TARGET")
        .output()
        .expect("oewsprobe release");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn release_start_refuses_what_is_not_an_image_reference_and_unbounded_watches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("oewsprobe.toml");
    std::fs::write(&config, "target = \"http://127.0.0.1:9\"\n").expect("config");
    std::fs::create_dir(dir.path().join("probes")).expect("probes");
    std::fs::write(
        dir.path().join("probes/health.toml"),
        "[request]\npath = \"/api/v1/health\"\n[expect]\nstatus = 200\n",
    )
    .expect("probe");
    let start = |version: &str, rollback_to: &str, watch: &[&str]| {
        let mut args = vec!["start", "--version", version, "--rollback-to", rollback_to];
        args.extend_from_slice(watch);
        release(&args, &config)
    };
    let refused = |message: &str| {
        (
            Some(2),
            String::new(),
            format!("oewsprobe release: {message}\n"),
        )
    };
    let table = [
        (
            start("main-b", "", &[]),
            refused("--rollback-to is empty; give an image tag or reference like main-1a2b3c4"),
        ),
        (
            start("main-\u{1b}[2J", "main-a", &[]),
            refused(
                r#"--version "main-\u{1b}[2J": '\u{1b}' is not allowed; use letters, digits and . _ - : @ / +"#,
            ),
        ),
        (
            start(&"v".repeat(200), "main-a", &[]),
            refused("--version is 200 characters long; at most 128"),
        ),
        (
            start("main-b", "main-a", &["--watch", "8000y"]),
            refused("--watch 8000years is too long; at most 365days"),
        ),
        (
            start("main-b", "main-a", &["--watch", "0s"]),
            refused("--watch is 0s; give a positive duration like 24h"),
        ),
    ];
    for (got, expected) in table {
        assert_eq!(got, expected);
    }
    let (code, stdout, _) = release(&["list", "--format", "json"], &config);
    assert_eq!(
        (code, stdout.as_str()),
        (Some(0), "{\n  \"releases\": []\n}\n")
    );
    let (code, stdout, stderr) = start(
        "feature/x",
        "registry.local:5000/api:v1.2",
        &["--watch", "2h"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "release feature/x recorded (rollback to registry.local:5000/api:v1.2); watching for 2h\n"
    );
}
