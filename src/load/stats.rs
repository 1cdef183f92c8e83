//! Load statistics: HDR latency histograms and counts, one per worker, merged at the end (pure).

use super::opened::Opened;
use crate::probe::{FailureClass, Verdict};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::time::Duration;

/// Latencies are recorded in microseconds with 3 significant digits, from 1 µs to 1 hour.
pub const HISTOGRAM_MAX_MICROS: u64 = 3_600_000_000;
const SIGNIFICANT_DIGITS: u8 = 3;
/// How many over-SLO requests and failure examples a report names.
pub const EXAMPLES: usize = 20;

/// The outcome of one request of a load run.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The request's number in intended-start order, from 1.
    pub number: u64,
    /// From the intended start to the end of the response (what a user arriving on schedule waited).
    pub latency: Duration,
    /// From the actual start to the end of the response (service time; differs only in open-model runs).
    pub service_time: Duration,
    /// How late the request started against its intended instant.
    pub start_lag: Duration,
    /// Valid queries the request spent (see [`crate::probe::spent_queries`]).
    pub queries: u32,
    pub verdict: Verdict,
    pub class: Option<FailureClass>,
    /// The first finding's message, when the request did not pass.
    pub finding: Option<String>,
}

/// Everything a load report needs, with memory independent of the number of requests.
#[derive(Debug, Clone)]
pub struct LoadStats {
    /// Latency from the intended start (coordinated-omission corrected), µs.
    pub latency: Histogram<u64>,
    /// Latency from the actual start (uncorrected), µs.
    pub service_time: Histogram<u64>,
    pub requests: u64,
    /// Valid queries the requests spent, in all.
    pub queries_spent: u64,
    pub passed: u64,
    pub failed: BTreeMap<FailureClass, u64>,
    pub inconclusive: BTreeMap<FailureClass, u64>,
    /// One example finding per class, from the lowest-numbered request of that class.
    pub examples: BTreeMap<FailureClass, (u64, String)>,
    /// Requests over the SLO threshold, compared exactly (not through the histogram).
    pub over_slo: u64,
    /// The lowest-numbered over-SLO requests, at most [`EXAMPLES`].
    pub over_slo_requests: Vec<(u64, Duration)>,
    /// Requests that started later than `late_after` after their intended instant.
    pub late_starts: u64,
    pub max_start_lag: Duration,
    /// The connections the workers opened.
    pub opened: Opened,
}

impl LoadStats {
    pub fn new() -> LoadStats {
        let histogram = || {
            Histogram::new_with_bounds(1, HISTOGRAM_MAX_MICROS, SIGNIFICANT_DIGITS)
                .unwrap_or_else(|_| unreachable!("constant bounds are valid"))
        };
        LoadStats {
            latency: histogram(),
            service_time: histogram(),
            requests: 0,
            queries_spent: 0,
            passed: 0,
            failed: BTreeMap::new(),
            inconclusive: BTreeMap::new(),
            examples: BTreeMap::new(),
            over_slo: 0,
            over_slo_requests: Vec::new(),
            late_starts: 0,
            max_start_lag: Duration::ZERO,
            opened: Opened::default(),
        }
    }

    /// Adds one request. `slo` is the latency objective; `late_after` the start lag that counts as late.
    pub fn record(&mut self, sample: &Sample, slo: Duration, late_after: Duration) {
        self.requests += 1;
        self.queries_spent += u64::from(sample.queries);
        record_micros(&mut self.latency, sample.latency);
        record_micros(&mut self.service_time, sample.service_time);
        match (sample.verdict, sample.class) {
            (Verdict::Pass, _) => self.passed += 1,
            (Verdict::Fail, class) => {
                *self
                    .failed
                    .entry(class.unwrap_or(FailureClass::Contract))
                    .or_default() += 1
            }
            (Verdict::Inconclusive, class) => {
                *self
                    .inconclusive
                    .entry(class.unwrap_or(FailureClass::Throttled))
                    .or_default() += 1
            }
        }
        if let (Some(class), Some(finding)) = (sample.class, &sample.finding) {
            let example = self
                .examples
                .entry(class)
                .or_insert((sample.number, finding.clone()));
            if sample.number < example.0 {
                *example = (sample.number, finding.clone());
            }
        }
        if sample.latency > slo {
            self.over_slo += 1;
            self.over_slo_requests.push((sample.number, sample.latency));
            keep_lowest(&mut self.over_slo_requests);
        }
        if sample.start_lag > late_after {
            self.late_starts += 1;
        }
        self.max_start_lag = self.max_start_lag.max(sample.start_lag);
    }

    /// Folds another worker's statistics into these.
    pub fn merge(&mut self, other: &LoadStats) {
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        let _ = self.service_time.add(&other.service_time);
        self.requests += other.requests;
        self.queries_spent += other.queries_spent;
        self.passed += other.passed;
        for (class, n) in &other.failed {
            *self.failed.entry(*class).or_default() += n;
        }
        for (class, n) in &other.inconclusive {
            *self.inconclusive.entry(*class).or_default() += n;
        }
        for (class, example) in &other.examples {
            let mine = self
                .examples
                .entry(*class)
                .or_insert_with(|| example.clone());
            if example.0 < mine.0 {
                *mine = example.clone();
            }
        }
        self.over_slo += other.over_slo;
        self.over_slo_requests
            .extend(other.over_slo_requests.iter().copied());
        keep_lowest(&mut self.over_slo_requests);
        self.late_starts += other.late_starts;
        self.max_start_lag = self.max_start_lag.max(other.max_start_lag);
        self.opened.merge(&other.opened);
    }

    pub fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }

    pub fn inconclusive_total(&self) -> u64 {
        self.inconclusive.values().sum()
    }

    /// The SLO verdict: every request passed and none took longer than the objective. Inconclusive requests
    /// (throttled, at capacity) without any failure leave it inconclusive.
    pub fn slo_verdict(&self) -> Verdict {
        if self.failed_total() > 0 || self.over_slo > 0 {
            Verdict::Fail
        } else if self.inconclusive_total() > 0 || self.requests == 0 {
            Verdict::Inconclusive
        } else {
            Verdict::Pass
        }
    }
}

impl Default for LoadStats {
    fn default() -> Self {
        LoadStats::new()
    }
}

/// Records a duration in µs. Values past the histogram's top are recorded at the top: a request can't
/// take an hour (every request has a timeout), so this guards rather than hides.
fn record_micros(histogram: &mut Histogram<u64>, d: Duration) {
    let micros = (d.as_micros() as u64).clamp(1, HISTOGRAM_MAX_MICROS);
    let _ = histogram.record(micros);
}

fn keep_lowest(requests: &mut Vec<(u64, Duration)>) {
    requests.sort_by_key(|(n, _)| *n);
    requests.truncate(EXAMPLES);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(number: u64, ms: u64, verdict: Verdict, class: Option<FailureClass>) -> Sample {
        Sample {
            number,
            latency: Duration::from_millis(ms),
            service_time: Duration::from_millis(ms / 2),
            start_lag: Duration::from_millis(ms / 2),
            // A throttled request spends nothing; every other one its probe's one query.
            queries: u32::from(class != Some(FailureClass::Throttled)),
            verdict,
            class,
            finding: class.map(|c| format!("finding of #{number} ({c})")),
        }
    }

    #[test]
    fn records_counts_classes_and_slo_exactly() {
        let slo = Duration::from_millis(100);
        let late = Duration::from_millis(10);
        let mut a = LoadStats::new();
        let mut b = LoadStats::new();
        a.record(&sample(1, 50, Verdict::Pass, None), slo, late);
        a.record(
            &sample(3, 101, Verdict::Fail, Some(FailureClass::ServerError)),
            slo,
            late,
        );
        b.record(
            &sample(2, 100, Verdict::Inconclusive, Some(FailureClass::Throttled)),
            slo,
            late,
        );
        b.record(
            &sample(4, 250, Verdict::Fail, Some(FailureClass::ServerError)),
            slo,
            late,
        );
        a.merge(&b);
        assert_eq!(
            (
                a.requests,
                a.passed,
                a.failed_total(),
                a.inconclusive_total()
            ),
            (4, 1, 2, 1)
        );
        assert_eq!(a.queries_spent, 3, "the throttled request spent none");
        assert_eq!(a.failed[&FailureClass::ServerError], 2);
        assert_eq!(
            a.examples[&FailureClass::ServerError],
            (3, "finding of #3 (server_error)".to_string())
        );
        // 100 ms is not over a 100 ms objective; 101 ms is.
        assert_eq!(a.over_slo, 2);
        assert_eq!(
            a.over_slo_requests,
            [
                (3, Duration::from_millis(101)),
                (4, Duration::from_millis(250))
            ]
        );
        assert_eq!(a.late_starts, 4);
        assert_eq!(a.max_start_lag, Duration::from_millis(125));
        assert_eq!(a.latency.len(), 4);
        assert_eq!(a.slo_verdict(), Verdict::Fail);
    }

    #[test]
    fn slo_verdicts() {
        let slo = Duration::from_secs(1);
        let mut stats = LoadStats::new();
        assert_eq!(
            stats.slo_verdict(),
            Verdict::Inconclusive,
            "no requests, no verdict"
        );
        stats.record(&sample(1, 10, Verdict::Pass, None), slo, slo);
        assert_eq!(stats.slo_verdict(), Verdict::Pass);
        stats.record(
            &sample(2, 10, Verdict::Inconclusive, Some(FailureClass::Throttled)),
            slo,
            slo,
        );
        assert_eq!(stats.slo_verdict(), Verdict::Inconclusive);
        stats.record(&sample(3, 2000, Verdict::Pass, None), slo, slo);
        assert_eq!(
            stats.slo_verdict(),
            Verdict::Fail,
            "a passing but slow request breaks the SLO"
        );
    }

    #[test]
    fn over_slo_examples_are_bounded_and_lowest_first() {
        let mut stats = LoadStats::new();
        for n in (1..=100).rev() {
            stats.record(
                &sample(n, 500, Verdict::Pass, None),
                Duration::from_millis(1),
                Duration::MAX,
            );
        }
        assert_eq!(stats.over_slo, 100);
        assert_eq!(stats.over_slo_requests.len(), EXAMPLES);
        assert_eq!(stats.over_slo_requests[0].0, 1);
    }
}
