//! Silences and maintenance windows (pure): whether a probe's notification is silenced at an instant, and by
//! what. A silenced notification is recorded, not sent; silences expire by themselves at their end.

use super::MaintenanceWindow;
use crate::release::instant_text;

/// A silence added with `oewsprobe silence add`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    pub id: i64,
    /// The probe silenced; `None`: every probe.
    pub probe: Option<String>,
    pub starts_at_ms: u64,
    /// Exclusive.
    pub ends_at_ms: u64,
    pub reason: String,
}

impl Silence {
    pub fn covers(&self, probe: &str, now_ms: u64) -> bool {
        self.probe.as_deref().is_none_or(|p| p == probe)
            && self.starts_at_ms <= now_ms
            && now_ms < self.ends_at_ms
    }

    /// How the silence reads in a record or a listing.
    pub fn describe(&self) -> String {
        format!(
            "silence #{} until {}: {}",
            self.id,
            instant_text(self.ends_at_ms),
            self.reason
        )
    }
}

/// The open occurrence of `window` at `now_ms` as `[start, end)`, if one is open.
pub fn window_open(window: &MaintenanceWindow, now_ms: u64) -> Option<(u64, u64)> {
    let length = window.duration.as_millis() as u64;
    let start = window.schedule.next_after(now_ms.saturating_sub(length))?;
    (start <= now_ms).then_some((start, start + length))
}

fn window_covers(window: &MaintenanceWindow, probe: &str) -> bool {
    window.probes.is_empty() || window.probes.iter().any(|p| p == probe)
}

/// What silences `probe` at `now_ms`, described for people; `None` when nothing does.
pub fn silenced_by(
    probe: &str,
    now_ms: u64,
    silences: &[Silence],
    windows: &[MaintenanceWindow],
) -> Option<String> {
    if let Some(silence) = silences.iter().find(|s| s.covers(probe, now_ms)) {
        return Some(silence.describe());
    }
    windows
        .iter()
        .filter(|w| window_covers(w, probe))
        .find_map(|w| {
            let (_, end) = window_open(w, now_ms)?;
            let reason = w
                .reason
                .as_deref()
                .map_or(String::new(), |r| format!(": {r}"));
            Some(format!(
                "maintenance window \"{}\" until {}{reason}",
                w.name,
                instant_text(end)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::CronSchedule;
    use std::time::Duration;

    /// 2026-11-29 (a Sunday) 02:00:00 UTC.
    const SUNDAY_2AM: u64 = 1_795_917_600_000;
    const HOUR: u64 = 3_600_000;

    fn window(probes: &[&str]) -> MaintenanceWindow {
        MaintenanceWindow {
            name: "weekly deploy".into(),
            schedule: CronSchedule::parse("0 0 2 * * Sun").expect("cron"),
            duration: Duration::from_secs(2 * 3600),
            probes: probes.iter().map(|p| p.to_string()).collect(),
            reason: Some("planned deploys".into()),
        }
    }

    fn silence(probe: Option<&str>, starts: u64, ends: u64) -> Silence {
        Silence {
            id: 7,
            probe: probe.map(str::to_string),
            starts_at_ms: starts,
            ends_at_ms: ends,
            reason: "deploying 1.4.2".into(),
        }
    }

    #[test]
    fn the_reference_instant_is_a_sunday_2am() {
        assert_eq!(instant_text(SUNDAY_2AM), "2026-11-29T02:00:00Z");
    }

    #[test]
    fn maintenance_windows_open_at_their_cron_firing_for_their_duration() {
        let w = window(&[]);
        let cases = [
            ("an hour before", SUNDAY_2AM - HOUR, None),
            (
                "at the start",
                SUNDAY_2AM,
                Some((SUNDAY_2AM, SUNDAY_2AM + 2 * HOUR)),
            ),
            (
                "inside",
                SUNDAY_2AM + HOUR,
                Some((SUNDAY_2AM, SUNDAY_2AM + 2 * HOUR)),
            ),
            (
                "the last millisecond",
                SUNDAY_2AM + 2 * HOUR - 1,
                Some((SUNDAY_2AM, SUNDAY_2AM + 2 * HOUR)),
            ),
            ("at the end (exclusive)", SUNDAY_2AM + 2 * HOUR, None),
            (
                "a week later",
                SUNDAY_2AM + 7 * 24 * HOUR + 1,
                Some((
                    SUNDAY_2AM + 7 * 24 * HOUR,
                    SUNDAY_2AM + 7 * 24 * HOUR + 2 * HOUR,
                )),
            ),
        ];
        for (name, now, expected) in cases {
            assert_eq!(window_open(&w, now), expected, "{name}");
        }
    }

    #[test]
    fn what_silences_a_probe() {
        let everything = silence(None, 1_000, 2_000);
        let one = silence(Some("health"), 1_000, 2_000);
        let windows = [window(&["query-trace"])];
        type Case<'a> = (&'a str, &'a str, u64, &'a [Silence], Option<&'a str>);
        let cases: [Case; 8] = [
            ("no silence", "health", 1_500, &[], None),
            (
                "a silence of every probe",
                "models",
                1_500,
                std::slice::from_ref(&everything),
                Some("silence #7 until 1970-01-01T00:00:02Z: deploying 1.4.2"),
            ),
            (
                "a silence of the probe",
                "health",
                1_500,
                std::slice::from_ref(&one),
                Some("silence #7 until 1970-01-01T00:00:02Z: deploying 1.4.2"),
            ),
            (
                "a silence of another probe",
                "models",
                1_500,
                std::slice::from_ref(&one),
                None,
            ),
            (
                "before it starts",
                "health",
                999,
                std::slice::from_ref(&one),
                None,
            ),
            (
                "expired by itself",
                "health",
                2_000,
                std::slice::from_ref(&one),
                None,
            ),
            (
                "a window over the probe",
                "query-trace",
                SUNDAY_2AM + HOUR,
                &[],
                Some(
                    "maintenance window \"weekly deploy\" until 2026-11-29T04:00:00Z: planned deploys",
                ),
            ),
            (
                "a window over other probes",
                "health",
                SUNDAY_2AM + HOUR,
                &[],
                None,
            ),
        ];
        for (name, probe, now, silences, expected) in cases {
            assert_eq!(
                silenced_by(probe, now, silences, &windows).as_deref(),
                expected,
                "{name}"
            );
        }
    }
}
