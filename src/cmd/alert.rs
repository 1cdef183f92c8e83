//! `oewsprobe alert test`: send one test email with the configured `[alert.smtp]`, to check delivery end to end.

use crate::alert::{Mailer, render_test};
use crate::cli::{AlertCommand, AlertTestArgs};
use crate::exit::Exit;
use crate::monitor::now_ms;

pub async fn run(command: AlertCommand) -> Exit {
    match command {
        AlertCommand::Test(args) => test(args).await,
    }
}

async fn test(args: AlertTestArgs) -> Exit {
    let plan = match super::load_plan(&super::sources(&args.config, args.target)) {
        Ok(plan) => plan,
        Err(exit) => return exit,
    };
    let Some(smtp) = &plan.settings.alert.smtp else {
        eprintln!(
            "oewsprobe alert test: alert email is off: the config has no [alert.smtp] table (host, from, to)"
        );
        return Exit::CouldNotCheck;
    };
    let via = format!("{} ({})", smtp.server(), smtp.security);
    let target = plan.settings.target.as_str().trim_end_matches('/');
    let email = render_test(target, &via, now_ms());
    let sent = match Mailer::new(smtp) {
        Ok(mailer) => mailer.send(&email).await,
        Err(e) => Err(e),
    };
    match sent {
        Ok(()) => {
            super::emit(&format!(
                "sent a test email to {} via {via}\n",
                smtp.to.join(", ")
            ));
            Exit::Healthy
        }
        Err(e) => {
            eprintln!("oewsprobe alert test: {e}");
            Exit::CouldNotCheck
        }
    }
}
