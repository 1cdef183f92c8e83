//! The location quorum (pure): a failure seen from enough locations is an outage; seen from fewer, it is a
//! problem of those locations (their network, their host), never a reason to page as an outage or to roll
//! back. One agent alone (one location reporting) keeps today's meaning: its failure is an outage.

use std::collections::BTreeSet;

/// How many locations must fail for an outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quorum {
    /// A majority of the locations that reported in the window: more than half of them.
    Majority,
    /// At least this many locations (`fleet.quorum`).
    AtLeast(u32),
}

impl Quorum {
    /// `fleet.quorum` as configured: `None` is a majority.
    pub fn from_config(quorum: Option<u32>) -> Quorum {
        quorum.map_or(Quorum::Majority, Quorum::AtLeast)
    }

    /// How many failing locations make an outage when `reporting` locations reported (at least 1).
    pub fn needed(self, reporting: usize) -> usize {
        match self {
            Quorum::Majority => reporting / 2 + 1,
            Quorum::AtLeast(n) => (n as usize).max(1),
        }
    }
}

/// What the locations say together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// No location reported in the window: nothing to say.
    NoData,
    /// No reporting location failed.
    Healthy,
    /// Failing at enough locations: the target is down for the fleet.
    Outage { failing: Vec<String>, needed: usize },
    /// Failing at too few locations: those locations' problem, not the target's.
    LocationProblem { failing: Vec<String>, needed: usize },
}

impl Judgement {
    /// Whether it counts against the target (an alert fires, an SLO minute is bad, the watch may act).
    pub fn is_outage(&self) -> bool {
        matches!(self, Judgement::Outage { .. })
    }
}

/// The judgement of a window where `reporting` locations had a conclusive run and `failing` (a subset:
/// others are ignored) failed.
pub fn judge(
    reporting: &BTreeSet<String>,
    failing: &BTreeSet<String>,
    quorum: Quorum,
) -> Judgement {
    if reporting.is_empty() {
        return Judgement::NoData;
    }
    let failing: Vec<String> = failing.intersection(reporting).cloned().collect();
    if failing.is_empty() {
        return Judgement::Healthy;
    }
    let needed = quorum.needed(reporting.len());
    if failing.len() >= needed {
        Judgement::Outage { failing, needed }
    } else {
        Judgement::LocationProblem { failing, needed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_majority_of_the_reporting_locations_or_the_configured_number_makes_an_outage() {
        use Judgement::*;
        let v = |f: &[&str]| f.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cases: [(&[&str], &[&str], Quorum, Judgement); 9] = [
            (&[], &[], Quorum::Majority, NoData),
            (&["a"], &[], Quorum::Majority, Healthy),
            // One agent alone: its failure is an outage, as before fleet mode.
            (
                &["a"],
                &["a"],
                Quorum::Majority,
                Outage {
                    failing: v(&["a"]),
                    needed: 1,
                },
            ),
            (
                &["a", "b"],
                &["a"],
                Quorum::Majority,
                LocationProblem {
                    failing: v(&["a"]),
                    needed: 2,
                },
            ),
            (
                &["a", "b", "c"],
                &["b"],
                Quorum::Majority,
                LocationProblem {
                    failing: v(&["b"]),
                    needed: 2,
                },
            ),
            (
                &["a", "b", "c"],
                &["a", "c"],
                Quorum::Majority,
                Outage {
                    failing: v(&["a", "c"]),
                    needed: 2,
                },
            ),
            (
                &["a", "b", "c"],
                &["a"],
                Quorum::AtLeast(1),
                Outage {
                    failing: v(&["a"]),
                    needed: 1,
                },
            ),
            (
                &["a", "b", "c"],
                &["a", "b"],
                Quorum::AtLeast(3),
                LocationProblem {
                    failing: v(&["a", "b"]),
                    needed: 3,
                },
            ),
            // A location that did not report in the window does not count as failing.
            (
                &["a", "b"],
                &["a", "z"],
                Quorum::Majority,
                LocationProblem {
                    failing: v(&["a"]),
                    needed: 2,
                },
            ),
        ];
        for (reporting, failing, quorum, expected) in cases {
            assert_eq!(
                judge(&set(reporting), &set(failing), quorum),
                expected,
                "{reporting:?} {failing:?} {quorum:?}"
            );
        }
    }

    proptest! {
        /// More failing locations never turn an outage back into a location problem, and a location
        /// problem is never judged when every reporting location fails.
        #[test]
        fn judging_is_monotone_in_the_failing_locations(
            n in 1usize..8, k in 0usize..8, quorum in proptest::option::of(1u32..9)
        ) {
            let reporting: BTreeSet<String> = (0..n).map(|i| format!("l{i}")).collect();
            let quorum = Quorum::from_config(quorum);
            let failing = |k: usize| reporting.iter().take(k).cloned().collect::<BTreeSet<_>>();
            let now = judge(&reporting, &failing(k.min(n)), quorum);
            let more = judge(&reporting, &failing((k + 1).min(n)), quorum);
            prop_assert!(!now.is_outage() || more.is_outage());
            if quorum == Quorum::Majority && k >= n {
                prop_assert!(now.is_outage());
            }
        }
    }
}
