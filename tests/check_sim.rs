//! The shipped probe set against the simulator: all pass on the runbook profile, each fault breaks the right
//! probes with the right class and a finding that names the broken field, and the as-built drift is named.

mod support;

use oewsprobe::probe::{FailureClass, Verdict};
use oewsprobe::sim::Profile;
use support::*;

const ALL: [&str; 8] = [
    "health",
    "models",
    "override-implementation",
    "override-reasoning",
    "query-charts-trace",
    "query-trace",
    "reject-invalid-model",
    "reject-short-query",
];

#[tokio::test]
async fn every_shipped_probe_passes_against_the_runbook_profile() {
    let sim = start_sim(Profile::Runbook, &[]).await;
    let records = run_all(&plan(&sim.base_url(), &shipped_probes())).await;
    let names: Vec<&str> = records.iter().map(|r| r.probe.as_str()).collect();
    assert_eq!(names, ALL);
    for r in &records {
        assert_eq!(r.verdict, Verdict::Pass, "{}: {:?}", r.probe, r.findings);
        assert_eq!(r.class, None);
        assert!(
            r.timings.first_byte.is_some(),
            "{} has a first-byte time",
            r.probe
        );
    }
    // Four query probes, and the invalid-model probe is rejected: four valid queries reach the LLM.
    assert_eq!(sim.stats().valid_queries, 4);
    let spent: Vec<(&str, u32)> = records
        .iter()
        .map(|r| (r.probe.as_str(), r.queries))
        .collect();
    assert_eq!(
        spent,
        [
            ("health", 0),
            ("models", 0),
            ("override-implementation", 1),
            ("override-reasoning", 1),
            ("query-charts-trace", 1),
            ("query-trace", 1),
            ("reject-invalid-model", 0),
            ("reject-short-query", 0),
        ],
        "each record's queries are what its run spent: the 422 spent none"
    );
}

#[tokio::test]
async fn every_record_carries_the_request_it_sent() {
    let sim = start_sim(Profile::Runbook, &[]).await;
    let records = run_all(&plan(&sim.base_url(), &shipped_probes())).await;
    let sent: Vec<(&str, String, String)> = records
        .iter()
        .map(|r| {
            let request = r.request.clone().expect("a request line");
            (r.probe.as_str(), request.method, request.url)
        })
        .collect();
    let at = |path: &str| format!("{}{path}", sim.base_url());
    assert_eq!(
        sent,
        [
            ("health", "GET".into(), at("/api/v1/health")),
            ("models", "GET".into(), at("/api/v1/models")),
            (
                "override-implementation",
                "POST".into(),
                at("/api/v1/query")
            ),
            ("override-reasoning", "POST".into(), at("/api/v1/query")),
            ("query-charts-trace", "POST".into(), at("/api/v1/query")),
            ("query-trace", "POST".into(), at("/api/v1/query")),
            ("reject-invalid-model", "POST".into(), at("/api/v1/query")),
            ("reject-short-query", "POST".into(), at("/api/v1/query")),
        ]
    );
}

#[tokio::test]
async fn a_throttled_or_unconnected_run_spends_no_queries() {
    let sim = start_sim(Profile::Runbook, &["rate_limited"]).await;
    let records = run_all(&plan(&sim.base_url(), &shipped_probes())).await;
    let trace = record(&records, "query-trace");
    assert_eq!(
        (trace.verdict, trace.class, trace.queries),
        (Verdict::Inconclusive, Some(FailureClass::Throttled), 0)
    );
    assert!(records.iter().all(|r| r.queries == 0), "{records:?}");
    let refused = run_all(&plan("http://127.0.0.1:9", &shipped_probes())).await;
    let trace = record(&refused, "query-trace");
    assert_eq!(
        (trace.class, trace.queries),
        (Some(FailureClass::ConnectRefused), 0)
    );
}

/// (fault, probe, verdict, class, a text the first finding must contain)
type FaultCase = (
    &'static str,
    &'static str,
    Verdict,
    FailureClass,
    &'static str,
);

const FAULTS: [FaultCase; 16] = [
    (
        "health_down",
        "health",
        Verdict::Fail,
        FailureClass::ServerError,
        "GET /api/v1/health: expected 200, got 503",
    ),
    (
        "models_empty",
        "models",
        Verdict::Fail,
        FailureClass::Contract,
        "$.models: expected non-empty, got {}",
    ),
    (
        "no_data_sources",
        "query-trace",
        Verdict::Fail,
        FailureClass::Contract,
        "data_sources: expected a non-empty array",
    ),
    (
        "missing_planner",
        "query-trace",
        Verdict::Fail,
        FailureClass::Contract,
        "data_sources: expected an entry with type \"planning\"",
    ),
    (
        "missing_sql",
        "query-trace",
        Verdict::Fail,
        FailureClass::Contract,
        "data_sources[1].sql: expected present",
    ),
    (
        "non_contiguous_steps",
        "query-trace",
        Verdict::Fail,
        FailureClass::Contract,
        ".step: expected ",
    ),
    (
        "no_echo",
        "override-reasoning",
        Verdict::Fail,
        FailureClass::Contract,
        "data_sources[0].reasoning_model: expected \"deepseek-r1\"",
    ),
    (
        "no_echo",
        "override-implementation",
        Verdict::Fail,
        FailureClass::Contract,
        ".implementation_model: expected \"gpt-4o\"",
    ),
    (
        "accept_invalid_model",
        "reject-invalid-model",
        Verdict::Fail,
        FailureClass::Contract,
        "POST /api/v1/query: expected 422",
    ),
    (
        "no_charts",
        "query-charts-trace",
        Verdict::Fail,
        FailureClass::Contract,
        "charts: expected a non-empty array, got []",
    ),
    (
        "error500",
        "query-trace",
        Verdict::Fail,
        FailureClass::ServerError,
        "POST /api/v1/query: expected 200, got 500",
    ),
    (
        "invalid_json",
        "models",
        Verdict::Fail,
        FailureClass::InvalidBody,
        "body: expected a JSON body, got invalid JSON",
    ),
    (
        "flaky=1",
        "health",
        Verdict::Fail,
        FailureClass::ServerError,
        "GET /api/v1/health: expected 200, got 500",
    ),
    (
        "rate_limited",
        "query-trace",
        Verdict::Inconclusive,
        FailureClass::Throttled,
        "POST /api/v1/query: expected 200, got 429 — rate limited (10 queries/hour per client): wait before trying again, or spend fewer queries — body: {\"error\":\"Rate limit exceeded: 10 per 1 hour\"}",
    ),
    (
        "at_capacity",
        "query-trace",
        Verdict::Inconclusive,
        FailureClass::AtCapacity,
        "POST /api/v1/query: expected 200, got 503 (Retry-After: 60)",
    ),
    (
        "bad_gateway",
        "health",
        Verdict::Fail,
        FailureClass::ProxyBadGateway,
        "GET /api/v1/health: expected 200, got 502 — the reverse proxy cannot reach the container",
    ),
];

#[tokio::test]
async fn each_fault_fails_the_right_probe_with_the_right_class_and_finding() {
    let sim = start_sim(Profile::Runbook, &[]).await;
    let plan = plan(&sim.base_url(), &shipped_probes());
    for (fault, probe, verdict, class, text) in FAULTS {
        sim.set_faults(vec![fault.parse().expect("fault parses")]);
        let records = run_all(&plan).await;
        let r = record(&records, probe);
        assert_eq!(
            (r.verdict, r.class),
            (verdict, Some(class)),
            "{fault} → {probe}: {:?}",
            r.findings
        );
        let first = r
            .findings
            .first()
            .map(|f| f.message.as_str())
            .unwrap_or_default();
        assert!(
            first.contains(text),
            "{fault} → {probe}: {first:?} should contain {text:?}"
        );
    }
}

#[tokio::test]
async fn faults_leave_unrelated_probes_passing() {
    let sim = start_sim(Profile::Runbook, &["models_empty", "no_echo"]).await;
    let records = run_all(&plan(&sim.base_url(), &shipped_probes())).await;
    let failing: Vec<&str> = records
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .map(|r| r.probe.as_str())
        .collect();
    // no_echo drops implementation_model from the chart entry, which Task 14's trace shape also requires.
    assert_eq!(
        failing,
        [
            "models",
            "override-implementation",
            "override-reasoning",
            "query-charts-trace"
        ]
    );
}

#[tokio::test]
async fn as_built_profile_reports_the_contract_drift_as_named_findings() {
    let sim = start_sim(Profile::AsBuilt, &[]).await;
    let records = run_all(&plan(&sim.base_url(), &shipped_probes())).await;
    assert_eq!(
        messages(record(&records, "health")),
        ["GET /api/v1/health: expected 200, got 404 — body: {\"detail\":\"Not Found\"}"]
    );
    assert_eq!(
        messages(record(&records, "override-reasoning")),
        [
            "data_sources[0].reasoning_model: expected \"deepseek-r1\" (sent as reasoning_model), got \"DeepSeek-R1-0528\" — override not echoed"
        ]
    );
    let implementation = messages(record(&records, "override-implementation"));
    assert_eq!(implementation.len(), 1);
    assert!(
        implementation[0].ends_with(".implementation_model: expected \"gpt-4o\" (sent as implementation_model), got absent — override not echoed"),
        "{implementation:?}"
    );
    assert_eq!(
        messages(record(&records, "reject-invalid-model")),
        [
            "POST /api/v1/query: expected 422 (validation error naming \"reasoning_model\"), got 200 — the invalid value was accepted"
        ]
    );
    let trace = messages(record(&records, "query-trace"));
    assert!(
        trace.contains(
            &"data_sources[1].agent: expected \"cortex\", got \"cortex_researcher\"".to_string()
        ),
        "{trace:?}"
    );
    let charts = messages(record(&records, "query-charts-trace"));
    assert!(
        charts
            .iter()
            .any(|m| m.ends_with(".implementation_model: expected present, got absent")),
        "{charts:?}"
    );
    for name in ["models", "reject-short-query"] {
        assert_eq!(
            record(&records, name).verdict,
            Verdict::Pass,
            "{name} holds on as-built too"
        );
    }
    for r in records.iter().filter(|r| r.verdict == Verdict::Fail) {
        assert_eq!(
            r.class,
            Some(FailureClass::Contract),
            "{}: drift is a contract failure",
            r.probe
        );
    }
}
