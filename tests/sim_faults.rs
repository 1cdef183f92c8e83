//! Each fault changes what it should (and only on the routes it names); faults switch at run time.

mod sim_support;

use std::time::{Duration, Instant};

use oewsprobe::sim::{Fault, Profile, SimOptions};
use reqwest::Method;
use serde_json::{Value, json};
use sim_support::{CHARTS_QUERY, Reply, Sim, TRACES_QUERY, entry, steps};

const WORKFLOW_FAILED: &str = r#"{"detail":"Workflow execution failed: simulated fault"}"#;

/// The request a fault case sends.
#[derive(Clone, Copy)]
enum Call {
    Get(&'static str),
    /// A runbook-valid query without charts.
    Query,
    /// A query with charts and both overrides (`implementation_model` valid, `reasoning_model` as given).
    QueryWithOverrides(&'static str),
}

struct Case {
    fault: &'static str,
    profile: Profile,
    call: Call,
    expect: fn(&Reply),
}

fn kinds(reply: &Reply) -> Vec<String> {
    reply
        .trace()
        .iter()
        .map(|entry| entry["type"].as_str().expect("type").to_owned())
        .collect()
}

fn expect_status(reply: &Reply, status: u16, body: &str) {
    assert_eq!((reply.status, reply.text.as_str()), (status, body));
}

const CASES: &[Case] = &[
    Case {
        fault: "health_down",
        profile: Profile::Runbook,
        call: Call::Get("/api/v1/health"),
        expect: |reply| {
            expect_status(reply, 503, r#"{"detail":"Service Unavailable"}"#);
            assert_eq!(reply.header("retry-after"), None);
        },
    },
    Case {
        fault: "health_down",
        profile: Profile::AsBuilt,
        call: Call::Get("/health"),
        expect: |reply| expect_status(reply, 503, r#"{"detail":"Service Unavailable"}"#),
    },
    Case {
        fault: "health_down",
        profile: Profile::Runbook,
        call: Call::Get("/api/v1/models"),
        expect: |reply| assert_eq!(reply.status, 200),
    },
    Case {
        fault: "models_empty",
        profile: Profile::AsBuilt,
        call: Call::Get("/api/v1/models"),
        expect: |reply| {
            assert_eq!(reply.status, 200);
            assert_eq!(reply.json()["models"], json!({}));
            assert_eq!(reply.json()["defaults"]["reasoning"], "deepseek-r1");
        },
    },
    Case {
        fault: "no_data_sources",
        profile: Profile::Runbook,
        call: Call::Query,
        expect: |reply| {
            assert_eq!(reply.json()["data_sources"], json!([]));
            assert!(!reply.json()["answer"].as_str().expect("answer").is_empty());
        },
    },
    Case {
        fault: "missing_planner",
        profile: Profile::Runbook,
        call: Call::Query,
        expect: |reply| {
            assert_eq!(kinds(reply), ["oews_database", "synthesis"]);
            assert_eq!(steps(&reply.trace()), [1, 2]);
        },
    },
    Case {
        fault: "missing_sql",
        profile: Profile::Runbook,
        call: Call::Query,
        expect: |reply| {
            let database = entry(&reply.trace(), "oews_database")
                .expect("database entry")
                .clone();
            assert!(database.get("sql").is_none(), "{database}");
            assert_eq!(database["row_count"], 1);
        },
    },
    Case {
        fault: "missing_sql",
        profile: Profile::AsBuilt,
        call: Call::Query,
        expect: |reply| {
            let database = entry(&reply.trace(), "oews_database")
                .expect("database entry")
                .clone();
            assert_eq!(database.get("sql"), Some(&Value::Null), "{database}");
        },
    },
    Case {
        fault: "non_contiguous_steps",
        profile: Profile::Runbook,
        call: Call::Query,
        expect: |reply| assert_eq!(steps(&reply.trace()), [1, 2, 4]),
    },
    Case {
        fault: "no_echo",
        profile: Profile::Runbook,
        call: Call::QueryWithOverrides("deepseek-r1"),
        expect: |reply| {
            let trace = reply.trace();
            assert_eq!(
                entry(&trace, "planning").expect("planner")["reasoning_model"],
                "DeepSeek-R1-0528"
            );
            let chart = entry(&trace, "chart_generation").expect("chart entry");
            assert!(chart.get("implementation_model").is_none(), "{chart}");
        },
    },
    Case {
        fault: "accept_invalid_model",
        profile: Profile::Runbook,
        call: Call::QueryWithOverrides("invalid-model"),
        expect: |reply| assert_eq!(reply.status, 200, "{}", reply.text),
    },
    Case {
        fault: "no_charts",
        profile: Profile::Runbook,
        call: Call::QueryWithOverrides("deepseek-r1"),
        expect: |reply| {
            assert_eq!(reply.json()["charts"], json!([]));
            assert_eq!(kinds(reply), ["planning", "oews_database", "synthesis"]);
        },
    },
    Case {
        fault: "error500",
        profile: Profile::Runbook,
        call: Call::Get("/api/v1/health"),
        expect: |reply| expect_status(reply, 500, WORKFLOW_FAILED),
    },
    Case {
        fault: "error500",
        profile: Profile::AsBuilt,
        call: Call::Get("/health"),
        expect: |reply| expect_status(reply, 500, WORKFLOW_FAILED),
    },
    Case {
        fault: "error500",
        profile: Profile::AsBuilt,
        call: Call::Get("/api/v1/models"),
        expect: |reply| expect_status(reply, 500, WORKFLOW_FAILED),
    },
    Case {
        fault: "error500",
        profile: Profile::AsBuilt,
        call: Call::Query,
        expect: |reply| expect_status(reply, 500, WORKFLOW_FAILED),
    },
    Case {
        fault: "error500",
        profile: Profile::AsBuilt,
        call: Call::Get("/api/v1/health"),
        expect: |reply| expect_status(reply, 404, r#"{"detail":"Not Found"}"#),
    },
    Case {
        fault: "invalid_json",
        profile: Profile::Runbook,
        call: Call::Get("/api/v1/models"),
        expect: |reply| {
            expect_status(reply, 200, r#"{"answer": "Software devel"#);
            assert_eq!(reply.header("content-type"), Some("application/json"));
        },
    },
    Case {
        fault: "invalid_json",
        profile: Profile::AsBuilt,
        call: Call::Query,
        expect: |reply| expect_status(reply, 200, r#"{"answer": "Software devel"#),
    },
    Case {
        fault: "flaky=1",
        profile: Profile::Runbook,
        call: Call::Get("/api/v1/models"),
        expect: |reply| {
            expect_status(
                reply,
                500,
                r#"{"detail":"An internal error occurred during query processing."}"#,
            )
        },
    },
    Case {
        fault: "flaky=0",
        profile: Profile::Runbook,
        call: Call::Get("/api/v1/models"),
        expect: |reply| assert_eq!(reply.status, 200),
    },
    Case {
        fault: "rate_limited",
        profile: Profile::Runbook,
        call: Call::Query,
        expect: |reply| {
            expect_status(
                reply,
                429,
                r#"{"error":"Rate limit exceeded: 10 per 1 hour"}"#,
            );
            assert_eq!(reply.header("retry-after"), None);
        },
    },
    Case {
        fault: "rate_limited",
        profile: Profile::AsBuilt,
        call: Call::Get("/health"),
        expect: |reply| assert_eq!(reply.status, 200),
    },
    Case {
        fault: "at_capacity",
        profile: Profile::AsBuilt,
        call: Call::Query,
        expect: |reply| {
            expect_status(
                reply,
                503,
                r#"{"detail":"System at capacity. Please retry in 1-2 minutes."}"#,
            );
            assert_eq!(reply.header("retry-after"), Some("60"));
        },
    },
    Case {
        fault: "bad_gateway",
        profile: Profile::Runbook,
        call: Call::Query,
        expect: |reply| {
            expect_status(reply, 502, "");
            assert_eq!(reply.header("server"), Some("Caddy"));
        },
    },
    Case {
        fault: "bad_gateway",
        profile: Profile::AsBuilt,
        call: Call::Get("/health"),
        expect: |reply| expect_status(reply, 502, ""),
    },
];

async fn call(sim: &Sim, call: Call) -> Reply {
    match call {
        Call::Get(path) => sim.get(path).await,
        Call::Query => {
            sim.query(json!({"query": TRACES_QUERY, "enable_charts": false}))
                .await
        }
        Call::QueryWithOverrides(reasoning_model) => {
            let body = json!({"query": CHARTS_QUERY, "enable_charts": true,
                              "reasoning_model": reasoning_model, "implementation_model": "gpt-4o"});
            sim.query(body).await
        }
    }
}

#[tokio::test]
async fn each_fault_changes_what_it_names() {
    for case in CASES {
        let fault: Fault = case.fault.parse().expect("case fault parses");
        let sim = Sim::start_with(case.profile, vec![fault]).await;
        let reply = call(&sim, case.call).await;
        (case.expect)(&reply);
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn query_faults_combine() {
    let faults = vec![
        Fault::MissingPlanner,
        Fault::NonContiguousSteps,
        Fault::NoCharts,
    ];
    let sim = Sim::start_with(Profile::AsBuilt, faults).await;
    let reply = sim.query(json!({"query": CHARTS_QUERY})).await;
    assert_eq!(kinds(&reply), ["oews_database", "synthesis"]);
    assert_eq!(steps(&reply.trace()), [1, 3]);
}

#[tokio::test]
async fn slow_delays_every_request_including_unknown_paths() {
    let sim = Sim::start_with(
        Profile::Runbook,
        vec![Fault::Slow(Duration::from_millis(150))],
    )
    .await;
    for path in ["/api/v1/health", "/nope"] {
        let started = Instant::now();
        let reply = sim.get(path).await;
        assert!(started.elapsed() >= Duration::from_millis(150), "{path}");
        assert!(reply.status == 200 || reply.status == 404);
    }
    let started = Instant::now();
    assert_eq!(sim.get("/__sim/stats").await.status, 200);
    assert!(
        started.elapsed() < Duration::from_millis(150),
        "admin routes are never faulted"
    );
}

#[tokio::test]
async fn hang_never_answers_but_shutdown_still_completes() {
    let sim = Sim::start_with(Profile::Runbook, vec![Fault::Hang]).await;
    let impatient = sim_support::client(Duration::from_millis(200));
    let error = sim
        .send_with(&impatient, Method::GET, "/api/v1/health", None)
        .await
        .expect_err("a hung request times out");
    assert!(error.is_timeout(), "{error}");

    let hung = tokio::spawn({
        let url = sim.url("/api/v1/models");
        async move {
            let client = sim_support::client(Duration::from_secs(5));
            client
                .get(url)
                .send()
                .await
                .map(|response| response.status().as_u16())
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    sim.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "shutdown releases hung requests"
    );
    let outcome = hung.await.expect("client task");
    assert!(
        outcome.as_ref().map_or(true, |status| *status == 503),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn flaky_is_reproducible_for_a_seed() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let sim = Sim::start(SimOptions {
            faults: vec![Fault::Flaky(0.5)],
            seed,
            ..SimOptions::default()
        })
        .await;
        let mut statuses = Vec::new();
        for _ in 0..30 {
            statuses.push(sim.get("/api/v1/models").await.status);
        }
        statuses
    }
    let first = statuses(42).await;
    assert_eq!(first, statuses(42).await);
    assert!(first.contains(&200) && first.contains(&500), "{first:?}");
    assert_ne!(first, statuses(43).await);
}

#[tokio::test]
async fn faults_switch_at_run_time_through_the_admin_endpoint() {
    let sim = Sim::start_with(Profile::Runbook, Vec::new()).await;
    let put = |body: &'static str| sim.send(Method::PUT, "/__sim/faults", Some(body));

    let replaced = put(r#"{"faults":["error500","slow=20ms"]}"#).await;
    assert_eq!(
        (replaced.status, replaced.json()),
        (200, json!({"faults": ["error500", "slow=20ms"]}))
    );
    assert_eq!(
        sim.get("/__sim/faults").await.json(),
        json!({"faults": ["error500", "slow=20ms"]})
    );
    assert_eq!(sim.get("/api/v1/health").await.status, 500);

    let unknown = put(r#"{"faults":["hang","slwo"]}"#).await;
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.json()["detail"]
            .as_str()
            .expect("detail")
            .starts_with(r#"unknown fault "slwo" (known: health_down, "#)
    );
    let malformed = put(r#"["error500"]"#).await;
    assert_eq!(malformed.status, 400);
    assert!(
        malformed
            .text
            .contains(r#"expected a body like {\"faults\":[\"error500\",\"slow=2s\"]}"#),
        "{}",
        malformed.text
    );
    assert_eq!(
        sim.get("/__sim/faults").await.json()["faults"][0],
        "error500",
        "a refused PUT changes nothing"
    );

    let cleared = sim.send(Method::DELETE, "/__sim/faults", None).await;
    assert_eq!(cleared.json(), json!({"faults": []}));
    assert_eq!(sim.get("/api/v1/health").await.status, 200);
}

#[tokio::test]
async fn faults_switch_at_run_time_through_set_faults() {
    let sim = Sim::start_with(Profile::AsBuilt, Vec::new()).await;
    sim.server.set_faults(vec![Fault::BadGateway]);
    assert_eq!(sim.get("/health").await.status, 502);
    assert_eq!(
        sim.get("/__sim/faults").await.json(),
        json!({"faults": ["bad_gateway"]})
    );
    sim.server.set_faults(Vec::new());
    assert_eq!(sim.get("/health").await.status, 200);
}
