//! The binary end to end: `sim` as a child process, `check`, `validate` and `demo`, their output and exit codes.

mod support;

use std::process::{Command, Output};
use support::process::SimProcess;

const BIN: &str = support::process::BIN;

fn oewsprobe(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("OEWSPROBE_TARGET")
        .env_remove("RUST_LOG")
        .output()
        .expect("run oewsprobe")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_against_a_healthy_simulator_exits_0_with_one_line_per_probe() {
    let sim = SimProcess::start(&[]);
    // The shipped probes spend 5 valid queries, over the default budget of 4 (loopback included).
    let out = oewsprobe(&["check", "--force", "--target", &sim.url]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], format!("oewsprobe check: {}", sim.url));
    assert!(lines[1].starts_with("PROBE "), "{stdout}");
    assert_eq!(lines.len(), 12, "{stdout}");
    for line in &lines[2..10] {
        assert!(line.split_whitespace().nth(1) == Some("PASS"), "{line}");
    }
    assert_eq!(
        lines[10],
        "8 of 8 probes passed (0 failed, 0 inconclusive): PASS"
    );
    // Four query probes spend one each; the invalid-model probe's 422 stops before the workflow.
    assert_eq!(lines[11], "valid queries spent: 4");
}

#[test]
fn check_with_a_fault_exits_1_and_json_names_the_finding() {
    let sim = SimProcess::start(&["--fault", "no_echo"]);
    let out = oewsprobe(&[
        "check",
        "--target",
        &sim.url,
        "--only",
        "override-reasoning",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(
        (
            doc["passed"].as_u64(),
            doc["failed"].as_u64(),
            doc["inconclusive"].as_u64()
        ),
        (Some(0), Some(1), Some(0))
    );
    assert_eq!(doc["target"], sim.url.as_str());
    assert_eq!(doc["queries"], 1);
    let probe = &doc["probes"][0];
    assert_eq!(probe["name"], "override-reasoning");
    assert_eq!(
        probe["request"],
        serde_json::json!({"method": "POST", "url": format!("{}/api/v1/query", sim.url)})
    );
    assert_eq!(probe["class"], "contract");
    assert_eq!(probe["findings"][0]["check"], "echo");
    assert_eq!(
        probe["findings"][0]["expected"],
        "\"deepseek-r1\" (sent as reasoning_model)"
    );
}

#[test]
fn the_target_comes_from_the_environment_too() {
    let sim = SimProcess::start(&[]);
    let out = Command::new(BIN)
        .args(["check", "--only", "health"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("OEWSPROBE_TARGET", &sim.url)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).starts_with(&format!("oewsprobe check: {}\n", sim.url)));
}

#[test]
fn only_inconclusive_results_exit_2() {
    let sim = SimProcess::start(&["--fault", "rate_limited"]);
    let out = oewsprobe(&["check", "--target", &sim.url, "--only", "query-trace"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(
        stdout.ends_with(
            "\n    - POST /api/v1/query: expected 200, got 429 — rate limited (10 queries/hour per client): wait \
             before trying again, or spend fewer queries — body: {\"error\":\"Rate limit exceeded: 10 per 1 \
             hour\"}\n0 of 1 probes passed (0 failed, 1 inconclusive): INCONCLUSIVE\nvalid queries spent: 0\n"
        ),
        "{stdout}"
    );
}

#[test]
fn an_unknown_probe_name_exits_2_with_a_suggestion() {
    let out = oewsprobe(&["check", "--target", "http://127.0.0.1:9", "--only", "helth"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "--only helth: no such probe — did you mean \"health\"?\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn validate_reports_ok_or_every_error_with_exit_2() {
    // A config naming a local target: nothing is sent, but the summary shows the target it would use.
    let config = tempfile::tempdir().expect("tempdir");
    let config_file = config.path().join("oewsprobe.toml");
    std::fs::write(&config_file, "target = \"http://127.0.0.1:8000\"\n").expect("write config");
    let config_arg = config_file.display().to_string();
    let out = oewsprobe(&["validate", "--config", &config_arg, "--probes", "probes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "ok: 8 probes (health, models, override-implementation, override-reasoning, query-charts-trace, query-trace, reject-invalid-model, reject-short-query); one run of each spends 5 valid queries; target http://127.0.0.1:8000\n"
    );
    let dir = support::probe_dir(&[
        ("a.toml", "[request]\npath = \"x\"\n"),
        ("b.toml", "bogus = 1\n[request]\npath = \"/\"\n"),
    ]);
    let out = oewsprobe(&["validate", "--probes", &dir.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let d = dir.path().display();
    assert_eq!(
        text(&out.stderr),
        format!(
            "{d}/a.toml: request.path: \"x\" must start with \"/\"\n{d}/b.toml: bogus: unknown key \"bogus\" (known keys: description, queries, schedule, request, expect, burst, tls)\n2 error(s)\n"
        )
    );
}

#[test]
fn bad_flags_exit_2() {
    assert_eq!(
        oewsprobe(&["check", "--format", "yaml"]).status.code(),
        Some(2)
    );
    assert_eq!(oewsprobe(&["frobnicate"]).status.code(), Some(2));
    let out = oewsprobe(&["sim", "--fault", "slwo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("--fault: unknown fault \"slwo\""),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn demo_runs_the_shipped_probes_against_the_built_in_simulator() {
    let out = oewsprobe(&["demo"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).ends_with(
        "8 of 8 probes passed (0 failed, 0 inconclusive): PASS\nvalid queries spent: 4\n"
    ));
    let out = oewsprobe(&["demo", "--profile", "as-built"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("got \"cortex_researcher\""),
        "{}",
        text(&out.stdout)
    );
}
