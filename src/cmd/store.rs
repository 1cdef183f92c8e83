//! `oewsprobe store stats|export|import|rebuild-rollups`: the store's figures, its runs out as JSON Lines and
//! back in, its rollups rebuilt. `stats` and `export` only read (also while `run` runs); `import` and
//! `rebuild-rollups` write, so they take the store's run lock and are refused while `run` holds it.

use crate::cli::{ConfigArgs, Format, ReleaseListArgs, StoreCommand, StoreExportArgs};
use crate::config::suggest;
use crate::exit::Exit;
use crate::report::{rebuilt_text, stats_table};
use crate::store::{
    ExportError, ImportError, Location, LockError, RunFilter, Store, StoreError, count_text,
};
use std::io::{BufReader, BufWriter, ErrorKind};
use std::path::{Path, PathBuf};

pub fn run(command: StoreCommand) -> Exit {
    let (name, result) = match command {
        StoreCommand::Stats(args) => ("stats", stats(&args)),
        StoreCommand::Export(args) => ("export", export(&args)),
        StoreCommand::Import(args) => ("import", import(&args.config, &args.file)),
        StoreCommand::RebuildRollups(config) => ("rebuild-rollups", rebuild(&config)),
    };
    match result {
        Ok(()) => Exit::Healthy,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("oewsprobe store {name}: {message}");
            }
            Exit::CouldNotCheck
        }
    }
}

/// The configured store (`run.store`); config errors are printed here (and the returned message is empty).
fn store_path(config: &ConfigArgs) -> Result<Location, String> {
    crate::config::load_for_store(&super::sources(config, None))
        .map(|plan| plan.settings.run.store)
        .map_err(|errors| {
            eprintln!("{errors}");
            String::new()
        })
}

/// The configured store, which must exist: opening a store that is not there would create an empty one.
/// (A PostgreSQL store is the server's: a database that is not there cannot be connected to.)
fn existing_store_path(config: &ConfigArgs) -> Result<Location, String> {
    let location = store_path(config)?;
    if let Some(path) = location.file()
        && !path.exists()
    {
        return Err(format!(
            "no store at {} (run.store): nothing has been recorded there",
            path.display()
        ));
    }
    Ok(location)
}

fn existing_store(config: &ConfigArgs) -> Result<Store, String> {
    Store::open_at(&existing_store_path(config)?).map_err(|e| e.to_string())
}

/// The store at `location`, held against `run` (and any other writer) while this process writes (a SQLite
/// file's run lock; a PostgreSQL store has none).
fn store_for_writing(location: &Location, what: &str) -> Result<Store, String> {
    Store::open_for_run_at(location).map_err(|e| match e {
        StoreError::Locked(LockError::Held { pid, store }) => format!(
            "refused: another oewsprobe run (pid {pid}) is using the store {store}; stop it first ({what} \
             writes runs and rollups, and only one process may)"
        ),
        other => other.to_string(),
    })
}

fn stats(args: &ReleaseListArgs) -> Result<(), String> {
    let store = existing_store(&args.config)?;
    let stats = store
        .naming_damage(Store::stats)
        .map_err(|e| e.to_string())?;
    super::emit(&match args.format {
        Format::Table => stats_table(&stats),
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&stats).unwrap_or_default()
        ),
    });
    Ok(())
}

fn export(args: &StoreExportArgs) -> Result<(), String> {
    if let (Some(since), Some(until)) = (args.since, args.until)
        && since >= until
    {
        return Err("--since is not before --until: no run is scheduled in between".into());
    }
    let store = existing_store(&args.config)?;
    check_probes(&store, &args.probe)?;
    let filter = RunFilter {
        probes: args.probe.clone(),
        since_ms: args.since,
        until_ms: args.until,
    };
    let named = |e: ExportError| match e {
        ExportError::Store(e) => store.named(e).to_string(),
        other => other.to_string(),
    };
    match &args.output {
        None => match store.export(&filter, &mut BufWriter::new(std::io::stdout().lock())) {
            Ok(_) => Ok(()),
            // The reader has what it wanted (`store export | head`).
            Err(ExportError::Write(e)) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(named(e)),
        },
        Some(path) => {
            // Written beside the file and renamed when complete: FILE is never a partial export.
            let mut partial = path.clone().into_os_string();
            partial.push(".partial");
            let partial = PathBuf::from(partial);
            let written = std::fs::File::create(&partial)
                .map_err(|e| format!("cannot write {}: {e}", partial.display()))
                .and_then(|file| {
                    store
                        .export(&filter, &mut BufWriter::new(file))
                        .map_err(named)
                })
                .and_then(|count| {
                    std::fs::rename(&partial, path)
                        .map(|()| count)
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))
                });
            match written {
                Ok(count) => {
                    super::emit(&format!(
                        "exported {} runs to {}\n",
                        count_text(count),
                        path.display()
                    ));
                    Ok(())
                }
                Err(message) => {
                    let _ = std::fs::remove_file(&partial);
                    Err(message)
                }
            }
        }
    }
}

/// Every `--probe` names a probe the store holds runs of (a typo would export nothing, silently).
fn check_probes(store: &Store, probes: &[String]) -> Result<(), String> {
    let missing = store
        .probes_without_runs(probes)
        .map_err(|e| store.named(e).to_string())?;
    if missing.is_empty() {
        return Ok(());
    }
    let known = store
        .probes_with_runs()
        .map_err(|e| store.named(e).to_string())?;
    let names: Vec<&str> = known.iter().map(String::as_str).collect();
    let lines: Vec<String> = missing
        .iter()
        .map(|name| match suggest(name, &names) {
            Some(s) => {
                format!("--probe {name}: the store holds no run of it — did you mean \"{s}\"?")
            }
            None => format!(
                "--probe {name}: the store holds no run of it (probes with runs: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
        })
        .collect();
    Err(lines.join("\n"))
}

fn import(config: &ConfigArgs, file: &Path) -> Result<(), String> {
    let stdin = file == Path::new("-");
    let shown = if stdin {
        "<stdin>".to_string()
    } else {
        file.display().to_string()
    };
    let input: Box<dyn std::io::Read> = if stdin {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(file).map_err(|e| format!("cannot read {shown}: {e}"))?)
    };
    let store = store_for_writing(&store_path(config)?, "import")?;
    let done = store
        .import(BufReader::with_capacity(1 << 16, input), &shown)
        .map_err(|e| match e {
            ImportError::Store(e) => store.named(e).to_string(),
            other => other.to_string(),
        })?;
    super::emit(&format!(
        "imported {} runs from {shown}; skipped {} already in the store (same probe and scheduled time)\n",
        count_text(done.runs),
        count_text(done.duplicates)
    ));
    Ok(())
}

fn rebuild(config: &ConfigArgs) -> Result<(), String> {
    let store = store_for_writing(&existing_store_path(config)?, "rebuild-rollups")?;
    let started = std::time::Instant::now();
    let stats = store
        .naming_damage(|store| {
            store.rebuild_rollups()?;
            store.stats()
        })
        .map_err(|e| e.to_string())?;
    super::emit(&rebuilt_text(stats.runs, &stats.rollups, started.elapsed()));
    Ok(())
}
