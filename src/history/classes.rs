//! The failure classes of a bucket's runs (pure): how many of its failed and inconclusive runs fell in each
//! class, kept beside the rollup rows (sparse: a bucket without such runs has none) so that a bar of the
//! status page can say why it is red.

use super::rollup::Level;
use crate::probe::{FailureClass, Verdict};
use std::collections::BTreeMap;

/// Per class, how many runs of a bucket (or of a bar) failed or were inconclusive for it.
pub type ClassCounts = BTreeMap<FailureClass, u64>;

/// One run as its class count sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassedRun {
    pub at_ms: u64,
    pub verdict: Verdict,
    pub class: Option<FailureClass>,
}

/// The class counts of `runs` (any order) at every level, keyed by (level, probe, bucket start, class).
/// Passed runs and runs without a class count nowhere.
pub fn roll_up_classes<'a>(
    runs: impl IntoIterator<Item = (&'a str, ClassedRun)>,
) -> BTreeMap<(Level, String, u64, FailureClass), u64> {
    let mut out = BTreeMap::new();
    for (probe, run) in runs {
        let Some(class) = run.class.filter(|_| run.verdict != Verdict::Pass) else {
            continue;
        };
        for level in Level::ALL {
            *out.entry((level, probe.to_string(), level.start_of(run.at_ms), class))
                .or_insert(0) += 1;
        }
    }
    out
}

/// How many of `not_passed` runs have no class counted: those whose bucket's classes were not kept (rolled
/// up before classes were, from runs since pruned).
pub fn unclassified(not_passed: u64, classes: &ClassCounts) -> u64 {
    not_passed.saturating_sub(classes.values().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(at_ms: u64, verdict: Verdict, class: Option<FailureClass>) -> ClassedRun {
        ClassedRun {
            at_ms,
            verdict,
            class,
        }
    }

    #[test]
    fn failed_and_inconclusive_runs_count_in_their_class_at_every_level() {
        let hour = Level::Hour.millis();
        let runs = [
            (
                "a",
                run(hour + 1, Verdict::Fail, Some(FailureClass::Timeout)),
            ),
            (
                "a",
                run(hour + 60_001, Verdict::Fail, Some(FailureClass::Timeout)),
            ),
            (
                "a",
                run(
                    hour + 2,
                    Verdict::Inconclusive,
                    Some(FailureClass::Throttled),
                ),
            ),
            (
                "a",
                run(hour + 3, Verdict::Pass, Some(FailureClass::Contract)),
            ),
            ("b", run(hour + 4, Verdict::Fail, None)),
        ];
        let counts = roll_up_classes(runs);
        let key = |level, start, class| (level, "a".to_string(), start, class);
        assert_eq!(
            counts,
            BTreeMap::from([
                (key(Level::Minute, hour, FailureClass::Timeout), 1),
                (key(Level::Minute, hour, FailureClass::Throttled), 1),
                (key(Level::Minute, hour + 60_000, FailureClass::Timeout), 1),
                (key(Level::Hour, hour, FailureClass::Timeout), 2),
                (key(Level::Hour, hour, FailureClass::Throttled), 1),
                (key(Level::Day, 0, FailureClass::Timeout), 2),
                (key(Level::Day, 0, FailureClass::Throttled), 1),
            ])
        );
    }

    #[test]
    fn runs_beyond_the_classes_counted_are_unclassified() {
        let classes = ClassCounts::from([(FailureClass::Timeout, 2), (FailureClass::Dns, 1)]);
        for (not_passed, left) in [(3, 0), (5, 2), (0, 0), (2, 0)] {
            assert_eq!(unclassified(not_passed, &classes), left, "{not_passed}");
        }
    }
}
