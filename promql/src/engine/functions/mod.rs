//! PromQL's functions, by family. The evaluator evaluates a call's
//! arguments and hands them here with the argument expressions, as
//! Prometheus's functions receive `vals` and `args`: the values are the
//! input, the expressions give what values cannot (`absent`'s labels, a
//! range argument's window, `info`'s selector). No function evaluates an
//! expression itself.
//!
//! - [`math`]: element-wise math and clamping, scalar functions;
//! - [`labels`]: `label_replace`, `label_join`, `absent` and the sorts;
//! - [`dates`]: `year()`, `month()`, … `days_in_month()`;
//! - [`histogram`]: classic-histogram quantiles and fractions;
//! - [`rate`]: the extrapolated rate family and anchored/smoothed edges;
//! - [`over_time`]: every range-vector function over one window;
//! - [`info`]: `info()` and `timestamp()` of a selector.

mod dates;
mod histogram;
mod info;
mod labels;
mod math;
mod over_time;
mod rate;

pub(crate) use histogram::BucketLayout;
pub(crate) use info::timestamp_of_selector;
pub(crate) use labels::{joiner, replacer, Relabelled};
pub(crate) use over_time::{keeps_name, window_of, window_value};
pub(crate) use rate::{counter_info, extend_floats, RateTimes};

use super::numeric::check_quantile;
use super::{Ctx, EvalError, Sample, Val};
use crate::parser::{Expr, Function, Pos};
use crate::ValueType;
use storage::Labels;

/// A call's evaluated arguments, taken by position.
pub(crate) struct Args {
    vals: Vec<Val>,
}

impl Args {
    pub(crate) fn new(vals: Vec<Val>) -> Self {
        Args { vals }
    }

    fn len(&self) -> usize {
        self.vals.len()
    }

    /// The value at `k`, moved out (each vector is read once).
    fn take(&mut self, k: usize) -> Option<Val> {
        self.vals.get_mut(k).map(|v| std::mem::replace(v, Val::Scalar(f64::NAN)))
    }

    /// The instant vector at `k` (moved out), empty if there is none.
    fn vector(&mut self, k: usize) -> Vec<Sample> {
        match self.take(k) {
            Some(Val::Vector(v)) => v,
            _ => Vec::new(),
        }
    }

    /// The range vector at `k` (moved out), empty if there is none.
    fn matrix(&mut self, k: usize) -> Vec<super::Series> {
        match self.take(k) {
            Some(Val::Matrix(m)) => m,
            _ => Vec::new(),
        }
    }

    /// The scalar at `k`, NaN if there is none.
    fn scalar(&self, k: usize) -> f64 {
        match self.vals.get(k) {
            Some(Val::Scalar(s)) => *s,
            _ => f64::NAN,
        }
    }

    /// The string at `k`, empty if there is none.
    fn string(&self, k: usize) -> String {
        match self.vals.get(k) {
            Some(Val::Str(s)) => s.clone(),
            _ => String::new(),
        }
    }
}

/// Applies `f` to every sample's value; the result drops the metric name.
fn map(v: Vec<Sample>, f: impl Fn(f64) -> f64) -> Val {
    Val::Vector(
        v.into_iter()
            .map(|mut s| {
                s.v = f(s.v);
                s.drop_name = true;
                s
            })
            .collect(),
    )
}

/// Whether `f` takes a range vector (`quantile_over_time` takes it second).
pub(crate) fn is_range_function(f: &Function) -> bool {
    f.args.first() == Some(&ValueType::Matrix) || f.name == "quantile_over_time"
}

/// Evaluates function `f` at time `t` over its evaluated arguments `args`,
/// written as `exprs` (positions: the call's `pos`, each argument's `arg_pos`).
pub(crate) fn call(
    ctx: &Ctx,
    f: &Function,
    exprs: &[Expr],
    mut args: Args,
    t: i64,
    pos: Pos,
    arg_pos: &[Pos],
) -> Result<Val, EvalError> {
    let name = f.name;
    let at = |k: usize| arg_pos.get(k).copied().unwrap_or(pos);
    if name.starts_with("sort") && ctx.step > 0 {
        ctx.warn(format!(
            "PromQL warning: sort is ineffective for range queries since results are always ordered by labels {pos}"
        ));
    }
    if is_range_function(f) {
        return over_time::call(ctx, name, exprs, args, t, at(0));
    }
    Ok(match name {
        "time" => Val::Scalar(t as f64 / 1000.0),
        "start" => Val::Scalar(ctx.start as f64 / 1000.0),
        "end" => Val::Scalar(ctx.end as f64 / 1000.0),
        "range" => Val::Scalar((ctx.end - ctx.start) as f64 / 1000.0),
        "step" => Val::Scalar(ctx.step as f64 / 1000.0),
        "vector" => Val::Vector(vec![Sample { labels: Labels::empty(), v: args.scalar(0), drop_name: false }]),
        "scalar" => {
            let v = args.vector(0);
            Val::Scalar(if v.len() == 1 { v[0].v } else { f64::NAN })
        }
        // A selector's own sample times are read by the evaluator
        // (`timestamp_of_selector`); any other argument is as of `t`.
        "timestamp" => map(args.vector(0), move |_| t as f64 / 1000.0),
        "absent" => labels::absent(args.vector(0), &exprs[0]),
        "label_replace" => {
            let (dst, repl, src, re) = (args.string(1), args.string(2), args.string(3), args.string(4));
            labels::label_replace(ctx, pos, args.vector(0), &dst, &repl, &src, &re)?
        }
        "label_join" => {
            let srcs: Vec<String> = (3..args.len()).map(|k| args.string(k)).collect();
            labels::label_join(ctx, pos, args.vector(0), &args.string(1), &args.string(2), &srcs)?
        }
        "sort" | "sort_desc" => labels::sort(args.vector(0), name == "sort_desc"),
        "sort_by_label" | "sort_by_label_desc" => {
            let names: Vec<String> = (1..args.len()).map(|k| args.string(k)).collect();
            labels::sort_by_label(args.vector(0), &names, name == "sort_by_label_desc")
        }
        "histogram_quantile" => {
            let q = args.scalar(0);
            check_quantile(ctx, q, at(0));
            histogram::histogram_quantile(ctx, q, args.vector(1), at(1))
        }
        "histogram_quantiles" => {
            let qs: Vec<(f64, Pos)> = (2..args.len()).map(|k| (args.scalar(k), at(k))).collect();
            histogram::histogram_quantiles(ctx, args.vector(0), &args.string(1), &qs, at(0))
        }
        "histogram_fraction" => {
            let (lo, hi) = (args.scalar(0), args.scalar(1));
            histogram::histogram_fraction(ctx, lo, hi, args.vector(2), at(2))
        }
        "info" => info::info(ctx, args.vector(0), exprs, t)?,
        _ if dates::is_date_function(name) => {
            let v = if exprs.is_empty() {
                vec![Sample { labels: Labels::empty(), v: t as f64 / 1000.0, drop_name: false }]
            } else {
                args.vector(0)
            };
            map(v, |x| dates::date_part(name, x))
        }
        _ => match math::call(name, &mut args) {
            Some(v) => v,
            None => return Err(EvalError::Execution(format!("function {name:?} is not supported by Vigil yet"))),
        },
    })
}
