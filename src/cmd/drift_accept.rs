//! `oewsprobe drift accept`: run the selected probes once (as `check` does, under the same query budget) and
//! write their contract findings into the known-drift file, merged with what it holds, atomically.

use super::once::{guard_budget, run_probes, select_by};
use crate::cli::DriftAcceptArgs;
use crate::exit::Exit;
use crate::known_drift::{merge, render};
use std::io::Write as _;
use std::path::Path;

pub async fn run(args: DriftAcceptArgs) -> Exit {
    let sources = super::sources(&args.config, args.target.clone());
    let plan = match super::load_plan(&sources) {
        Ok(plan) => plan,
        Err(exit) => return exit,
    };
    let selected = match select_by(&plan, &args.probe, "--probe") {
        Ok(selected) => selected,
        Err(message) => {
            eprintln!("{message}");
            return Exit::CouldNotCheck;
        }
    };
    if let Err(message) = guard_budget(&plan, &selected, args.force, "drift accept", "--probe") {
        eprintln!("{message}");
        return Exit::CouldNotCheck;
    }
    let records = match run_probes(&plan, &selected).await {
        Ok(records) => records,
        Err(message) => {
            eprintln!("{message}");
            return Exit::CouldNotCheck;
        }
    };
    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let merged = merge(&plan.known_drift.entries, &records, &date);
    let file = &plan.known_drift.file;
    if let Err(e) = write_atomically(file, &render(&merged.entries)) {
        eprintln!(
            "oewsprobe drift accept: cannot write {}: {e}",
            file.display()
        );
        return Exit::CouldNotCheck;
    }
    let target = plan.settings.target.as_str().trim_end_matches('/');
    super::emit(&merged.report(target, &file.display().to_string()));
    Exit::Healthy
}

/// Writes `text` to a temporary file beside `path`, flushed to disk, then renames it over `path`: a reader
/// (a reloading `run`) sees the old file or the new one, never half of it.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = std::path::PathBuf::from(temporary);
    let written = std::fs::File::create(&temporary).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            Err(e)
        }
    }
}
