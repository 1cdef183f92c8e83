//! Fleet mode's pure cores: how many locations must agree before a failure counts as an outage
//! ([`quorum`], per bucket of an objective in [`buckets`], per run of a probe's alert in [`alerting`]), and the
//! leader's lease — who may act once for the whole fleet, and until when ([`lease`]).
//! No store, clock or network here: the store keeps the lease row and the runs per location; these decide.

pub mod alerting;
pub mod buckets;
pub mod lease;
pub mod quorum;

pub use alerting::{Fold, JudgedRun, LocationRun, judge_run};
pub use buckets::{Bucket, Tally, location_problem_runs};
pub use lease::{Leadership, Lease};
pub use quorum::{Judgement, Quorum, judge};
