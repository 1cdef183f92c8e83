//! `oewsprobe sim`: serve the simulated OEWS API until interrupted.

use crate::cli::SimArgs;
use crate::exit::Exit;

pub async fn run(args: SimArgs) -> Exit {
    let options = match super::sim_options(&args.sim) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return Exit::CouldNotCheck;
        }
    };
    match crate::sim::run_until_ctrl_c(args.listen, options).await {
        Ok(()) => Exit::Healthy,
        Err(e) => {
            eprintln!("oewsprobe sim: cannot serve on {}: {e}", args.listen);
            Exit::CouldNotCheck
        }
    }
}
