//! The location quorum over an SLO window (pure): the window's runs cut into buckets (a probe's minute, or a
//! coarser bucket where the store keeps no minutes), each bucket judged by [`judge`] over the locations that
//! had a conclusive run in it. A failing bucket without the quorum is a location problem: its failed runs
//! are not bad (they do not spend the error budget) but counted apart. One location alone: every failing
//! bucket is an outage, so nothing changes. A location whose own prober is unhealthy is left out of the
//! quorum: its failures are never bad, and never make a quorum for the others.

use super::quorum::{Judgement, Quorum, judge};
use std::collections::{BTreeMap, BTreeSet};

/// One bucket of one probe: per location, its passed and failed runs.
pub type Bucket = BTreeMap<String, Tally>;

/// A location's passed and failed runs in a bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub pass: u64,
    pub fail: u64,
}

/// How `bucket` is judged: the locations with a conclusive run report, those with a failed run fail. A
/// bucket only one location reported is judged as before locations, whatever the quorum: its failure is an
/// outage (one agent alone keeps today's meaning).
pub fn judge_bucket(bucket: &Bucket, quorum: Quorum) -> Judgement {
    let reporting: BTreeSet<String> = bucket
        .iter()
        .filter(|(_, t)| t.pass + t.fail > 0)
        .map(|(l, _)| l.clone())
        .collect();
    let quorum = if reporting.len() == 1 {
        Quorum::AtLeast(1)
    } else {
        quorum
    };
    let failing: BTreeSet<String> = bucket
        .iter()
        .filter(|(_, t)| t.fail > 0)
        .map(|(l, _)| l.clone())
        .collect();
    judge(&reporting, &failing, quorum)
}

/// How many failed runs of `buckets` were location problems: the failed runs of each bucket judged one, and
/// every failed run of a location `left_out` of the quorum (its prober is unhealthy: see
/// `release::FleetHealth`), the buckets being judged without those locations.
pub fn location_problem_runs<'b>(
    buckets: impl IntoIterator<Item = &'b Bucket>,
    quorum: Quorum,
    left_out: &BTreeSet<String>,
) -> u64 {
    let fails = |b: &Bucket| b.values().map(|t| t.fail).sum::<u64>();
    buckets
        .into_iter()
        .map(|b| {
            let (out, kept): (Bucket, Bucket) = b
                .iter()
                .map(|(l, t)| (l.clone(), *t))
                .partition(|(l, _)| left_out.contains(l));
            let judged = match judge_bucket(&kept, quorum) {
                Judgement::LocationProblem { .. } => fails(&kept),
                _ => 0,
            };
            judged + fails(&out)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A location's tally in a table: (location, pass, fail).
    type Named<'a> = (&'a str, u64, u64);

    fn bucket(tallies: &[Named]) -> Bucket {
        tallies
            .iter()
            .map(|(l, pass, fail)| {
                (
                    l.to_string(),
                    Tally {
                        pass: *pass,
                        fail: *fail,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn failed_runs_of_a_bucket_without_the_quorum_are_location_problems() {
        // (bucket, quorum, location-problem runs)
        let cases: [(&[Named], Quorum, u64); 10] = [
            (&[], Quorum::Majority, 0),
            (&[("a", 5, 0)], Quorum::Majority, 0),
            // One location alone: its failures are an outage, as before locations.
            (&[("a", 0, 3)], Quorum::Majority, 0),
            (&[("a", 2, 1), ("b", 3, 0)], Quorum::Majority, 1),
            (
                &[("a", 0, 2), ("b", 1, 0), ("c", 1, 0)],
                Quorum::Majority,
                2,
            ),
            (
                &[("a", 0, 2), ("b", 0, 1), ("c", 1, 0)],
                Quorum::Majority,
                0,
            ),
            (
                &[("a", 0, 2), ("b", 1, 0), ("c", 1, 0)],
                Quorum::AtLeast(1),
                0,
            ),
            (
                &[("a", 0, 2), ("b", 0, 1), ("c", 1, 0)],
                Quorum::AtLeast(3),
                3,
            ),
            (&[("a", 0, 2)], Quorum::AtLeast(3), 0),
            // A location with inconclusive runs only does not report: the other one decides alone.
            (&[("a", 0, 0), ("b", 0, 4)], Quorum::Majority, 0),
        ];
        for (tallies, quorum, expected) in cases {
            assert_eq!(
                location_problem_runs([&bucket(tallies)], quorum, &BTreeSet::new()),
                expected,
                "{tallies:?} {quorum:?}"
            );
        }
    }

    #[test]
    fn a_location_left_out_for_its_unhealthy_prober_neither_counts_nor_makes_a_quorum() {
        let out: BTreeSet<String> = ["a".to_string(), "b".to_string()].into();
        // a and b fail (their network is down), c passes: without them, c alone is healthy; their failures
        // are location problems, never an outage.
        let buckets = [bucket(&[("a", 0, 2), ("b", 0, 3), ("c", 4, 0)])];
        assert_eq!(location_problem_runs(&buckets, Quorum::Majority, &out), 5);
        assert_eq!(
            location_problem_runs(&buckets, Quorum::Majority, &BTreeSet::new()),
            0,
            "counted, they would make the quorum"
        );
        // c fails too: c alone decides, an outage; a's and b's failures still are not bad.
        let buckets = [bucket(&[("a", 0, 2), ("b", 0, 3), ("c", 0, 1)])];
        assert_eq!(location_problem_runs(&buckets, Quorum::Majority, &out), 5);
    }

    /// A bucket as proptest makes it: per location index, (pass, fail).
    fn tallies() -> impl Strategy<Value = Vec<(u64, u64)>> {
        proptest::collection::vec((0u64..4, 0u64..4), 0..5)
    }

    fn of(tallies: &[(u64, u64)], prefix: &str) -> Bucket {
        tallies
            .iter()
            .enumerate()
            .map(|(i, (pass, fail))| {
                (
                    format!("{prefix}{i}"),
                    Tally {
                        pass: *pass,
                        fail: *fail,
                    },
                )
            })
            .collect()
    }

    fn bad(buckets: &[Bucket], quorum: Quorum) -> u64 {
        let failed: u64 = buckets
            .iter()
            .flat_map(|b| b.values())
            .map(|t| t.fail)
            .sum();
        failed - location_problem_runs(buckets, quorum, &BTreeSet::new())
    }

    proptest! {
        /// One location: the bad runs are its failed runs, as before locations were kept.
        #[test]
        fn one_location_is_today_s_math(
            runs in proptest::collection::vec((0u64..5, 0u64..5), 0..20),
            quorum in proptest::option::of(1u32..4)
        ) {
            let buckets: Vec<Bucket> = runs.iter().map(|t| of(&[*t], "only")).collect();
            let none = BTreeSet::new();
            prop_assert_eq!(location_problem_runs(&buckets, Quorum::from_config(quorum), &none), 0);
        }

        /// A location that fails alone (every other reporting location passed its buckets) never adds a bad
        /// run where another location reported; a location added that only passes never adds one either.
        #[test]
        fn a_location_failing_alone_or_passing_never_adds_bad_runs(
            others in proptest::collection::vec(tallies(), 1..6),
            lone in proptest::collection::vec((0u64..4, 1u64..4), 1..6),
            quorum in proptest::option::of(2u32..5)
        ) {
            let quorum = Quorum::from_config(quorum);
            let before: Vec<Bucket> = others.iter().map(|t| of(t, "l")).collect();
            // The lone location fails in buckets where the others all passed (and at least one reported).
            let with_lone: Vec<Bucket> = before
                .iter()
                .zip(lone.iter().cycle())
                .map(|(b, (pass, fail))| {
                    let mut b = b.clone();
                    let others_pass = b.values().all(|t| t.fail == 0) && b.values().any(|t| t.pass > 0);
                    if others_pass {
                        b.insert("lone".into(), Tally { pass: *pass, fail: *fail });
                    }
                    b
                })
                .collect();
            prop_assert_eq!(bad(&with_lone, quorum), bad(&before, quorum));
            let with_passing: Vec<Bucket> = before
                .iter()
                .map(|b| {
                    let mut b = b.clone();
                    b.insert("passing".into(), Tally { pass: 1, fail: 0 });
                    b
                })
                .collect();
            prop_assert!(bad(&with_passing, quorum) <= bad(&before, quorum));
        }
    }
}
