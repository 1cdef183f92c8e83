//! Probes: the spec, the pure verdict function, and the HTTP adapter that yields one record per run.

mod outcome;

pub use outcome::{FailureClass, Finding, Verdict};

mod spec;

pub use spec::{
    BurstSpec, Expectations, ProbeSpec, RequestBody, RequestSpec, StatusMatcher, StatusPattern,
};

mod verdict;

pub use verdict::{
    Asked, Evaluation, HttpResponse, TransportFailure, body_excerpt, evaluate, evaluate_full,
};

mod spend;
mod throttled;
mod tls_check;

pub use tls_check::{TlsExpect, TlsJudgement, TlsVersion, handshake_finding, judge as judge_tls};

pub use spend::spent_queries;
pub use throttled::{Caller, quoted_limit, throttled_note};

mod exchange;
mod execute;
mod openapi;
mod prober;
mod record;
mod timing_client;

pub use exchange::{Exchanged, PreparedRequest, deadline, request_url, timeout_failure};
pub use execute::{Scheduled, execute};
pub use openapi::{
    FetchError, FetchSettings, OPENAPI_PATH, cached_document, document as openapi_document,
    fetch as fetch_openapi,
};
pub use prober::Prober;
pub use record::{LatencyPercentiles, ProbeRecord, RequestLine, Timings};
pub use timing_client::{ProbeClient, load_client};
