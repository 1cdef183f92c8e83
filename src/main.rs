//! The `oewsprobe` binary: parse the command line, set up logging, run the command, exit with its code.

use clap::Parser;
use oewsprobe::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log_level);
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

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
