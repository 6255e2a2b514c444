//! The syntax tree the parser produces and the engine evaluates.

use storage::Matcher;

/// A parsed PromQL expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `42`, `1e3`, `0x1f`, `Inf`, `NaN`.
    Number(f64),
    /// `"text"`, `'text'`, `` `raw` ``.
    String(String),
    /// `metric{label="value"}`.
    VectorSelector(VectorSelector),
}

/// An instant vector selector.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorSelector {
    /// The metric name when written before the braces.
    pub name: Option<String>,
    /// Every matcher, the metric name included as a `__name__` equality.
    pub matchers: Vec<Matcher>,
}

/// The type of a PromQL value, as the API names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    Scalar,
    String,
    Vector,
    Matrix,
}

impl ValueType {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::String => "string",
            ValueType::Vector => "vector",
            ValueType::Matrix => "matrix",
        }
    }
}

impl Expr {
    /// The type the expression evaluates to.
    pub fn value_type(&self) -> ValueType {
        match self {
            Expr::Number(_) => ValueType::Scalar,
            Expr::String(_) => ValueType::String,
            Expr::VectorSelector(_) => ValueType::Vector,
        }
    }
}
