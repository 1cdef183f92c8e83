//! Configuration errors: every one names the file and the key, and all of them are reported at once.

use std::fmt;
use std::path::PathBuf;

/// An error at a key relative to some table (`path`, `matches`, `entries[1].type`). The caller prefixes the key
/// of that table (`expect.json[1].`) and the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub key: String,
    pub message: String,
}

impl FieldError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            key: key.into(),
            message: message.into(),
        }
    }

    /// The same error, one table further out: `prefixed("expect.json[1]")` turns `path` into `expect.json[1].path`.
    pub fn prefixed(self, prefix: &str) -> FieldError {
        let key = if self.key.is_empty() {
            prefix.to_string()
        } else if self.key.starts_with('[') {
            format!("{prefix}{}", self.key)
        } else {
            format!("{prefix}.{}", self.key)
        };
        FieldError { key, ..self }
    }
}

/// One configuration error, located: `probes/models.toml: expect.json[1].path: ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// Empty when the error concerns the file as a whole (unreadable, TOML syntax).
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn at(file: impl Into<PathBuf>, error: FieldError) -> ConfigError {
        ConfigError {
            file: file.into(),
            key: error.key,
            message: error.message,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file.display())?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// Every error found in a configuration, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixing_joins_keys_and_indexes() {
        assert_eq!(
            FieldError::new("path", "m").prefixed("expect.json[1]").key,
            "expect.json[1].path"
        );
        assert_eq!(
            FieldError::new("[2].type", "m").prefixed("entries").key,
            "entries[2].type"
        );
        assert_eq!(
            FieldError::new("", "m").prefixed("expect.trace").key,
            "expect.trace"
        );
    }

    #[test]
    fn display_names_file_and_key() {
        let e = ConfigError::at(
            "probes/models.toml",
            FieldError::new("expect.json[1].path", "bad selector"),
        );
        assert_eq!(
            e.to_string(),
            "probes/models.toml: expect.json[1].path: bad selector"
        );
    }
}
