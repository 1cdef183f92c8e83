//! Reading config and probe files from disk and compiling them: the I/O edge of `config`.

use super::compile::{Plan, compile_probe, compile_settings};
use super::raw::{RawConfig, RawProbe};
use super::{ConfigError, ConfigErrors, FieldError, parse_toml};
use std::path::{Path, PathBuf};

/// The default config file, read from the working directory when it exists and `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "oewsprobe.toml";

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

/// Loads and compiles everything; on failure returns every error found in every file.
pub fn load(sources: &Sources) -> Result<Plan, ConfigErrors> {
    let (file, raw) = read_config(sources)?;
    let base_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut errors = Vec::new();
    let settings = compile_settings(
        &raw,
        &file,
        &base_dir,
        sources.target.as_deref(),
        sources.probes_dir.as_deref(),
    )
    .map_err(|es| errors.extend(es))
    .ok();
    let probes_dir = settings
        .as_ref()
        .map(|s| s.probes_dir.clone())
        .or_else(|| sources.probes_dir.clone())
        .unwrap_or_else(|| base_dir.join(raw.probes_dir.as_deref().unwrap_or("probes")));
    let files = match probe_files(&probes_dir) {
        Ok(files) => files,
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    let mut probes = Vec::new();
    for path in files {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| vec![FieldError::new("", format!("cannot read: {e}"))])
            .and_then(|text| parse_toml::<RawProbe>(&text))
            .and_then(|raw_probe| {
                check_name(&name)?;
                match &settings {
                    Some(s) => compile_probe(&name, &path, &raw_probe, s).map(Some),
                    None => Ok(None),
                }
            });
        match parsed {
            Ok(Some(probe)) => probes.push(probe),
            Ok(None) => {}
            Err(es) => errors.extend(es.into_iter().map(|e| ConfigError::at(&path, e))),
        }
    }
    match settings {
        Some(settings) if errors.is_empty() => Ok(Plan { settings, probes }),
        _ => Err(ConfigErrors(errors)),
    }
}

fn read_config(sources: &Sources) -> Result<(PathBuf, RawConfig), ConfigErrors> {
    let (file, must_exist) = match &sources.config {
        Some(f) => (f.clone(), true),
        None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
    };
    let located = |e: FieldError| ConfigErrors(vec![ConfigError::at(&file, e)]);
    match std::fs::read_to_string(&file) {
        Ok(text) => parse_toml::<RawConfig>(&text)
            .map(|raw| (file.clone(), raw))
            .map_err(|es| {
                ConfigErrors(es.into_iter().map(|e| ConfigError::at(&file, e)).collect())
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
            Ok((file, RawConfig::default()))
        }
        Err(e) => Err(located(FieldError::new(
            "",
            format!("cannot read the config file: {e}"),
        ))),
    }
}

/// The `*.toml` files of the probe directory, sorted by name.
fn probe_files(dir: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        ConfigError::at(
            dir,
            FieldError::new("", format!("cannot read the probe directory: {e}")),
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(ConfigError::at(
            dir,
            FieldError::new("", "no probe files (*.toml) in this directory"),
        ));
    }
    Ok(files)
}

/// Probe names come from file names; they appear in output, metrics and CLI flags.
fn check_name(name: &str) -> Result<(), Vec<FieldError>> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(vec![FieldError::new(
            "",
            format!(
                "\"{name}\" is not a valid probe name: use lower-case letters, digits, '-' and '_' in the file name"
            ),
        )])
    }
}
