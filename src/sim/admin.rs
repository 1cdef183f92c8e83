//! The simulator's own control endpoints under `/__sim/`: counters and run-time fault switching.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::fault::Fault;
use super::responses;
use super::state::SimState;

/// Paths under this prefix are admin traffic: never counted, never faulted.
pub(crate) const PREFIX: &str = "/__sim/";

/// `GET /__sim/stats`, `GET|PUT|DELETE /__sim/faults`.
pub(crate) fn router() -> Router<Arc<SimState>> {
    Router::new().route("/__sim/stats", get(stats)).route(
        "/__sim/faults",
        get(list_faults).put(replace_faults).delete(clear_faults),
    )
}

/// `{"faults":["slow=2s", ...]}`: the body of the fault endpoints.
#[derive(Debug, Serialize, Deserialize)]
struct FaultNames {
    faults: Vec<String>,
}

impl FaultNames {
    fn of(state: &SimState) -> Self {
        FaultNames {
            faults: state.faults().names(),
        }
    }
}

async fn stats(State(state): State<Arc<SimState>>) -> Response {
    responses::json(StatusCode::OK, &state.stats())
}

async fn list_faults(State(state): State<Arc<SimState>>) -> Response {
    responses::json(StatusCode::OK, &FaultNames::of(&state))
}

/// Replaces the whole set; on any error (400) the set is left unchanged.
async fn replace_faults(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let names: FaultNames = match serde_json::from_slice(&body) {
        Ok(names) => names,
        Err(error) => {
            let message =
                format!(r#"expected a body like {{"faults":["error500","slow=2s"]}}: {error}"#);
            return responses::detail(StatusCode::BAD_REQUEST, &message);
        }
    };
    match names
        .faults
        .iter()
        .map(|name| name.parse())
        .collect::<Result<Vec<Fault>, _>>()
    {
        Ok(faults) => {
            state.set_faults(faults);
            list_faults(State(state)).await
        }
        Err(error) => responses::detail(StatusCode::BAD_REQUEST, &error.to_string()),
    }
}

async fn clear_faults(State(state): State<Arc<SimState>>) -> Response {
    state.set_faults(Vec::new());
    list_faults(State(state)).await
}
