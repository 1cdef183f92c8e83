//! `[[slo]]` tables from TOML text to objectives, and every error with its key as exact text.

use super::*;
use crate::config::parse_toml;
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    slo: Vec<RawObjective>,
}

const KNOWN: &[&str] = &["health", "models", "query-trace", "query-echo"];

fn compiled(text: &str) -> Result<Vec<Objective>, Vec<String>> {
    let render = |errors: Vec<crate::config::FieldError>| {
        errors
            .into_iter()
            .map(|e| format!("{}: {}", e.key, e.message))
            .collect::<Vec<_>>()
    };
    let file: File = parse_toml(text).map_err(render)?;
    compile_all(&file.slo, KNOWN).map_err(render)
}

fn errors(text: &str) -> Vec<String> {
    compiled(text).expect_err("should not compile")
}

const MINIMAL: &str = "[[slo]]\nname = \"queries\"\nprobes = [\"query-trace\"]\nsli = \"availability\"\ntarget = 0.99\n";

#[test]
fn minimal_objective_gets_the_workbook_defaults() {
    let objectives = compiled(MINIMAL).expect("valid");
    assert_eq!(
        objectives,
        vec![Objective {
            quorum: crate::fleet::Quorum::Majority,
            name: "queries".into(),
            probes: vec!["query-trace".into()],
            sli: Sli::Availability,
            target: 0.99,
            period: DEFAULT_PERIOD,
            tiers: default_tiers(),
            min_bad: DEFAULT_MIN_BAD,
        }]
    );
    let tiers: Vec<String> = default_tiers()
        .iter()
        .map(|t| {
            format!(
                "{} {} {}×{}/{}",
                t.name,
                t.severity,
                t.burn,
                span_text(t.long),
                span_text(t.short)
            )
        })
        .collect();
    assert_eq!(
        tiers,
        [
            "page-1h page 14.4×1h/5m",
            "page-6h page 6×6h/30m",
            "ticket-3d ticket 1×3days/6h"
        ]
    );
}

#[test]
fn latency_objective_with_its_own_tiers() {
    let text = r#"
[[slo]]
name = "fast-answers"
probes = ["query-trace", "query-echo"]
sli = "latency"
threshold = "30s"
target = 0.95
period = "7d"
min_bad = 0

[[slo.tiers]]
severity = "page"
long = "30m"
short = "2m"
burn = 10

[[slo.tiers]]
name = "slow-burn"
severity = "ticket"
long = "1d"
short = "2h"
burn = 1.5
"#;
    let objective = compiled(text).expect("valid").remove(0);
    assert_eq!(
        objective.sli,
        Sli::Latency {
            threshold: Duration::from_secs(30)
        }
    );
    assert_eq!(objective.period, Duration::from_secs(7 * 24 * 3600));
    assert_eq!(objective.min_bad, 0, "0 turns the guard off and is allowed");
    assert_eq!(
        objective.tiers,
        vec![
            Tier::new(
                "page-30m",
                Severity::Page,
                Duration::from_secs(1800),
                Duration::from_secs(120),
                10.0
            ),
            Tier::new(
                "slow-burn",
                Severity::Ticket,
                Duration::from_secs(86400),
                Duration::from_secs(7200),
                1.5
            ),
        ]
    );
}

#[test]
fn every_error_at_once_with_its_key() {
    let text = r#"
[[slo]]
name = "queries"
probes = ["query-trac", "zzz", "health", "health"]
sli = "availabilty"
target = 1.5
period = "0s"
min_bad = -1

[[slo.tiers]]
severity = "pager"
long = "30m"
short = "1h"
burn = 0

[[slo.tiers]]
name = "x"
severity = "ticket"
burn = 2
"#;
    assert_eq!(
        errors(text),
        [
            "slo[0].probes[0]: unknown probe \"query-trac\" — did you mean \"query-trace\"?",
            "slo[0].probes[1]: unknown probe \"zzz\" (known probes: health, models, query-trace, query-echo)",
            "slo[0].probes[3]: \"health\" is already listed at probes[2]",
            "slo[0].sli: \"availabilty\" is not an SLI — did you mean \"availability\"?",
            "slo[0].target: 1.5 is not between 0 and 1 (both excluded); write 0.99 for 99%",
            "slo[0].period: \"0s\" is zero; give a positive duration like \"30s\"",
            "slo[0].min_bad: -1 is out of range; give 0 or more (0 turns the guard off)",
            "slo[0].tiers[0].severity: \"pager\" is not a severity — did you mean \"page\"?",
            "slo[0].tiers[0].short: the short window (1h) must be shorter than the long window (30m)",
            "slo[0].tiers[0].burn: 0 is not a positive burn rate",
            "slo[0].tiers[1].long: missing; give a window like \"1h\"",
            "slo[0].tiers[1].short: missing; give a window like \"5m\"",
        ]
    );
}

#[test]
fn tiers_that_can_never_fire() {
    let explicit = "[[slo]]\nname = \"q\"\nprobes = [\"health\"]\ntarget = 0.9\n\
                    [[slo.tiers]]\nseverity = \"page\"\nlong = \"1h\"\nshort = \"5m\"\nburn = 14.4\n\
                    [[slo.tiers]]\nseverity = \"page\"\nlong = \"6h\"\nshort = \"30m\"\nburn = 10\n";
    assert_eq!(
        errors(explicit),
        [
            "slo[0].tiers[0].burn: burn 14.4 can never be reached with target 0.9: even if every run fails, \
          the burn rate is only 10 (1 / (1 − 0.9)); lower burn or raise target"
        ],
        "burn 10 is exactly reachable: every run failing"
    );
    let defaults = "[[slo]]\nname = \"q\"\nprobes = [\"health\"]\ntarget = 0.5\n";
    assert_eq!(
        errors(defaults),
        [
            "slo[0].target: with target 0.5 the default tier \"page-1h\" (burn 14.4) can never fire: even if \
             every run fails, the burn rate is only 2 (1 / (1 − 0.5)); raise target, or give [[slo.tiers]] explicitly",
            "slo[0].target: with target 0.5 the default tier \"page-6h\" (burn 6) can never fire: even if \
             every run fails, the burn rate is only 2 (1 / (1 − 0.5)); raise target, or give [[slo.tiers]] explicitly",
        ]
    );
    let edge = "[[slo]]\nname = \"q\"\nprobes = [\"health\"]\ntarget = 0.99\n\
                [[slo.tiers]]\nseverity = \"page\"\nlong = \"1h\"\nshort = \"5m\"\nburn = 100\n";
    assert!(
        compiled(edge).is_ok(),
        "1 / (1 − 0.99) is 100 up to rounding"
    );
}

#[test]
fn missing_and_empty_values() {
    assert_eq!(
        errors("[[slo]]\n"),
        [
            "slo[0].name: missing; give the objective a name, e.g. name = \"queries\"",
            "slo[0].probes: missing; list the probes this objective covers, e.g. probes = [\"health\"]",
            "slo[0].target: missing; give the share of good runs to aim for, e.g. target = 0.99",
        ]
    );
    assert_eq!(
        errors("[[slo]]\nname = \" \"\nprobes = []\ntarget = 0.99\ntiers = []\n"),
        [
            "slo[0].name: the name is empty",
            "slo[0].probes: an empty list covers no runs; list at least one probe",
            "slo[0].tiers: an empty list can never alert; remove it for the default tiers (page 14.4× over 1h, \
             page 6× over 6h, ticket 1× over 3days)",
        ]
    );
    assert_eq!(
        errors(
            "[[slo]]\nname = \"q\"\nprobes = [\"health\"]\ntarget = 0.99\n[[slo.tiers]]\nlong = \"1h\"\n"
        ),
        [
            "slo[0].tiers[0].severity: missing; give \"page\" or \"ticket\"",
            "slo[0].tiers[0].short: missing; give a window like \"5m\"",
            "slo[0].tiers[0].burn: missing; give a burn rate like burn = 14.4",
        ]
    );
}

#[test]
fn sli_and_threshold_go_together() {
    let base = "[[slo]]\nname = \"q\"\nprobes = [\"health\"]\ntarget = 0.99\n";
    assert_eq!(
        errors(&format!("{base}sli = \"latency\"\n")),
        [
            "slo[0].threshold: missing; a latency objective needs a threshold like threshold = \"30s\""
        ]
    );
    assert_eq!(
        errors(&format!("{base}threshold = \"30s\"\n")),
        ["slo[0].threshold: threshold applies only to sli = \"latency\""]
    );
    assert_eq!(
        errors(&format!("{base}sli = \"uptime\"\n")),
        ["slo[0].sli: \"uptime\" is not an SLI; give \"availability\" or \"latency\""]
    );
    let defaulted = compiled(base).expect("sli defaults to availability");
    assert_eq!(defaulted[0].sli, Sli::Availability);
}

#[test]
fn names_are_unique() {
    let tier = "[[slo.tiers]]\nseverity = \"page\"\nlong = \"1h\"\nshort = \"5m\"\nburn = 14.4\n";
    let text = format!("{MINIMAL}{tier}{tier}{MINIMAL}");
    assert_eq!(
        errors(&text),
        [
            "slo[0].tiers[1].name: tier \"page-1h\" is already defined at tiers[0]; give each tier its own name",
            "slo[1].name: objective \"queries\" is already defined at slo[0]; give each its own name",
        ]
    );
}

#[test]
fn unknown_keys_are_rejected_with_a_suggestion() {
    let text = format!(
        "{MINIMAL}[[slo.tiers]]\nseverity = \"page\"\nlong = \"1h\"\nshort = \"5m\"\nbrun = 14.4\n"
    );
    assert_eq!(
        errors(&text),
        ["slo[0].tiers[0].brun: unknown key \"brun\" — did you mean \"burn\"?"]
    );
}

#[test]
fn an_integer_target_is_read_as_a_number() {
    let text = "[[slo]]\nname = \"q\"\nprobes = [\"health\"]\ntarget = 99\n";
    assert_eq!(
        errors(text),
        ["slo[0].target: 99 is not between 0 and 1 (both excluded); write 0.99 for 99%"]
    );
}

#[test]
fn no_configured_probes() {
    let raw = RawObjective {
        name: Some("q".into()),
        probes: Some(vec!["health".into()]),
        target: Some(0.99),
        ..RawObjective::default()
    };
    let errors = compile(&raw, &[]).expect_err("no probes");
    assert_eq!(errors[0].key, "probes[0]");
    assert_eq!(
        errors[0].message,
        "unknown probe \"health\" (no probes are configured)"
    );
}
