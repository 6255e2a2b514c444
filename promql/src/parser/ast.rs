//! The syntax tree the parser produces and the engine evaluates.

use storage::Matcher;

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
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
        }
    }

    /// The name the HTTP API uses in `resultType`.
    pub fn api_name(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::String => "string",
            ValueType::Vector => "vector",
            ValueType::Matrix => "matrix",
        }
    }
}

/// Where a node starts in the query, for annotations: `(line:col)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({}:{})", self.line, self.col)
    }
}

/// `@ <time>`, `@ start()`, `@ end()`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum At {
    /// Milliseconds since the epoch.
    Time(i64),
    Start,
    End,
}

/// An instant vector selector with its modifiers.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorSelector {
    /// The metric name when written before the braces.
    pub name: Option<String>,
    /// Every matcher, the metric name included as a `__name__` equality.
    pub matchers: Vec<Matcher>,
    /// `offset` in milliseconds (negative allowed).
    pub offset: i64,
    pub at: Option<At>,
}

/// Binary operators, in the order of the grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Unless,
    Eql,
    Neq,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Atan2,
    Pow,
}

impl BinOp {
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And | BinOp::Unless => 2,
            BinOp::Eql | BinOp::Neq | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Atan2 => 5,
            BinOp::Pow => 6,
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eql | BinOp::Neq | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }

    pub fn is_set(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or | BinOp::Unless)
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Unless => "unless",
            BinOp::Eql => "==",
            BinOp::Neq => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Atan2 => "atan2",
            BinOp::Pow => "^",
        }
    }
}

/// How the two sides of a vector binary operation are matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Card {
    OneToOne,
    ManyToOne,
    OneToMany,
    ManyToMany,
}

/// `on(…)`/`ignoring(…)` and `group_left(…)`/`group_right(…)`.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorMatching {
    pub card: Card,
    /// True for `on`, false for `ignoring` (or nothing).
    pub on: bool,
    pub labels: Vec<String>,
    /// Extra labels copied from the "one" side with group_left/right.
    pub include: Vec<String>,
}

/// Aggregation operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggOp {
    Sum,
    Avg,
    Count,
    Min,
    Max,
    Group,
    Stddev,
    Stdvar,
    TopK,
    BottomK,
    Quantile,
    CountValues,
    LimitK,
    LimitRatio,
}

impl AggOp {
    pub fn from_name(s: &str) -> Option<AggOp> {
        Some(match s.to_ascii_lowercase().as_str() {
            "sum" => AggOp::Sum,
            "avg" => AggOp::Avg,
            "count" => AggOp::Count,
            "min" => AggOp::Min,
            "max" => AggOp::Max,
            "group" => AggOp::Group,
            "stddev" => AggOp::Stddev,
            "stdvar" => AggOp::Stdvar,
            "topk" => AggOp::TopK,
            "bottomk" => AggOp::BottomK,
            "quantile" => AggOp::Quantile,
            "count_values" => AggOp::CountValues,
            "limitk" => AggOp::LimitK,
            "limit_ratio" => AggOp::LimitRatio,
            _ => return None,
        })
    }

    /// Whether the operator takes a parameter before the vector.
    pub fn has_param(self) -> bool {
        matches!(
            self,
            AggOp::TopK | AggOp::BottomK | AggOp::Quantile | AggOp::CountValues | AggOp::LimitK | AggOp::LimitRatio
        )
    }
}

/// A parsed PromQL expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Number(f64),
    String(String),
    VectorSelector(VectorSelector),
    /// `selector[range]` (range in milliseconds).
    MatrixSelector {
        vs: VectorSelector,
        range: i64,
    },
    /// `expr[range:step]` with its own offset and `@`.
    Subquery {
        expr: Box<Expr>,
        range: i64,
        step: Option<i64>,
        offset: i64,
        at: Option<At>,
    },
    /// Unary minus (plus is dropped at parse time).
    Neg(Box<Expr>),
    Paren(Box<Expr>),
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        return_bool: bool,
        matching: Option<VectorMatching>,
    },
    /// A function call; `pos` is where its name starts, `arg_pos` where each argument does.
    Call {
        func: &'static crate::functions::Function,
        args: Vec<Expr>,
        pos: Pos,
        arg_pos: Vec<Pos>,
    },
    /// An aggregation; `pos` is where its parameter (or the operator) starts.
    Aggregate {
        op: AggOp,
        expr: Box<Expr>,
        param: Option<Box<Expr>>,
        grouping: Vec<String>,
        without: bool,
        pos: Pos,
    },
}

impl Expr {
    /// The type the expression evaluates to.
    pub fn value_type(&self) -> ValueType {
        match self {
            Expr::Number(_) => ValueType::Scalar,
            Expr::String(_) => ValueType::String,
            Expr::VectorSelector(_) => ValueType::Vector,
            Expr::MatrixSelector { .. } | Expr::Subquery { .. } => ValueType::Matrix,
            Expr::Neg(e) | Expr::Paren(e) => e.value_type(),
            Expr::Binary { lhs, rhs, .. } => {
                if lhs.value_type() == ValueType::Scalar && rhs.value_type() == ValueType::Scalar {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            Expr::Call { func, .. } => func.ret,
            Expr::Aggregate { .. } => ValueType::Vector,
        }
    }
}
