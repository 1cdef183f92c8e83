//! One file per subcommand: the only place that wires adapters together.

pub mod check;
pub mod demo;
pub mod sim;
pub mod validate;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// Runs the parsed command line and says how the process should exit.
pub async fn dispatch(cli: Cli) -> Exit {
    match cli.command {
        Command::Check(args) => check::run(args).await,
        Command::Validate(args) => validate::run(&args),
        Command::Sim(args) => sim::run(args).await,
        Command::Demo(args) => demo::run(args).await,
    }
}
