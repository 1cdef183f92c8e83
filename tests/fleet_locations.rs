//! Three real agents (`oewsprobe run`, each with its own `run.location`, each reaching one simulator through
//! its own Caddy) writing one PostgreSQL store: `status` shows each probe per location; one agent's path cut is
//! that location failing, a location problem that spends no error budget; the target broken is an outage
//! that does.

mod support;

use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};
use support::daemon::Daemon;
use support::process::{BIN, SimProcess};

const HEALTH_EVERY_1S: &str = "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"2s\"\n[expect]\nstatus = 200\n";
const SLO: &str = "[[slo]]\nname = \"health\"\nprobes = [\"health\"]\ntarget = 0.99\nmin_bad = 3\n";
const LOCATIONS: [&str; 3] = ["ap-south", "eu-west", "us-east"];

fn agent(store: &str, location: &str, proxy_port: u16) -> Daemon {
    Daemon::start(
        &format!("http://127.0.0.1:{proxy_port}"),
        &format!("store = \"{store}\"\nlocation = \"{location}\"\n{SLO}"),
        &[("health.toml", HEALTH_EVERY_1S)],
    )
}

/// `oewsprobe status --window 10m` with `agent`'s config, as text and as JSON.
fn status(agent: &Daemon) -> (String, Value) {
    let run = |json: bool| {
        let mut command = Command::new(BIN);
        command
            .args(["status", "--window", "10m", "--config"])
            .arg(agent.dir.path().join("oewsprobe.toml"))
            .env_remove("OEWSPROBE_TARGET");
        if json {
            command.args(["--format", "json"]);
        }
        let out = command.output().expect("oewsprobe status");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let json = serde_json::from_str(&run(true)).expect("status JSON");
    (run(false), json)
}

/// Each location's latest verdict and class, in name order, from `status --format json`.
fn per_location(json: &Value) -> Vec<String> {
    json["probes"][0]["locations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            format!(
                "{} {} {}",
                l["name"].as_str().unwrap_or("?"),
                l["last_verdict"].as_str().unwrap_or("never"),
                l["last_class"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

/// The objective's period counts: (bad, location problems).
fn budget(json: &Value) -> (u64, u64) {
    let counts = &json["objectives"][0]["budget"]["counts"];
    (
        counts["bad"].as_u64().unwrap_or(0),
        counts["location_problems"].as_u64().unwrap_or(0),
    )
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_cut_path_is_its_location_s_problem_and_spends_no_budget_and_a_broken_target_does() {
    let sim = SimProcess::start(&[]);
    let upstream = sim.addr();
    let store = support::postgres::database();
    let mut proxies: Vec<Option<support::servers::Caddy>> = LOCATIONS
        .iter()
        .map(|_| Some(support::servers::caddy_proxy_to(upstream)))
        .collect();
    let agents: Vec<Daemon> = LOCATIONS
        .iter()
        .zip(&proxies)
        .map(|(location, proxy)| agent(&store, location, proxy.as_ref().map_or(0, |c| c.port)))
        .collect();
    let logs = || {
        agents
            .iter()
            .zip(LOCATIONS)
            .map(|(a, l)| format!("{l}:\n{}", a.stderr()))
            .collect::<Vec<_>>()
            .join("\n")
    };

    // Healthy: each location's line, all passing; nothing bad, no location problem.
    let mut last = (String::new(), Value::Null);
    wait_for("three locations passing", Duration::from_secs(30), || {
        last = status(&agents[0]);
        per_location(&last.1) == ["ap-south pass -", "eu-west pass -", "us-east pass -"]
    });
    assert_eq!(budget(&last.1), (0, 0), "{}", last.0);
    let lines: Vec<&str> = last.0.lines().collect();
    assert!(lines[1].starts_with("health  "), "{}", last.0);
    for (line, location) in lines[2..5].iter().zip(LOCATIONS) {
        assert!(
            line.starts_with(&format!("  {location}  ")) && line.contains(" PASS "),
            "{}",
            last.0
        );
    }

    let stats = Command::new(BIN)
        .args(["store", "stats", "--config"])
        .arg(agents[1].dir.path().join("oewsprobe.toml"))
        .output()
        .expect("oewsprobe store stats");
    let stats = String::from_utf8_lossy(&stats.stdout).into_owned();
    assert!(
        stats.contains("\nlocations     ap-south, eu-west, us-east\n"),
        "{stats}"
    );

    // eu-west's path is cut: that location fails, the others pass; its failures spend no budget.
    drop(proxies[1].take());
    wait_for(
        "eu-west's location problems",
        Duration::from_secs(30),
        || {
            last = status(&agents[2]);
            budget(&last.1).1 >= 3
        },
    );
    assert_eq!(
        per_location(&last.1),
        [
            "ap-south pass -",
            "eu-west fail connect_refused",
            "us-east pass -"
        ],
        "{}\n{}",
        last.0,
        logs()
    );
    assert_eq!(budget(&last.1).0, 0, "no bad run: {}", last.0);
    eprintln!("one path cut:\n{}", last.0);
    let objective = last
        .0
        .lines()
        .find(|l| l.starts_with("slo health: "))
        .expect("the objective's line");
    assert!(
        objective.starts_with("slo health: error budget left 100.0%; ")
            && objective.contains("; location problems: "),
        "{objective}"
    );

    // The target breaks: every location fails, and the SLO minutes go bad.
    sim.set_faults(&["health_down"]);
    wait_for("bad runs", Duration::from_secs(30), || {
        last = status(&agents[0]);
        budget(&last.1).0 >= 3
    });
    assert!(
        per_location(&last.1).iter().all(|l| l.contains(" fail ")),
        "{}",
        last.0
    );
    eprintln!("the target broken:\n{}", last.0);
    for agent in agents {
        let (code, stderr, _, _) = agent.stop();
        assert_eq!(code, Some(0), "{stderr}");
    }
}

#[test]
fn check_s_records_carry_the_configured_location() {
    let sim = SimProcess::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("probes")).expect("probes dir");
    std::fs::write(dir.path().join("probes/health.toml"), HEALTH_EVERY_1S).expect("probe");
    let config = dir.path().join("oewsprobe.toml");
    std::fs::write(
        &config,
        format!(
            "target = \"{}\"\nprobes_dir = \"probes\"\n[run]\nlocation = \"eu-west\"\n",
            sim.url
        ),
    )
    .expect("config");
    let out = Command::new(BIN)
        .args(["check", "--format", "json", "--config"])
        .arg(&config)
        .env_remove("OEWSPROBE_TARGET")
        .output()
        .expect("oewsprobe check");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["probes"][0]["location"], "eu-west");
}
