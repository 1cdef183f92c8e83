//! Counters, the as-built rate limit and the capacity limit of the simulator.

mod sim_support;

use std::collections::BTreeMap;
use std::time::Duration;

use oewsprobe::sim::{Fault, Profile, SimOptions, SimStats};
use reqwest::Method;
use serde_json::json;
use sim_support::{Sim, TRACES_QUERY};

fn valid_query() -> serde_json::Value {
    json!({"query": TRACES_QUERY, "enable_charts": false})
}

#[tokio::test]
async fn stats_count_routes_and_valid_versus_rejected_queries_but_not_admin_traffic() {
    let sim = Sim::start_with(Profile::Runbook, Vec::new()).await;
    sim.get("/api/v1/health").await;
    sim.get("/api/v1/health?verbose=1").await;
    sim.get("/api/v1/models").await;
    sim.get("/nope").await;
    sim.query(valid_query()).await;
    sim.query(json!({"query": "ab"})).await;
    sim.send(Method::POST, "/api/v1/query", Some("{not json"))
        .await;
    sim.get("/__sim/stats").await;
    sim.send(
        Method::PUT,
        "/__sim/faults",
        Some(r#"{"faults":["error500"]}"#),
    )
    .await;
    sim.query(valid_query()).await; // accepted by validation, then failed by the fault: still valid

    let expected = SimStats {
        requests: BTreeMap::from([
            ("GET /api/v1/health".to_owned(), 2),
            ("GET /api/v1/models".to_owned(), 1),
            ("GET /nope".to_owned(), 1),
            ("POST /api/v1/query".to_owned(), 4),
        ]),
        valid_queries: 2,
        rejected_queries: 2,
        throttled: 0,
    };
    assert_eq!(sim.server.stats(), expected);
    let over_http: SimStats =
        serde_json::from_str(&sim.get("/__sim/stats").await.text).expect("stats JSON");
    assert_eq!(over_http, expected);
}

#[tokio::test]
async fn as_built_rate_limit_throttles_the_eleventh_valid_query_and_ignores_422s() {
    let sim = Sim::start_with(Profile::AsBuilt, Vec::new()).await;
    for attempt in 1..=10 {
        assert_eq!(
            sim.query(json!({"query": "ab"})).await.status,
            422,
            "422 #{attempt}"
        );
        assert_eq!(
            sim.query(valid_query()).await.status,
            200,
            "valid query #{attempt}"
        );
    }
    let eleventh = sim.query(valid_query()).await;
    assert_eq!(eleventh.status, 429);
    assert_eq!(
        eleventh.text,
        r#"{"error":"Rate limit exceeded: 10 per 1 hour"}"#
    );
    assert_eq!(eleventh.header("retry-after"), None);
    assert_eq!(
        sim.query(json!({"query": "ab"})).await.status,
        422,
        "validation still answers when throttled"
    );
    assert_eq!(
        sim.get("/health").await.status,
        200,
        "only queries are limited"
    );

    let stats = sim.server.stats();
    assert_eq!(
        (stats.valid_queries, stats.rejected_queries, stats.throttled),
        (11, 11, 1)
    );
}

#[tokio::test]
async fn failed_queries_count_against_the_rate_limit() {
    let opts = SimOptions {
        profile: Profile::AsBuilt,
        rate_limit_per_hour: Some(2),
        ..SimOptions::default()
    };
    let sim = Sim::start(opts).await;
    sim.server.set_faults(vec![Fault::Error500]);
    assert_eq!(sim.query(valid_query()).await.status, 500);
    sim.server.set_faults(vec![Fault::AtCapacity]);
    assert_eq!(sim.query(valid_query()).await.status, 503);
    sim.server.set_faults(Vec::new());
    let third = sim.query(valid_query()).await;
    assert_eq!(
        (third.status, third.text.as_str()),
        (429, r#"{"error":"Rate limit exceeded: 2 per 1 hour"}"#)
    );
}

#[tokio::test]
async fn runbook_has_no_rate_limit_unless_configured() {
    let unlimited = Sim::start_with(Profile::Runbook, Vec::new()).await;
    for _ in 0..12 {
        assert_eq!(unlimited.query(valid_query()).await.status, 200);
    }
    let limited = Sim::start(SimOptions {
        rate_limit_per_hour: Some(1),
        ..SimOptions::default()
    })
    .await;
    assert_eq!(limited.query(valid_query()).await.status, 200);
    assert_eq!(limited.query(valid_query()).await.status, 429);
}

#[tokio::test]
async fn queries_beyond_max_concurrent_get_503_with_retry_after() {
    for profile in [Profile::Runbook, Profile::AsBuilt] {
        let opts = SimOptions {
            profile,
            latency: Duration::from_millis(400),
            max_concurrent: 2,
            ..SimOptions::default()
        };
        let sim = std::sync::Arc::new(Sim::start(opts).await);
        let in_flight: Vec<_> = (0..2)
            .map(|_| {
                let sim = std::sync::Arc::clone(&sim);
                tokio::spawn(async move { sim.query(valid_query()).await.status })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(150)).await;
        let refused = sim.query(valid_query()).await;
        assert_eq!(refused.status, 503, "{profile}");
        assert_eq!(
            refused.text,
            r#"{"detail":"System at capacity. Please retry in 1-2 minutes."}"#
        );
        assert_eq!(refused.header("retry-after"), Some("60"));
        for query in in_flight {
            assert_eq!(query.await.expect("query task"), 200, "{profile}");
        }
        assert_eq!(
            sim.query(valid_query()).await.status,
            200,
            "{profile}: slots are released"
        );
    }
}

#[tokio::test]
async fn latency_applies_to_valid_queries_only() {
    let opts = SimOptions {
        latency: Duration::from_millis(200),
        ..SimOptions::default()
    };
    let sim = Sim::start(opts).await;
    let started = std::time::Instant::now();
    assert_eq!(sim.query(json!({"query": "ab"})).await.status, 422);
    sim.get("/api/v1/health").await;
    assert!(started.elapsed() < Duration::from_millis(200));
    let started = std::time::Instant::now();
    let reply = sim.query(valid_query()).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(
        reply.json()["metadata"]["execution_time_ms"]
            .as_u64()
            .expect("ms")
            >= 200
    );
}
