//! PromQL parser written with nom.
//!
//! [`parse`] turns a query into an [`Expr`]. Errors carry the byte offset and
//! the line:column of the fault and say what was expected there, in the shape
//! Prometheus prints them (`1:8: parse error: …`).

mod ast;
mod lex;

pub use ast::{Expr, ValueType, VectorSelector};

use lex::{Input, Span};

use nom::branch::alt;
use nom::character::complete::char;
use nom::combinator::opt;
use nom::Parser;
use std::fmt;
use storage::{MatchOp, Matcher, METRIC_NAME};

/// A query that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// Byte offset of the fault in the query.
    pub pos: usize,
    /// 1-based line and column (in characters) of the fault.
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: parse error: {}", self.line, self.col, self.message)
    }
}

impl ParseError {
    fn at(query: &str, pos: usize, message: impl Into<String>) -> Self {
        let pos = pos.min(query.len());
        let before = &query[..floor_char_boundary(query, pos)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ParseError { pos, line, col, message: message.into() }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Longest query accepted, in bytes; longer ones are refused before parsing.
pub const MAX_QUERY_LEN: usize = 256 * 1024;

/// Parses a whole PromQL expression.
pub fn parse(query: &str) -> Result<Expr, ParseError> {
    if query.len() > MAX_QUERY_LEN {
        return Err(ParseError::at(query, MAX_QUERY_LEN, format!("query longer than {MAX_QUERY_LEN} bytes")));
    }
    let (rest, _) = lex::ws(query).map_err(|e| to_error(query, e))?;
    if rest.is_empty() {
        return Err(ParseError::at(query, 0, "no expression found in input"));
    }
    let (rest, expr) = expr(rest).map_err(|e| to_error(query, e))?;
    let (rest, _) = lex::ws(rest).map_err(|e| to_error(query, e))?;
    if let Some(c) = rest.chars().next() {
        let pos = query.len() - rest.len();
        return Err(ParseError::at(query, pos, format!("unexpected character after expression: {c:?}")));
    }
    Ok(expr)
}

type PResult<'a, T> = nom::IResult<Input<'a>, T, lex::Error>;

fn to_error(query: &str, e: nom::Err<lex::Error>) -> ParseError {
    match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => ParseError::at(query, query.len() - e.remaining, e.message()),
        nom::Err::Incomplete(_) => ParseError::at(query, query.len(), "unexpected end of input"),
    }
}

fn expr(i: Input<'_>) -> PResult<'_, Expr> {
    alt((
        lex::number.map(Expr::Number),
        lex::string.map(|s: Span<String>| Expr::String(s.value)),
        vector_selector.map(Expr::VectorSelector),
    ))
    .parse(i)
    .map_err(|e| e.map(|e| e.or_expected("an expression")))
}

/// `name`, `name{…}` or `{…}`.
fn vector_selector(i: Input<'_>) -> PResult<'_, VectorSelector> {
    let start = i.len();
    let (i, name) = opt(lex::metric_name).parse(i)?;
    let (i, _) = lex::ws(i)?;
    let (i, braces) = if name.is_some() {
        opt(label_matchers).parse(i)?
    } else {
        let (i, m) = label_matchers(i)?;
        (i, Some(m))
    };
    let mut matchers = Vec::new();
    if let Some(n) = &name {
        matchers.push(
            Matcher::new(MatchOp::Equal, METRIC_NAME, n.value.clone())
                .map_err(|e| lex::Error::fail(start, e.to_string()))?,
        );
    }
    for (m, pos) in braces.unwrap_or_default() {
        if name.is_some() && m.name == METRIC_NAME {
            return Err(lex::Error::fail(pos, "metric name must not be set twice"));
        }
        matchers.push(m);
    }
    if matchers.iter().all(|m| m.matches_empty()) {
        return Err(lex::Error::fail(start, "vector selector must contain at least one non-empty matcher"));
    }
    Ok((i, VectorSelector { name: name.map(|n| n.value), matchers }))
}

/// `{a="b", c=~"d",}` → matchers with their positions.
fn label_matchers(i: Input<'_>) -> PResult<'_, Vec<(Matcher, usize)>> {
    let (mut i, _) = char('{').parse(i)?;
    let mut out = Vec::new();
    loop {
        let (j, _) = lex::ws(i)?;
        if let Ok((j, _)) = char::<_, lex::Error>('}').parse(j) {
            return Ok((j, out));
        }
        let pos = j.len();
        let (j, name) = lex::label_name(j).map_err(|e| e.map(|e| e.or_expected("label name or '}'")).into_failure())?;
        let (j, _) = lex::ws(j)?;
        let (j, op) =
            lex::match_op(j).map_err(|e| e.map(|e| e.or_expected("label matching operator")).into_failure())?;
        let (j, _) = lex::ws(j)?;
        let (j, value) = lex::string(j).map_err(|e| e.map(|e| e.or_expected("string")).into_failure())?;
        let m =
            Matcher::new(op, name.value, value.value).map_err(|e| lex::Error::fail(value.remaining, e.to_string()))?;
        out.push((m, pos));
        let (j, _) = lex::ws(j)?;
        if let Ok((j, _)) = char::<_, lex::Error>(',').parse(j) {
            i = j;
            continue;
        }
        match char::<_, lex::Error>('}').parse(j) {
            Ok((j, _)) => return Ok((j, out)),
            Err(_) => return Err(lex::Error::fail(j.len(), "expected ',' or '}' in label matching")),
        }
    }
}

trait IntoFailure {
    fn into_failure(self) -> Self;
}

impl<E> IntoFailure for nom::Err<E> {
    fn into_failure(self) -> Self {
        match self {
            nom::Err::Error(e) => nom::Err::Failure(e),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests;
