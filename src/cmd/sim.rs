//! `oewsprobe sim`: serve the simulated OEWS API until interrupted.

use crate::cli::{SimArgs, SimFlags};
use crate::exit::Exit;
use crate::sim::{Fault, Profile, SimOptions};

pub async fn run(args: SimArgs) -> Exit {
    let options = match options(&args.sim) {
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

/// Simulator options from flags; every bad flag is reported.
pub fn options(flags: &SimFlags) -> Result<SimOptions, String> {
    let mut errors = Vec::new();
    let profile = flags
        .profile
        .parse::<Profile>()
        .map_err(|e| errors.push(format!("--profile: {e}")))
        .ok();
    let faults: Vec<Fault> = flags
        .faults
        .iter()
        .filter_map(|f| {
            f.parse::<Fault>()
                .map_err(|e| errors.push(format!("--fault: {e}")))
                .ok()
        })
        .collect();
    match profile {
        Some(profile) if errors.is_empty() => Ok(SimOptions {
            profile,
            faults,
            latency: flags.latency,
            seed: flags.seed,
            ..SimOptions::default()
        }),
        _ => Err(errors.join("\n")),
    }
}
