//! The generated rules as exact text, and every error as exact text.

use super::*;
