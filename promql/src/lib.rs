//! PromQL for Vigil.
//!
//! A tour:
//! - [`parser`]: [`parse`] turns a query string into an [`Expr`] (lexer,
//!   precedence-climbing parser, type checks); errors carry line:column
//!   positions in Prometheus's shape;
//! - [`engine`]: [`Engine`] evaluates an expression over a [`storage::Db`]
//!   (the evaluator, aggregation, binary operators, range windows, and the
//!   functions by family under `engine/functions`);
//! - [`duration`]: Prometheus's duration notation and civil dates (kept here,
//!   not taken from a calendar crate: PromQL's date functions need only
//!   proleptic Gregorian UTC over i64 days, which Hinnant's algorithm gives
//!   exactly and without allocation for any float time).
//!
//! Native histograms, when they come, are a second sample value: their type
//! and arithmetic in `storage::model`, their functions in
//! `engine/functions/histogram.rs` beside the classic ones.

#![warn(missing_docs)]

pub mod duration;
pub mod engine;
pub mod parser;

pub use engine::{
    format_value, write_value, Annotations, Engine, EvalError, Series, Value, VectorSample, DEFAULT_LOOKBACK_MS,
};
pub use parser::{parse, parse_series, Expr, ParseError, ValueType, VectorSelector};
