//! oewsprobe as a container: `deploy/Dockerfile` built on a Debian base made locally (no registry, and the
//! build has no network), run against the stand-in API on a Docker network: a non-root user, Docker's health
//! check on `/healthz` turns healthy, `/metrics` counts runs, `docker stop` is a graceful exit 0, and the store
//! on its volume outlives the container. The compose example is valid.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::docker::{Scope, docker, docker_output};

/// A build context laid out like the repository: the Dockerfile, the binary at `target/release/oewsprobe`,
/// the shipped probes and the container config.
fn context() -> tempfile::TempDir {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let put = |to: &str, from: &Path| {
        let to = dir.path().join(to);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(from, &to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    };
    put("deploy/Dockerfile", &repo.join("deploy/Dockerfile"));
    put(
        "deploy/docker/oewsprobe.toml",
        &repo.join("deploy/docker/oewsprobe.toml"),
    );
    put(
        "target/release/oewsprobe",
        &support::docker::stripped_binary(),
    );
    for entry in std::fs::read_dir(repo.join("probes")).expect("probes") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        put(&format!("probes/{name}"), &path);
    }
    dir
}

fn wait_until(what: &str, timeout: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The value of the Prometheus sample `name{…probe="health"…verdict="pass"…}` in `text`, summed.
fn passing_health_runs(text: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with("oewsprobe_probe_runs_total{"))
        .filter(|l| l.contains("probe=\"health\"") && l.contains("verdict=\"pass\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn the_monitor_image_runs_as_a_non_root_user_with_a_health_check_and_its_store_on_a_volume() {
    let scope = Scope::new();
    support::docker::debian_base();
    let image = format!("{}/oewsprobe:latest", scope.prefix);
    scope.owns_image(&image);
    let context = context();
    let built = docker_output(&[
        "build",
        "--network",
        "none",
        "-q",
        "-f",
        &context
            .path()
            .join("deploy/Dockerfile")
            .display()
            .to_string(),
        "-t",
        &image,
        &context.path().display().to_string(),
    ]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );

    let network = scope.name("oews_default");
    let api = scope.name("oews-prod");
    docker(&["network", "create", &network]);
    docker(&[
        "run",
        "-d",
        "--name",
        &api,
        "--network",
        &network,
        &support::docker::sim_base(),
        "sim",
        "--listen",
        "0.0.0.0:8000",
    ]);
    // The baked config, aimed at the stand-in, with a 1 s health probe.
    let config = tempfile::tempdir().expect("config dir");
    let baked = std::fs::read_to_string(context.path().join("deploy/docker/oewsprobe.toml"))
        .expect("config");
    let text = baked
        .replace(
            "target = \"http://caddy\"",
            &format!("target = \"http://{api}:8000\""),
        )
        .replace(
            "shutdown_grace = \"30s\"",
            "shutdown_grace = \"5s\"\njitter = \"0s\"",
        );
    assert_ne!(text, baked);
    std::fs::write(config.path().join("oewsprobe.toml"), text).expect("write");
    std::fs::create_dir(config.path().join("probes")).expect("probes");
    for probe in ["health", "models"] {
        std::fs::write(
            config.path().join(format!("probes/{probe}.toml")),
            format!(
                "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/{probe}\"\ntimeout = \"2s\"\n[expect]\nstatus = 200\n"
            ),
        )
        .expect("probe");
    }
    let monitor = scope.name("monitor");
    let volume = scope.name("store");
    let run = |name: &str| {
        docker(&[
            "run",
            "-d",
            "--name",
            name,
            "--network",
            &network,
            "--dns",
            "127.0.0.1",
            "-v",
            &format!("{volume}:/var/lib/oewsprobe"),
            "-v",
            &format!("{}:/etc/oewsprobe-test:ro", config.path().display()),
            "-p",
            "127.0.0.1::9464",
            "--health-interval",
            "1s",
            "--health-start-period",
            "1s",
            &image,
            "run",
            "--config",
            "/etc/oewsprobe-test/oewsprobe.toml",
        ])
    };
    run(&monitor);
    assert_eq!(docker(&["exec", &monitor, "id", "-u"]), "10001");
    wait_until("Docker's health check", Duration::from_secs(30), || {
        docker(&["inspect", "--format", "{{.State.Health.Status}}", &monitor]) == "healthy"
    });
    let port = scope.published_port(&monitor, 9464);
    let metrics = || support::http_get(&format!("127.0.0.1:{port}"), "/metrics").2;
    wait_until("passing runs in /metrics", Duration::from_secs(20), || {
        passing_health_runs(&metrics()) >= 3.0
    });

    docker(&["stop", "-t", "30", &monitor]);
    assert_eq!(
        docker(&["inspect", "--format", "{{.State.ExitCode}}", &monitor]),
        "0"
    );
    let logs = docker_output(&["logs", &monitor]);
    let stderr = String::from_utf8_lossy(&logs.stderr);
    assert!(stderr.contains("oewsprobe run: stopped; "), "{stderr}");

    // The store is on the volume: a new container sees the runs of the old one.
    let status = |name: &str| -> serde_json::Value {
        let out = docker(&[
            "run",
            "--rm",
            "--name",
            name,
            "-v",
            &format!("{volume}:/var/lib/oewsprobe"),
            "-v",
            &format!("{}:/etc/oewsprobe-test:ro", config.path().display()),
            &image,
            "status",
            "--format",
            "json",
            "--config",
            "/etc/oewsprobe-test/oewsprobe.toml",
        ]);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    };
    let before = status(&scope.name("status-1"));
    let health = before["probes"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "health"))
        .unwrap_or_else(|| panic!("{before}"));
    assert!(health["runs"].as_u64().unwrap_or(0) >= 3, "{before}");
}

#[test]
fn the_compose_example_is_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env_file = dir.path().join("oews.env");
    std::fs::write(&env_file, "OEWS_ENV=production\n").expect("env file");
    let out = Command::new("docker-compose")
        .args(["-f"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/deploy/docker/compose.yaml"
        ))
        .arg("config")
        .env("OEWS_TAG", "main-1a2b3c4")
        .env("OEWS_DOMAIN", "api.example.org")
        .env("OEWS_ENV_FILE", &env_file)
        .output()
        .expect("docker-compose must be on PATH (the machine's Docker engine comes with it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "image: ghcr.io/varunr89/oews:main-1a2b3c4",
        "container_name: oews-prod",
        "name: oews_default",
        "dockerfile: deploy/Dockerfile",
        "- 127.0.0.1:9464:9464/tcp",
        "stop_grace_period: 60s",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
}
