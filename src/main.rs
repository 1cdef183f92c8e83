//! The `oewsprobe` binary: parse the command line, set up logging, run the command, exit with its code.

use clap::Parser;
use oewsprobe::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    oewsprobe::telemetry::init_logging(&cli.log_level, cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("oewsprobe: cannot start the async runtime: {e}");
            return oewsprobe::exit::Exit::CouldNotCheck.into();
        }
    };
    runtime.block_on(oewsprobe::cmd::dispatch(cli)).into()
}
