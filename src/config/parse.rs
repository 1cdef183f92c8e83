//! Strict TOML parsing that finds every unknown key and type error in a file, not only the first.
//!
//! The text is parsed once into a `toml::Table` (syntax errors stop there). Then the typed struct is
//! deserialized from the table with `serde_path_to_error`; each error is recorded with its key, the offending
//! key is removed, and deserialization is retried, so one run reports all of a file's structural errors.

use super::FieldError;
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

/// How many structural errors one file may report before parsing gives up on it.
const MAX_ERRORS_PER_FILE: usize = 50;

/// Parses `text` into `T`, or returns every error found, each with its key.
pub fn parse_toml<T: DeserializeOwned>(text: &str) -> Result<T, Vec<FieldError>> {
    match parse_toml_lenient(text) {
        (Some(parsed), errors) if errors.is_empty() => Ok(parsed),
        (_, errors) => Err(errors),
    }
}

/// Like [`parse_toml`], but also returns what could be parsed once the offending keys were dropped, so that
/// later checks (compile) can report their errors in the same run.
pub fn parse_toml_lenient<T: DeserializeOwned>(text: &str) -> (Option<T>, Vec<FieldError>) {
    let mut table: toml::Table = match text.parse() {
        Ok(table) => table,
        Err(e) => return (None, vec![syntax_error(text, &e)]),
    };
    let mut errors = Vec::new();
    loop {
        let value = toml::Value::Table(table.clone());
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(parsed) => return (Some(parsed), errors),
            Err(e) => {
                let segments: Vec<Segment> = e.path().iter().cloned().collect();
                let message = e.inner().message().trim().to_string();
                let (key_segments, message) = locate(&segments, &message);
                errors.push(FieldError::new(
                    render_key(&key_segments),
                    humanize(&message),
                ));
                if errors.len() >= MAX_ERRORS_PER_FILE || !remove_at(&mut table, &key_segments) {
                    return (None, errors);
                }
            }
        }
    }
}

fn syntax_error(text: &str, e: &toml::de::Error) -> FieldError {
    let message = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            FieldError::new(
                "",
                format!("TOML syntax error at line {line}, column {column}: {message}"),
            )
        }
        None => FieldError::new("", format!("TOML syntax error: {message}")),
    }
}

/// For an unknown field, serde reports the path of the table holding it; the key itself is in the message.
/// Returns the full key path of the offending entry and the message.
fn locate(segments: &[Segment], message: &str) -> (Vec<Segment>, String) {
    let mut key = segments.to_vec();
    if let Some(field) = unknown_field_name(message)
        && !matches!(key.last(), Some(Segment::Map { key: k }) if *k == field)
    {
        key.push(Segment::Map { key: field });
    }
    (key, message.to_string())
}

fn unknown_field_name(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest[..rest.find('`')?].to_string())
}

fn render_key(segments: &[Segment]) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                if key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    out.push_str(key);
                } else {
                    out.push_str(&format!("{key:?}"));
                }
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// Rewrites serde's wording into the project's: `unknown key "stauts" — did you mean "status"?`.
fn humanize(message: &str) -> String {
    let Some(field) = unknown_field_name(message) else {
        return message.to_string();
    };
    let known: Vec<&str> = message
        .split_once("expected ")
        .map(|(_, list)| list.split('`').skip(1).step_by(2).collect())
        .unwrap_or_default();
    let mut out = format!("unknown key \"{field}\"");
    match suggest(&field, &known) {
        Some(best) => out.push_str(&format!(" — did you mean \"{best}\"?")),
        None if !known.is_empty() => out.push_str(&format!(" (known keys: {})", known.join(", "))),
        None => out.push_str(" (this table takes no keys)"),
    }
    out
}

/// The known word closest to `word`, if it is close enough to be the obvious intent.
pub fn suggest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(word, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4) && *d < k.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Removes the entry at `segments` so the next attempt gets past it. Returns false when nothing was removed.
fn remove_at(table: &mut toml::Table, segments: &[Segment]) -> bool {
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let mut current: &mut toml::Value = match parents.first() {
        None => return remove_child_of_table(table, last),
        Some(Segment::Map { key }) => match table.get_mut(key) {
            Some(v) => v,
            None => return false,
        },
        Some(_) => return false,
    };
    for segment in &parents[1..] {
        current = match (segment, current) {
            (Segment::Map { key }, toml::Value::Table(t)) => match t.get_mut(key) {
                Some(v) => v,
                None => return false,
            },
            (Segment::Seq { index }, toml::Value::Array(a)) => match a.get_mut(*index) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match current {
        toml::Value::Table(t) => remove_child_of_table(t, last),
        toml::Value::Array(a) => match last {
            Segment::Seq { index } if *index < a.len() => {
                a.remove(*index);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

fn remove_child_of_table(table: &mut toml::Table, segment: &Segment) -> bool {
    match segment {
        Segment::Map { key } => table.remove(key).is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: Option<String>,
        #[serde(default)]
        items: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        status: Option<i64>,
        latency: Option<String>,
    }

    fn errors(text: &str) -> Vec<String> {
        parse_toml::<Outer>(text)
            .expect_err("should fail")
            .into_iter()
            .map(|e| format!("{}: {}", e.key, e.message))
            .collect()
    }

    #[test]
    fn reports_every_unknown_key_and_type_error_at_once() {
        let text = "nmae = \"x\"\n[[items]]\nstauts = 200\n[[items]]\nstatus = \"ok\"\nzzz = 1\n";
        assert_eq!(
            errors(text),
            vec![
                "nmae: unknown key \"nmae\" — did you mean \"name\"?",
                "items[0].stauts: unknown key \"stauts\" — did you mean \"status\"?",
                "items[1].status: invalid type: string \"ok\", expected i64",
                "items[1].zzz: unknown key \"zzz\" (known keys: status, latency)",
            ]
        );
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let e = parse_toml::<Outer>("name = \"x\"\nitems = [\n").expect_err("syntax");
        assert_eq!(e.len(), 1);
        assert_eq!(
            e[0].message,
            "TOML syntax error at line 2, column 10: unclosed array, expected `]`"
        );
    }

    #[test]
    fn valid_text_parses() {
        let o: Outer = parse_toml("name = \"x\"\n[[items]]\nstatus = 1\n").expect("valid");
        assert_eq!(o.items.len(), 1);
    }

    #[test]
    fn suggestions_only_when_close() {
        assert_eq!(suggest("stauts", &["status", "latency"]), Some("status"));
        assert_eq!(suggest("timeout", &["status", "latency"]), None);
        assert_eq!(suggest("x", &["y"]), None);
    }
}
