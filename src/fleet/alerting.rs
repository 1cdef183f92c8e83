//! What a probe's alert folds from one run when several locations probe (pure): the run as it is when it
//! agrees with the location quorum, else what the quorum says — a failure seen from too few locations is a
//! location problem (folded as a pass, and named), one seen from enough is an outage even where this agent
//! passed. Judged against each location's latest conclusive run; one location reporting is judged as before.

use super::quorum::{Judgement, Quorum, judge};
use crate::probe::{FailureClass, Verdict};
use std::collections::BTreeSet;

/// A location's latest conclusive run of the probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationRun {
    pub location: String,
    pub verdict: Verdict,
    pub class: Option<FailureClass>,
}

/// What the alert book is given for one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fold {
    /// The run itself (it agrees with the quorum, or only its location reported, or it is inconclusive).
    AsIs,
    /// A pass: the run failed, but from too few locations.
    Pass,
    /// A failure of this class: the run passed here, but enough other locations fail.
    Fail(Option<FailureClass>),
}

/// A run judged: what to fold, and the locations failing alone when the quorum calls it a location problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgedRun {
    pub fold: Fold,
    /// `Some((failing, reporting))` when failures lack the quorum: those locations' problem.
    pub location_problem: Option<(Vec<String>, usize)>,
}

/// Judges this agent's run (`here`, `verdict`) against the other locations' latest conclusive runs (`latest`;
/// an entry for `here` is replaced by this run).
pub fn judge_run(
    here: &str,
    verdict: Verdict,
    latest: &[LocationRun],
    quorum: Quorum,
) -> JudgedRun {
    let as_is = JudgedRun {
        fold: Fold::AsIs,
        location_problem: None,
    };
    if verdict == Verdict::Inconclusive {
        return as_is;
    }
    let others = latest.iter().filter(|run| run.location != here);
    let mut reporting: BTreeSet<String> = others.clone().map(|r| r.location.clone()).collect();
    let mut failing: BTreeSet<String> = others
        .clone()
        .filter(|r| r.verdict == Verdict::Fail)
        .map(|r| r.location.clone())
        .collect();
    reporting.insert(here.to_string());
    if verdict == Verdict::Fail {
        failing.insert(here.to_string());
    }
    if reporting.len() == 1 {
        return as_is;
    }
    match judge(&reporting, &failing, quorum) {
        Judgement::Outage { .. } if verdict == Verdict::Pass => JudgedRun {
            fold: Fold::Fail(
                latest
                    .iter()
                    .find(|r| r.location != here && r.verdict == Verdict::Fail)
                    .and_then(|r| r.class),
            ),
            location_problem: None,
        },
        Judgement::LocationProblem { failing, .. } => JudgedRun {
            fold: if verdict == Verdict::Fail {
                Fold::Pass
            } else {
                Fold::AsIs
            },
            location_problem: Some((failing, reporting.len())),
        },
        Judgement::Outage { .. } | Judgement::Healthy | Judgement::NoData => as_is,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::{Fail, Inconclusive, Pass};
    use proptest::prelude::*;

    fn runs(list: &[(&str, Verdict)]) -> Vec<LocationRun> {
        list.iter()
            .map(|(location, verdict)| LocationRun {
                location: location.to_string(),
                verdict: *verdict,
                class: (*verdict == Fail).then_some(FailureClass::ConnectRefused),
            })
            .collect()
    }

    /// This run's verdict, the other locations' latest, the quorum, and what is expected.
    type Case<'a> = (
        Verdict,
        Vec<(&'a str, Verdict)>,
        Quorum,
        Fold,
        Option<(Vec<String>, usize)>,
    );

    fn problem(failing: &[&str], reporting: usize) -> Option<(Vec<String>, usize)> {
        Some((failing.iter().map(|s| s.to_string()).collect(), reporting))
    }

    #[test]
    fn a_run_is_folded_as_the_location_quorum_says() {
        let refused = Some(FailureClass::ConnectRefused);
        let cases: Vec<Case> = vec![
            // Alone (or the others silent): as before locations.
            (Fail, vec![], Quorum::Majority, Fold::AsIs, None),
            (Fail, vec![], Quorum::AtLeast(2), Fold::AsIs, None),
            (Fail, vec![("a", Pass)], Quorum::Majority, Fold::AsIs, None),
            // This location fails alone: its problem, folded as a pass.
            (
                Fail,
                vec![("b", Pass), ("c", Pass)],
                Quorum::Majority,
                Fold::Pass,
                problem(&["a"], 3),
            ),
            // Two of three fail: an outage, the run as it is.
            (
                Fail,
                vec![("b", Fail), ("c", Pass)],
                Quorum::Majority,
                Fold::AsIs,
                None,
            ),
            // This agent passes, two others fail: an outage all the same.
            (
                Pass,
                vec![("b", Fail), ("c", Fail)],
                Quorum::Majority,
                Fold::Fail(refused),
                None,
            ),
            // This agent passes, one other fails: that location's problem.
            (
                Pass,
                vec![("b", Fail), ("c", Pass)],
                Quorum::Majority,
                Fold::AsIs,
                problem(&["b"], 3),
            ),
            (
                Pass,
                vec![("b", Pass), ("c", Pass)],
                Quorum::Majority,
                Fold::AsIs,
                None,
            ),
            // Two of two is a majority; one of two is not.
            (Fail, vec![("b", Fail)], Quorum::Majority, Fold::AsIs, None),
            (
                Fail,
                vec![("b", Pass)],
                Quorum::Majority,
                Fold::Pass,
                problem(&["a"], 2),
            ),
            // fleet.quorum = 1: any failing location is an outage.
            (
                Pass,
                vec![("b", Fail), ("c", Pass)],
                Quorum::AtLeast(1),
                Fold::Fail(refused),
                None,
            ),
            // An older run of this location is replaced by this one.
            (
                Pass,
                vec![("a", Fail), ("b", Pass)],
                Quorum::Majority,
                Fold::AsIs,
                None,
            ),
            // An inconclusive run is folded as it is.
            (
                Inconclusive,
                vec![("b", Fail), ("c", Fail)],
                Quorum::Majority,
                Fold::AsIs,
                None,
            ),
        ];
        for (verdict, latest, quorum, fold, location_problem) in cases {
            assert_eq!(
                judge_run("a", verdict, &runs(&latest), quorum),
                JudgedRun {
                    fold,
                    location_problem
                },
                "{verdict:?} with {latest:?} under {quorum:?}"
            );
        }
    }

    proptest! {
        /// A location failing alone among passing ones never makes the alert fold a failure, wherever the
        /// judging agent is; and with every location failing, the alert folds a failure.
        #[test]
        fn one_failing_location_never_pages_and_all_failing_always_does(
            others in 2usize..8,
            failing_one in 0usize..8,
        ) {
            let names: Vec<String> = (0..=others).map(|i| format!("l{i}")).collect();
            let failing_one = failing_one % names.len();
            let verdict_of = |i: usize| if i == failing_one { Fail } else { Pass };
            for here in 0..names.len() {
                let latest: Vec<LocationRun> = (0..names.len())
                    .filter(|&i| i != here)
                    .map(|i| LocationRun { location: names[i].clone(), verdict: verdict_of(i), class: None })
                    .collect();
                let judged = judge_run(&names[here], verdict_of(here), &latest, Quorum::Majority);
                let folds_failure = matches!(judged.fold, Fold::Fail(_))
                    || (judged.fold == Fold::AsIs && verdict_of(here) == Fail);
                prop_assert!(!folds_failure, "{judged:?} at {here}");
                prop_assert_eq!(judged.location_problem.map(|p| p.0), Some(vec![names[failing_one].clone()]));
                let all: Vec<LocationRun> = latest.iter().map(|r| LocationRun { verdict: Fail, ..r.clone() }).collect();
                let judged = judge_run(&names[here], Fail, &all, Quorum::Majority);
                prop_assert_eq!(judged.fold, Fold::AsIs);
            }
        }
    }
}
