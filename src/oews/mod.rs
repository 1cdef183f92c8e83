//! OEWS-specific response checks (pure: depends on `assert` for rendering helpers, `config` for
//! [`FieldError`](crate::config::FieldError) and `probe` for [`Finding`](crate::probe::Finding); no I/O).
//!
//! Three expectations a probe file can state about a response of the OEWS Data Agent API, each a raw serde table
//! compiled once (every error at once, keys relative to the table) and a check that pushes findings:
//!
//! ```toml
//! [expect.trace]                        # trace shape of data_sources
//! charts = true                         # optional; default: the request body's enable_charts == true
//! [[expect.trace.entries]]
//! type = "planning"                     # the first entry of this type is checked
//! agent = "planner"                     # optional: the entry's agent must equal it
//! fields = ["plan", "reasoning_model"]  # optional; present and not null. Defaults by type:
//!                                       # planning → plan, reasoning_model; oews_database → sql, row_count,
//!                                       # sample_data; chart_generation → implementation_model; others → none
//!
//! [[expect.echo]]                       # a model override must come back in the trace
//! entry = "planning"                    # trace entry type
//! field = "reasoning_model"             # the entry's field that must equal what was sent
//! request_field = "reasoning_model"     # optional (default: field): the request body field that was sent
//!
//! [expect.validation_error]             # 422 with a detail naming the field
//! field = "reasoning_model"
//! ```
//!
//! The trace check always requires a non-empty `data_sources` array whose entries are objects with string
//! `agent` and `type` and steps 1..N in order. With charts required, `charts` must be a non-empty array and a
//! `chart_generation` entry must exist (list it in `entries` to also require its fields or agent). Unknown
//! entry types are allowed. Findings name paths without `$.`: `data_sources[2].agent: expected "cortex", got
//! "cortex_researcher"`.

mod echo;
mod entries;
mod trace;
mod validation;

pub use echo::{EchoExpectation, RawEcho, check_echo, compile_echo};
pub use trace::{
    RawTrace, RawTraceEntry, TraceExpectation, check_trace, compile_trace, default_fields,
};
pub use validation::{
    RawValidationError, ValidationErrorExpectation, check_validation_error,
    compile_validation_error,
};

#[cfg(test)]
mod echo_tests;
#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod need_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod trace_tests;
