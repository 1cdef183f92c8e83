//! Selectors: parsed once from text (see the module doc of `assert` for the language), then used to find every
//! matching value in a JSON document together with its concrete path.

use super::json::{json_eq, push_key};
use super::need::Need;
use serde_json::Value;
use std::fmt;

/// The most steps a selector may have, counting the steps of filter paths: JSON deeper than 128 levels does not
/// parse, and a longer selector only costs memory.
pub const MAX_STEPS: usize = 64;

/// The most `[*]` and filter steps a selector may have: each one doubles what its [`Need`] reads (every element
/// and every member value alike). The need shares that part, so what it holds stays linear, but comparing two
/// needs built apart still walks what they read: the bound keeps that below 2^8 times the selector's length.
pub const MAX_FANOUT_STEPS: usize = 8;

/// A parsed selector such as `$.data_sources[?(@.type == "planning")].plan`.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    pub(super) steps: Vec<Step>,
}

/// Why a selector does not parse, and where: `position` counts characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position}")]
pub struct SelectorError {
    pub position: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Step {
    Key(String),
    Index(i64),
    Wildcard,
    Filter(Filter),
}

/// `[?(@.path == literal)]`; `path` holds only `Key` and `Index` steps.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Filter {
    pub(super) path: Vec<Step>,
    pub(super) negated: bool,
    pub(super) literal: Value,
}

impl Selector {
    /// Parses selector text. The error names what is wrong and at which character.
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        super::parse::selector(text)
    }

    /// Every value the selector matches, each with its concrete path (`$.data_sources[2].agent`), in document
    /// order (object keys in the map's order).
    pub fn select<'v>(&self, root: &'v Value) -> Vec<(String, &'v Value)> {
        let mut current = vec![("$".to_string(), root)];
        for step in &self.steps {
            let mut next = Vec::new();
            for (path, value) in current {
                step.apply(path, value, &mut next);
            }
            if next.is_empty() {
                return next;
            }
            current = next;
        }
        current
    }

    /// What of a document this selector reads, when the checks then read each match whole (as operators do:
    /// they compare and render entire values). See [`Selector::need_then`].
    pub fn need(&self) -> Need {
        self.need_then(Need::All)
    }

    /// What of a document this selector reads, with `at_match` read of each match: `.key` reads that member,
    /// `[N]` (also negative) every element (positions and length are kept), `[*]` every element and member
    /// value, a filter the same plus its field path whole in each.
    pub fn need_then(&self, at_match: Need) -> Need {
        self.steps
            .iter()
            .rev()
            .fold(at_match, |then, step| step.need_then(then))
    }
}

impl Selector {
    /// The path the selector walks, as a claim path: keys, and `Each` for `[N]`, `[*]` and filters.
    pub fn claim_steps(&self) -> Vec<super::ClaimStep> {
        (self.steps.iter())
            .map(|step| match step {
                Step::Key(key) => super::ClaimStep::Key(key.clone()),
                Step::Index(_) | Step::Wildcard | Step::Filter(_) => super::ClaimStep::Each,
            })
            .collect()
    }
}

impl Step {
    /// What a step reads of the value it applies to, given `then`, what is read of each value it leads to.
    fn need_then(&self, then: Need) -> Need {
        match self {
            Step::Key(key) => Need::key(key.clone(), then),
            Step::Index(_) => Need::elements(then),
            Step::Wildcard => Need::members(then),
            Step::Filter(filter) => Need::members(filter.need().merge(then)),
        }
    }

    fn apply<'v>(&self, path: String, value: &'v Value, out: &mut Vec<(String, &'v Value)>) {
        match self {
            Step::Key(_) | Step::Index(_) => {
                if let Some((child, index)) = self.child(value) {
                    out.push((child_path(&path, index, self), child));
                }
            }
            Step::Wildcard => push_children(&path, value, |_| true, out),
            Step::Filter(filter) => push_children(&path, value, |v| filter.keeps(v), out),
        }
    }

    /// The one value a key or index step leads to, with the resolved (non-negative) index for arrays.
    fn child<'v>(&self, value: &'v Value) -> Option<(&'v Value, usize)> {
        match (self, value) {
            (Step::Key(key), Value::Object(map)) => map.get(key).map(|v| (v, 0)),
            (Step::Index(i), Value::Array(items)) => {
                let len = i64::try_from(items.len()).ok()?;
                let resolved = usize::try_from(if *i < 0 { len + i } else { *i }).ok()?;
                items.get(resolved).map(|v| (v, resolved))
            }
            _ => None,
        }
    }
}

fn child_path(parent: &str, index: usize, step: &Step) -> String {
    let mut path = parent.to_string();
    match step {
        Step::Key(key) => push_key(&mut path, key),
        _ => push_index(&mut path, index),
    }
    path
}

fn push_index(path: &mut String, index: usize) {
    use std::fmt::Write;
    let _ = write!(path, "[{index}]");
}

/// Pushes the elements of an array or the values of an object that `keep` accepts.
fn push_children<'v>(
    path: &str,
    value: &'v Value,
    keep: impl Fn(&Value) -> bool,
    out: &mut Vec<(String, &'v Value)>,
) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate().filter(|(_, v)| keep(v)) {
                let mut p = path.to_string();
                push_index(&mut p, i);
                out.push((p, item));
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter().filter(|(_, v)| keep(v)) {
                let mut p = path.to_string();
                push_key(&mut p, key);
                out.push((p, item));
            }
        }
        _ => {}
    }
}

impl Filter {
    /// What the filter reads of each element: its field path, compared whole with the literal.
    fn need(&self) -> Need {
        (self.path.iter().rev()).fold(Need::All, |then, step| step.need_then(then))
    }

    fn keeps(&self, element: &Value) -> bool {
        let mut current = Some(element);
        for step in &self.path {
            current = current.and_then(|v| step.child(v)).map(|(v, _)| v);
        }
        let equal = current.is_some_and(|v| json_eq(v, &self.literal));
        equal != self.negated
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        self.steps.iter().try_for_each(|s| write!(f, "{s}"))
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Key(key) => {
                let mut text = String::new();
                push_key(&mut text, key);
                f.write_str(&text)
            }
            Step::Index(i) => write!(f, "[{i}]"),
            Step::Wildcard => f.write_str("[*]"),
            Step::Filter(filter) => {
                f.write_str("[?(@")?;
                filter.path.iter().try_for_each(|s| write!(f, "{s}"))?;
                let op = if filter.negated { "!=" } else { "==" };
                let literal = serde_json::to_string(&filter.literal).map_err(|_| fmt::Error)?;
                write!(f, " {op} {literal})]")
            }
        }
    }
}
