//! Parsing a response body into a `serde_json::Value` that holds only what a [`Need`] asks for: what no check
//! reads is scanned and validated, never allocated. Accepts and rejects exactly the bodies that
//! `serde_json::from_slice::<Value>` does, with the same error.
//!
//! Skipped values go through `deserialize_any` with a visitor that drops everything, not through
//! `serde::de::IgnoredAny`: serde_json's fast skip checks syntax only, while parsing into a `Value` also rejects
//! invalid UTF-8, lone surrogate escapes (`"\ud800"`), numbers out of range (`1e400`) and nesting deeper than
//! 128. Parsing through the same entry points keeps those errors, their messages and positions.

use super::need::{Need, Parts};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

/// serde_json's private marker key: a `Value` parse treats an object whose FIRST key is this as an embedded raw
/// value (the member's string is parsed as JSON). Pruned parsing leaves such bodies to the full parse.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Parses `body` as JSON, keeping only what `need` reads (see [`Need`] for what each need keeps). The result
/// answers every check whose need is within `need` exactly as the full `Value` would; the errors are those of
/// `serde_json::from_slice::<Value>`.
pub fn parse_pruned(body: &[u8], need: &Need) -> Result<Value, serde_json::Error> {
    let raw_value_seen = Cell::new(false);
    let mut de = serde_json::Deserializer::from_slice(body);
    let seed = Seed {
        need,
        raw: &raw_value_seen,
    };
    let parsed = seed.deserialize(&mut de).and_then(|value| {
        de.end()?;
        Ok(value)
    });
    if raw_value_seen.get() {
        return serde_json::from_slice(body);
    }
    parsed
}

/// Stops the pruned parse when an object starts with [`RAW_VALUE_TOKEN`]; the caller parses in full instead.
fn raw_value_key<E: de::Error>(raw: &Cell<bool>) -> E {
    raw.set(true);
    E::custom("raw value key: parse in full")
}

/// Parses one value as its need says.
#[derive(Clone, Copy)]
struct Seed<'n> {
    need: &'n Need,
    raw: &'n Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        match self.need {
            Need::All => Value::deserialize(deserializer),
            Need::Presence => deserializer.deserialize_any(Placeholder { raw: self.raw }),
            Need::Parts(parts) => deserializer.deserialize_any(PartsVisitor {
                parts,
                raw: self.raw,
            }),
        }
    }
}

/// `Need::Parts`: scalars as `Value` builds them, arrays element by element, objects with the needed members.
struct PartsVisitor<'n> {
    parts: &'n Parts,
    raw: &'n Cell<bool>,
}

impl<'de> Visitor<'de> for PartsVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let element = Seed {
            need: &self.parts.elements,
            raw: self.raw,
        };
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(element)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        let mut first = true;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if std::mem::take(&mut first) && key == RAW_VALUE_TOKEN {
                return Err(raw_value_key(self.raw));
            }
            match self.parts.member(&key) {
                Some(need) => {
                    let value = map.next_value_seed(Seed {
                        need,
                        raw: self.raw,
                    })?;
                    members.insert(key.into_owned(), value);
                }
                None => map.next_value_seed(Skip { raw: self.raw })?,
            }
        }
        Ok(Value::Object(members))
    }
}

/// `Need::Presence`: `null`, or the placeholder of the value's type (booleans and numbers as they are, `""`,
/// `[]`, `{}`); the content is validated and dropped.
struct Placeholder<'n> {
    raw: &'n Cell<bool>,
}

impl<'de> Visitor<'de> for Placeholder<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, _: &str) -> Result<Value, E> {
        Ok(Value::String(String::new()))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        SkipVisitor { raw: self.raw }.visit_seq(seq)?;
        Ok(Value::Array(Vec::new()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        SkipVisitor { raw: self.raw }.visit_map(map)?;
        Ok(Value::Object(Map::new()))
    }
}

/// A value no check reads: parsed (so validated as a `Value` parse would) and dropped.
#[derive(Clone, Copy)]
struct Skip<'n> {
    raw: &'n Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(SkipVisitor { raw: self.raw })
    }
}

struct SkipVisitor<'n> {
    raw: &'n Cell<bool>,
}

impl<'de> Visitor<'de> for SkipVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip { raw: self.raw })?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut first = true;
        while let Some(is_token) = map.next_key_seed(SkipKey)? {
            if std::mem::take(&mut first) && is_token {
                return Err(raw_value_key(self.raw));
            }
            map.next_value_seed(Skip { raw: self.raw })?;
        }
        Ok(())
    }
}

/// An object key, borrowed from the body when it has no escapes (so skipped members allocate nothing).
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

/// The key of a skipped member, dropped after one question: is it [`RAW_VALUE_TOKEN`]?
struct SkipKey;

impl<'de> DeserializeSeed<'de> for SkipKey {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for SkipKey {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E>(self, v: &str) -> Result<bool, E> {
        Ok(v == RAW_VALUE_TOKEN)
    }
}
