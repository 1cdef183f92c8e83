//! `oewsprobe drift`: its subcommands. The comparison with the service's own document is not built in this
//! branch; `drift accept` is (see [`super::drift_accept`]).

use crate::cli::{DriftAction, DriftArgs};
use crate::exit::Exit;

pub async fn run(args: DriftArgs) -> Exit {
    match args.action {
        Some(DriftAction::Accept(args)) => super::drift_accept::run(args).await,
        None => {
            eprintln!("drift: comparison not built in this branch");
            Exit::CouldNotCheck
        }
    }
}
