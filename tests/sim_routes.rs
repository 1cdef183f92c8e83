//! The simulator's routes in both profiles: exact statuses and bodies, and the query contract details.

mod sim_support;

use oewsprobe::sim::Profile;
use reqwest::Method;
use serde_json::{Value, json};
use sim_support::{CHARTS_QUERY, Sim, TRACES_QUERY, entry, steps};

const MODEL_KEYS: [&str; 5] = [
    "deepseek-r1",
    "gpt-4o",
    "deepseek-v3",
    "gpt-4o-mini",
    "ollama-llama3",
];

#[tokio::test]
async fn plain_routes_give_exact_status_and_body_per_profile() {
    let cases: [(Profile, Method, &str, u16, &str); 10] = [
        (
            Profile::Runbook,
            Method::GET,
            "/api/v1/health",
            200,
            r#"{"status":"healthy"}"#,
        ),
        (
            Profile::Runbook,
            Method::GET,
            "/health",
            200,
            r#"{"status":"healthy"}"#,
        ),
        (
            Profile::Runbook,
            Method::GET,
            "/api/v1/nope",
            404,
            r#"{"detail":"Not Found"}"#,
        ),
        (
            Profile::Runbook,
            Method::DELETE,
            "/api/v1/models",
            405,
            r#"{"detail":"Method Not Allowed"}"#,
        ),
        (
            Profile::Runbook,
            Method::GET,
            "/api/v1/query",
            405,
            r#"{"detail":"Method Not Allowed"}"#,
        ),
        (
            Profile::AsBuilt,
            Method::GET,
            "/api/v1/health",
            404,
            r#"{"detail":"Not Found"}"#,
        ),
        (
            Profile::AsBuilt,
            Method::GET,
            "/health",
            200,
            r#"{"status":"healthy","workflow_loaded":true}"#,
        ),
        (Profile::AsBuilt, Method::HEAD, "/health", 405, ""),
        (
            Profile::AsBuilt,
            Method::POST,
            "/health",
            405,
            r#"{"detail":"Method Not Allowed"}"#,
        ),
        (
            Profile::AsBuilt,
            Method::GET,
            "/",
            404,
            r#"{"detail":"Not Found"}"#,
        ),
    ];
    for (profile, method, path, status, body) in cases {
        let sim = Sim::start_with(profile, Vec::new()).await;
        let reply = sim.send(method.clone(), path, None).await;
        let case = format!("{profile} {method} {path}");
        assert_eq!(reply.status, status, "{case}");
        assert_eq!(reply.text, body, "{case}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{case}"
        );
        if status == 405 {
            assert!(
                reply.header("allow").is_some_and(|allow| !allow.is_empty()),
                "{case}: Allow header"
            );
        }
    }
}

#[tokio::test]
async fn models_list_the_registry_in_order_with_defaults_as_built_only() {
    for profile in [Profile::Runbook, Profile::AsBuilt] {
        let sim = Sim::start_with(profile, Vec::new()).await;
        let reply = sim.get("/api/v1/models").await;
        assert_eq!(reply.status, 200, "{profile}");
        let body = reply.json();
        let defaults = match profile {
            Profile::AsBuilt => {
                json!({"reasoning": "deepseek-r1", "implementation": "deepseek-v3"})
            }
            Profile::Runbook => Value::Null,
        };
        assert_eq!(body["defaults"], defaults, "{profile}");
        let models = body["models"].as_object().expect("models is an object");
        let keys: Vec<&str> = models.keys().map(String::as_str).collect();
        let mut expected = MODEL_KEYS.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected, "{profile}");
        assert_eq!(
            body["models"]["gpt-4o"],
            json!({"provider": "openai", "model_name": "gpt-4o", "role": "reasoning", "cost_per_1m_tokens": 2.5})
        );
        assert_eq!(body["models"]["ollama-llama3"]["model_name"], "llama3");
        let costs: Vec<f64> = MODEL_KEYS
            .iter()
            .map(|key| {
                models[*key]["cost_per_1m_tokens"]
                    .as_f64()
                    .expect("a number")
            })
            .collect();
        assert_eq!(costs, [0.55, 2.5, 0.27, 0.15, 0.0], "{profile}");
        let position = |key: &str| {
            reply
                .text
                .find(&format!(r#""{key}":{{"#))
                .expect("model key on the wire")
        };
        let positions: Vec<usize> = MODEL_KEYS.iter().map(|key| position(key)).collect();
        assert!(
            positions.is_sorted(),
            "registry order on the wire: {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn runbook_trace_without_charts_has_planner_database_and_synthesizer() {
    let sim = Sim::start_with(Profile::Runbook, Vec::new()).await;
    let reply = sim
        .query(json!({"query": TRACES_QUERY, "enable_charts": false}))
        .await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["charts"], json!([]));
    assert!(body["answer"].as_str().expect("answer").contains("Seattle"));
    let trace = reply.trace();
    let kinds: Vec<&str> = trace
        .iter()
        .map(|entry| entry["type"].as_str().expect("type"))
        .collect();
    assert_eq!(kinds, ["planning", "oews_database", "synthesis"]);
    assert_eq!(steps(&trace), [1, 2, 3]);

    let planner = &trace[0];
    assert_eq!(planner["agent"], "planner");
    assert_eq!(planner["reasoning_model"], "deepseek-r1");
    assert!(
        planner["plan"]
            .as_object()
            .is_some_and(|plan| !plan.is_empty())
    );

    let database = &trace[1];
    assert_eq!(database["agent"], "cortex");
    let sql = database["sql"].as_str().expect("sql");
    assert!(
        sql.starts_with("SELECT ")
            && sql.contains("'Software Developers'")
            && sql.contains("Seattle"),
        "{sql}"
    );
    assert_eq!(database["row_count"], 1);
    assert_eq!(database["sample_data"].as_array().map(Vec::len), Some(1));
    assert!(
        database.get("params").is_none() && database.get("stats").is_none(),
        "runbook entries stay sparse"
    );

    assert_eq!(trace[2]["agent"], "synthesizer");
    assert_eq!(body["metadata"]["replans"], 0);
    assert!(body["metadata"]["execution_time_ms"].is_u64());
    assert_eq!(body["metadata"]["plan"], planner["plan"]);
}

#[tokio::test]
async fn runbook_charts_and_overrides_are_echoed() {
    let sim = Sim::start_with(Profile::Runbook, Vec::new()).await;
    let charts = sim
        .query(json!({"query": CHARTS_QUERY, "enable_charts": true}))
        .await;
    let body = charts.json();
    let chart = &body["charts"][0];
    assert_eq!(chart["type"], "bar");
    assert_eq!(chart["data"]["labels"].as_array().map(Vec::len), Some(2));
    let trace = charts.trace();
    assert_eq!(steps(&trace), [1, 2, 3, 4]);
    let chart_entry = entry(&trace, "chart_generation").expect("chart entry");
    assert_eq!(chart_entry["agent"], "chart_generator");
    assert_eq!(chart_entry["implementation_model"], "deepseek-v3");

    let reasoning = sim.query(json!({"query": "What are the top 5 highest paying occupations?", "reasoning_model": "deepseek-r1", "enable_charts": false}),
    )
    .await;
    assert_eq!(
        entry(&reasoning.trace(), "planning").expect("planner")["reasoning_model"],
        "deepseek-r1"
    );

    let implementation = sim.query(json!({"query": "Compare software developer salaries across top 10 tech cities with charts", "implementation_model": "gpt-4o", "enable_charts": true}),
    )
    .await;
    let trace = implementation.trace();
    assert_eq!(
        entry(&trace, "chart_generation").expect("chart entry")["implementation_model"],
        "gpt-4o"
    );
    assert_eq!(
        implementation.json()["metadata"]["models_used"]["chart_generator"],
        "gpt-4o"
    );
}

#[tokio::test]
async fn runbook_charts_default_off_when_not_asked() {
    let sim = Sim::start_with(Profile::Runbook, Vec::new()).await;
    let reply = sim.query(json!({"query": CHARTS_QUERY})).await;
    assert_eq!(reply.json()["charts"], json!([]));
    assert!(entry(&reply.trace(), "chart_generation").is_none());
}

#[tokio::test]
async fn invalid_queries_get_fastapi_422_bodies() {
    let long = "x".repeat(501);
    let cases: Vec<(Profile, String, String)> = vec![
        (
            Profile::Runbook,
            r#"{"query": "ab"}"#.to_owned(),
            r#"{"detail":[{"type":"string_too_short","loc":["body","query"],"msg":"String should have at least 3 characters","input":"ab","ctx":{"min_length":3}}]}"#.to_owned(),
        ),
        (
            Profile::AsBuilt,
            format!(r#"{{"query": "{long}"}}"#),
            format!(r#"{{"detail":[{{"type":"string_too_long","loc":["body","query"],"msg":"String should have at most 500 characters","input":"{long}","ctx":{{"max_length":500}}}}]}}"#),
        ),
        (
            Profile::AsBuilt,
            r#"{"enable_charts": false}"#.to_owned(),
            r#"{"detail":[{"type":"missing","loc":["body","query"],"msg":"Field required","input":{"enable_charts":false}}]}"#.to_owned(),
        ),
        (
            Profile::Runbook,
            r#"{"query": "What are software salaries?""#.to_owned(),
            r#"{"detail":[{"type":"json_invalid","loc":["body",39],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting ',' delimiter"}}]}"#.to_owned(),
        ),
        (
            Profile::Runbook,
            r#"{"query": "What are software salaries?", "reasoning_model": "invalid-model"}"#.to_owned(),
            r#"{"detail":[{"type":"value_error","loc":["body","reasoning_model"],"msg":"Value error, unknown model 'invalid-model'; known: deepseek-r1, gpt-4o, deepseek-v3, gpt-4o-mini, ollama-llama3","input":"invalid-model"}]}"#.to_owned(),
        ),
        (
            Profile::Runbook,
            r#"{"query": "What are software salaries?", "implementation_model": "gpt-5"}"#.to_owned(),
            r#"{"detail":[{"type":"value_error","loc":["body","implementation_model"],"msg":"Value error, unknown model 'gpt-5'; known: deepseek-r1, gpt-4o, deepseek-v3, gpt-4o-mini, ollama-llama3","input":"gpt-5"}]}"#.to_owned(),
        ),
    ];
    for (profile, body, expected) in cases {
        let sim = Sim::start_with(profile, Vec::new()).await;
        let reply = sim.send(Method::POST, "/api/v1/query", Some(&body)).await;
        assert_eq!(reply.status, 422, "{profile} {body}");
        assert_eq!(reply.text, expected, "{profile} {body}");
        assert_eq!(reply.header("content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn as_built_trace_carries_all_13_keys_and_never_echoes_overrides() {
    const KEYS: [&str; 13] = [
        "step",
        "agent",
        "type",
        "action",
        "plan",
        "reasoning_model",
        "sql",
        "params",
        "row_count",
        "sample_data",
        "stats",
        "search_query",
        "sources",
    ];
    let sim = Sim::start_with(Profile::AsBuilt, Vec::new()).await;
    let reply = sim.query(json!({"query": CHARTS_QUERY, "reasoning_model": "invalid-model", "implementation_model": "gpt-4o"}),
    )
    .await;
    assert_eq!(
        reply.status, 200,
        "invalid overrides are accepted and ignored"
    );
    assert!(
        !reply.json()["charts"]
            .as_array()
            .expect("charts")
            .is_empty(),
        "charts default to on"
    );
    let trace = reply.trace();
    let kinds: Vec<&str> = trace
        .iter()
        .map(|entry| entry["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        kinds,
        ["planning", "oews_database", "chart_generation", "synthesis"]
    );
    for entry in &trace {
        let keys: Vec<&str> = entry
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = KEYS.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected, "{entry}");
    }
    assert!(
        reply
            .text
            .contains(r#"{"step":1,"agent":"planner","type":"planning","action":"#),
        "wire key order: {}",
        reply.text
    );
    assert_eq!(trace[0]["reasoning_model"], "DeepSeek-R1-0528");
    let database = &trace[1];
    assert_eq!(database["agent"], "cortex_researcher");
    assert!(database["sql"].as_str().expect("sql").contains("IN (?)"));
    assert!(database["params"].is_array() && database["stats"].is_object());
    assert_eq!(database["search_query"], Value::Null);
    assert_eq!(trace[3]["plan"], Value::Null);
}

/// The `action` of each trace entry.
fn actions(trace: &[Value]) -> Vec<&str> {
    trace
        .iter()
        .map(|entry| entry["action"].as_str().expect("action is a string"))
        .collect()
}

#[tokio::test]
async fn as_built_actions_plan_and_metadata_are_the_services() {
    let sim = Sim::start_with(Profile::AsBuilt, Vec::new()).await;
    let charts = sim.query(json!({"query": CHARTS_QUERY})).await;
    let body = charts.json();
    let trace = charts.trace();
    let answer_chars = body["answer"].as_str().expect("answer").chars().count();
    assert_eq!(
        actions(&trace),
        [
            "Generated execution plan with 3 steps",
            "Executed SQL query returning 2 rows",
            "Generated 1 chart specification(s)",
            &format!("Synthesized final answer ({answer_chars} characters)"),
        ]
    );
    let plan = &trace[0]["plan"];
    let steps: Vec<(&str, &str)> = plan
        .as_object()
        .expect("plan is an object")
        .iter()
        .map(|(key, step)| (key.as_str(), step["agent"].as_str().expect("agent")))
        .collect();
    assert_eq!(
        steps,
        [
            ("1", "cortex_researcher"),
            ("2", "chart_generator"),
            ("3", "synthesizer")
        ]
    );
    assert!(plan["1"]["action"].is_string(), "{plan}");
    let metadata = &body["metadata"];
    assert_eq!(metadata["plan"], *plan);
    assert_eq!(
        metadata["models_used"],
        json!({"planner": "DeepSeek-R1-0528", "cortex_researcher": "deepseek-v3",
               "chart_generator": "deepseek-v3", "synthesizer": "deepseek-v3"})
    );
    assert!(metadata["execution_time_ms"].as_u64().expect("ms") >= 1);
    assert_eq!(metadata["replans"], 0);

    let plain = sim
        .query(json!({"query": TRACES_QUERY, "enable_charts": false}))
        .await;
    let trace = plain.trace();
    assert_eq!(
        actions(&trace)[..2],
        [
            "Generated execution plan with 2 steps",
            "Executed SQL query returning 1 rows"
        ]
    );
    assert_eq!(
        plain.json()["metadata"]["models_used"],
        json!({"planner": "DeepSeek-R1-0528", "cortex_researcher": "deepseek-v3",
               "synthesizer": "deepseek-v3"})
    );
}
