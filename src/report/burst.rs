//! The `burst` command's output: a summary for people, one JSON document, and the HdrHistogram
//! percentile-distribution text (`--hgrm`) that the standard HdrHistogram plotter reads.

use super::duration_text;
use crate::load::{LATE_AFTER, LoadRun, LoadStats, Opened, Shape};
use crate::probe::Verdict;
use hdrhistogram::Histogram;
use serde_json::{Map, Value, json};
use std::fmt::Write as _;
use std::time::Duration;

/// What a burst report describes.
#[derive(Debug)]
pub struct BurstReport<'a> {
    pub probe: &'a str,
    pub method: &'a str,
    pub url: &'a str,
    /// Valid queries the probe declares one request spends.
    pub queries_per_request: u32,
    pub shape: Shape,
    pub slo: Duration,
    pub run: &'a LoadRun,
    /// The run verified no certificate (`tls.insecure`): the table and the JSON say so first.
    pub insecure: bool,
}

/// Percentiles shown, as (label, quantile).
const PERCENTILES: [(&str, f64); 5] = [
    ("p50", 0.5),
    ("p90", 0.9),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p99.9", 0.999),
];

/// A latency in µs as people read it: `850µs`, `12.35ms`, `1.204s`.
pub fn micros_text(micros: u64) -> String {
    if micros < 1_000 {
        format!("{micros}µs")
    } else if micros < 1_000_000 {
        format!("{:.2}ms", micros as f64 / 1000.0)
    } else {
        duration_text(Duration::from_micros(micros))
    }
}

fn shape_text(shape: &Shape) -> String {
    match *shape {
        Shape::Once { n } => format!("{n} at once"),
        Shape::Closed {
            concurrency,
            duration,
        } => {
            format!(
                "closed: {concurrency} concurrent for {}",
                duration_text(duration)
            )
        }
        Shape::Open {
            rate,
            duration,
            max_in_flight,
        } => format!(
            "open: {rate} req/s for {}, at most {max_in_flight} in flight",
            duration_text(duration)
        ),
    }
}

fn percentiles_line(h: &Histogram<u64>) -> String {
    if h.is_empty() {
        return "-".to_string();
    }
    let mut line = format!("min {}", micros_text(h.min()));
    for (label, q) in PERCENTILES {
        let _ = write!(line, "  {label} {}", micros_text(h.value_at_quantile(q)));
    }
    let _ = write!(line, "  max {}", micros_text(h.max()));
    line
}

fn by_class(
    stats: &LoadStats,
    counts: &std::collections::BTreeMap<crate::probe::FailureClass, u64>,
) -> Vec<String> {
    counts
        .iter()
        .map(|(class, n)| match stats.examples.get(class) {
            Some((number, finding)) => format!("{class} {n} — e.g. #{number}: {finding}"),
            None => format!("{class} {n}"),
        })
        .collect()
}

/// The summary table.
pub fn burst_table(r: &BurstReport<'_>) -> String {
    let stats = &r.run.stats;
    let mut out = String::new();
    if r.insecure {
        let _ = writeln!(out, "{}", crate::tls::INSECURE_WARNING);
    }
    let _ = writeln!(out, "oewsprobe burst: {} → {} {}", r.probe, r.method, r.url);
    let row = |out: &mut String, label: &str, value: &str| {
        let _ = writeln!(out, "{label:<13}{value}");
    };
    row(&mut out, "model", &shape_text(&r.shape));
    row(
        &mut out,
        "requests",
        &format!(
            "{}: {} passed, {} failed, {} inconclusive",
            stats.requests,
            stats.passed,
            stats.failed_total(),
            stats.inconclusive_total()
        ),
    );
    row(&mut out, "queries", &queries_text(r));
    for line in by_class(stats, &stats.failed) {
        row(&mut out, "failed", &line);
    }
    for line in by_class(stats, &stats.inconclusive) {
        row(&mut out, "inconclusive", &line);
    }
    row(
        &mut out,
        "throughput",
        &format!(
            "{:.2} req/s ({} in {})",
            throughput(r.run),
            stats.requests,
            duration_text(r.run.elapsed)
        ),
    );
    row(&mut out, "http", &http_text(&stats.opened));
    match r.shape {
        Shape::Open { .. } => {
            row(
                &mut out,
                "latency",
                &format!(
                    "{} (from the intended start)",
                    percentiles_line(&stats.latency)
                ),
            );
            row(
                &mut out,
                "uncorrected",
                &format!(
                    "{} (from the actual start)",
                    percentiles_line(&stats.service_time)
                ),
            );
            row(
                &mut out,
                "late starts",
                &format!(
                    "{} started more than {} after their intended instant (max lag {})",
                    stats.late_starts,
                    duration_text(LATE_AFTER),
                    micros_text(stats.max_start_lag.as_micros() as u64)
                ),
            );
        }
        _ => row(&mut out, "latency", &percentiles_line(&stats.latency)),
    }
    row(
        &mut out,
        &format!("SLO {}", duration_text(r.slo)),
        &slo_text(stats, r.slo),
    );
    out
}

/// The HTTP version(s) the connections spoke, how many were opened and, over TLS, how many resumed.
fn http_text(opened: &Opened) -> String {
    let Some(versions) = opened.versions() else {
        return "no connection opened".to_string();
    };
    let connections = match opened.connections() {
        1 => "1 connection".to_string(),
        n => format!("{n} connections"),
    };
    if opened.tls_handshakes == 0 {
        format!("{versions} — {connections}")
    } else {
        format!(
            "{versions} over TLS — {connections}, {} of {} TLS handshakes resumed",
            opened.tls_resumed, opened.tls_handshakes
        )
    }
}

/// Valid queries the requests declared in all.
fn declared(r: &BurstReport<'_>) -> u64 {
    r.run
        .stats
        .requests
        .saturating_mul(u64::from(r.queries_per_request))
}

/// What the burst spent of what its requests declared, saying why when it spent less.
fn queries_text(r: &BurstReport<'_>) -> String {
    let (spent, declared) = (r.run.stats.queries_spent, declared(r));
    let why = if spent < declared {
        " (a 429, a 422 or a request that never connected spends none)"
    } else {
        ""
    };
    format!("{spent} spent of {declared} declared{why}")
}

fn slo_text(stats: &LoadStats, slo: Duration) -> String {
    let slo_text = duration_text(slo);
    match stats.slo_verdict() {
        Verdict::Pass => format!("PASS — every request passed and took at most {slo_text}"),
        Verdict::Inconclusive if stats.requests == 0 => {
            "INCONCLUSIVE — no request was made".to_string()
        }
        Verdict::Inconclusive => format!(
            "INCONCLUSIVE — {} of {} requests got no verdict (throttled or at capacity)",
            stats.inconclusive_total(),
            stats.requests
        ),
        Verdict::Fail => {
            let mut parts = Vec::new();
            if stats.failed_total() > 0 {
                parts.push(format!(
                    "{} of {} requests failed",
                    stats.failed_total(),
                    stats.requests
                ));
            }
            if stats.over_slo > 0 {
                let listed: Vec<String> = stats
                    .over_slo_requests
                    .iter()
                    .map(|(n, d)| format!("#{n} {}", micros_text(d.as_micros() as u64)))
                    .collect();
                let more = stats.over_slo.saturating_sub(listed.len() as u64);
                let tail = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                parts.push(format!(
                    "{} of {} requests over {slo_text}: {}{tail}",
                    stats.over_slo,
                    stats.requests,
                    listed.join(", ")
                ));
            }
            format!("FAIL — {}", parts.join("; "))
        }
    }
}

fn throughput(run: &LoadRun) -> f64 {
    let secs = run.elapsed.as_secs_f64();
    if secs > 0.0 {
        run.stats.requests as f64 / secs
    } else {
        0.0
    }
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

fn percentiles_json(h: &Histogram<u64>) -> Value {
    if h.is_empty() {
        return Value::Null;
    }
    let mut m = Map::new();
    m.insert("min".into(), json!(ms(h.min())));
    for (label, q) in PERCENTILES {
        m.insert(label.replace('.', "_"), json!(ms(h.value_at_quantile(q))));
    }
    m.insert("max".into(), json!(ms(h.max())));
    m.insert(
        "mean".into(),
        json!((h.mean() / 1000.0 * 1000.0).round() / 1000.0),
    );
    Value::Object(m)
}

fn counts_json(counts: &std::collections::BTreeMap<crate::probe::FailureClass, u64>) -> Value {
    counts
        .iter()
        .map(|(c, n)| (c.as_str().to_string(), json!(n)))
        .collect::<Map<_, _>>()
        .into()
}

/// The JSON document (documented in README.md).
pub fn burst_json(r: &BurstReport<'_>) -> Value {
    let stats = &r.run.stats;
    let (model, shape) = match r.shape {
        Shape::Once { n } => ("once", json!({"requests": n})),
        Shape::Closed {
            concurrency,
            duration,
        } => (
            "closed",
            json!({"concurrency": concurrency, "duration_s": duration.as_secs_f64()}),
        ),
        Shape::Open {
            rate,
            duration,
            max_in_flight,
        } => (
            "open",
            json!({"rate": rate, "duration_s": duration.as_secs_f64(), "max_in_flight": max_in_flight}),
        ),
    };
    let examples: Map<String, Value> = stats
        .examples
        .iter()
        .map(|(c, (n, f))| (c.as_str().to_string(), json!({"request": n, "finding": f})))
        .collect();
    json!({
        "probe": r.probe,
        "method": r.method,
        "url": r.url,
        "model": model,
        "shape": shape,
        "verdict": stats.slo_verdict(),
        "requests": stats.requests,
        "queries": {"declared": declared(r), "spent": stats.queries_spent},
        "passed": stats.passed,
        "failed": counts_json(&stats.failed),
        "inconclusive": counts_json(&stats.inconclusive),
        "examples": examples,
        "elapsed_s": r.run.elapsed.as_secs_f64(),
        "throughput_rps": throughput(r.run),
        "http_version": stats.opened.versions(),
        "connections": {
            "opened": stats.opened.connections(),
            "tls_handshakes": stats.opened.tls_handshakes,
            "tls_resumed": stats.opened.tls_resumed,
        },
        "latency_ms": percentiles_json(&stats.latency),
        "uncorrected_latency_ms": match r.shape {
            Shape::Open { .. } => percentiles_json(&stats.service_time),
            _ => Value::Null,
        },
        "late_starts": stats.late_starts,
        "max_start_lag_ms": stats.max_start_lag.as_secs_f64() * 1000.0,
        "slo": {
            "threshold_ms": r.slo.as_secs_f64() * 1000.0,
            "over": stats.over_slo,
            "over_requests": stats.over_slo_requests.iter()
                .map(|(n, d)| json!({"request": n, "latency_ms": d.as_secs_f64() * 1000.0}))
                .collect::<Vec<_>>(),
        },
        "warnings": if r.insecure { vec![crate::tls::INSECURE_WARNING] } else { Vec::new() },
    })
}

/// The HdrHistogram percentile distribution of `h` (µs) in milliseconds, in the format of
/// `outputPercentileDistribution` (5 ticks per half distance), as the HdrHistogram plotter expects.
pub fn hgrm(h: &Histogram<u64>) -> String {
    let mut out = format!(
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    for v in h.iter_quantiles(5) {
        total += v.count_since_last_iteration();
        let q = v.quantile_iterated_to();
        let value = ms(v.value_iterated_to());
        if q < 1.0 {
            let _ = writeln!(
                out,
                "{value:12.3} {q:2.12} {total:10} {:14.2}",
                1.0 / (1.0 - q)
            );
        } else {
            let _ = writeln!(out, "{value:12.3} {q:1.12} {total:10}");
        }
    }
    let sub_buckets = 2u64.pow((2.0 * 10f64.powi(3)).log2().ceil() as u32);
    let _ = writeln!(
        out,
        "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
        h.mean() / 1000.0,
        h.stdev() / 1000.0
    );
    let _ = writeln!(
        out,
        "#[Max     = {:12.3}, Total count    = {:12}]",
        ms(h.max()),
        h.len()
    );
    let _ = writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        h.buckets(),
        sub_buckets
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{LoadStats, Sample};
    use crate::probe::FailureClass;

    fn run(samples: &[(u64, Verdict, Option<FailureClass>)], slo: Duration) -> LoadRun {
        let mut stats = LoadStats::new();
        for (i, (ms, verdict, class)) in samples.iter().enumerate() {
            let d = Duration::from_millis(*ms);
            let sample = Sample {
                number: i as u64 + 1,
                latency: d,
                service_time: d / 2,
                start_lag: d / 2,
                queries: u32::from(*class != Some(FailureClass::Throttled)),
                verdict: *verdict,
                class: *class,
                finding: class.map(|_| "POST /api/v1/query: expected 200, got 500".to_string()),
            };
            stats.record(&sample, slo, LATE_AFTER);
        }
        LoadRun {
            stats,
            elapsed: Duration::from_millis(2000),
        }
    }

    /// The report of `run`, `n` requests at once of `query-trace` (one query each) against a 30 s objective.
    fn report(run: &LoadRun, n: u64) -> BurstReport<'_> {
        BurstReport {
            probe: "query-trace",
            method: "POST",
            url: "http://127.0.0.1:8000/api/v1/query",
            queries_per_request: 1,
            shape: Shape::Once { n },
            slo: Duration::from_secs(30),
            run,
            insecure: false,
        }
    }

    #[test]
    fn an_insecure_run_says_so_first_in_the_table_and_in_the_json() {
        let run = LoadRun {
            stats: LoadStats::new(),
            elapsed: Duration::from_millis(2000),
        };
        let secure = report(&run, 3);
        assert!(burst_table(&secure).starts_with("oewsprobe burst: query-trace → POST "));
        assert_eq!(burst_json(&secure)["warnings"], json!([]));
        let insecure = BurstReport {
            insecure: true,
            ..report(&run, 3)
        };
        assert!(burst_table(&insecure).starts_with(
            "WARNING: tls.insecure = true: the server's certificate is NOT verified (anyone on the path can \
             impersonate it)\noewsprobe burst: query-trace → POST "
        ));
        assert_eq!(
            burst_json(&insecure)["warnings"],
            json!([
                "WARNING: tls.insecure = true: the server's certificate is NOT verified (anyone on the path can impersonate it)"
            ])
        );
    }

    #[test]
    fn table_is_exact() {
        let slo = Duration::from_secs(30);
        let run = run(
            &[
                (31_000, Verdict::Pass, None),
                (1_200, Verdict::Fail, Some(FailureClass::ServerError)),
                (20_000, Verdict::Pass, None),
            ],
            slo,
        );
        let report = report(&run, 3);
        // Histogram values are HDR-quantized (3 significant digits): 1.2 s reads 1.199 s, 31 s reads 31.015 s;
        // the SLO line compares exact durations.
        let expected = "\
oewsprobe burst: query-trace → POST http://127.0.0.1:8000/api/v1/query
model        3 at once
requests     3: 2 passed, 1 failed, 0 inconclusive
queries      3 spent of 3 declared
failed       server_error 1 — e.g. #2: POST /api/v1/query: expected 200, got 500
throughput   1.50 req/s (3 in 2s)
http         no connection opened
latency      min 1.199s  p50 20.005s  p90 31.015s  p95 31.015s  p99 31.015s  p99.9 31.015s  max 31.015s
SLO 30s      FAIL — 1 of 3 requests failed; 1 of 3 requests over 30s: #1 31s
";
        assert_eq!(burst_table(&report), expected);
    }

    #[test]
    fn the_queries_line_says_why_a_burst_spent_less_than_declared() {
        let slo = Duration::from_secs(30);
        let throttled = (10, Verdict::Inconclusive, Some(FailureClass::Throttled));
        let cases = [
            (
                vec![(10, Verdict::Pass, None); 2],
                "2 spent of 2 declared",
                2,
            ),
            (
                vec![(10, Verdict::Pass, None), throttled],
                "1 spent of 2 declared (a 429, a 422 or a request that never connected spends none)",
                1,
            ),
        ];
        for (samples, text, spent) in cases {
            let run = run(&samples, slo);
            let report = report(&run, 2);
            assert_eq!(queries_text(&report), text);
            assert_eq!(
                burst_json(&report)["queries"],
                json!({"declared": 2, "spent": spent})
            );
        }
    }

    #[test]
    fn the_http_line_names_versions_connections_and_resumed_handshakes() {
        let opened = |http1, http2, tls_handshakes, tls_resumed| Opened {
            http1,
            http2,
            tls_handshakes,
            tls_resumed,
        };
        let cases = [
            (opened(0, 0, 0, 0), "no connection opened", Value::Null),
            (
                opened(1, 0, 0, 0),
                "HTTP/1.1 — 1 connection",
                json!("HTTP/1.1"),
            ),
            (
                opened(0, 50, 50, 3),
                "HTTP/2 over TLS — 50 connections, 3 of 50 TLS handshakes resumed",
                json!("HTTP/2"),
            ),
            (
                opened(2, 1, 3, 0),
                "HTTP/1.1 and HTTP/2 over TLS — 3 connections, 0 of 3 TLS handshakes resumed",
                json!("HTTP/1.1 and HTTP/2"),
            ),
        ];
        for (opened, text, version) in cases {
            assert_eq!(http_text(&opened), text);
            let mut run = run(&[], Duration::from_secs(30));
            run.stats.opened = opened;
            let doc = burst_json(&report(&run, 0));
            assert_eq!(doc["http_version"], version);
            assert_eq!(
                doc["connections"],
                json!({"opened": opened.connections(), "tls_handshakes": opened.tls_handshakes, "tls_resumed": opened.tls_resumed})
            );
        }
    }

    #[test]
    fn micros_read_naturally() {
        assert_eq!(micros_text(850), "850µs");
        assert_eq!(micros_text(12_345), "12.35ms");
        assert_eq!(micros_text(1_204_000), "1.204s");
    }

    #[test]
    fn hgrm_of_a_known_histogram() {
        let mut h = Histogram::<u64>::new_with_bounds(1, crate::load::HISTOGRAM_MAX_MICROS, 3)
            .expect("bounds");
        for v in [1_000u64, 2_000, 3_000, 4_000] {
            h.record(v).expect("in range");
        }
        let text = hgrm(&h);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "       Value     Percentile TotalCount 1/(1-Percentile)"
        );
        assert_eq!(
            lines[2],
            "       1.000 0.000000000000          1           1.00"
        );
        assert_eq!(
            lines[lines.len() - 4],
            "       4.001 1.000000000000          4"
        );
        assert_eq!(
            lines[lines.len() - 3],
            "#[Mean    =        2.501, StdDeviation   =        1.118]"
        );
        assert_eq!(
            lines[lines.len() - 2],
            "#[Max     =        4.001, Total count    =            4]"
        );
    }
}
