//! SQL is written once with SQLite's `?N` (or bare `?`) placeholders; PostgreSQL wants `$N`: [`to_dollars`].

/// `sql` with each `?N` written `$N` and each bare `?` numbered as SQLite numbers it (one more than the largest
/// number given so far); text inside quotes ('…', "…") and comments (`--`) is left as it is.
pub fn to_dollars(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut largest = 0u32;
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    // A doubled quote closes and reopens: the same as reading on.
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                let number = digits.parse().unwrap_or(largest + 1);
                largest = largest.max(number);
                out.push('$');
                out.push_str(&number.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::to_dollars;

    #[test]
    fn placeholders_are_numbered_as_sqlite_numbers_them_and_quoted_text_is_left_alone() {
        for (sql, expected) in [
            ("SELECT 1", "SELECT 1"),
            ("WHERE a = ?1 AND b = ?2", "WHERE a = $1 AND b = $2"),
            ("VALUES (?1, ?2, ?1)", "VALUES ($1, $2, $1)"),
            ("IN (?, ?, ?)", "IN ($1, $2, $3)"),
            (
                "a = ?3 AND b = ? AND c = ?1",
                "a = $3 AND b = $4 AND c = $1",
            ),
            ("?10 + ?9", "$10 + $9"),
            ("x = '?1' AND y = ?1", "x = '?1' AND y = $1"),
            ("x = 'it''s ?' AND y = ?", "x = 'it''s ?' AND y = $1"),
            ("\"odd?col\" = ?2", "\"odd?col\" = $2"),
            ("-- why ?\nWHERE a = ?", "-- why ?\nWHERE a = $1"),
            ("a - -1 = ?", "a - -1 = $1"),
            ("'unterminated ?", "'unterminated ?"),
        ] {
            assert_eq!(to_dollars(sql), expected, "{sql}");
        }
    }
}
