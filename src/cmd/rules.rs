//! `oewsprobe rules`: print Prometheus recording and alerting rules generated from the config's `[[slo]]`
//! objectives and `fleet.quorum` (see `crate::rules`). Exit 0 when printed, 2 when the config is bad or its
//! objectives cannot be expressed over the exported metrics.

use crate::cli::{RulesArgs, RulesFormat};
use crate::exit::Exit;
use crate::rules::{Quorum, prometheus};

pub fn run(args: &RulesArgs) -> Exit {
    let plan = match super::load_plan(&super::sources(&args.config, None)) {
        Ok(plan) => plan,
        Err(exit) => return exit,
    };
    let RulesFormat::Prometheus = args.format;
    match prometheus(
        &plan.objectives,
        Quorum::from_config(plan.settings.fleet.quorum),
    ) {
        Ok(text) => {
            super::emit(&text);
            Exit::Healthy
        }
        Err(errors) => {
            for e in errors {
                eprintln!("oewsprobe rules: {e}");
            }
            Exit::CouldNotCheck
        }
    }
}
