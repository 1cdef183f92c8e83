//! What a probe's response checks need the response to hold, stated without the body: the fields they
//! read and the types or values they require there. `drift` holds these claims against the service's
//! declared response schema (pure, no I/O).

use serde_json::Value;
use std::fmt;

/// One step of a claimed field's path from the body's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimStep {
    /// The member `key` of an object.
    Key(String),
    /// An element of an array (or a value of an object): `[N]`, `[*]` and filters.
    Each,
}

/// What the check needs of the value at the path.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimKind {
    /// The field is there (any value).
    Present,
    /// A value of this JSON type (`string`, `number`, `integer`, `boolean`, `null`, `array`, `object`).
    Type(&'static str),
    /// One of these values.
    OneOf(Vec<Value>),
}

/// A field a check reads and what it needs there; `by` names the check (`the trace check`).
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub path: Vec<ClaimStep>,
    pub kind: ClaimKind,
    pub by: &'static str,
}

impl Claim {
    /// A claim about the field reached by `keys` (`Each` for `"[*]"`).
    pub fn at(keys: &[&str], kind: ClaimKind, by: &'static str) -> Claim {
        let path = keys
            .iter()
            .map(|k| match *k {
                "[*]" => ClaimStep::Each,
                key => ClaimStep::Key(key.to_owned()),
            })
            .collect();
        Claim { path, kind, by }
    }
}

/// The path as the probe would name it: `data_sources[*].implementation_model` (the root is `$`).
pub struct ClaimPath<'a>(pub &'a [ClaimStep]);

impl fmt::Display for ClaimPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("$");
        }
        for (i, step) in self.0.iter().enumerate() {
            match step {
                ClaimStep::Key(key) if i == 0 => f.write_str(key)?,
                ClaimStep::Key(key) => write!(f, ".{key}")?,
                ClaimStep::Each => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for ClaimPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_as_the_probe_names_them() {
        for (keys, text) in [
            (vec![], "$"),
            (vec!["status"], "status"),
            (
                vec!["data_sources", "[*]", "implementation_model"],
                "data_sources[*].implementation_model",
            ),
            (vec!["models", "gpt-4o"], "models.gpt-4o"),
        ] {
            let claim = Claim::at(&keys, ClaimKind::Present, "the check");
            assert_eq!(ClaimPath(&claim.path).to_string(), text);
        }
    }
}
