//! Parsing and validating a realistic ~100 KB query response with the shipped probes' checks (goal: < 0.5 ms).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use oewsprobe::config::{self, Sources};
use oewsprobe::probe::{HttpResponse, Verdict, evaluate};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn response_of_about(bytes: usize) -> Vec<u8> {
    let mut rows = 10;
    loop {
        let body = oewsprobe::sim::sample_query_response(
            "Compare software developer salaries in Seattle vs San Francisco with charts",
            true,
            rows,
        );
        let text = serde_json::to_vec(&body).expect("serializes");
        if text.len() >= bytes {
            return text;
        }
        rows += 10;
    }
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
    let query_probes: Vec<_> = plan
        .probes
        .iter()
        .filter(|p| p.request.path == "/api/v1/query" && p.expect.status.matches(200))
        .collect();
    let body = response_of_about(100 * 1024);
    let response = Ok(HttpResponse {
        status: 200,
        retry_after: None,
        body: body.clone(),
        over_cap: false,
    });
    let check = evaluate(&charts.expect, &response, Duration::from_millis(1));
    assert_eq!(
        check.verdict,
        Verdict::Pass,
        "the bench body must pass: {:?}",
        check.findings
    );

    let mut group = c.benchmark_group("validate_100KB_response");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("query-charts-trace (parse + all checks)", |b| {
        b.iter(|| {
            evaluate(
                black_box(&charts.expect),
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
                    black_box(&response),
                    Duration::from_millis(1),
                ));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
