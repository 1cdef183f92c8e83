//! Probes: the spec, the pure verdict function, and the HTTP adapter that yields one record per run.

mod outcome;

pub use outcome::{FailureClass, Finding, Verdict};

mod spec;

pub use spec::{Expectations, ProbeSpec, RequestBody, RequestSpec, StatusMatcher, StatusPattern};

mod verdict;

pub use verdict::{Evaluation, HttpResponse, TransportFailure, evaluate, evaluate_full};

mod execute;
mod record;
mod timing_client;

pub use execute::{Scheduled, execute, request_url};
pub use record::{ProbeRecord, Timings};
