//! Fleet mode's pure cores: how many locations must agree before a failure counts as an outage
//! ([`quorum`]), and the leader's lease — who may act once for the whole fleet, and until when ([`lease`]).
//! No store, clock or network here: the store keeps the lease row and the runs per location; these decide.

pub mod buckets;
pub mod lease;
pub mod quorum;

pub use buckets::{Bucket, Tally, location_problem_runs};
pub use lease::{Leadership, Lease};
pub use quorum::{Judgement, Quorum, judge};
