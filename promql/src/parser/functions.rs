//! The function table: every PromQL function with its argument types, as
//! the parser checks calls. Evaluation lives in the engine.

use super::value::ValueType;
use ValueType::{Matrix as M, Scalar as S, String as Str, Vector as V};

/// A PromQL function's signature.
#[derive(Debug, PartialEq)]
pub struct Function {
    /// Its name as written.
    pub name: &'static str,
    /// Its arguments' types.
    pub args: &'static [ValueType],
    /// How many trailing arguments may be left out (0: none), or `usize::MAX`
    /// for "the last argument repeats".
    pub optional: usize,
    /// The type it returns.
    pub ret: ValueType,
    /// Behind Prometheus's `--enable-feature=promql-experimental-functions`.
    pub experimental: bool,
}

const fn f(name: &'static str, args: &'static [ValueType], ret: ValueType) -> Function {
    Function { name, args, optional: 0, ret, experimental: false }
}

const fn opt(name: &'static str, args: &'static [ValueType], optional: usize, ret: ValueType) -> Function {
    Function { name, args, optional, ret, experimental: false }
}

const fn exp(name: &'static str, args: &'static [ValueType], optional: usize, ret: ValueType) -> Function {
    Function { name, args, optional, ret, experimental: true }
}

/// Variadic marker: the last argument may repeat any number of times (or be absent).
pub const REPEAT: usize = usize::MAX;

/// Every function PromQL knows, by name.
pub static FUNCTIONS: &[Function] = &[
    f("abs", &[V], V),
    f("absent", &[V], V),
    f("absent_over_time", &[M], V),
    f("acos", &[V], V),
    f("acosh", &[V], V),
    f("asin", &[V], V),
    f("asinh", &[V], V),
    f("atan", &[V], V),
    f("atanh", &[V], V),
    f("avg_over_time", &[M], V),
    f("ceil", &[V], V),
    f("changes", &[M], V),
    f("clamp", &[V, S, S], V),
    f("clamp_max", &[V, S], V),
    f("clamp_min", &[V, S], V),
    f("cos", &[V], V),
    f("cosh", &[V], V),
    f("count_over_time", &[M], V),
    opt("day_of_month", &[V], 1, V),
    opt("day_of_week", &[V], 1, V),
    opt("day_of_year", &[V], 1, V),
    opt("days_in_month", &[V], 1, V),
    f("deg", &[V], V),
    f("delta", &[M], V),
    f("deriv", &[M], V),
    exp("double_exponential_smoothing", &[M, S, S], 0, V),
    exp("end", &[], 0, S),
    f("exp", &[V], V),
    exp("first_over_time", &[M], 0, V),
    f("floor", &[V], V),
    f("histogram_avg", &[V], V),
    f("histogram_count", &[V], V),
    f("histogram_fraction", &[S, S, V], V),
    f("histogram_quantile", &[S, V], V),
    exp("histogram_quantiles", &[V, Str, S], REPEAT, V),
    f("histogram_stddev", &[V], V),
    f("histogram_stdvar", &[V], V),
    f("histogram_sum", &[V], V),
    opt("hour", &[V], 1, V),
    f("idelta", &[M], V),
    f("increase", &[M], V),
    exp("info", &[V, V], 1, V),
    f("irate", &[M], V),
    opt("label_join", &[V, Str, Str, Str], REPEAT, V),
    f("label_replace", &[V, Str, Str, Str, Str], V),
    f("last_over_time", &[M], V),
    f("ln", &[V], V),
    f("log10", &[V], V),
    f("log2", &[V], V),
    exp("mad_over_time", &[M], 0, V),
    exp("max_of", &[S, S], 0, S),
    f("max_over_time", &[M], V),
    exp("min_of", &[S, S], 0, S),
    f("min_over_time", &[M], V),
    opt("minute", &[V], 1, V),
    opt("month", &[V], 1, V),
    f("pi", &[], S),
    f("predict_linear", &[M, S], V),
    f("present_over_time", &[M], V),
    f("quantile_over_time", &[S, M], V),
    f("rad", &[V], V),
    exp("range", &[], 0, S),
    f("rate", &[M], V),
    f("resets", &[M], V),
    opt("round", &[V, S], 1, V),
    f("scalar", &[V], S),
    f("sgn", &[V], V),
    f("sin", &[V], V),
    f("sinh", &[V], V),
    f("sort", &[V], V),
    exp("sort_by_label", &[V, Str], REPEAT, V),
    exp("sort_by_label_desc", &[V, Str], REPEAT, V),
    f("sort_desc", &[V], V),
    f("sqrt", &[V], V),
    exp("start", &[], 0, S),
    f("stddev_over_time", &[M], V),
    f("stdvar_over_time", &[M], V),
    exp("step", &[], 0, S),
    f("sum_over_time", &[M], V),
    f("tan", &[V], V),
    f("tanh", &[V], V),
    f("time", &[], S),
    f("timestamp", &[V], V),
    exp("ts_of_first_over_time", &[M], 0, V),
    exp("ts_of_last_over_time", &[M], 0, V),
    exp("ts_of_max_over_time", &[M], 0, V),
    exp("ts_of_min_over_time", &[M], 0, V),
    f("vector", &[S], V),
    opt("year", &[V], 1, V),
];

/// The function called `name`, if PromQL has one.
pub fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in FUNCTIONS.windows(2) {
            assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
        }
        assert!(lookup("rate").is_some());
        assert!(lookup("nope").is_none());
    }
}
