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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parts {
    /// Object members read by name (`.key`), with what is read of each.
    pub(super) keys: BTreeMap<String, Need>,
    /// What is read of every member of an object (`[*]`, filters); `None`: members not in `keys` are skipped.
    pub(super) values: Option<Box<Need>>,
    /// What is read of every element of an array (`[N]`, `[*]`, filters); `Presence` when nothing is.
    pub(super) elements: Box<Need>,
}

impl Need {
    /// The member `key` of an object, read as `need`.
    pub fn key(key: impl Into<String>, need: Need) -> Need {
        let mut keys = BTreeMap::new();
        keys.insert(key.into(), need);
        Parts {
            keys,
            ..Parts::default()
        }
        .into_need()
    }

    /// Every element of an array, each read as `need`.
    pub fn elements(need: Need) -> Need {
        Parts {
            elements: Box::new(need),
            ..Parts::default()
        }
        .into_need()
    }

    /// Every member value of an object, each read as `need`.
    pub fn values(need: Need) -> Need {
        Parts {
            values: Some(Box::new(need)),
            ..Parts::default()
        }
        .into_need()
    }

    /// Every element of an array and every member value of an object (`[*]`, filters), each read as `need`.
    pub fn members(need: Need) -> Need {
        Need::values(need.clone()).merge(Need::elements(need))
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

impl Parts {
    fn merge(self, other: Parts) -> Need {
        let mut keys = self.keys;
        for (key, need) in other.keys {
            let merged = match keys.remove(&key) {
                Some(mine) => mine.merge(need),
                None => need,
            };
            keys.insert(key, merged);
        }
        let values = match (self.values, other.values) {
            (Some(a), Some(b)) => Some(Box::new(a.merge(*b))),
            (a, b) => a.or(b),
        };
        Parts {
            keys,
            values,
            elements: Box::new(self.elements.merge(*other.elements)),
        }
        .into_need()
    }

    /// The canonical need for these parts (see [`Parts`]).
    fn into_need(mut self) -> Need {
        if let Some(values) = &self.values {
            if **values == Need::All && *self.elements == Need::All {
                return Need::All;
            }
            let listed = std::mem::take(&mut self.keys);
            for (key, need) in listed {
                let need = need.merge((**values).clone());
                if need != **values {
                    self.keys.insert(key, need);
                }
            }
        }
        Need::Parts(self)
    }

    /// What is read of the member `key` of an object; `None`: the member is skipped.
    pub(super) fn member(&self, key: &str) -> Option<&Need> {
        self.keys.get(key).or(self.values.as_deref())
    }
}
