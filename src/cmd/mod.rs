//! One file per subcommand: the only place that wires adapters together. A command module depends on this
//! module's helpers and on the shared wiring (`once`: probes run once and reported; `telemetry`), never on
//! another command.

pub mod alert;
pub mod burst;
pub mod check;
pub mod demo;
pub mod drift;
pub mod drift_accept;
pub mod once;
pub mod release;
pub mod report;
pub mod rules;
pub mod run;
pub mod silence;
pub mod sim;
pub mod status;
pub mod store;
pub mod telemetry;
pub mod validate;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// Runs the parsed command line and says how the process should exit.
pub async fn dispatch(cli: Cli) -> Exit {
    match cli.command {
        Command::Check(args) => check::run(args).await,
        Command::Burst(args) => burst::run(args).await,
        Command::Run(args) => run::run(args).await,
        Command::Release(command) => release::run(command),
        Command::Silence(command) => silence::run(command),
        Command::Alert(command) => alert::run(command).await,
        Command::Status(args) => status::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Store(command) => store::run(command),
        Command::Drift(args) => drift::run(args).await,
        Command::Validate(args) => validate::run(&args),
        Command::Rules(args) => rules::run(&args),
        Command::Sim(args) => sim::run(args).await,
        Command::Demo(args) => demo::run(args).await,
    }
}

/// Writes command output to stdout. A closed pipe (`oewsprobe check | head`) is not an error worth a panic:
/// the reader has what it wanted.
pub fn emit(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// The sources the config flags name.
pub fn sources(config: &crate::cli::ConfigArgs, target: Option<String>) -> crate::config::Sources {
    crate::config::Sources {
        config: config.config.clone(),
        probes_dir: config.probes.clone(),
        target,
    }
}

/// Loads the plan from `sources`, or prints every configuration error and returns the exit for them.
pub fn load_plan(sources: &crate::config::Sources) -> Result<crate::config::Plan, Exit> {
    crate::config::load(sources).map_err(|errors| {
        eprintln!("{errors}");
        Exit::CouldNotCheck
    })
}

/// The store named by the configuration, and the configuration.
pub fn open_store(
    args: &crate::cli::ConfigArgs,
) -> Result<(crate::store::Store, crate::config::Plan), String> {
    let sources = crate::config::Sources {
        config: args.config.clone(),
        probes_dir: args.probes.clone(),
        target: None,
    };
    let plan = crate::config::load_for_store(&sources).map_err(|e| e.to_string())?;
    let store =
        crate::store::Store::open_at(&plan.settings.run.store).map_err(|e| e.to_string())?;
    Ok((store, plan))
}

/// Simulator options from flags; every bad flag is reported.
pub fn sim_options(flags: &crate::cli::SimFlags) -> Result<crate::sim::SimOptions, String> {
    let mut errors = Vec::new();
    let profile = flags
        .profile
        .parse::<crate::sim::Profile>()
        .map_err(|e| errors.push(format!("--profile: {e}")))
        .ok();
    let faults: Vec<crate::sim::Fault> = flags
        .faults
        .iter()
        .filter_map(|f| {
            f.parse::<crate::sim::Fault>()
                .map_err(|e| errors.push(format!("--fault: {e}")))
                .ok()
        })
        .collect();
    match profile {
        Some(profile) if errors.is_empty() => Ok(crate::sim::SimOptions {
            profile,
            faults,
            latency: flags.latency,
            seed: flags.seed,
            ..crate::sim::SimOptions::default()
        }),
        _ => Err(errors.join("\n")),
    }
}
