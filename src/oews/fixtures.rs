//! Realistic query response bodies for tests, in both contracts: runbook-shaped (agents planner / cortex /
//! chart_generator, implementation_model present) and as-built-shaped (cortex_researcher, all 13 keys with
//! nulls, no implementation_model, a synthesis entry last).

use serde_json::{Map, Value, json};

/// The 13 keys of every as-built trace entry, in wire order.
pub(crate) const AS_BUILT_KEYS: [&str; 13] = [
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

/// The planner's JSON: keys `"1"`, `"2"`, … each `{"agent", "action"}`.
fn plan(charts: bool) -> Value {
    let mut steps = vec![(
        "cortex_researcher",
        "Query OEWS for software developer wages in Seattle",
    )];
    if charts {
        steps.push(("chart_generator", "Chart the wages"));
    }
    steps.push(("synthesizer", "Summarize"));
    let plan: Map<String, Value> = steps
        .into_iter()
        .enumerate()
        .map(|(index, (agent, action))| {
            let step = json!({"agent": agent, "action": action});
            ((index + 1).to_string(), step)
        })
        .collect();
    Value::Object(plan)
}

const ANSWER: &str = "Software developers in Seattle earn an average of $158,860 per year.";

fn sample_rows() -> Value {
    json!([{"AREA_TITLE": "Seattle-Tacoma-Bellevue, WA", "A_MEAN": 158_860, "OCC_TITLE": "Software Developers"}])
}

const SQL: &str = "SELECT AREA_TITLE, OCC_TITLE, A_MEAN FROM oews_data WHERE OCC_TITLE LIKE ? AND AREA_TITLE LIKE ?";

fn chart() -> Value {
    json!({"data": {"datasets": [{"name": "Mean wage", "values": [158_860, 173_870]}], "labels": ["Seattle", "San Francisco"]},
           "options": null, "title": "Software developer salaries", "type": "bar"})
}

/// A runbook-shaped body: what the release plan promises.
pub fn runbook(charts: bool) -> Value {
    let mut trace = vec![
        json!({"step": 1, "agent": "planner", "type": "planning", "plan": plan(charts), "reasoning_model": "deepseek-r1"}),
        json!({"step": 2, "agent": "cortex", "type": "oews_database", "sql": SQL, "row_count": 1,
               "sample_data": sample_rows()}),
    ];
    if charts {
        trace.push(
            json!({"step": 3, "agent": "chart_generator", "type": "chart_generation",
                          "implementation_model": "gpt-4o"}),
        );
    }
    json!({
        "answer": ANSWER,
        "charts": if charts { json!([chart()]) } else { json!([]) },
        "data_sources": trace,
        "metadata": {"execution_time_ms": 25_000, "models_used": {"cortex": "deepseek-v3", "planner": "deepseek-r1"}}
    })
}

/// One as-built entry: all 13 keys, `null` where a key does not apply.
fn as_built_entry(step: u64, agent: &str, entry_type: &str, set: Value) -> Value {
    let mut entry: Map<String, Value> = AS_BUILT_KEYS
        .iter()
        .map(|k| (k.to_string(), Value::Null))
        .collect();
    entry.insert("step".into(), step.into());
    entry.insert("agent".into(), agent.into());
    entry.insert("type".into(), entry_type.into());
    if let Value::Object(set) = set {
        entry.extend(set);
    }
    Value::Object(entry)
}

/// An as-built body: what the service does today (oews-api.md, "The wire models").
pub fn as_built(charts: bool) -> Value {
    let planned = plan(charts);
    let plan_steps = planned.as_object().map_or(0, Map::len);
    let mut trace = vec![
        as_built_entry(
            1,
            "planner",
            "planning",
            json!({"action": format!("Generated execution plan with {plan_steps} steps"),
                   "plan": planned.clone(), "reasoning_model": "DeepSeek-R1-0528"}),
        ),
        as_built_entry(
            2,
            "cortex_researcher",
            "oews_database",
            json!({"action": "Executed SQL query returning 1 rows", "sql": SQL,
            "params": ["%Software Developers%", "%Seattle%"], "row_count": 1, "sample_data": sample_rows(),
            "stats": {"max": 158_860, "mean": 158_860, "min": 158_860}}),
        ),
    ];
    if charts {
        // Comparing two cities: one database entry per successful SQL call.
        trace.push(as_built_entry(3, "cortex_researcher", "oews_database", json!({"action": "Executed SQL query returning 0 rows", "sql": SQL,
            "params": ["%Software Developers%", "%San Francisco%"], "row_count": 0, "sample_data": [],
            "stats": null})));
        trace.push(as_built_entry(
            4,
            "chart_generator",
            "chart_generation",
            json!({"action": "Generated 1 chart specification(s)"}),
        ));
    }
    let last = trace.len() as u64 + 1;
    trace.push(as_built_entry(
        last,
        "synthesizer",
        "synthesis",
        json!({"action": format!("Synthesized final answer ({} characters)", ANSWER.chars().count())}),
    ));
    let mut models_used = json!({"planner": "DeepSeek-R1-0528", "cortex_researcher": "deepseek-v3",
                                 "synthesizer": "deepseek-v3"});
    if charts {
        models_used["chart_generator"] = json!("deepseek-v3");
    }
    json!({
        "answer": ANSWER,
        "charts": if charts { json!([chart()]) } else { json!([]) },
        "data_sources": trace,
        "metadata": {"execution_time_ms": 31_200, "models_used": models_used, "plan": planned,
                     "replans": 0}
    })
}

/// `body` with `data_sources[index]` changed by `edit`.
pub fn with_entry(
    mut body: Value,
    index: usize,
    edit: impl FnOnce(&mut Map<String, Value>),
) -> Value {
    if let Some(entry) = body["data_sources"]
        .get_mut(index)
        .and_then(Value::as_object_mut)
    {
        edit(entry);
    }
    body
}

/// `body` with the top-level `key` set to `value` (or removed when `value` is `None`).
pub fn with_key(mut body: Value, key: &str, value: Option<Value>) -> Value {
    if let Some(map) = body.as_object_mut() {
        match value {
            Some(v) => map.insert(key.to_string(), v),
            None => map.remove(key),
        };
    }
    body
}
