//! `oewsprobe rules` with real components: the generated rules pass `promtool check rules` (default tiers and a
//! custom config), promtool's rule unit tests show the location quorum on synthetic series, and a real
//! Prometheus scraping two real agents (each reaching the simulator through its own Caddy) pages when the target
//! breaks and not when one agent's path is cut.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::daemon::Daemon;
use support::process::{BIN, SimProcess};
use support::prometheus::{Prometheus, promtool};

const HEALTH_EVERY_1S: &str = "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"2s\"\n[expect]\nstatus = 200\n";

/// `oewsprobe rules --config DIR/oewsprobe.toml` over a probe directory holding `health` and `query`:
/// exit code, stdout, stderr.
fn rules(dir: &Path, config: &str) -> (Option<i32>, String, String) {
    std::fs::create_dir_all(dir.join("probes")).expect("probes dir");
    for name in ["health", "query"] {
        std::fs::write(
            dir.join("probes").join(format!("{name}.toml")),
            HEALTH_EVERY_1S,
        )
        .expect("probe file");
    }
    std::fs::write(dir.join("oewsprobe.toml"), config).expect("config");
    let output = Command::new(BIN)
        .args(["rules", "--config"])
        .arg(dir.join("oewsprobe.toml"))
        .output()
        .expect("run oewsprobe rules");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The rules of `config`, written to `DIR/rules.yml`; they must be generated (exit 0).
fn write_rules(dir: &Path, config: &str) {
    let (code, stdout, stderr) = rules(dir, config);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stderr, "");
    std::fs::write(dir.join("rules.yml"), stdout).expect("rules file");
}

#[test]
fn the_rules_of_the_default_tiers_and_of_a_custom_config_pass_promtool_check_rules() {
    let defaults = tempfile::tempdir().expect("tempdir");
    write_rules(
        defaults.path(),
        "[[slo]]\nname = \"health\"\nprobes = [\"health\"]\ntarget = 0.99\n",
    );
    let (ok, text) = promtool(defaults.path(), &["check", "rules", "rules.yml"]);
    assert!(ok, "{text}");
    // Five windows × 3 records, 3 reporting counts, 3 breach records, 3 × 2 alerts.
    assert!(text.contains("SUCCESS: 27 rules found"), "{text}");

    let custom = tempfile::tempdir().expect("tempdir");
    write_rules(
        custom.path(),
        "[run]\nlocation = \"eu-west\"\n[fleet]\nquorum = 2\n\
         [[slo]]\nname = \"health \\\"fast\\\" {{ $value }}\"\nprobes = [\"health\", \"query\"]\ntarget = 0.9\nmin_bad = 0\n\
         [[slo.tiers]]\nname = \"page-90s\"\nseverity = \"page\"\nlong = \"90s\"\nshort = \"1500ms\"\nburn = 5\n\
         [[slo.tiers]]\nseverity = \"ticket\"\nlong = \"1h 30m\"\nshort = \"90s\"\nburn = 2\n\
         [[slo]]\nname = \"latency\"\nprobes = [\"query\"]\nsli = \"latency\"\nthreshold = \"30s\"\ntarget = 0.95\n",
    );
    let (ok, text) = promtool(custom.path(), &["check", "rules", "rules.yml"]);
    assert!(ok, "{text}");
    // health: windows 90s, 1500ms, 90m (3 records each), 2 reporting counts, 2 breach records, 4 alerts (17);
    // latency: the default tiers (27 rules).
    assert!(text.contains("SUCCESS: 44 rules found"), "{text}");
    let generated = std::fs::read_to_string(custom.path().join("rules.yml")).expect("rules");
    assert!(generated.contains("[1500ms]"), "{generated}");
    assert!(
        generated.contains("oewsprobe:slo_burn_rate:90m"),
        "{generated}"
    );
    assert!(generated.contains(",le=\"30\"}[1h]"), "{generated}");

    // The shipped example: two objectives sharing the 1h and 6h windows, each rule still distinct.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(BIN)
        .args(["rules", "--config"])
        .arg(root.join("deploy/oewsprobe.toml"))
        .arg("--probes")
        .arg(root.join("probes"))
        .output()
        .expect("run oewsprobe rules");
    assert_eq!(output.status.code(), Some(0));
    let example = tempfile::tempdir().expect("tempdir");
    std::fs::write(example.path().join("rules.yml"), &output.stdout).expect("rules file");
    let (ok, text) = promtool(example.path(), &["check", "rules", "rules.yml"]);
    assert!(ok, "{text}");
    // availability: the default tiers (27); queries: one tier over 6h and 1h (6 + 1 + 1 + 2).
    assert!(text.contains("SUCCESS: 37 rules found"), "{text}");
}

#[test]
fn a_bad_config_or_an_objective_prometheus_cannot_count_exits_2_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, stdout, stderr) = rules(
        dir.path(),
        "[[slo]]\nname = \"slow\"\nprobes = [\"query\"]\nsli = \"latency\"\nthreshold = \"20s\"\ntarget = 0.99\n",
    );
    assert_eq!((code, stdout.as_str()), (Some(2), ""));
    assert_eq!(
        stderr,
        "oewsprobe rules: slo \"slow\": threshold 20s is not a bucket boundary of oewsprobe_probe_duration_seconds_bucket, so Prometheus cannot count the runs within it; give one of 0.005s, 0.01s, 0.025s, 0.05s, 0.075s, 0.1s, 0.25s, 0.5s, 0.75s, 1s, 2.5s, 5s, 7.5s, 10s, 30s, 60s, 120s\n"
    );

    let (code, stdout, stderr) = rules(dir.path(), "");
    assert_eq!((code, stdout.as_str()), (Some(2), ""));
    assert_eq!(
        stderr,
        "oewsprobe rules: the config has no [[slo]] objectives; the rules are generated from them\n"
    );

    let (code, stdout, stderr) = rules(
        dir.path(),
        "[run]\nlocation = \"EU West\"\n[fleet]\nquorum = 0\n",
    );
    assert_eq!((code, stdout.as_str()), (Some(2), ""));
    let file = dir.path().join("oewsprobe.toml");
    assert_eq!(
        stderr,
        format!(
            "{file}: run.location: \"EU West\" is not a location name; use 1 to 64 lower-case letters, digits, \".\", \"-\" and \"_\", starting with a letter or a digit, e.g. \"eu-west\"\n\
             {file}: fleet.quorum: 0 is out of range; give 1 to 1000, or leave it out for a majority of the locations that reported\n",
            file = file.display()
        )
    );

    let output = Command::new(BIN)
        .args(["rules", "--format", "json"])
        .output()
        .expect("run oewsprobe rules");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("invalid value 'json' for '--format <FORMAT>'"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A 10-minute page tier over 2-minute short windows, for promtool's rule unit tests (1-minute samples).
const UNIT_SLO: &str = "[[slo]]\nname = \"health\"\nprobes = [\"health\"]\ntarget = 0.9\nmin_bad = 3\n\
    [[slo.tiers]]\nname = \"page-10m\"\nseverity = \"page\"\nlong = \"10m\"\nshort = \"2m\"\nburn = 5\n";

/// promtool input series of `location`'s health runs over 30 minutes: passing, or failing from minute 10.
fn series(location: &str, fails: bool) -> String {
    let runs = |verdict: &str, class: &str, values: &str| {
        format!(
            "      - series: 'oewsprobe_probe_runs_total{{oewsprobe_probe=\"health\",oewsprobe_verdict=\"{verdict}\",oewsprobe_class=\"{class}\",oewsprobe_location=\"{location}\"}}'\n        values: '{values}'\n"
        )
    };
    if fails {
        runs("pass", "none", "0+1x10 10+0x20") + &runs("fail", "server_error", "_x10 1+1x20")
    } else {
        runs("pass", "none", "0+1x30")
    }
}

fn location_alert(location: &str) -> String {
    format!(
        "          - exp_labels: {{severity: ticket, oewsprobe_location: {location}, oewsprobe_slo: health, oewsprobe_slo_tier: page-10m}}\n            exp_annotations: {{summary: \"SLO health: tier page-10m breached at {location} only, short of the quorum: a location problem, not an outage\"}}\n"
    )
}

/// A promtool rule test: the input series, and the alerts expected at minute 20 (none at minute 9).
fn unit_test(series: &[String], outage: Option<usize>, locations: &[&str]) -> String {
    let outage = match outage {
        None => " []\n".to_string(),
        Some(count) => format!(
            "\n          - exp_labels: {{severity: page, oewsprobe_slo: health, oewsprobe_slo_tier: page-10m}}\n            exp_annotations: {{summary: \"SLO health: tier page-10m breached (locations: {count})\"}}\n"
        ),
    };
    let located = if locations.is_empty() {
        " []\n".to_string()
    } else {
        format!(
            "\n{}",
            locations
                .iter()
                .map(|l| location_alert(l))
                .collect::<String>()
        )
    };
    format!(
        "  - interval: 1m\n    input_series:\n{}    alert_rule_test:\n\
         \x20     - eval_time: 9m\n        alertname: OewsprobeSloBurn\n        exp_alerts: []\n\
         \x20     - eval_time: 9m\n        alertname: OewsprobeLocationBurn\n        exp_alerts: []\n\
         \x20     - eval_time: 20m\n        alertname: OewsprobeSloBurn\n        exp_alerts:{outage}\
         \x20     - eval_time: 20m\n        alertname: OewsprobeLocationBurn\n        exp_alerts:{located}",
        series.concat()
    )
}

#[test]
fn promtool_rule_tests_page_at_the_quorum_and_name_a_location_short_of_it() {
    let tests = |cases: &[String]| {
        format!(
            "rule_files:\n  - rules.yml\nevaluation_interval: 1m\ntests:\n{}",
            cases.concat()
        )
    };
    // Three locations, the default quorum (a majority of those reporting: 2).
    let majority = tempfile::tempdir().expect("tempdir");
    write_rules(majority.path(), UNIT_SLO);
    let cases = [
        // One location fails: a location problem, no page.
        unit_test(
            &[series("a", true), series("b", false), series("c", false)],
            None,
            &["a"],
        ),
        // Two of three fail: the page, and no location alert.
        unit_test(
            &[series("a", true), series("b", true), series("c", false)],
            Some(2),
            &[],
        ),
        // One location alone: it is the majority of itself.
        unit_test(&[series("a", true)], Some(1), &[]),
    ];
    std::fs::write(majority.path().join("tests.yml"), tests(&cases)).expect("tests file");
    let (ok, text) = promtool(majority.path(), &["test", "rules", "tests.yml"]);
    assert!(ok, "{text}");
    assert!(text.contains("SUCCESS"), "{text}");

    // fleet.quorum = 3: two failing locations of three are two location problems, not a page.
    let fixed = tempfile::tempdir().expect("tempdir");
    write_rules(fixed.path(), &format!("[fleet]\nquorum = 3\n{UNIT_SLO}"));
    let cases = [
        unit_test(
            &[series("a", true), series("b", true), series("c", false)],
            None,
            &["a", "b"],
        ),
        unit_test(
            &[series("a", true), series("b", true), series("c", true)],
            Some(3),
            &[],
        ),
    ];
    std::fs::write(fixed.path().join("tests.yml"), tests(&cases)).expect("tests file");
    let (ok, text) = promtool(fixed.path(), &["test", "rules", "tests.yml"]);
    assert!(ok, "{text}");
}

/// The active alerts named `name` (pending or firing), as `location/state` or `state`, sorted.
fn active(prometheus: &Prometheus, name: &str) -> Vec<String> {
    let mut found: Vec<String> = prometheus
        .alerts()
        .iter()
        .filter(|a| a["labels"]["alertname"] == name)
        .map(|a| match a["labels"]["oewsprobe_location"].as_str() {
            Some(location) => format!("{location}/{}", a["state"].as_str().unwrap_or("?")),
            None => a["state"].as_str().unwrap_or("?").to_string(),
        })
        .collect();
    found.sort();
    found
}

/// Polls every 500 ms until `done` or `limit`; `during` runs at every poll (an invariant of the phase).
fn wait_for(
    what: &str,
    limit: Duration,
    mut during: impl FnMut(),
    mut done: impl FnMut() -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        during();
        if done() {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The page tier of the real test: 30 s long and 10 s short windows over 1 s probes and 1 s scrapes.
const LIVE_SLO: &str = "[[slo]]\nname = \"health\"\nprobes = [\"health\"]\ntarget = 0.9\nmin_bad = 3\n\
    [[slo.tiers]]\nname = \"page-fast\"\nseverity = \"page\"\nlong = \"30s\"\nshort = \"10s\"\nburn = 5\n";

fn agent(location: &str, proxy_port: u16, status_port: u16) -> Daemon {
    Daemon::start(
        &format!("http://127.0.0.1:{proxy_port}"),
        &format!(
            "location = \"{location}\"\n[status]\nlisten = \"127.0.0.1:{status_port}\"\n{LIVE_SLO}"
        ),
        &[("health.toml", HEALTH_EVERY_1S)],
    )
}

#[test]
fn a_real_prometheus_pages_when_the_target_breaks_and_not_when_one_agent_s_path_is_cut() {
    let sim = SimProcess::start(&[]);
    let upstream = sim.addr();
    let mut proxy_west = Some(support::servers::caddy_proxy_to(upstream));
    let proxy_east = support::servers::caddy_proxy_to(upstream);
    let west_port = proxy_west.as_ref().map_or(0, |c| c.port);
    let (status_west, status_east) = (support::servers::free_port(), support::servers::free_port());
    let west = agent("eu-west", west_port, status_west);
    let east = agent("us-east", proxy_east.port, status_east);

    let (code, stdout, stderr) = {
        let output = Command::new(BIN)
            .args(["rules", "--config"])
            .arg(west.dir.path().join("oewsprobe.toml"))
            .output()
            .expect("run oewsprobe rules");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(0), "{stderr}");
    let rules_dir = tempfile::tempdir().expect("tempdir");
    let rules_file = rules_dir.path().join("rules.yml");
    std::fs::write(&rules_file, stdout).expect("rules file");
    let prometheus = Prometheus::start(
        &[
            format!("127.0.0.1:{status_west}"),
            format!("127.0.0.1:{status_east}"),
        ],
        &rules_file,
    );
    let logs = || {
        format!(
            "eu-west:\n{}\nus-east:\n{}\nprometheus:\n{}",
            west.stderr(),
            east.stderr(),
            prometheus.log()
        )
    };
    let no_page = || {
        let page = active(&prometheus, "OewsprobeSloBurn");
        assert!(page.is_empty(), "paged: {page:?}\n{}", logs());
    };

    // Healthy: both locations report passing runs, with their location label; nothing alerts.
    let reporting = |p: &Prometheus| {
        p.query("oewsprobe:slo_locations_reporting:30s")
            .first()
            .and_then(|s| s["value"][1].as_str().map(str::to_string))
    };
    wait_for(
        "both locations reporting",
        Duration::from_secs(60),
        no_page,
        || reporting(&prometheus).as_deref() == Some("2"),
    );
    let mut locations: Vec<String> = prometheus
        .query(
            "sum by (oewsprobe_location) (oewsprobe_probe_runs_total{oewsprobe_verdict=\"pass\"})",
        )
        .iter()
        .filter_map(|s| {
            s["metric"]["oewsprobe_location"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    locations.sort();
    assert_eq!(locations, ["eu-west", "us-east"]);
    assert!(
        west.stderr().contains(&format!(
            "oewsprobe run: watching http://127.0.0.1:{west_port} from eu-west with 1 scheduled probes"
        )),
        "{}",
        west.stderr()
    );
    assert!(active(&prometheus, "OewsprobeLocationBurn").is_empty());

    // eu-west's path is cut: eu-west breaches the tier alone, a location problem; never a page.
    drop(proxy_west.take());
    let took = wait_for(
        "eu-west's location alert",
        Duration::from_secs(60),
        no_page,
        || active(&prometheus, "OewsprobeLocationBurn") == ["eu-west/firing"],
    );
    eprintln!("location alert after {took:?}");
    let hold = Instant::now();
    wait_for(
        "15 s of a cut path",
        Duration::from_secs(30),
        no_page,
        || hold.elapsed() > Duration::from_secs(15),
    );
    assert_eq!(
        active(&prometheus, "OewsprobeLocationBurn"),
        ["eu-west/firing"]
    );

    // The path is back: the location alert resolves once the short window is clean again.
    let _proxy_west = support::servers::caddy_proxy_on(west_port, upstream);
    wait_for(
        "the location alert to resolve",
        Duration::from_secs(60),
        no_page,
        || active(&prometheus, "OewsprobeLocationBurn").is_empty(),
    );

    // The target breaks for everyone: the page fires, at both locations.
    sim.set_faults(&["health_down"]);
    let took = wait_for(
        "the page",
        Duration::from_secs(60),
        || {},
        || active(&prometheus, "OewsprobeSloBurn") == ["firing"],
    );
    eprintln!("page after {took:?}");
    let page = prometheus
        .alerts()
        .into_iter()
        .find(|a| a["labels"]["alertname"] == "OewsprobeSloBurn")
        .expect("the page");
    assert_eq!(page["labels"]["severity"], "page");
    assert_eq!(page["labels"]["oewsprobe_slo"], "health");
    assert_eq!(page["labels"]["oewsprobe_slo_tier"], "page-fast");
    assert_eq!(page["value"].as_str().map(value_number), Some(2.0));
    assert_eq!(
        page["annotations"]["summary"],
        Value::from("SLO health: tier page-fast breached (locations: 2)")
    );
    let failing: Vec<Value> = prometheus.query(
        "sum by (oewsprobe_location, oewsprobe_class) (oewsprobe_probe_runs_total{oewsprobe_verdict=\"fail\"})",
    );
    assert!(
        failing
            .iter()
            .any(|s| s["metric"]["oewsprobe_location"] == "us-east"),
        "{failing:?}"
    );
    let _ = (west.stop(), east.stop());
}

/// A sample value as the API writes it (`"2e+00"`, `"2"`).
fn value_number(text: &str) -> f64 {
    text.parse().unwrap_or(f64::NAN)
}
