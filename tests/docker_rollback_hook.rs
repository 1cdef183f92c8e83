//! The shipped `deploy/rollback-docker.sh` itself on the real Docker engine, configured only by its
//! environment settings: it brings back the previous image with the runbook's flags and network; and when a
//! step fails it says so, exits 1, and never leaves production without a container.

mod support;

use std::process::Command;
use support::docker::{Deployment, docker};

/// Runs the hook for `deployment` with `OEWSPROBE_ROLLBACK_TO = tag` and `extra` settings: (exit code,
/// stdout, stderr).
fn rollback(
    deployment: &Deployment,
    tag: &str,
    extra: &[(&str, &str)],
) -> (Option<i32>, String, String) {
    let out = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/rollback-docker.sh"
    ))
    .env_clear()
    .env("PATH", "/usr/local/bin:/usr/bin:/bin")
    .env("OEWSPROBE_RELEASE", "main-bad")
    .env("OEWSPROBE_ROLLBACK_TO", tag)
    .env("OEWSPROBE_REASON", "availability burn")
    .envs(deployment.hook_settings())
    .envs(extra.iter().copied())
    .output()
    .expect("run the hook");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The tag of an image reference.
fn tag(image: &str) -> &str {
    image.rsplit_once(':').map_or(image, |(_, tag)| tag)
}

/// A deployment running a bad image (every query answers 500), with a good image on the host.
fn bad_release() -> (Deployment, String, String) {
    Deployment::with_good_and_bad(true)
}

/// `oews-prod` runs `image`, is on the proxy network, and is the only container of the deployment's app.
fn assert_production_runs(deployment: &Deployment, image: &str) {
    let scope = &deployment.scope;
    assert_eq!(scope.image_of(&deployment.container), image);
    assert!(scope.running(&deployment.container));
    assert!(
        scope
            .networks_of(&deployment.container)
            .contains(&deployment.network),
        "{:?}",
        scope.networks_of(&deployment.container)
    );
    let mut containers = scope.containers();
    containers.sort();
    let mut expected = vec![deployment.caddy.clone(), deployment.container.clone()];
    expected.sort();
    assert_eq!(containers, expected);
}

#[test]
fn the_hook_brings_back_the_previous_image_from_the_host_on_the_proxy_network() {
    let (deployment, good, _bad) = bad_release();
    let (code, stdout, stderr) = rollback(&deployment, tag(&good), &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(
        stdout,
        format!(
            "rollback: main-bad -> {good} (availability burn)\n\
             rollback: {good} is on the host\n\
             rollback: {} is healthy on {good}\n",
            deployment.container
        )
    );
    assert_production_runs(&deployment, &good);
    deployment.wait_healthy(std::time::Duration::from_secs(10));
    let mounts = docker(&[
        "inspect",
        "--format",
        "{{range .Mounts}}{{.Source}}:{{.Destination}} rw={{.RW}}{{end}} restart={{.HostConfig.RestartPolicy.Name}}",
        &deployment.container,
    ]);
    assert_eq!(
        mounts,
        format!(
            "{}:/app/data rw=false restart=unless-stopped",
            deployment.data_dir.path().display()
        )
    );
}

#[test]
fn a_previous_tag_neither_on_the_host_nor_pullable_fails_and_changes_nothing() {
    let (deployment, _good, bad) = bad_release();
    // A registry on loopback where nothing listens: the pull is refused without leaving the machine.
    let (code, stdout, stderr) = rollback(
        &deployment,
        "main-0000000",
        &[("OEWS_IMAGE", "127.0.0.1:9/varunr89/oews")],
    );
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stdout.ends_with(
            "rollback: 127.0.0.1:9/varunr89/oews:main-0000000 is not on the host; pulling it\n"
        ),
        "{stdout}"
    );
    assert!(
        stderr.starts_with(
            "rollback failed: 127.0.0.1:9/varunr89/oews:main-0000000 is not on the host and cannot be pulled: "
        ) && stderr.ends_with("; nothing was changed\n"),
        "{stderr}"
    );
    assert_production_runs(&deployment, &bad);
}

#[test]
fn a_previous_image_that_cannot_start_leaves_the_failing_container_running() {
    let (deployment, _good, bad) = bad_release();
    let broken = format!(
        "{}:main-{}",
        support::docker::OEWS_IMAGE,
        support::docker::short_sha()
    );
    deployment.scope.build(
        &broken,
        &format!(
            "FROM {}\nENTRYPOINT [\"/no-such-program\"]\n",
            support::docker::sim_base()
        ),
    );
    let (code, stdout, stderr) = rollback(&deployment, tag(&broken), &[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stderr.starts_with(&format!("rollback failed: {broken} did not start: ")),
        "{stderr}"
    );
    assert!(
        stderr.ends_with(&format!(
            "; restarted the previous container {} ({bad}) so that production is not left without one\n",
            deployment.container
        )),
        "{stderr}"
    );
    assert_production_runs(&deployment, &bad);
    deployment.wait_serving(std::time::Duration::from_secs(10));
}

#[test]
fn a_previous_image_that_never_becomes_healthy_is_replaced_by_the_failing_container_again() {
    let (deployment, _good, bad) = bad_release();
    // Starts, but its server never listens: the process exits at once with a bad flag.
    let crashing = format!(
        "{}:main-{}",
        support::docker::OEWS_IMAGE,
        support::docker::short_sha()
    );
    deployment.scope.build(
        &crashing,
        &format!(
            "FROM {}\nCMD [\"sim\", \"--listen\", \"not-an-address\"]\n",
            support::docker::sim_base()
        ),
    );
    let (code, stdout, stderr) = rollback(
        &deployment,
        tag(&crashing),
        &[("OEWS_HEALTH_TRIES", "4"), ("OEWS_HEALTH_INTERVAL", "0.5")],
    );
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let port = deployment.app_port;
    assert_eq!(
        stderr,
        format!(
            "rollback failed: {} on {crashing} did not become healthy at http://127.0.0.1:{port}/health after 4 tries; \
             restarted the previous container {} ({bad}) so that production is not left without one\n",
            deployment.container, deployment.container
        )
    );
    assert_production_runs(&deployment, &bad);
    deployment.wait_serving(std::time::Duration::from_secs(10));
}

#[test]
fn an_unreachable_docker_engine_fails_before_changing_anything() {
    let (deployment, good, bad) = bad_release();
    let (code, stdout, stderr) = rollback(
        &deployment,
        tag(&good),
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stderr.starts_with("rollback failed: cannot reach the Docker engine: ")
            && stderr.ends_with("; nothing was changed\n"),
        "{stderr}"
    );
    assert!(stderr.contains("/nonexistent/docker.sock"), "{stderr}");
    assert_production_runs(&deployment, &bad);
}
