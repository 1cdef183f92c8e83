//! `oewsprobe demo`: the simulator on a free loopback port, and `check` with the shipped probes against it.

use crate::cli::DemoArgs;
use crate::config::{self, Sources};
use crate::exit::Exit;
use crate::sim::SimServer;

pub async fn run(args: DemoArgs) -> Exit {
    let options = match super::sim_options(&args.sim) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return Exit::CouldNotCheck;
        }
    };
    let profile = options.profile.to_string();
    let server = match SimServer::start(([127, 0, 0, 1], 0).into(), options).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("oewsprobe demo: cannot start the simulator: {e}");
            return Exit::CouldNotCheck;
        }
    };
    let sources = Sources {
        config: None,
        probes_dir: Some(args.probes.clone()),
        target: Some(server.base_url()),
    };
    let plan = match config::load(&sources) {
        Ok(plan) => plan,
        Err(errors) => {
            eprintln!("{errors}");
            server.shutdown().await;
            return Exit::CouldNotCheck;
        }
    };
    eprintln!(
        "oewsprobe demo: simulator ({profile} profile) at {}; running {} probes",
        server.base_url(),
        plan.probes.len()
    );
    let probes: Vec<_> = plan.probes.iter().collect();
    let records = match super::once::run_probes(&plan, &probes).await {
        Ok(records) => records,
        Err(message) => {
            eprintln!("{message}");
            server.shutdown().await;
            return Exit::CouldNotCheck;
        }
    };
    super::once::print_report(&server.base_url(), &records, &[], args.format);
    let stats = server.stats();
    eprintln!(
        "oewsprobe demo: the simulator served {} valid queries",
        stats.valid_queries
    );
    server.shutdown().await;
    super::once::exit_for(&records)
}
