//! What parts of a JSON document the compiled checks read: a [`Need`] tree, computed once per probe from its
//! checks and merged into one, that lets [`parse_pruned`](super::parse_pruned) build only those parts.
//!
//! A need says, for a value, what the parsed `Value` keeps:
//!
//! | need | null | bool, number, string | array | object |
//! |---|---|---|---|---|
//! | [`Need::All`] | `null` | the value | the whole array | the whole object |
//! | [`Need::Presence`] | `null` | placeholder | `[]` | `{}` |
//! | [`Need::Parts`] | `null` | the value | every element, each with the element need | the needed members only |
//!
//! The **placeholder** of `Presence` keeps the JSON type and nothing of the content: booleans and numbers as they
//! are (they cost nothing to keep), strings as `""`, arrays as `[]`, objects as `{}`. So `is_null`, `is_string`,
//! `as_array().is_some()` and the like answer as on the full value; only a check that reads content (length,
//! characters, members) could tell the difference, and such a check must ask for more than `Presence`.
//!
//! Arrays under `Parts` keep every element's position (so `[N]`, `[-1]` and lengths resolve as on the full
//! array); objects keep only the members named in `keys`, or every member when `values` is set.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Which parts of a JSON value the checks read. Merging ([`Need::merge`]) is a union; [`Need::Presence`] is the
/// least need and [`Need::All`] the greatest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Need {
    /// Whether the value is present and not null (and its JSON type); see the placeholder in the module doc.
    #[default]
    Presence,
    /// Some members of an object, or the elements of an array; scalars whole.
    Parts(Parts),
    /// The whole value.
    All,
}

/// What a [`Need::Parts`] reads. Kept canonical: every key's need includes `values`, a key whose need equals
/// `values` is not listed, and parts that read everything are [`Need::All`] instead.
///
/// Sub-needs are shared (`Arc`), not copied: `[*]` reads every element and every member value alike, so one
/// sub-need serves both, and merging a need with itself (or with a need it already includes) costs nothing.
/// A selector's need is thus linear in its steps, and adding a selector to a union costs what it adds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parts {
    /// Object members read by name (`.key`), with what is read of each.
    pub(super) keys: BTreeMap<String, Arc<Need>>,
    /// What is read of every member of an object (`[*]`, filters); `None`: members not in `keys` are skipped.
    pub(super) values: Option<Arc<Need>>,
    /// What is read of every element of an array (`[N]`, `[*]`, filters); `Presence` when nothing is.
    pub(super) elements: Arc<Need>,
}

impl Need {
    /// The member `key` of an object, read as `need`.
    pub fn key(key: impl Into<String>, need: Need) -> Need {
        let mut keys = BTreeMap::new();
        keys.insert(key.into(), Arc::new(need));
        Parts {
            keys,
            ..Parts::default()
        }
        .into_need()
    }

    /// Every element of an array, each read as `need`.
    pub fn elements(need: Need) -> Need {
        Parts {
            elements: Arc::new(need),
            ..Parts::default()
        }
        .into_need()
    }

    /// Every member value of an object, each read as `need`.
    pub fn values(need: Need) -> Need {
        Parts {
            values: Some(Arc::new(need)),
            ..Parts::default()
        }
        .into_need()
    }

    /// Every element of an array and every member value of an object (`[*]`, filters), each read as `need`
    /// (one shared sub-need).
    pub fn members(need: Need) -> Need {
        let shared = Arc::new(need);
        Parts {
            values: Some(shared.clone()),
            elements: shared,
            ..Parts::default()
        }
        .into_need()
    }

    /// The union of two needs: everything either reads.
    #[must_use]
    pub fn merge(self, other: Need) -> Need {
        match (self, other) {
            (Need::All, _) | (_, Need::All) => Need::All,
            (Need::Presence, need) | (need, Need::Presence) => need,
            (Need::Parts(a), Need::Parts(b)) => a.merge(b),
        }
    }

    /// The union of many needs (`Presence` for none).
    pub fn union(needs: impl IntoIterator<Item = Need>) -> Need {
        needs.into_iter().fold(Need::Presence, Need::merge)
    }
}

/// The union of two shared needs; the same need (or one within the other) is shared again, not rebuilt.
fn merge_shared(a: Arc<Need>, b: Arc<Need>) -> Arc<Need> {
    if Arc::ptr_eq(&a, &b) {
        return a;
    }
    match (&*a, &*b) {
        (Need::All, _) | (_, Need::Presence) => a,
        (_, Need::All) | (Need::Presence, _) => b,
        _ if a == b => a,
        _ => Arc::new(unshare(a).merge(unshare(b))),
    }
}

fn unshare(need: Arc<Need>) -> Need {
    Arc::try_unwrap(need).unwrap_or_else(|shared| (*shared).clone())
}

impl Parts {
    fn merge(self, other: Parts) -> Need {
        // A side's keys are canonical against its own values; they stay so when those are the merged values.
        let (values, mine_canonical, theirs_canonical) = match (self.values, other.values) {
            (Some(a), Some(b)) => {
                let merged = merge_shared(a.clone(), b.clone());
                let (mine, theirs) = (Arc::ptr_eq(&merged, &a), Arc::ptr_eq(&merged, &b));
                (Some(merged), mine, theirs)
            }
            (Some(a), None) => (Some(a), true, false),
            (None, Some(b)) => (Some(b), false, true),
            (None, None) => (None, true, true),
        };
        let mut keys = self.keys;
        let mut recheck: Vec<String> = if mine_canonical {
            Vec::new()
        } else {
            keys.keys().cloned().collect()
        };
        for (key, need) in other.keys {
            let merged = match keys.remove(&key) {
                Some(mine) => {
                    recheck.push(key.clone());
                    merge_shared(mine, need)
                }
                None => {
                    if !theirs_canonical {
                        recheck.push(key.clone());
                    }
                    need
                }
            };
            keys.insert(key, merged);
        }
        Parts {
            keys,
            values,
            elements: merge_shared(self.elements, other.elements),
        }
        .canonical(recheck)
    }

    /// The canonical need for these parts (see [`Parts`]).
    fn into_need(self) -> Need {
        let all = self.keys.keys().cloned().collect();
        self.canonical(all)
    }

    /// The canonical need for these parts, when only the keys in `recheck` may not be canonical yet.
    fn canonical(mut self, recheck: Vec<String>) -> Need {
        if let Some(values) = &self.values {
            if **values == Need::All && *self.elements == Need::All {
                return Need::All;
            }
            for key in recheck {
                if let Some(need) = self.keys.remove(&key) {
                    let need = merge_shared(need, values.clone());
                    if need != *values {
                        self.keys.insert(key, need);
                    }
                }
            }
        }
        Need::Parts(self)
    }

    /// What is read of the member `key` of an object; `None`: the member is skipped.
    pub(super) fn member(&self, key: &str) -> Option<&Need> {
        self.keys.get(key).or(self.values.as_ref()).map(|n| &**n)
    }
}
