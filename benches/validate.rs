//! Parsing and validating realistic ~100 KB query responses with the shipped probes' checks (goal: < 0.5 ms), in
//! two shapes: one database call with ~650 `sample_data` rows, and a multi-call trace (9 database entries of 25
//! rows, a long answer).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use oewsprobe::config::{self, Sources};
use oewsprobe::probe::{Asked, Caller, HttpResponse, ProbeSpec, Verdict, evaluate, evaluate_full};

/// What the benchmarked requests ask, as findings name it.
const ASKED: Asked<'static> = Asked {
    request: "POST /api/v1/query",
    caller: Caller::OneShot,
};
use serde_json::Value;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

const QUERY: &str = "Compare software developer salaries in Seattle vs San Francisco with charts";
const TARGET_BYTES: usize = 100 * 1024;

/// One database call whose `sample_data` holds as many rows as it takes to reach `bytes`.
fn one_big_call(bytes: usize) -> Vec<u8> {
    let mut rows = 10;
    loop {
        let body = oewsprobe::sim::sample_query_response(QUERY, true, rows);
        let text = serde_json::to_vec(&body).expect("serializes");
        if text.len() >= bytes {
            return text;
        }
        rows += 10;
    }
}

/// What the as-built service emits for a question answered with several SQL calls: one `oews_database` entry per
/// successful call (here 9, each with 25 rows and its own `sql`), steps renumbered 1..N, and an answer long
/// enough to reach `bytes`.
fn many_calls(bytes: usize) -> Vec<u8> {
    let mut body = oewsprobe::sim::sample_query_response(QUERY, true, 25);
    let entries = body["data_sources"]
        .as_array_mut()
        .expect("data_sources is an array");
    let at = entries
        .iter()
        .position(|e| e["type"] == "oews_database")
        .expect("a database entry");
    let call = entries[at].clone();
    for i in 1..=8 {
        let mut again = call.clone();
        let sql = again["sql"].as_str().expect("sql is a string");
        again["sql"] = Value::from(format!("{sql} -- call {}", i + 1));
        entries.insert(at + i, again);
    }
    for (i, entry) in entries.iter_mut().enumerate() {
        entry["step"] = Value::from(i + 1);
    }
    let answer = body["answer"]
        .as_str()
        .expect("answer is a string")
        .to_owned();
    let mut text = serde_json::to_vec(&body).expect("serializes");
    let mut paragraphs = 1;
    while text.len() < bytes {
        paragraphs += 1;
        body["answer"] = Value::from(vec![answer.as_str(); paragraphs].join("\n\n"));
        text = serde_json::to_vec(&body).expect("serializes");
    }
    text
}

fn response(body: Vec<u8>) -> Result<HttpResponse, oewsprobe::probe::TransportFailure> {
    Ok(HttpResponse {
        status: 200,
        retry_after: None,
        body,
        over_cap: false,
    })
}

fn bench(c: &mut Criterion) {
    let probes = Path::new(env!("CARGO_MANIFEST_DIR")).join("probes");
    let sources = Sources {
        config: None,
        probes_dir: Some(probes),
        target: Some("http://127.0.0.1:9".into()),
    };
    let plan = config::load(&sources).expect("shipped probes compile");
    let charts = plan
        .probes
        .iter()
        .find(|p| p.name == "query-charts-trace")
        .expect("shipped");
    let query_probes: Vec<&ProbeSpec> = plan
        .probes
        .iter()
        .filter(|p| p.request.path == "/api/v1/query" && p.expect.status.matches(200))
        .collect();
    let shapes = [
        ("one call, 650 rows", one_big_call(TARGET_BYTES)),
        ("9 calls, long answer", many_calls(TARGET_BYTES)),
    ];
    for (shape, body) in shapes {
        let response = response(body);
        let check = evaluate(&charts.expect, ASKED, &response, Duration::from_millis(1));
        assert_eq!(
            check.verdict,
            Verdict::Pass,
            "the {shape} body must pass: {:?}",
            check.findings
        );
        let full = evaluate_full(&charts.expect, ASKED, &response, Duration::from_millis(1));
        assert_eq!(
            check, full,
            "pruned and full parses agree on the {shape} body"
        );
        let bytes = response.as_ref().map_or(0, |r| r.body.len());

        let mut group = c.benchmark_group(format!("validate_100KB_response ({shape})"));
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function("query-charts-trace (parse + all checks)", |b| {
            b.iter(|| {
                evaluate(
                    black_box(&charts.expect),
                    ASKED,
                    black_box(&response),
                    Duration::from_millis(1),
                )
            })
        });
        group.bench_function("query-charts-trace, full parse (reference)", |b| {
            b.iter(|| {
                evaluate_full(
                    black_box(&charts.expect),
                    ASKED,
                    black_box(&response),
                    Duration::from_millis(1),
                )
            })
        });
        group.bench_function("every shipped query probe's checks", |b| {
            b.iter(|| {
                for probe in &query_probes {
                    black_box(evaluate(
                        &probe.expect,
                        ASKED,
                        black_box(&response),
                        Duration::from_millis(1),
                    ));
                }
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
