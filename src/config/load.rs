//! Reading config and probe files from disk and compiling them: the I/O edge of `config`.

use super::compile::{Plan, Settings, compile_settings};
use super::compile_probe::compile_probe;
use super::raw::{RawConfig, RawProbe};
use super::values::Secrets;
use super::{ConfigError, ConfigErrors, FieldError, parse_toml_lenient};
use crate::known_drift::KnownDrift;
use std::path::{Path, PathBuf};

/// The default config file, read from the working directory when it exists and `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "oewsprobe.toml";

/// The most bytes a config or probe file may hold (1 MiB): the largest shipped file is a few KiB, and a file is
/// parsed whole, so a bigger one only costs memory.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// What the command line says about where configuration comes from.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// `--config`: must exist when given.
    pub config: Option<PathBuf>,
    /// `--probes`: overrides the config's `probes_dir`.
    pub probes_dir: Option<PathBuf>,
    /// `--target` or `OEWSPROBE_TARGET`.
    pub target: Option<String>,
}

/// Loads and compiles everything; on failure returns every error found in every file. A broken config file
/// does not stop the probe files from being checked (against default settings), so one run shows all.
pub fn load(sources: &Sources) -> Result<Plan, ConfigErrors> {
    load_with(sources, Secrets::Resolve)
}

/// [`load`] for the commands that only use the store (`status`, `silence`, `release`): secrets given by
/// reference are checked for form but not read, so the shell that runs them needs none of them.
pub fn load_for_store(sources: &Sources) -> Result<Plan, ConfigErrors> {
    load_with(sources, Secrets::FormOnly)
}

fn load_with(sources: &Sources, secrets: Secrets) -> Result<Plan, ConfigErrors> {
    let (file, raw, mut errors) = read_config(sources);
    let base_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut settings = compile_settings(
        &raw,
        &file,
        &base_dir,
        sources.target.as_deref(),
        sources.probes_dir.as_deref(),
        secrets,
    )
    .map_err(|es| errors.extend(es))
    .ok();
    let probes_dir = sources
        .probes_dir
        .clone()
        .unwrap_or_else(|| base_dir.join(raw.probes_dir.as_deref().unwrap_or("probes")));
    let fallback = Settings::defaults(probes_dir.clone());
    let (files, skipped) = probe_files(&probes_dir).unwrap_or_else(|e| {
        errors.push(e);
        (Vec::new(), Vec::new())
    });
    let mut probes = Vec::new();
    for path in files {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut file_errors = check_name(&name).err().into_iter().collect::<Vec<_>>();
        let raw_probe = match read_text(&path) {
            Ok(text) => {
                let (raw_probe, parse_errors) = parse_toml_lenient::<RawProbe>(&text);
                file_errors.extend(parse_errors);
                raw_probe
            }
            Err(e) => {
                file_errors.push(FieldError::new("", format!("cannot read: {e}")));
                None
            }
        };
        if let Some(raw_probe) = raw_probe {
            match compile_probe(
                &name,
                &path,
                &raw_probe,
                settings.as_ref().unwrap_or(&fallback),
            ) {
                Ok(probe) => probes.push(probe),
                Err(es) => file_errors.extend(es),
            }
        }
        errors.extend(file_errors.into_iter().map(|e| ConfigError::at(&path, e)));
    }
    // SLOs and maintenance windows may cover probes and their scheduled bursts (`NAME-burst`).
    let burst_names: Vec<String> = probes
        .iter()
        .filter(|p| p.burst.is_some())
        .map(|p| p.burst_name())
        .collect();
    let names: Vec<&str> = probes
        .iter()
        .map(|p| p.name.as_str())
        .chain(burst_names.iter().map(String::as_str))
        .collect();
    let mut objectives = crate::slo::compile_all(&raw.slo, &names)
        .map_err(|es| errors.extend(es.into_iter().map(|e| ConfigError::at(&file, e))))
        .unwrap_or_default();
    if let Some(settings) = &settings {
        let quorum = crate::fleet::Quorum::from_config(settings.fleet.quorum);
        for objective in &mut objectives {
            objective.quorum = quorum;
        }
    }
    errors.extend(
        super::alert::check_probes(&raw.alert, &names)
            .into_iter()
            .map(|e| ConfigError::at(&file, e)),
    );
    let known_drift = read_known_drift(&base_dir, raw.drift.known_file.as_deref(), &names)
        .map_err(|e| errors.extend(e))
        .unwrap_or_default();
    if let Some(settings) = settings.as_mut() {
        let from_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        match super::jitter::fit(
            raw.run.jitter.as_deref(),
            settings.run.jitter,
            &probes,
            from_ms,
        ) {
            Ok(jitter) => settings.run.jitter = jitter,
            Err(e) => errors.push(ConfigError::at(&file, e)),
        }
    }
    match settings {
        Some(settings) if errors.is_empty() => Ok(Plan {
            settings,
            probes,
            objectives,
            skipped,
            known_drift,
        }),
        _ => Err(ConfigErrors(errors)),
    }
}

/// The raw config (defaults where it is missing or broken) and the errors reading it.
fn read_config(sources: &Sources) -> (PathBuf, RawConfig, Vec<ConfigError>) {
    let (file, must_exist) = match &sources.config {
        Some(f) => (f.clone(), true),
        None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
    };
    match read_text(&file) {
        Ok(text) => {
            let (raw, errors) = parse_toml_lenient::<RawConfig>(&text);
            let errors = errors
                .into_iter()
                .map(|e| ConfigError::at(&file, e))
                .collect();
            (file, raw.unwrap_or_default(), errors)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
            (file, RawConfig::default(), Vec::new())
        }
        Err(e) => {
            let error = ConfigError::at(
                &file,
                FieldError::new("", format!("cannot read the config file: {e}")),
            );
            (file, RawConfig::default(), vec![error])
        }
    }
}

/// The known-drift baseline at `drift.known_file` (relative to `base_dir`): empty when the file does not
/// exist; every error of a malformed one names the file, the entry and the key.
fn read_known_drift(
    base_dir: &Path,
    known_file: Option<&str>,
    probes: &[&str],
) -> Result<KnownDrift, Vec<ConfigError>> {
    let file = base_dir.join(known_file.unwrap_or(crate::known_drift::DEFAULT_KNOWN_FILE));
    let text = match read_text(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            let error = FieldError::new("", format!("cannot read the known-drift file: {e}"));
            return Err(vec![ConfigError::at(&file, error)]);
        }
    };
    match crate::known_drift::parse(&text, probes) {
        Ok(entries) => Ok(KnownDrift { file, entries }),
        Err(errors) => Err(errors
            .into_iter()
            .map(|e| ConfigError::at(&file, e))
            .collect()),
    }
}

/// A file's text, refused beyond [`MAX_FILE_BYTES`] without reading more than that.
fn read_text(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            "the file is larger than 1 MiB (1048576 bytes), the most a config or probe file may hold",
        ));
    }
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// The `*.toml` regular files of the probe directory (symbolic links followed), sorted by name, and the
/// entries that look like probe files but are not read, each with why.
fn probe_files(dir: &Path) -> Result<(Vec<PathBuf>, Vec<ConfigError>), ConfigError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        ConfigError::at(
            dir,
            FieldError::new("", format!("cannot read the probe directory: {e}")),
        )
    })?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let (mut files, mut skipped) = (Vec::new(), Vec::new());
    for path in paths {
        match skip_reason(&path) {
            Some(Skip::NotProbe) => {}
            Some(Skip::Because(why)) => {
                skipped.push(ConfigError::at(
                    &path,
                    FieldError::new("", format!("skipped: {why}")),
                ));
            }
            None => files.push(path),
        }
    }
    if files.is_empty() {
        let mut message = "no probe files (*.toml) in this directory".to_string();
        for s in &skipped {
            message.push_str(&format!("; {s}"));
        }
        return Err(ConfigError::at(dir, FieldError::new("", message)));
    }
    Ok((files, skipped))
}

enum Skip {
    /// Not named like a probe file: not mentioned.
    NotProbe,
    /// Named like one, but not read, because of this.
    Because(String),
}

/// Why `path` is not read as a probe file; `None`: it is one.
fn skip_reason(path: &Path) -> Option<Skip> {
    use std::os::unix::fs::FileTypeExt;
    let extension = path.extension().map(|x| x.to_string_lossy().into_owned());
    match extension.as_deref() {
        Some("toml") => {}
        Some(x) if x.eq_ignore_ascii_case("toml") => {
            return Some(Skip::Because(format!(
                "the extension \".{x}\" is not \".toml\" (lower case)"
            )));
        }
        _ => return Some(Skip::NotProbe),
    }
    let Ok(metadata) = std::fs::metadata(path) else {
        return Some(Skip::Because(
            match std::fs::symlink_metadata(path) {
                Ok(link) if link.file_type().is_symlink() => "a symbolic link to nothing",
                _ => "cannot be read",
            }
            .to_string(),
        ));
    };
    let kind = metadata.file_type();
    let what = if kind.is_file() {
        return None;
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a device"
    };
    Some(Skip::Because(format!("{what}, not a regular file")))
}

/// Probe names come from file names; they appear in output, metrics and CLI flags.
fn check_name(name: &str) -> Result<(), FieldError> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "",
            format!(
                "\"{name}\" is not a valid probe name: use lower-case letters, digits, '-' and '_' in the file name"
            ),
        ))
    }
}
