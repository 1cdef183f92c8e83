//! One file per subcommand: the only place that wires adapters together.

pub mod alert;
pub mod burst;
pub mod check;
pub mod demo;
pub mod release;
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
        Command::Store(command) => store::run(command),
        Command::Validate(args) => validate::run(&args),
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
