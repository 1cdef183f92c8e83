//! The JSON assertion language: selectors parsed once, evaluated many times, findings rendered with the actual
//! values (pure: depends on `config` for [`FieldError`](crate::config::FieldError) and `probe` for
//! [`Finding`](crate::probe::Finding), nothing else of the crate, no I/O).
//!
//! # Selectors
//!
//! A selector starts with `$`, the root of the response body, followed by steps:
//!
//! | step | meaning | example |
//! |---|---|---|
//! | `.key` | the value at `key` of an object; key characters are `A-Z a-z 0-9 _ -` | `$.models.gpt-4o` |
//! | `["any key"]` | the same, for any key; the key is a JSON string (escapes like `\"`, `\u00e9`) | `$.headers["content type"]` |
//! | `[N]` | element `N` of an array, from 0; negative `N` counts from the end (`[-1]` is the last) | `$.data_sources[-1]` |
//! | `[*]` | every element of an array, or every value of an object | `$.data_sources[*].agent` |
//! | `[?(@.field == LITERAL)]` | the elements of an array (or values of an object) whose `field` equals `LITERAL` | `$.data_sources[?(@.type == "planning")].plan` |
//! | `[?(@.field != LITERAL)]` | … whose `field` differs from `LITERAL` or is absent | `$.data_sources[?(@.agent != "synthesizer")]` |
//!
//! In a filter, `@` is the element itself and may be followed by `.key`, `["key"]` and `[N]` steps (`@.a.b`,
//! `@["a b"][0]`); `LITERAL` is a JSON string, number, `true`, `false` or `null`. Numbers compare by value
//! (`1 == 1.0`). Spaces are allowed around the operator.
//!
//! A selector can match many values; each match has a concrete path such as `$.data_sources[2].agent`
//! (keys that are not plain `.key` keys are written `["key"]`). Errors name the character position, counted
//! from 1: `$.models[` fails with `unclosed "[" at position 9`.
//!
//! A selector has at most [`MAX_STEPS`](selector::MAX_STEPS) steps (filter paths included) and at most
//! [`MAX_FANOUT_STEPS`](selector::MAX_FANOUT_STEPS) `[*]` and filter steps, each of which doubles what its
//! [`Need`] reads (the need shares, so what it holds grows with the steps only).
//!
//! # Assertions (`[[expect.json]]`)
//!
//! ```toml
//! [[expect.json]]
//! path = "$.models"        # the selector (required)
//! type = "object"          # string | number | integer | boolean | null | array | object
//! non_empty = true         # a non-empty string, array or object
//! min_length = 1           # also length = N and max_length = N: characters of a string,
//!                          # elements of an array, keys of an object
//!
//! [[expect.json]]
//! path = "$.status"
//! equals = "healthy"       # also not_equals = VALUE, one_of = [VALUES], matches = "regex"
//! # exists = true          # at least one match; exists = false: no match at all
//! ```
//!
//! One table may hold several operators; each is checked on its own. `exists = true` passes when the selector
//! matches at least one value and `exists = false` when it matches none. Every other operator needs at least one
//! match (otherwise one finding, `json: expected "healthy", got no value at $.status`) and checks **every**
//! match, with one finding per offending value at its concrete path:
//!
//! ```text
//! $.status: expected "healthy", got "unhealthy"
//! $.models: expected non-empty, got {}
//! $.models.gpt-4o: expected present, got absent
//! $.answer: expected to match /^Software/, got "Hello"
//! $.charts: expected length >= 1, got length 0
//! $.status: expected type string, got number 3
//! $.status: expected one of ["a","b"], got "c"
//! ```
//!
//! `matches` uses the syntax of Rust's `regex` crate and searches anywhere in the string (anchor with `^…$`).
//! Values are compared as JSON; integers may be compared with floats. Long actual values are cut after 80
//! characters with `…`.
//!
//! # Parsing only what is read
//!
//! Every selector and assertion reports its [`Need`] — which members and elements of a document it reads — and
//! [`parse_pruned`] parses a body keeping only that, so large parts no check reads (sample rows) are validated
//! but never allocated.

mod assertion;
mod claim;
mod json;
mod need;
mod parse;
mod prune;
mod selector;

pub use assertion::{JsonAssertion, RawJsonAssertion, compile};
pub use claim::{Claim, ClaimKind, ClaimPath, ClaimStep};
pub use json::{
    EXCERPT_CHARS, describe, excerpt, is_bidi_control, json_eq, push_key, quote, toml_to_json,
    type_name,
};
pub use need::Need;
pub use prune::parse_pruned;
pub use selector::{Selector, SelectorError};

#[cfg(test)]
mod assertion_tests;
#[cfg(test)]
mod need_tests;
#[cfg(test)]
mod selector_tests;
