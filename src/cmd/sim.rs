//! `oewsprobe sim`: serve the simulated OEWS API (over HTTPS with `--tls-cert`/`--tls-key`) until interrupted.

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
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => match crate::sim::SimTls::from_pem_files(cert, key) {
            Ok(tls) => Some(tls),
            Err(error) => {
                eprintln!("oewsprobe sim: {error}");
                return Exit::CouldNotCheck;
            }
        },
        // clap requires both flags or neither.
        _ => None,
    };
    match crate::sim::run_until_ctrl_c(args.listen, options, tls).await {
        Ok(()) => Exit::Healthy,
        Err(e) => {
            eprintln!("oewsprobe sim: cannot serve on {}: {e}", args.listen);
            Exit::CouldNotCheck
        }
    }
}
