//! `oewsprobe release start|list|end`: record releases in the store for the post-release watch.

use crate::cli::{Format, ReleaseCommand};
use crate::exit::Exit;
use crate::monitor::now_ms;
use crate::release;
use crate::store::Release;
use std::time::Duration;

pub fn run(command: ReleaseCommand) -> Exit {
    let result = match command {
        ReleaseCommand::Start(args) => check_start(&args)
            .and_then(|()| super::open_store(&args.config))
            .and_then(|(store, plan)| {
                let now = now_ms();
                let watch = args.watch.unwrap_or(plan.settings.watch.watch);
                let until = now + watch.as_millis() as u64;
                let release = store
                    .start_release(&args.version, &args.rollback_to, now, until)
                    .map_err(|e| store.named(e).to_string())?;
                super::emit(&format!(
                    "release {} recorded (rollback to {}); watching for {}\n",
                    release.version,
                    release.rollback_to,
                    humantime::format_duration(watch)
                ));
                Ok(())
            }),
        ReleaseCommand::List(args) => super::open_store(&args.config).and_then(|(store, _)| {
            let releases = store.releases().map_err(|e| store.named(e).to_string())?;
            super::emit(&match args.format {
                Format::Json => format!("{:#}\n", serde_json::json!({ "releases": releases })),
                Format::Table => releases_table(&releases, now_ms()),
            });
            Ok(())
        }),
        ReleaseCommand::End(args) => super::open_store(&args.config).and_then(|(store, _)| {
            match store
                .end_release(now_ms())
                .map_err(|e| store.named(e).to_string())?
            {
                Some(release) => {
                    super::emit(&format!("release {}: watch ended\n", release.version))
                }
                None => super::emit("no open release watch\n"),
            }
            Ok(())
        }),
    };
    match result {
        Ok(()) => Exit::Healthy,
        Err(message) => {
            eprintln!("oewsprobe release: {message}");
            Exit::CouldNotCheck
        }
    }
}

/// `release start`'s flags, checked before anything is opened.
fn check_start(args: &crate::cli::ReleaseStartArgs) -> Result<(), String> {
    release::check_version("--version", &args.version)?;
    release::check_version("--rollback-to", &args.rollback_to)?;
    args.watch.map_or(Ok(()), release::check_watch)
}

fn releases_table(releases: &[Release], now: u64) -> String {
    if releases.is_empty() {
        return "no releases recorded\n".to_string();
    }
    let mut out = format!(
        "{:<24} {:<24} {:<10} {}\n",
        "VERSION", "ROLLBACK TO", "WATCH", "STARTED"
    );
    for r in releases {
        let state = if r.watching_at(now) {
            format!(
                "{} left",
                humantime::format_duration(Duration::from_secs(
                    (r.watch_until_ms - now) / 60_000 * 60
                ))
            )
        } else {
            "ended".to_string()
        };
        let started = chrono::DateTime::from_timestamp_millis(r.started_at_ms as i64).map_or_else(
            || r.started_at_ms.to_string(),
            |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        );
        out.push_str(&format!(
            "{:<24} {:<24} {:<10} {started}\n",
            r.version, r.rollback_to, state
        ));
    }
    out
}
