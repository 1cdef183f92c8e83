//! The shipped rollback hooks in `deploy/`, in dry-run mode (the exact commands they would run), and the
//! systemd unit, checked by `systemd-analyze verify`.

use std::process::Command;

fn hook(script: &str, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let out = Command::new("bash")
        .arg(format!("{}/deploy/{script}", env!("CARGO_MANIFEST_DIR")))
        .arg("--dry-run")
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().copied())
        .output()
        .expect("run hook");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn docker_hook_dry_run_prints_task_23() {
    let (code, stdout, _) = hook(
        "rollback-docker.sh",
        &[
            ("OEWSPROBE_RELEASE", "main-bbb"),
            ("OEWSPROBE_ROLLBACK_TO", "main-aaa"),
            ("OEWSPROBE_REASON", "burn"),
        ],
    );
    assert_eq!(code, Some(0));
    assert_eq!(
        stdout,
        "rollback: main-bbb -> ghcr.io/varunr89/oews:main-aaa (burn)\n\
         dry-run: use ghcr.io/varunr89/oews:main-aaa from the host, or docker pull it when it is missing\n\
         dry-run: docker stop oews-prod\n\
         dry-run: docker rename oews-prod oews-prod-rolled-back\n\
         dry-run: docker run -d --name oews-prod --restart unless-stopped -p 8000:8000 -v /opt/oews/data:/app/data:ro --env-file /opt/oews/.env ghcr.io/varunr89/oews:main-aaa\n\
         dry-run: docker network connect oews_default oews-prod\n\
         dry-run: would poll http://127.0.0.1:8000/health up to 30 times, then docker rm oews-prod-rolled-back\n"
    );
}

#[test]
fn hooks_refuse_a_target_that_is_not_a_plain_tag() {
    for script in ["rollback-docker.sh", "rollback-container-platform.sh"] {
        let (code, _, stderr) = hook(
            script,
            &[
                ("OEWSPROBE_ROLLBACK_TO", "x;rm -rf /"),
                ("OEWS_APP", "a"),
                ("OEWS_RESOURCE_GROUP", "g"),
                ("OEWS_REGISTRY_IMAGE", "r/i"),
            ],
        );
        assert_eq!(code, Some(2), "{script}");
        assert_eq!(
            stderr, "refusing: rollback target 'x;rm -rf /' is not a plain image tag\n",
            "{script}"
        );
    }
}

#[test]
fn container_platform_hook_dry_run_updates_the_image_tag() {
    let (code, stdout, _) = hook(
        "rollback-container-platform.sh",
        &[
            ("OEWSPROBE_ROLLBACK_TO", "abc123"),
            ("OEWS_APP", "oews"),
            ("OEWS_RESOURCE_GROUP", "rg"),
            ("OEWS_REGISTRY_IMAGE", "reg.example/oews-api"),
        ],
    );
    assert_eq!(code, Some(0));
    assert_eq!(
        stdout.lines().last(),
        Some(
            "dry-run: az containerapp update --name oews --resource-group rg --image reg.example/oews-api:abc123"
        )
    );
}

/// `systemd-analyze verify` of the shipped unit (its binary path pointed at this build): no error, no warning.
#[test]
fn the_systemd_unit_verifies_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/oewsprobe.service"
    ))
    .expect("unit");
    let path = dir.path().join("oewsprobe.service");
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/oewsprobe", env!("CARGO_BIN_EXE_oewsprobe")),
    )
    .expect("write");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect(
            "systemd-analyze is not installed: apt-get install systemd (scripts/test installs it)",
        );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && said.is_empty(), "{said}");
    // The Docker hook reaches the engine's socket: a fixed user in the group docker, not a DynamicUser.
    assert!(unit.contains("\nSupplementaryGroups=docker\n"), "{unit}");
    assert!(!unit.contains("\nDynamicUser="), "{unit}");
}

/// The platform's CLI cannot run here: a stand-in program in its place that runs `script`.
fn platform_cli(dir: &std::path::Path, script: &str) -> String {
    let path = dir.join("platform-cli");
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).expect("write");
    let status = Command::new("chmod")
        .arg("+x")
        .arg(&path)
        .status()
        .expect("chmod");
    assert!(status.success());
    path.display().to_string()
}

#[test]
fn container_platform_hook_failures_are_one_explicit_line() {
    let base = [
        ("OEWSPROBE_ROLLBACK_TO", "abc123"),
        ("OEWS_APP", "oews"),
        ("OEWS_RESOURCE_GROUP", "rg"),
        ("OEWS_REGISTRY_IMAGE", "reg.example/oews-api"),
    ];
    let run = |extra: &[(&str, &str)]| {
        let out = Command::new("bash")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/deploy/rollback-container-platform.sh"
            ))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .envs(base)
            .envs(extra.iter().copied())
            .output()
            .expect("run hook");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let dir = tempfile::tempdir().expect("tempdir");

    let (code, _, stderr) = run(&[("OEWS_PLATFORM_CLI", "no-such-cli")]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        "rollback failed: the platform CLI 'no-such-cli' is not on PATH; nothing was changed\n"
    );

    let failing = platform_cli(
        dir.path(),
        "echo 'ERROR: (ResourceNotFound) The app oews was not found.' >&2; exit 3",
    );
    let (code, _, stderr) = run(&[("OEWS_PLATFORM_CLI", &failing)]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        format!(
            "rollback failed: {failing} containerapp update exited 3: ERROR: (ResourceNotFound) The app oews was not found.; the app still runs its current image\n"
        )
    );

    let updating = platform_cli(dir.path(), "exit 0");
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}/health");
    let (code, stdout, stderr) = run(&[
        ("OEWS_PLATFORM_CLI", &updating),
        ("OEWS_HEALTH_URL", &url),
        ("OEWS_HEALTH_TRIES", "2"),
        ("OEWS_HEALTH_INTERVAL", "0.1"),
    ]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.ends_with("rollback: oews now runs reg.example/oews-api:abc123\n"));
    assert_eq!(
        stderr,
        format!("rollback failed: oews on abc123 is not healthy at {url} after 2 tries\n")
    );
}
