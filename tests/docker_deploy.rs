//! The runbook's deployment on the real Docker engine (no registry: images made from local files): the proxy
//! network, Caddy on it, `oews-prod` from a stand-in image with the runbook's flags; `check` through Caddy, and
//! Task 10's failure (the container off the proxy network: Caddy's 502 with its hint, then restored).

mod support;

use std::process::Command;
use std::time::Duration;
use support::docker::{Deployment, Scope, docker};
use support::process::BIN;

/// `oewsprobe check --only health` against `target` with the shipped probes: (exit code, stdout).
fn check_health(target: &str) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(["check", "--only", "health", "--target", target, "--probes"])
        .arg(support::shipped_probes())
        .args(["--config", "/dev/null"])
        .output()
        .expect("run check");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_runbook_deployment_serves_through_caddy_and_off_the_proxy_network_is_a_502_with_its_hint() {
    let scope = Scope::new();
    let good = scope.api_image(&[]);
    let deployment = Deployment::start(scope, &good);
    let scope = &deployment.scope;
    assert_eq!(scope.image_of(&deployment.container), good);
    assert!(scope.running(&deployment.container));
    let mut networks = scope.networks_of(&deployment.container);
    networks.sort();
    assert_eq!(networks, ["bridge".to_string(), deployment.network.clone()]);
    let mounts = docker(&[
        "inspect",
        "--format",
        "{{range .Mounts}}{{.Destination}} rw={{.RW}}{{end}}",
        &deployment.container,
    ]);
    assert_eq!(mounts, "/app/data rw=false");

    let (code, out) = check_health(&deployment.target());
    assert_eq!(code, Some(0), "{out}");

    docker(&[
        "network",
        "disconnect",
        &deployment.network,
        &deployment.container,
    ]);
    // Past the proxy's 2 s keep-alive, so that Caddy dials anew (see `CADDYFILE`).
    std::thread::sleep(Duration::from_secs(3));
    let (code, out) = check_health(&deployment.target());
    assert_eq!(code, Some(1), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[2].starts_with("health  FAIL          proxy_bad_gateway     502 "),
        "{out}"
    );
    assert_eq!(
        lines[3],
        "    - GET /api/v1/health: expected 200, got 502 — the reverse proxy cannot reach the container: is it running and on the proxy's network (oews_default)?"
    );

    docker(&[
        "network",
        "connect",
        &deployment.network,
        &deployment.container,
    ]);
    deployment.wait_healthy(Duration::from_secs(10));
    let (code, out) = check_health(&deployment.target());
    assert_eq!(code, Some(0), "{out}");
}
