//! `oewsprobe validate`: compile config and probe files offline and report every error at once.

use crate::cli::ConfigArgs;
use crate::config::{self, Sources};
use crate::exit::Exit;

pub fn run(args: &ConfigArgs) -> Exit {
    let sources = Sources {
        config: args.config.clone(),
        probes_dir: args.probes.clone(),
        target: None,
    };
    match config::load(&sources) {
        Ok(plan) => {
            for skipped in &plan.skipped {
                eprintln!("{skipped}");
            }
            let names: Vec<&str> = plan.probes.iter().map(|p| p.name.as_str()).collect();
            let queries: u32 = plan.probes.iter().map(|p| p.queries).sum();
            super::emit(&format!(
                "ok: {} probes ({}); one run of each spends {queries} valid queries; target {}\n",
                names.len(),
                names.join(", "),
                plan.settings.target.as_str().trim_end_matches('/')
            ));
            Exit::Healthy
        }
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("{} error(s)", errors.0.len());
            Exit::CouldNotCheck
        }
    }
}
