//! The 200 body of `POST /api/v1/query`: answer, charts, execution trace and metadata, per profile and faults.

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;

use super::Profile;
use super::fault::{Fault, FaultSet};
use super::models::{self, DEFAULT_IMPLEMENTATION, DEFAULT_REASONING};
use super::oews_data::{self, Focus, WageRow};
use super::validate::QueryRequest;

/// What the response looks like: the profile's contract, bent by the active query faults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ResponseShape {
    pub profile: Profile,
    /// Overrides appear in the trace (runbook, unless `no_echo`).
    pub echo_overrides: bool,
    pub planner_entry: bool,
    pub sql: bool,
    pub charts_possible: bool,
    pub trace: bool,
    pub contiguous_steps: bool,
}

impl ResponseShape {
    /// The profile's contract with no faults.
    pub(crate) fn faithful(profile: Profile) -> Self {
        Self::new(profile, &FaultSet::default())
    }

    pub(crate) fn new(profile: Profile, faults: &FaultSet) -> Self {
        ResponseShape {
            profile,
            echo_overrides: profile == Profile::Runbook && !faults.has(&Fault::NoEcho),
            planner_entry: !faults.has(&Fault::MissingPlanner),
            sql: !faults.has(&Fault::MissingSql),
            charts_possible: !faults.has(&Fault::NoCharts),
            trace: !faults.has(&Fault::NoDataSources),
            contiguous_steps: !faults.has(&Fault::NonContiguousSteps),
        }
    }
}

/// The full 200 body, serialized in the service's key order.
#[derive(Debug, Serialize)]
pub(crate) struct QueryResponse {
    answer: String,
    charts: Vec<Chart>,
    data_sources: Vec<TraceEntry>,
    metadata: Metadata,
}

#[derive(Debug, Serialize)]
struct Chart {
    #[serde(rename = "type")]
    kind: &'static str,
    title: String,
    data: ChartData,
    options: Option<Value>,
}

#[derive(Debug, Serialize)]
struct ChartData {
    labels: Vec<String>,
    datasets: Vec<Dataset>,
}

#[derive(Debug, Serialize)]
struct Dataset {
    name: String,
    values: Vec<u64>,
}

#[derive(Debug, Serialize)]
struct Metadata {
    models_used: ModelsUsed,
    execution_time_ms: u64,
    plan: Value,
    replans: u32,
}

/// Which model each agent ran on, keyed by agent.
#[derive(Debug, Serialize)]
struct ModelsUsed {
    planner: String,
    cortex_researcher: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    chart_generator: Option<String>,
    synthesizer: String,
}

/// Summary statistics the as-built database agent attaches to its entry.
#[derive(Debug, Serialize)]
struct WageStats {
    a_mean_min: u64,
    a_mean_max: u64,
    a_mean_avg: u64,
}

/// One execution trace entry. Runbook entries carry only the keys that apply; as-built entries carry all
/// 13 trace keys with `null` where a key does not apply. `implementation_model` is not one of the 13: it
/// appears only when set.
#[derive(Debug)]
struct TraceEntry {
    all_keys: bool,
    step: usize,
    agent: &'static str,
    kind: &'static str,
    action: Option<String>,
    plan: Option<Value>,
    reasoning_model: Option<String>,
    sql: Option<String>,
    params: Option<Vec<Value>>,
    row_count: Option<usize>,
    sample_data: Option<Vec<WageRow>>,
    stats: Option<WageStats>,
    implementation_model: Option<String>,
}

impl TraceEntry {
    /// An entry with no fields set; `action` (the service's sentence) is kept as built only.
    fn new(shape: ResponseShape, agent: &'static str, kind: &'static str, action: String) -> Self {
        let as_built = shape.profile == Profile::AsBuilt;
        TraceEntry {
            all_keys: as_built,
            step: 0,
            agent,
            kind,
            action: as_built.then_some(action),
            plan: None,
            reasoning_model: None,
            sql: None,
            params: None,
            row_count: None,
            sample_data: None,
            stats: None,
            implementation_model: None,
        }
    }
}

impl Serialize for TraceEntry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("step", &self.step)?;
        map.serialize_entry("agent", self.agent)?;
        map.serialize_entry("type", self.kind)?;
        let all = self.all_keys;
        optional_entry(&mut map, "action", self.action.as_ref(), all)?;
        optional_entry(&mut map, "plan", self.plan.as_ref(), all)?;
        optional_entry(
            &mut map,
            "reasoning_model",
            self.reasoning_model.as_ref(),
            all,
        )?;
        optional_entry(&mut map, "sql", self.sql.as_ref(), all)?;
        optional_entry(&mut map, "params", self.params.as_ref(), all)?;
        optional_entry(&mut map, "row_count", self.row_count.as_ref(), all)?;
        optional_entry(&mut map, "sample_data", self.sample_data.as_ref(), all)?;
        optional_entry(&mut map, "stats", self.stats.as_ref(), all)?;
        optional_entry::<_, ()>(&mut map, "search_query", None, all)?;
        optional_entry::<_, ()>(&mut map, "sources", None, all)?;
        optional_entry(
            &mut map,
            "implementation_model",
            self.implementation_model.as_ref(),
            false,
        )?;
        map.end()
    }
}

/// Writes `key: value`, or `key: null` when the value is absent but the key is always present.
fn optional_entry<M: SerializeMap, T: Serialize>(
    map: &mut M,
    key: &'static str,
    value: Option<&T>,
    always_present: bool,
) -> Result<(), M::Error> {
    match value {
        Some(value) => map.serialize_entry(key, value),
        None if always_present => map.serialize_entry(key, &None::<()>),
        None => Ok(()),
    }
}

/// `execution_time_ms` of sample bodies: a typical real query.
const TYPICAL_EXECUTION_MS: u64 = 25_000;
/// Chart bars at most (big sample bodies grow `sample_data`, not the chart).
const MAX_CHART_BARS: usize = 10;
/// Result rows quoted in the answer.
const ANSWER_FACTS: usize = 3;

impl QueryResponse {
    /// Builds the answer to a valid request. `rows` overrides how many result rows the database returns
    /// (default: one per area and occupation the question names).
    pub(crate) fn build(
        request: &QueryRequest,
        shape: ResponseShape,
        rows: Option<usize>,
        execution_time_ms: u64,
    ) -> Self {
        let focus = Focus::from_question(&request.query);
        let rows = focus.rows(rows.unwrap_or_else(|| focus.natural_row_count()));
        let with_charts = request.enable_charts && shape.charts_possible;
        let plan = focus.plan(with_charts);
        let models = ModelChoice::new(request, shape);
        let answer = answer(&focus, &rows);
        let charts = if with_charts {
            vec![wage_chart(&focus, &rows)]
        } else {
            Vec::new()
        };

        let mut entries = Vec::new();
        if shape.planner_entry {
            let action = format!("Generated execution plan with {} steps", plan.len());
            let mut planner = TraceEntry::new(shape, "planner", "planning", action);
            planner.plan = Some(Value::Object(plan.clone()));
            planner.reasoning_model = Some(models.planner.clone());
            entries.push(planner);
        }
        entries.push(database_entry(shape, &focus, rows));
        if with_charts {
            let action = format!("Generated {} chart specification(s)", charts.len());
            let mut chart = TraceEntry::new(shape, "chart_generator", "chart_generation", action);
            chart.implementation_model = models.echoed_implementation.clone();
            entries.push(chart);
        }
        let action = format!(
            "Synthesized final answer ({} characters)",
            answer.chars().count()
        );
        entries.push(TraceEntry::new(shape, "synthesizer", "synthesis", action));
        number_steps(&mut entries, shape.contiguous_steps);
        if !shape.trace {
            entries.clear();
        }

        QueryResponse {
            answer,
            charts,
            data_sources: entries,
            metadata: Metadata {
                models_used: models.used(with_charts),
                execution_time_ms,
                plan: Value::Object(plan),
                replans: 0,
            },
        }
    }
}

/// The model names the response shows.
#[derive(Debug)]
struct ModelChoice {
    /// The planner entry's `reasoning_model` and `models_used.planner`.
    planner: String,
    /// `models_used` of the other agents.
    implementation: String,
    /// The chart entry's `implementation_model`: only when overrides are echoed.
    echoed_implementation: Option<String>,
}

impl ModelChoice {
    /// Echoing (runbook): the requested registry keys, else the defaults. Not echoing (as built): the
    /// planner's provider model name, and the implementation key the service hard-codes.
    fn new(request: &QueryRequest, shape: ResponseShape) -> Self {
        if shape.echo_overrides {
            let choose = |requested: &Option<String>, default: &str| {
                requested.clone().unwrap_or_else(|| default.to_owned())
            };
            let implementation = choose(&request.implementation_model, DEFAULT_IMPLEMENTATION);
            ModelChoice {
                planner: choose(&request.reasoning_model, DEFAULT_REASONING),
                echoed_implementation: Some(implementation.clone()),
                implementation,
            }
        } else {
            ModelChoice {
                planner: models::provider_model_name(DEFAULT_REASONING)
                    .unwrap_or(DEFAULT_REASONING)
                    .to_owned(),
                implementation: DEFAULT_IMPLEMENTATION.to_owned(),
                echoed_implementation: None,
            }
        }
    }

    fn used(&self, with_charts: bool) -> ModelsUsed {
        ModelsUsed {
            planner: self.planner.clone(),
            cortex_researcher: self.implementation.clone(),
            chart_generator: with_charts.then(|| self.implementation.clone()),
            synthesizer: self.implementation.clone(),
        }
    }
}

fn database_entry(shape: ResponseShape, focus: &Focus, rows: Vec<WageRow>) -> TraceEntry {
    let as_built = shape.profile == Profile::AsBuilt;
    let agent = if as_built {
        "cortex_researcher"
    } else {
        "cortex"
    };
    let action = format!("Executed SQL query returning {} rows", rows.len());
    let mut entry = TraceEntry::new(shape, agent, "oews_database", action);
    if shape.sql {
        let (sql, params) = focus.sql(rows.len());
        if as_built {
            entry.sql = Some(sql);
            entry.params = Some(params);
        } else {
            entry.sql = Some(oews_data::inline_params(&sql, &params));
        }
    }
    if as_built {
        entry.stats = wage_stats(&rows);
    }
    entry.row_count = Some(rows.len());
    entry.sample_data = Some(rows);
    entry
}

fn wage_stats(rows: &[WageRow]) -> Option<WageStats> {
    let means = rows.iter().map(|row| row.a_mean);
    Some(WageStats {
        a_mean_min: means.clone().min()?,
        a_mean_max: means.clone().max()?,
        a_mean_avg: means.sum::<u64>() / rows.len() as u64,
    })
}

/// Numbers entries 1..N. A non-contiguous trace skips step min(3, N): 1, 2, 4, ... (1, 3 with two entries).
fn number_steps(entries: &mut [TraceEntry], contiguous: bool) {
    let skipped = if contiguous {
        usize::MAX
    } else {
        entries.len().min(3)
    };
    for (index, entry) in entries.iter_mut().enumerate() {
        let step = index + 1;
        entry.step = if step >= skipped { step + 1 } else { step };
    }
}

fn answer(focus: &Focus, rows: &[WageRow]) -> String {
    let subject = format!("{} in {}", focus.occupation_names(), focus.area_names());
    if rows.is_empty() {
        return format!("No OEWS wage data matched {subject}.");
    }
    let facts: Vec<String> = rows
        .iter()
        .take(ANSWER_FACTS)
        .map(|row| {
            format!(
                "{} in {} earn an annual mean wage of {} (median {})",
                row.occ_title,
                row.area_title,
                oews_data::dollars(row.a_mean),
                oews_data::dollars(row.a_median)
            )
        })
        .collect();
    let more = match rows.len().saturating_sub(ANSWER_FACTS) {
        0 => String::new(),
        extra => format!(" ({extra} more results in the data)"),
    };
    format!(
        "Based on May 2024 BLS OEWS data for {subject}: {}{more}.",
        facts.join("; ")
    )
}

fn wage_chart(focus: &Focus, rows: &[WageRow]) -> Chart {
    let bars = &rows[..rows.len().min(MAX_CHART_BARS)];
    Chart {
        kind: "bar",
        title: format!("Annual mean wage: {}", focus.occupation_names()),
        data: ChartData {
            labels: bars
                .iter()
                .map(|row| format!("{} ({})", row.area_title, row.occ_title))
                .collect(),
            datasets: vec![Dataset {
                name: "Annual mean wage (USD)".to_owned(),
                values: bars.iter().map(|row| row.a_mean).collect(),
            }],
        },
        options: None,
    }
}

/// A realistic runbook-shaped query response for `query`, with `rows` database rows in `sample_data`
/// (about 150 bytes each, so ~650 rows make a ~100 KB body).
pub fn sample_query_response(query: &str, charts: bool, rows: usize) -> Value {
    let request = QueryRequest {
        query: query.to_owned(),
        enable_charts: charts,
        reasoning_model: None,
        implementation_model: None,
    };
    let shape = ResponseShape::faithful(Profile::Runbook);
    let response = QueryResponse::build(&request, shape, Some(rows), TYPICAL_EXECUTION_MS);
    serde_json::to_value(response).expect("query responses have string keys only")
}
