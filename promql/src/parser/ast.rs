//! The syntax tree the parser produces and the engine evaluates.

use super::functions::Function;
use super::value::ValueType;
use storage::Matcher;

/// Where a node starts in the query, for annotations: `(line:col)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
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
    /// `@ start()`: the query range's start.
    Start,
    /// `@ end()`: the query range's end.
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
    /// `@` modifier.
    pub at: Option<At>,
    /// The offset, and the range of a matrix selector around this selector,
    /// when written as duration expressions.
    pub durs: Option<Box<Durations>>,
    /// `anchored` (experimental): a range also takes the last sample at or
    /// before its start (within the lookback).
    pub anchored: bool,
    /// `smoothed` (experimental): values at the window's edges, or at an
    /// instant, interpolated between the samples around them.
    pub smoothed: bool,
}

/// Ranges, steps and offsets written as duration expressions (experimental
/// in Prometheus): kept to be printed as written, and, when they use
/// `step()` or `range()`, to be worked out for each query.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Durations {
    pub range: Option<DurExpr>,
    pub step: Option<DurExpr>,
    pub offset: Option<DurExpr>,
}

impl Durations {
    /// Whether any of them needs the query's step or range.
    pub fn is_const(&self) -> bool {
        [&self.range, &self.step, &self.offset].iter().all(|d| d.as_ref().is_none_or(DurExpr::is_const))
    }
}

/// A duration expression: arithmetic over durations and numbers (seconds),
/// `step()`, `range()`, `min_of` and `max_of`.
#[derive(Clone, Debug, PartialEq)]
pub enum DurExpr {
    /// Seconds.
    Number(f64),
    /// Milliseconds.
    Duration(i64),
    /// The range query's step (0 for an instant query).
    Step,
    /// The range query's end minus its start (0 for an instant query).
    Range,
    Neg(Box<DurExpr>),
    Paren(Box<DurExpr>),
    /// `+`, `-`, `*`, `/`, `%` or `^`.
    Binary(BinOp, Box<DurExpr>, Box<DurExpr>),
    MinOf(Box<DurExpr>, Box<DurExpr>),
    MaxOf(Box<DurExpr>, Box<DurExpr>),
}

impl DurExpr {
    /// Whether it is known without a query (no `step()` or `range()`).
    pub fn is_const(&self) -> bool {
        match self {
            DurExpr::Number(_) | DurExpr::Duration(_) => true,
            DurExpr::Step | DurExpr::Range => false,
            DurExpr::Neg(x) | DurExpr::Paren(x) => x.is_const(),
            DurExpr::Binary(_, a, b) | DurExpr::MinOf(a, b) | DurExpr::MaxOf(a, b) => a.is_const() && b.is_const(),
        }
    }

    /// Its value in seconds, given the query's step and range (ms).
    pub fn seconds(&self, step_ms: i64, range_ms: i64) -> f64 {
        let v = |x: &DurExpr| x.seconds(step_ms, range_ms);
        match self {
            DurExpr::Number(n) => *n,
            DurExpr::Duration(ms) => *ms as f64 / 1000.0,
            DurExpr::Step => step_ms as f64 / 1000.0,
            DurExpr::Range => range_ms as f64 / 1000.0,
            DurExpr::Neg(x) => -v(x),
            DurExpr::Paren(x) => v(x),
            DurExpr::MinOf(a, b) => v(a).min(v(b)),
            DurExpr::MaxOf(a, b) => v(a).max(v(b)),
            DurExpr::Binary(op, a, b) => {
                let (a, b) = (v(a), v(b));
                match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => a / b,
                    BinOp::Mod => a % b,
                    BinOp::Pow => a.powf(b),
                    _ => f64::NAN,
                }
            }
        }
    }

    /// Its value in milliseconds, or why it has none (division by zero, too large).
    pub fn millis(&self, step_ms: i64, range_ms: i64) -> Result<i64, String> {
        let s = self.seconds(step_ms, range_ms);
        if !s.is_finite() || s.abs() > 292_000_000_000.0 {
            return Err(format!("duration expression {self} is not a valid duration ({s})"));
        }
        Ok((s * 1000.0).round() as i64)
    }
}

/// Binary operators, in the order of the grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `unless`
    Unless,
    /// `==`
    Eql,
    /// `!=`
    Neq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `atan2`
    Atan2,
    /// `^`
    Pow,
}

impl BinOp {
    /// Binding strength: 1 (`or`) to 6 (`^`); higher binds tighter.
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

    /// `==`, `!=`, `<`, `<=`, `>`, `>=`: they filter unless `bool` is given.
    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eql | BinOp::Neq | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }

    /// `and`, `or`, `unless`: they match series, not values.
    pub fn is_set(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or | BinOp::Unless)
    }

    /// The operator as written in PromQL.
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
    /// Each side has at most one series per match group.
    OneToOne,
    /// `group_left`: many on the left to one on the right.
    ManyToOne,
    /// `group_right`: one on the left to many on the right.
    OneToMany,
    /// Set operators (`and`, `or`, `unless`).
    ManyToMany,
}

/// `on(…)`/`ignoring(…)` and `group_left(…)`/`group_right(…)`.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorMatching {
    /// The cardinality.
    pub card: Card,
    /// True for `on`, false for `ignoring` (or nothing).
    pub on: bool,
    /// The labels listed in `on(…)` or `ignoring(…)`.
    pub labels: Vec<String>,
    /// Extra labels copied from the "one" side with group_left/right.
    pub include: Vec<String>,
    /// `fill_left(v)` / `fill_right(v)` (`fill(v)` sets both; experimental):
    /// a sample of that value stands in for a missing match on that side.
    pub fill_left: Option<f64>,
    /// See `fill_left`.
    pub fill_right: Option<f64>,
}

impl VectorMatching {
    /// What a vector operation without modifiers matches with: one to one on all labels.
    pub fn one_to_one() -> VectorMatching {
        VectorMatching {
            card: Card::OneToOne,
            on: false,
            labels: vec![],
            include: vec![],
            fill_left: None,
            fill_right: None,
        }
    }
}

/// Aggregation operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggOp {
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `count`
    Count,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `group`
    Group,
    /// `stddev`
    Stddev,
    /// `stdvar`
    Stdvar,
    /// `topk`
    TopK,
    /// `bottomk`
    BottomK,
    /// `quantile`
    Quantile,
    /// `count_values`
    CountValues,
    /// `limitk` (experimental)
    LimitK,
    /// `limit_ratio` (experimental)
    LimitRatio,
}

impl AggOp {
    /// The operator of a name as written (any case), if it is one.
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
    /// A number literal.
    Number(f64),
    /// A string literal, unquoted.
    String(String),
    /// An instant vector selector.
    VectorSelector(VectorSelector),
    /// `selector[range]` (range in milliseconds).
    MatrixSelector {
        /// The selector the range applies to.
        vs: VectorSelector,
        /// The range (ms).
        range: i64,
    },
    /// `expr[range:step]` with its own offset and `@`.
    Subquery {
        /// The inner expression.
        expr: Box<Expr>,
        /// The range (ms).
        range: i64,
        /// The step (ms); `None` when left out (the engine's default applies).
        step: Option<i64>,
        /// `offset` (ms).
        offset: i64,
        /// `@` modifier.
        at: Option<At>,
        /// Range, step or offset written as duration expressions.
        durs: Option<Box<Durations>>,
    },
    /// Unary minus (plus is dropped at parse time).
    Neg(Box<Expr>),
    /// `( expr )`.
    Paren(Box<Expr>),
    /// A binary operation.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
        /// `bool` modifier of a comparison.
        return_bool: bool,
        /// `on`/`ignoring`/`group_*` when both sides are vectors.
        matching: Option<VectorMatching>,
    },
    /// A function call; `pos` is where its name starts, `arg_pos` where each argument does.
    Call {
        /// The function called.
        func: &'static Function,
        /// The arguments.
        args: Vec<Expr>,
        /// Where the name starts.
        pos: Pos,
        /// Where each argument starts.
        arg_pos: Vec<Pos>,
    },
    /// An aggregation; `pos` is where its parameter (or the operator) starts.
    Aggregate {
        /// The operator.
        op: AggOp,
        /// The vector aggregated.
        expr: Box<Expr>,
        /// The parameter of `topk`, `quantile`, `count_values`, ….
        param: Option<Box<Expr>>,
        /// The labels in `by(…)` or `without(…)`.
        grouping: Vec<String>,
        /// `without` rather than `by`.
        without: bool,
        /// Where the parameter (or the operator) starts.
        pos: Pos,
    },
}

impl Expr {
    /// Every vector selector in the expression (those of range selectors too), in order.
    pub fn selectors(&self) -> Vec<&VectorSelector> {
        fn walk<'e>(e: &'e Expr, out: &mut Vec<&'e VectorSelector>) {
            match e {
                Expr::Number(_) | Expr::String(_) => {}
                Expr::VectorSelector(vs) | Expr::MatrixSelector { vs, .. } => out.push(vs),
                Expr::Subquery { expr, .. } | Expr::Neg(expr) | Expr::Paren(expr) => walk(expr, out),
                Expr::Binary { lhs, rhs, .. } => {
                    walk(lhs, out);
                    walk(rhs, out);
                }
                Expr::Call { args, .. } => args.iter().for_each(|a| walk(a, out)),
                Expr::Aggregate { expr, param, .. } => {
                    param.iter().for_each(|p| walk(p, out));
                    walk(expr, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }

    /// The expression with every duration that needs `step()` or `range()`
    /// worked out for a query of that step and range (ms; 0 and 0 for an
    /// instant query), or None when it has none.
    pub fn with_query_durations(&self, step_ms: i64, range_ms: i64) -> Result<Option<Expr>, String> {
        if self.durations_are_const() {
            return Ok(None);
        }
        let mut e = self.clone();
        e.resolve_durations(step_ms, range_ms)?;
        Ok(Some(e))
    }

    fn durations_are_const(&self) -> bool {
        let sel = |vs: &VectorSelector| vs.durs.as_ref().is_none_or(|d| d.is_const());
        match self {
            Expr::Number(_) | Expr::String(_) => true,
            Expr::VectorSelector(vs) | Expr::MatrixSelector { vs, .. } => sel(vs),
            Expr::Subquery { expr, durs, .. } => {
                durs.as_ref().is_none_or(|d| d.is_const()) && expr.durations_are_const()
            }
            Expr::Neg(x) | Expr::Paren(x) => x.durations_are_const(),
            Expr::Binary { lhs, rhs, .. } => lhs.durations_are_const() && rhs.durations_are_const(),
            Expr::Call { args, .. } => args.iter().all(Expr::durations_are_const),
            Expr::Aggregate { expr, param, .. } => {
                expr.durations_are_const() && param.as_ref().is_none_or(|p| p.durations_are_const())
            }
        }
    }

    fn resolve_durations(&mut self, step_ms: i64, range_ms: i64) -> Result<(), String> {
        let positive = |d: &DurExpr, what: &str| -> Result<i64, String> {
            let ms = d.millis(step_ms, range_ms)?;
            if ms <= 0 {
                return Err(format!("{what} {d} must be greater than 0, got {ms}ms"));
            }
            Ok(ms)
        };
        match self {
            Expr::Number(_) | Expr::String(_) => {}
            Expr::VectorSelector(vs) => {
                if let Some(o) = vs.durs.as_ref().and_then(|d| d.offset.as_ref()) {
                    vs.offset = o.millis(step_ms, range_ms)?;
                }
            }
            Expr::MatrixSelector { vs, range } => {
                if let Some(d) = vs.durs.as_deref() {
                    if let Some(o) = &d.offset {
                        vs.offset = o.millis(step_ms, range_ms)?;
                    }
                    if let Some(r) = &d.range {
                        *range = positive(r, "range")?;
                    }
                }
            }
            Expr::Subquery { expr, range, step, offset, durs, .. } => {
                if let Some(d) = durs.as_deref() {
                    if let Some(r) = &d.range {
                        *range = positive(r, "range")?;
                    }
                    if let Some(s) = &d.step {
                        *step = Some(positive(s, "step")?);
                    }
                    if let Some(o) = &d.offset {
                        *offset = o.millis(step_ms, range_ms)?;
                    }
                }
                expr.resolve_durations(step_ms, range_ms)?;
            }
            Expr::Neg(x) | Expr::Paren(x) => x.resolve_durations(step_ms, range_ms)?,
            Expr::Binary { lhs, rhs, .. } => {
                lhs.resolve_durations(step_ms, range_ms)?;
                rhs.resolve_durations(step_ms, range_ms)?;
            }
            Expr::Call { args, .. } => {
                for a in args {
                    a.resolve_durations(step_ms, range_ms)?;
                }
            }
            Expr::Aggregate { expr, param, .. } => {
                expr.resolve_durations(step_ms, range_ms)?;
                if let Some(p) = param {
                    p.resolve_durations(step_ms, range_ms)?;
                }
            }
        }
        Ok(())
    }

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
