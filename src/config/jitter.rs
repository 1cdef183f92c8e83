//! `run.jitter` against the schedules (pure): a probe's jitter is a fixed offset added to each firing, so an
//! offset as long as the gap to the next firing would skip it. The jitter stays below the shortest interval
//! between two firings of every schedule (probes and bursts).

use super::FieldError;
use crate::probe::ProbeSpec;
use crate::schedule::CronSchedule;
use std::time::Duration;

/// How many consecutive firings are looked at to find a schedule's shortest interval.
const SAMPLES: usize = 64;

/// The shortest interval between consecutive firings among the first [`SAMPLES`] after `from_ms`; `None` when
/// the schedule fires less than twice.
pub fn shortest_gap(schedule: &CronSchedule, from_ms: u64) -> Option<Duration> {
    let mut last = schedule.next_after(from_ms)?;
    let mut shortest: Option<u64> = None;
    for _ in 1..SAMPLES {
        let Some(next) = schedule.next_after(last) else {
            break;
        };
        let gap = next.saturating_sub(last);
        shortest = Some(shortest.map_or(gap, |s| s.min(gap)));
        last = next;
    }
    shortest.map(Duration::from_millis)
}

/// The jitter `run` uses. Given (`explicit`, parsed as `jitter`), it must be below every schedule's shortest
/// interval (the error names the probe); not given, it is `jitter` (the default) or half the shortest
/// interval, whichever is less.
pub fn fit(
    explicit: Option<&str>,
    jitter: Duration,
    probes: &[ProbeSpec],
    from_ms: u64,
) -> Result<Duration, FieldError> {
    let schedules = probes.iter().flat_map(|p| {
        let burst = p.burst.as_ref().map(|b| (p.burst_name(), &b.schedule));
        p.schedule.iter().map(|s| (p.name.clone(), s)).chain(burst)
    });
    let shortest = schedules
        .filter_map(|(name, s)| shortest_gap(s, from_ms).map(|gap| (gap, name)))
        .min();
    match (shortest, explicit) {
        (Some((gap, name)), Some(text)) if jitter >= gap => Err(FieldError::new(
            "run.jitter",
            format!(
                "\"{text}\" is not below the shortest interval between firings of probe \"{name}\" ({}); \
                 give less, or \"0s\"",
                humantime::format_duration(gap)
            ),
        )),
        (Some((gap, _)), None) => Ok(jitter.min(gap / 2)),
        _ => Ok(jitter),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-01T00:00:00Z, a Thursday.
    const FROM_MS: u64 = 1_767_225_600_000;

    fn gap(text: &str) -> Option<Duration> {
        shortest_gap(&CronSchedule::parse(text).expect("schedule"), FROM_MS)
    }

    #[test]
    fn shortest_gaps_of_schedules() {
        let cases = [
            ("* * * * * *", Some(1)),
            ("*/15 * * * * *", Some(15)),
            ("0 0,1 9 * * *", Some(60)),
            ("0 0 9 * * Mon-Fri", Some(24 * 3600)),
            ("0 0 0 1 1 * 2090", None),
        ];
        for (text, secs) in cases {
            assert_eq!(gap(text), secs.map(Duration::from_secs), "{text}");
        }
    }
}
