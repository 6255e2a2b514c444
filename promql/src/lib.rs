//! PromQL for Vigil.
//!
//! A tour:
//! - [`parser`]: [`parse`] turns a query string into an [`Expr`] (lexer,
//!   precedence-climbing parser, type checks); errors carry line:column
//!   positions in Prometheus's shape;
//! - [`engine`]: [`Engine`] evaluates an expression over a [`storage::Db`].

pub mod duration;
pub mod engine;
pub mod parser;

pub use engine::{
    format_value, write_value, Annotations, Engine, EvalError, Series, Value, VectorSample, DEFAULT_LOOKBACK_MS,
};
pub use parser::{parse, parse_series, Expr, ParseError, ValueType, VectorSelector};
