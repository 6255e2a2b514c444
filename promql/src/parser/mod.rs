//! The PromQL parser.
//!
//! [`parse`] lexes the query into tokens (`token.rs`, token shapes recognised
//! with nom), then parses them with precedence climbing (`parse.rs`) into an
//! [`Expr`], checking types as Prometheus's parser does. Errors carry the
//! byte offset and line:column of the fault, printed as Prometheus prints
//! them (`1:8: parse error: …`).

mod ast;
pub mod functions;
mod modifiers;
mod parse;
mod printer;
mod token;
mod value;

pub use ast::{AggOp, At, BinOp, Card, Expr, Pos, VectorMatching, VectorSelector};
pub use functions::Function;
pub use value::ValueType;

use std::fmt;

/// A query that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// Byte offset of the fault in the query.
    pub pos: usize,
    /// 1-based line and column (in characters) of the fault.
    pub line: usize,
    /// See `line`.
    pub col: usize,
    /// What is wrong, in Prometheus's words.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: parse error: {}", self.line, self.col, self.message)
    }
}

impl ParseError {
    fn at(query: &str, pos: usize, message: impl Into<String>) -> Self {
        let mut pos = pos.min(query.len());
        while pos > 0 && !query.is_char_boundary(pos) {
            pos -= 1;
        }
        let before = &query[..pos];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ParseError { pos, line, col, message: message.into() }
    }
}

/// Longest query accepted, in bytes; longer ones are refused before parsing.
pub const MAX_QUERY_LEN: usize = 256 * 1024;

/// Parses a whole PromQL expression.
pub fn parse(query: &str) -> Result<Expr, ParseError> {
    if query.len() > MAX_QUERY_LEN {
        return Err(ParseError::at(query, MAX_QUERY_LEN, format!("query longer than {MAX_QUERY_LEN} bytes")));
    }
    let toks = token::lex(query).map_err(|e| ParseError::at(query, e.pos, e.message))?;
    parse::Parser::new(&toks, query).parse_query().map_err(|e| ParseError::at(query, e.pos, e.message))
}

#[cfg(test)]
mod tests;

/// Parses a series written as in exposition or test files — `name`,
/// `name{a="b"}`, `{a="b"}`, `{}` — into its label set.
pub fn parse_series(text: &str) -> Result<storage::Labels, ParseError> {
    use token::Tok;
    let toks = token::lex(text).map_err(|e| ParseError::at(text, e.pos, e.message))?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    if let Tok::Ident(name) = &toks[0].tok {
        pairs.push((storage::METRIC_NAME.to_string(), name.clone()));
        i = 1;
    }
    if toks[i].tok == Tok::LBrace {
        i += 1;
        loop {
            match &toks[i].tok {
                Tok::RBrace => {
                    i += 1;
                    break;
                }
                Tok::Ident(n) | Tok::Str(n) => {
                    let name = n.clone();
                    match (&toks[i + 1].tok, toks.get(i + 2).map(|t| &t.tok)) {
                        (Tok::Assign, Some(Tok::Str(v))) => {
                            pairs.push((name, v.clone()));
                            i += 3;
                        }
                        (Tok::Comma | Tok::RBrace, _) if matches!(toks[i].tok, Tok::Str(_)) => {
                            pairs.push((storage::METRIC_NAME.to_string(), name));
                            i += 1;
                        }
                        _ => return Err(ParseError::at(text, toks[i].pos, "expected label=\"value\"")),
                    }
                    if toks[i].tok == Tok::Comma {
                        i += 1;
                    }
                }
                _ => return Err(ParseError::at(text, toks[i].pos, "unexpected token in series")),
            }
        }
    }
    if toks[i].tok != Tok::Eof {
        return Err(ParseError::at(text, toks[i].pos, "unexpected text after series"));
    }
    Ok(storage::Labels::from_pairs(pairs))
}
