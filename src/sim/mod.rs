//! The simulated OEWS Data Agent API (axum): both contracts ("runbook", "as-built") and injectable faults.
//!
//! Start one with [`SimServer::start`] (tests, benches), [`SimServer::start_tls`] (HTTPS) or
//! [`run_until_ctrl_c`] (`oewsprobe sim`).
//! Besides the service's routes it serves admin endpoints that are never counted or faulted:
//!
//! * `GET /__sim/stats` — [`SimStats`] as JSON;
//! * `GET /__sim/faults` — `{"faults":["slow=2s", ...]}`;
//! * `PUT /__sim/faults` with `{"faults":["error500"]}` — replace the set (400 naming an unknown fault);
//! * `DELETE /__sim/faults` — clear the set.
//!
//! It also serves the service's `GET /openapi.json` in both profiles (counted, and reached by the faults in
//! front of the app, but not by the app's own faults).
//!
//! Files: `server` (lifecycle), `routes` (service routes and where faults act), `admin`, `state`
//! (shared counters, limits, faults), `validate` (FastAPI-style 422s), `trace` (query answers),
//! `oews_data` (wage rows, SQL, prose), `models` (registry), `openapi` (the OpenAPI document),
//! `responses` (canned bodies), `fault`, `profile`, `options`, `stats`, `rate_limit`, `rng`, `tls` (HTTPS:
//! certificate, key and the TLS accept loop).

mod admin;
mod fault;
mod models;
mod oews_data;
mod openapi;
mod options;
mod profile;
mod rate_limit;
mod responses;
mod rng;
mod routes;
mod server;
mod state;
mod stats;
mod tls;
mod trace;
mod validate;

pub use fault::{Fault, FaultParseError};
pub use options::SimOptions;
pub use profile::{Profile, ProfileParseError};
pub use server::{SimServer, run_until_ctrl_c};
pub use stats::SimStats;
pub use tls::{SimTls, SimTlsError};
pub use trace::sample_query_response;

/// The OpenAPI document the simulator serves at `GET /openapi.json` for `profile`.
pub fn openapi_document(profile: Profile) -> serde_json::Value {
    openapi::document(profile)
}
