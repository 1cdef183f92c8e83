//! A burst run summarized as one `ProbeRecord` (pure), so scheduled bursts land in the store, in SLOs and in
//! `status` like any probe: verdict from the SLO verdict, one finding for the SLO and one per failure class,
//! and the burst's latency distribution at [`BURST_PERCENTILES`] (what the status page plots).

use super::LoadRun;
use crate::probe::{
    FailureClass, Finding, LatencyPercentiles, ProbeRecord, RequestLine, Timings, Verdict,
};
use crate::report::duration_text;
use std::time::Duration;

/// The quantiles of a burst's latency its record keeps: p50 … p99.9 and p100, the slowest request.
pub const BURST_PERCENTILES: [f64; 7] = [0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0];

/// The latency (ms, to the µs) at each of [`BURST_PERCENTILES`] of `latency` (µs); `None` when empty.
pub fn percentiles(latency: &hdrhistogram::Histogram<u64>) -> Option<LatencyPercentiles> {
    (!latency.is_empty()).then(|| {
        LatencyPercentiles(
            BURST_PERCENTILES
                .iter()
                .map(|&q| (q, latency.value_at_quantile(q) as f64 / 1e3))
                .collect(),
        )
    })
}

/// The record of a burst of `request` under `name`, scheduled at `scheduled_at_ms`: its `queries` is what
/// the burst's requests spent.
pub fn burst_record(
    name: &str,
    target: &str,
    request: &RequestLine,
    scheduled_at_ms: u64,
    run: &LoadRun,
    slo: Duration,
) -> ProbeRecord {
    let stats = &run.stats;
    let verdict = stats.slo_verdict();
    let most = |counts: &std::collections::BTreeMap<FailureClass, u64>| {
        counts
            .iter()
            .max_by_key(|(class, n)| (**n, std::cmp::Reverse(**class)))
            .map(|(class, _)| *class)
    };
    let class = match verdict {
        Verdict::Pass => None,
        Verdict::Fail => most(&stats.failed).or(Some(FailureClass::Contract)),
        Verdict::Inconclusive => most(&stats.inconclusive),
    };
    let mut findings = Vec::new();
    if verdict != Verdict::Pass {
        let mut got = Vec::new();
        if stats.failed_total() > 0 {
            got.push(format!("{} failed", stats.failed_total()));
        }
        if stats.inconclusive_total() > 0 {
            got.push(format!("{} inconclusive", stats.inconclusive_total()));
        }
        if stats.over_slo > 0 {
            got.push(format!("{} over {}", stats.over_slo, duration_text(slo)));
        }
        if stats.requests == 0 {
            got.push("no request made".to_string());
        }
        let expected = format!(
            "all {} requests passing within {}",
            stats.requests,
            duration_text(slo)
        );
        findings.push(Finding::new("burst", None, expected, got.join(", "), None));
        for (class, (number, finding)) in &stats.examples {
            let message = format!("request #{number} ({class}): {finding}");
            findings.push(Finding {
                check: "burst".into(),
                path: None,
                expected: String::new(),
                actual: finding.clone(),
                message,
            });
        }
    }
    ProbeRecord {
        location: String::new(),
        latency_percentiles: percentiles(&stats.latency),
        probe: name.to_string(),
        target: target.trim_end_matches('/').to_string(),
        request: Some(request.clone()),
        scheduled_at_ms,
        verdict,
        class,
        status: None,
        latency: Duration::from_micros(if stats.latency.is_empty() {
            0
        } else {
            stats.latency.max()
        }),
        timings: Timings {
            total: run.elapsed,
            ..Timings::default()
        },
        body_bytes: 0,
        queries: u32::try_from(stats.queries_spent).unwrap_or(u32::MAX),
        findings,
        retry_after: None,
        known_drift: Vec::new(),
        tls: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{LATE_AFTER, LoadStats, Sample};

    fn run(samples: &[(u64, Verdict, Option<FailureClass>)]) -> LoadRun {
        let mut stats = LoadStats::new();
        for (i, (ms, verdict, class)) in samples.iter().enumerate() {
            let d = Duration::from_millis(*ms);
            let finding = class.map(|_| "POST /api/v1/query: expected 200, got 500".to_string());
            let sample = Sample {
                number: i as u64 + 1,
                latency: d,
                service_time: d,
                start_lag: Duration::ZERO,
                queries: u32::from(*class != Some(FailureClass::Throttled)),
                verdict: *verdict,
                class: *class,
                finding,
            };
            stats.record(&sample, Duration::from_secs(30), LATE_AFTER);
        }
        LoadRun {
            stats,
            elapsed: Duration::from_secs(2),
        }
    }

    fn query() -> RequestLine {
        RequestLine {
            method: "POST".into(),
            url: "http://x/api/v1/query".into(),
        }
    }

    /// The record of a `query-trace-burst` of `samples` against `http://x` with a 30 s objective.
    fn record_of(samples: &[(u64, Verdict, Option<FailureClass>)]) -> ProbeRecord {
        let slo = Duration::from_secs(30);
        burst_record(
            "query-trace-burst",
            "http://x",
            &query(),
            1_000,
            &run(samples),
            slo,
        )
    }

    #[test]
    fn a_passing_burst_is_a_passing_record() {
        let r = burst_record(
            "query-trace-burst",
            "http://x/",
            &query(),
            1_000,
            &run(&[(10, Verdict::Pass, None); 3]),
            Duration::from_secs(30),
        );
        assert_eq!(
            (r.verdict, r.class, r.queries, r.findings.len()),
            (Verdict::Pass, None, 3, 0)
        );
        assert_eq!(r.target, "http://x");
        assert_eq!(r.request, Some(query()));
        assert_eq!(r.latency, Duration::from_micros(10_007));
    }

    #[test]
    fn a_burst_keeps_its_latency_at_each_percentile() {
        let samples: Vec<_> = (1..=100).map(|ms| (ms, Verdict::Pass, None)).collect();
        let r = record_of(&samples);
        // HDR at 3 significant digits: each value is its bucket's highest equivalent, to the µs.
        assert_eq!(
            r.latency_percentiles,
            Some(LatencyPercentiles(vec![
                (0.5, 50.015),
                (0.75, 75.007),
                (0.9, 90.047),
                (0.95, 95.039),
                (0.99, 99.007),
                (0.999, 100.031),
                (1.0, 100.031),
            ]))
        );
        assert_eq!(
            r.latency,
            Duration::from_micros(100_031),
            "p100 is the slowest"
        );
        let one = record_of(&[(10, Verdict::Pass, None)]);
        assert_eq!(
            one.latency_percentiles,
            Some(LatencyPercentiles(
                BURST_PERCENTILES.iter().map(|&q| (q, 10.007)).collect()
            ))
        );
        assert_eq!(
            record_of(&[]).latency_percentiles,
            None,
            "no request, no distribution"
        );
    }

    #[test]
    fn a_burst_records_the_queries_its_requests_spent() {
        let throttled = (10, Verdict::Inconclusive, Some(FailureClass::Throttled));
        let r = record_of(&[(10, Verdict::Pass, None), throttled, throttled]);
        assert_eq!((r.verdict, r.queries), (Verdict::Inconclusive, 1));
    }

    #[test]
    fn failures_and_slow_requests_are_named() {
        let r = record_of(&[
            (31_000, Verdict::Pass, None),
            (100, Verdict::Fail, Some(FailureClass::ServerError)),
            (100, Verdict::Pass, None),
        ]);
        assert_eq!(
            (r.verdict, r.class),
            (Verdict::Fail, Some(FailureClass::ServerError))
        );
        let messages: Vec<&str> = r.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "burst: expected all 3 requests passing within 30s, got 1 failed, 1 over 30s",
                "request #2 (server_error): POST /api/v1/query: expected 200, got 500",
            ]
        );
        let slow = record_of(&[(31_000, Verdict::Pass, None)]);
        assert_eq!(
            (slow.verdict, slow.class),
            (Verdict::Fail, Some(FailureClass::Contract)),
            "slow alone breaks the contract"
        );
    }
}
