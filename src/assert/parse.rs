//! The selector parser: a recursive descent over characters that builds the steps of a [`Selector`] and reports
//! the first error with its 1-based character position.

use super::json::is_key_char;
use super::selector::{Filter, MAX_FANOUT_STEPS, MAX_STEPS, Selector, SelectorError, Step};
use serde_json::Value;

/// Parses selector text (see the module doc of `assert` for the language).
pub(super) fn selector(text: &str) -> Result<Selector, SelectorError> {
    Parser {
        chars: text.chars().collect(),
        pos: 0,
    }
    .selector()
}

/// A recursive-descent parser over characters; `pos` is 0-based, errors report it 1-based.
struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn selector(mut self) -> Result<Selector, SelectorError> {
        if self.peek() != Some('$') {
            return Err(self.error(0, "expected \"$\""));
        }
        self.pos = 1;
        let mut steps = Vec::new();
        let (mut count, mut fanout) = (0, 0);
        while let Some(c) = self.peek() {
            let start = self.pos;
            let step = match c {
                '.' => self.dot_key()?,
                '[' => self.bracket(true)?,
                _ => return Err(self.error(self.pos, format!("unexpected \"{c}\""))),
            };
            count += 1;
            match &step {
                Step::Wildcard => fanout += 1,
                Step::Filter(filter) => {
                    fanout += 1;
                    count += filter.path.len();
                }
                Step::Key(_) | Step::Index(_) => {}
            }
            if count > MAX_STEPS {
                let message = format!("selector too long: more than {MAX_STEPS} steps");
                return Err(self.error(start, message));
            }
            if fanout > MAX_FANOUT_STEPS {
                let message = format!(
                    "selector too complex: more than {MAX_FANOUT_STEPS} \"[*]\" and filter steps"
                );
                return Err(self.error(start, message));
            }
            steps.push(step);
        }
        Ok(Selector { steps })
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn error(&self, pos: usize, message: impl Into<String>) -> SelectorError {
        SelectorError {
            position: pos + 1,
            message: message.into(),
        }
    }

    /// `.key`, with `pos` at the dot.
    fn dot_key(&mut self) -> Result<Step, SelectorError> {
        self.pos += 1;
        let start = self.pos;
        while self.peek().is_some_and(is_key_char) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(match self.peek() {
                Some('.') => self.error(start - 1, "\"..\" (recursive descent) is not supported"),
                _ => self.error(start, "expected a key after \".\""),
            });
        }
        Ok(Step::Key(self.chars[start..self.pos].iter().collect()))
    }

    /// `["key"]`, `[N]`, and (when `full`) `[*]` and `[?(...)]`, with `pos` at the `[`.
    fn bracket(&mut self, full: bool) -> Result<Step, SelectorError> {
        let open = self.pos;
        self.pos += 1;
        let step = match self.peek() {
            None => return Err(self.error(open, "unclosed \"[\"")),
            Some('"') => Step::Key(self.string()?),
            Some(c) if c == '-' || c.is_ascii_digit() => Step::Index(self.index()?),
            Some('*') if full => {
                self.pos += 1;
                Step::Wildcard
            }
            Some('?') if full => Step::Filter(self.filter(open)?),
            Some('\'') => return Err(self.error(self.pos, "keys in brackets take double quotes")),
            Some(_) if full => {
                return Err(self.error(
                    self.pos,
                    "expected a quoted key, an index, \"*\" or \"?(\" after \"[\"",
                ));
            }
            Some(_) => {
                return Err(self.error(self.pos, "expected a quoted key or an index after \"[\""));
            }
        };
        self.close(']', open)?;
        Ok(step)
    }

    /// Expects `close` at `pos`; at the end of the text, the opener at `open` is unclosed.
    fn close(&mut self, close: char, open: usize) -> Result<(), SelectorError> {
        match self.peek() {
            Some(c) if c == close => {
                self.pos += 1;
                Ok(())
            }
            None => Err(self.error(open, format!("unclosed \"{}\"", self.chars[open]))),
            Some(c) => Err(self.error(self.pos, format!("expected \"{close}\", got \"{c}\""))),
        }
    }

    fn index(&mut self) -> Result<i64, SelectorError> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c == '-' || c.is_ascii_alphanumeric())
        {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        text.parse()
            .map_err(|_| self.error(start, format!("invalid index \"{text}\"")))
    }

    /// The raw text of a JSON string token (quotes included), with `pos` at the opening quote; escapes are checked.
    fn string_token(&mut self) -> Result<String, SelectorError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                None => return Err(self.error(start, "unclosed string")),
                Some('"') => break,
                Some('\\') => self.escape()?,
                Some(_) => self.pos += 1,
            }
        }
        self.pos += 1;
        Ok(self.chars[start..self.pos].iter().collect())
    }

    /// One escape sequence, with `pos` at the backslash.
    fn escape(&mut self) -> Result<(), SelectorError> {
        let at = self.pos;
        let bad = |p: &Parser, len: usize| {
            let end = (at + len).min(p.chars.len());
            let seq: String = p.chars[at..end].iter().collect();
            p.error(at, format!("invalid escape \"{seq}\""))
        };
        match self.chars.get(at + 1) {
            Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => self.pos += 2,
            Some('u') => {
                let hex = (at + 2..at + 6)
                    .all(|i| self.chars.get(i).is_some_and(char::is_ascii_hexdigit));
                if !hex {
                    return Err(bad(self, 6));
                }
                self.pos += 6;
            }
            _ => return Err(bad(self, 2)),
        }
        Ok(())
    }

    fn string(&mut self) -> Result<String, SelectorError> {
        let start = self.pos;
        let token = self.string_token()?;
        // Escapes are valid; what remains to fail is a raw control character or a lone surrogate.
        serde_json::from_str(&token).map_err(|_| self.error(start, "invalid string"))
    }

    /// `?(@path == literal)`, with `pos` at the `?`; `open` is the position of the `[`.
    fn filter(&mut self, open: usize) -> Result<Filter, SelectorError> {
        self.pos += 1;
        let paren = self.pos;
        if self.peek() != Some('(') {
            return Err(self.error(self.pos, "expected \"(\" after \"?\""));
        }
        self.pos += 1;
        self.skip_spaces();
        if self.peek() != Some('@') {
            return Err(match self.peek() {
                None => self.error(open, "unclosed \"[\""),
                Some(_) => self.error(self.pos, "expected \"@\""),
            });
        }
        self.pos += 1;
        let mut path = Vec::new();
        loop {
            match self.peek() {
                Some('.') => path.push(self.dot_key()?),
                Some('[') => path.push(self.bracket(false)?),
                _ => break,
            }
        }
        self.skip_spaces();
        let negated = match (self.peek(), self.chars.get(self.pos + 1)) {
            (Some('='), Some('=')) => false,
            (Some('!'), Some('=')) => true,
            (None, _) => return Err(self.error(open, "unclosed \"[\"")),
            _ => return Err(self.error(self.pos, "expected \"==\" or \"!=\"")),
        };
        self.pos += 2;
        self.skip_spaces();
        let literal = self.literal(open)?;
        self.skip_spaces();
        self.close(')', paren)?;
        Ok(Filter {
            path,
            negated,
            literal,
        })
    }

    fn literal(&mut self, open: usize) -> Result<Value, SelectorError> {
        let start = self.pos;
        let token = match self.peek() {
            None => return Err(self.error(open, "unclosed \"[\"")),
            Some('[' | '{') => {
                return Err(self.error(
                    start,
                    "arrays and objects cannot be compared; expected a JSON literal",
                ));
            }
            Some('"') => self.string_token()?,
            Some(_) => {
                while self
                    .peek()
                    .is_some_and(|c| !c.is_whitespace() && c != ')' && c != ']')
                {
                    self.pos += 1;
                }
                self.chars[start..self.pos].iter().collect()
            }
        };
        match serde_json::from_str::<Value>(&token) {
            Ok(v) if !v.is_array() && !v.is_object() => Ok(v),
            _ if token.is_empty() => Err(self.error(
                start,
                "expected a JSON literal (string, number, true, false, null)",
            )),
            _ => Err(self.error(
                start,
                format!(
                    "invalid literal {token} (expected a JSON string, number, true, false or null)"
                ),
            )),
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }
}
