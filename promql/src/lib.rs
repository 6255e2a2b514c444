//! PromQL for Vigil.
//!
//! A tour:
//! - [`parser`]: [`parse`] turns a query string into an [`Expr`]; errors
//!   carry line:column positions in Prometheus's shape;
//! - [`engine`]: [`Engine`] evaluates an expression over a [`storage::Db`].
//!
//! The grammar grows toward the whole of PromQL; today it covers number and
//! string literals and instant vector selectors.

pub mod engine;
pub mod parser;

pub use engine::{Engine, EvalError, Value, VectorSample, DEFAULT_LOOKBACK_MS};
pub use parser::{parse, Expr, ParseError, ValueType, VectorSelector};
