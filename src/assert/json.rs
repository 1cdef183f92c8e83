//! Small JSON helpers shared by the assertion language and the OEWS checks: TOML → JSON conversion, numeric-aware
//! equality, and rendering of values and paths for findings (bounded, so big bodies are never re-serialized whole).

use serde_json::{Number, Value};
use std::io;

/// Rendered values longer than this many characters are cut and end with `…`.
pub const EXCERPT_CHARS: usize = 80;

/// Converts a TOML value (from a config file) into the JSON value it stands for. Fails on what JSON cannot hold:
/// datetimes, NaN and infinities. The error is a message for a `FieldError` at the key that held the value.
pub fn toml_to_json(value: &toml::Value) -> Result<Value, String> {
    Ok(match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Number::from_f64(*f)
            .map(Value::Number)
            .ok_or_else(|| format!("{f} is not a JSON number (JSON has no NaN or infinity)"))?,
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => {
            return Err(format!(
                "{d} is a TOML datetime, which is not a JSON value; quote it to compare with a string"
            ));
        }
        toml::Value::Array(items) => {
            Value::Array(items.iter().map(toml_to_json).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(table) => Value::Object(
            table
                .iter()
                .map(|(k, v)| Ok((k.clone(), toml_to_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// JSON equality where numbers compare by value: `1`, `1.0` and `1e0` are equal.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => number_eq(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn number_eq(x: &Number, y: &Number) -> bool {
    if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
        return x == y;
    }
    matches!((x.as_f64(), y.as_f64()), (Some(x), Some(y)) if x == y)
}

/// Whether `c` is a bidirectional formatting control (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069).
/// Invisible, these reorder the text around them on a terminal or in a mail client, so text from a response
/// could make a finding read as something else: they are neutralized like the other control characters.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Serialized JSON with each bidi control written as its escape (`\u202e`), as serde_json writes the other
/// control characters; the JSON means the same.
fn escape_bidi(json: &str) -> std::borrow::Cow<'_, str> {
    if !json.chars().any(is_bidi_control) {
        return std::borrow::Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if is_bidi_control(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The JSON type name of a value: `null`, `boolean`, `number`, `string`, `array`, `object`.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A value as compact JSON, cut after [`EXCERPT_CHARS`] characters with `…`. Serialization stops early, so an
/// excerpt of a 100 KB value costs about as much as one of a short value.
pub fn excerpt(value: &Value) -> String {
    let mut out = Capped {
        buf: Vec::with_capacity(32),
        cap: (EXCERPT_CHARS + 1) * 4,
    };
    // The only error is "full", which is expected: the buffer then holds more than EXCERPT_CHARS characters.
    let _ = match value {
        // Escaping only lengthens a string, so a prefix of EXCERPT_CHARS + 1 characters renders the same cut
        // without scanning the rest (serde_json escapes a string in one pass before writing).
        Value::String(s) => match s.char_indices().nth(EXCERPT_CHARS + 1) {
            Some((cut, _)) => serde_json::to_writer(&mut out, &s[..cut]),
            None => serde_json::to_writer(&mut out, s),
        },
        _ => serde_json::to_writer(&mut out, value),
    };
    let text = String::from_utf8_lossy(&out.buf);
    let text = escape_bidi(&text);
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// A value with its type for messages where the type is the point: `number 3`, `string "x"`, `object {}`;
/// `null` alone.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        _ => format!("{} {}", type_name(value), excerpt(value)),
    }
}

/// A string as a JSON string literal: `"gpt-4o"`.
pub fn quote(s: &str) -> String {
    excerpt(&Value::String(s.to_string()))
}

/// Appends one object key to a rendered path: `.key` for plain keys (`[A-Za-z0-9_-]+`), `["key"]` otherwise.
pub fn push_key(path: &mut String, key: &str) {
    if is_plain_key(key) {
        path.push('.');
        path.push_str(key);
    } else {
        path.push('[');
        // Serializing a string into a String cannot fail.
        path.push_str(&escape_bidi(
            &serde_json::to_string(key).unwrap_or_default(),
        ));
        path.push(']');
    }
}

/// Whether a key can be written after a dot in a selector or path.
pub fn is_plain_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(is_key_char)
}

/// The characters of a key written after a dot.
pub fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// An `io::Write` that accepts up to `cap` bytes, then fails, which stops `serde_json::to_writer`.
struct Capped {
    buf: Vec<u8>,
    cap: usize,
}

impl io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = self.cap - self.buf.len();
        if room == 0 {
            return Err(io::Error::other("excerpt is full"));
        }
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
