//! Label matchers (`=`, `!=`, `=~`, `!~`) as PromQL and the API use them.

use regex::Regex;
use std::fmt;

/// How a matcher compares a label value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~` (anchored at both ends)
    Regex,
    /// `!~` (anchored at both ends)
    NotRegex,
}

impl fmt::Display for MatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        })
    }
}

/// A regex that failed to compile.
#[derive(Debug, thiserror::Error)]
#[error("invalid regular expression {pattern:?}: {reason}")]
pub struct BadRegex {
    /// The pattern as written.
    pub pattern: String,
    /// What the regex engine said.
    pub reason: String,
}

/// `name op "value"`. Regexes are fully anchored, as in Prometheus.
#[derive(Clone, Debug)]
pub struct Matcher {
    /// The label name.
    pub name: String,
    /// How it matches.
    pub op: MatchOp,
    /// The value or the pattern.
    pub value: String,
    re: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name && self.op == o.op && self.value == o.value
    }
}

impl Matcher {
    /// A matcher; a regex is compiled here (anchored), and a bad one is an error.
    pub fn new(op: MatchOp, name: impl Into<String>, value: impl Into<String>) -> Result<Self, BadRegex> {
        let value = value.into();
        let re = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(anchored_regex(&value)?),
            _ => None,
        };
        Ok(Matcher { name: name.into(), op, value, re })
    }

    /// Whether a label value (absent = "") satisfies the matcher.
    pub fn matches(&self, v: &str) -> bool {
        match self.op {
            MatchOp::Equal => v == self.value,
            MatchOp::NotEqual => v != self.value,
            MatchOp::Regex => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchOp::NotRegex => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }

    /// True when the matcher accepts the empty string, i.e. also selects
    /// series that lack the label.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op, self.value)
    }
}

/// Compiles `^(?:pattern)$` with a size limit, so that a hostile pattern is
/// an error instead of a memory blow-up.
pub fn anchored_regex(pattern: &str) -> Result<Regex, BadRegex> {
    regex::RegexBuilder::new(&format!("^(?s:{pattern})$"))
        .size_limit(4 << 20)
        .dfa_size_limit(4 << 20)
        .build()
        .map_err(|e| BadRegex { pattern: pattern.to_string(), reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_is_anchored_and_dot_matches_newline() {
        let m = Matcher::new(MatchOp::Regex, "a", "fo+").unwrap();
        assert!(m.matches("foo"));
        assert!(!m.matches("xfoo"));
        assert!(!m.matches("foox"));
        let m = Matcher::new(MatchOp::Regex, "a", "a.b").unwrap();
        assert!(m.matches("a\nb"));
    }

    #[test]
    fn not_equal_empty_selects_present_labels() {
        let m = Matcher::new(MatchOp::NotEqual, "a", "").unwrap();
        assert!(m.matches("x"));
        assert!(!m.matches_empty());
    }

    #[test]
    fn bad_regex_is_an_error() {
        assert!(Matcher::new(MatchOp::Regex, "a", "(").is_err());
    }
}
