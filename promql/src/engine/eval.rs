//! Evaluating one node of the tree at one time.

use super::functions::{self, Args};
use super::numeric::check_quantile;
use super::{aggregate, binary, Ctx, EvalError, Sample, Series, Val};
use crate::parser::{Expr, VectorSelector};
use storage::is_stale_nan;

pub(crate) fn eval(ctx: &Ctx, e: &Expr, t: i64) -> Result<Val, EvalError> {
    Ok(match e {
        Expr::Number(v) => Val::Scalar(*v),
        Expr::String(s) => Val::Str(s.clone()),
        Expr::Paren(x) => eval(ctx, x, t)?,
        Expr::Neg(x) => match eval(ctx, x, t)? {
            Val::Scalar(v) => Val::Scalar(-v),
            Val::Vector(mut v) => {
                for s in &mut v {
                    s.v = -s.v;
                    s.drop_name = true;
                }
                Val::Vector(v)
            }
            other => other,
        },
        Expr::VectorSelector(vs) => match super::sliding::take(ctx, e, t) {
            Some(v) => Val::Vector(v),
            None => Val::Vector(instant_selector(ctx, vs, t)),
        },
        Expr::MatrixSelector { vs, range } => Val::Matrix(range_selector(ctx, vs, *range, t)),
        Expr::Subquery { expr, range, step, offset, at, .. } => {
            let step = step.unwrap_or(ctx.engine.default_subquery_step_ms);
            let end = ctx.at_time(*at, t) - offset;
            let start = end - range;
            // Steps are aligned to multiples of the step, in (start, end].
            let mut ts = start.div_euclid(step) * step;
            if ts <= start {
                ts += step;
            }
            let mut by_labels: super::FastMap<storage::Labels, (Vec<(i64, f64)>, bool)> = Default::default();
            while ts <= end {
                ctx.check_deadline()?;
                match eval(ctx, expr, ts)? {
                    Val::Vector(v) => {
                        for s in v {
                            let entry = by_labels.entry(s.labels).or_insert_with(|| (Vec::new(), s.drop_name));
                            entry.0.push((ts, s.v));
                        }
                    }
                    Val::Scalar(v) => by_labels.entry(storage::Labels::empty()).or_default().0.push((ts, v)),
                    _ => return Err(EvalError::Execution("subquery must evaluate to an instant vector".into())),
                }
                ts += step;
            }
            let mut series: Vec<Series> = by_labels
                .into_iter()
                .map(|(labels, (points, drop))| Series {
                    labels: if drop { labels.without_metric_name() } else { labels },
                    points,
                })
                .collect();
            series.sort_by(|a, b| a.labels.cmp(&b.labels));
            Val::Matrix(series)
        }
        Expr::Binary { op, lhs, rhs, return_bool, matching } => {
            let l = eval(ctx, lhs, t)?;
            let r = eval(ctx, rhs, t)?;
            binary::eval(*op, l, r, *return_bool, matching.as_ref())?
        }
        Expr::Aggregate { op, expr, param, grouping, without, pos } => {
            if let Some(v) = super::sliding::take(ctx, e, t) {
                return Ok(Val::Vector(v));
            }
            let v = match eval(ctx, expr, t)? {
                Val::Vector(v) => v,
                _ => return Err(EvalError::Execution("aggregation over a non-vector".into())),
            };
            let p = match param {
                Some(p) => Some(eval(ctx, p, t)?),
                None => None,
            };
            if *op == crate::parser::AggOp::Quantile {
                if let Some(Val::Scalar(q)) = &p {
                    check_quantile(ctx, *q, *pos);
                }
            }
            // The node's groups from the previous step, if any.
            let key = e as *const Expr;
            let mut groups = ctx.groups.borrow_mut().remove(&key).unwrap_or_default();
            let out = aggregate::eval(*op, v, p, grouping, *without, &mut groups);
            ctx.groups.borrow_mut().insert(key, groups);
            Val::Vector(out?)
        }
        Expr::Call { func, args, pos, arg_pos } => {
            if let Some(v) = super::sliding::take(ctx, e, t) {
                return Ok(Val::Vector(v));
            }
            if func.name == "timestamp" {
                if let Some(vs) = args.first().and_then(plain_selector) {
                    return Ok(functions::timestamp_of_selector(ctx, vs, t));
                }
            }
            // `info` reads its selector argument itself, from the store.
            let evaluated = if func.name == "info" { &args[..1.min(args.len())] } else { &args[..] };
            let vals = evaluated.iter().map(|a| eval(ctx, a, t)).collect::<Result<Vec<_>, _>>()?;
            functions::call(ctx, func, args, Args::new(vals), t, *pos, arg_pos)?
        }
    })
}

/// The selector an expression is, through parentheses.
fn plain_selector(e: &Expr) -> Option<&VectorSelector> {
    match super::strip_parens(e) {
        Expr::VectorSelector(vs) => Some(vs),
        _ => None,
    }
}

/// The newest sample of each series in the left-open window
/// `(t - lookback, t]`; series whose newest sample is a staleness marker
/// are absent.
fn instant_selector(ctx: &Ctx, vs: &VectorSelector, t: i64) -> Vec<Sample> {
    let at = ctx.at_time(vs.at, t) - vs.offset;
    let Some(series) = ctx.loaded.get(&(vs as *const VectorSelector)) else { return Vec::new() };
    let lo = at - ctx.engine.lookback_ms;
    let mut out = Vec::new();
    for s in series {
        let idx = s.samples.partition_point(|x| x.t <= at);
        if idx == 0 {
            continue;
        }
        let last = s.samples[idx - 1];
        if last.t <= lo || is_stale_nan(last.v) {
            continue;
        }
        let mut v = last.v;
        if vs.smoothed && last.t < at {
            // Between the sample before and the next one (within the lookback), as a line.
            let next =
                s.samples[idx..].iter().take_while(|x| x.t <= at + ctx.engine.lookback_ms).find(|x| !is_stale_nan(x.v));
            if let Some(n) = next {
                v = last.v + (n.v - last.v) * (at - last.t) as f64 / (n.t - last.t) as f64;
            }
        }
        out.push(Sample { labels: s.labels.clone(), v, drop_name: false });
    }
    out
}

/// The samples of each series in `(t - range, t]`, staleness markers left
/// out; anchored and smoothed ranges reach a lookback further back (smoothed
/// also forward), for their functions to find the samples around the edges.
fn range_selector(ctx: &Ctx, vs: &VectorSelector, range: i64, t: i64) -> Vec<Series> {
    let at = ctx.at_time(vs.at, t) - vs.offset;
    let Some(series) = ctx.loaded.get(&(vs as *const VectorSelector)) else { return Vec::new() };
    let lookback = ctx.engine.lookback_ms;
    let before = if vs.anchored || vs.smoothed { lookback } else { 0 };
    let after = if vs.smoothed { lookback } else { 0 };
    let mut out = Vec::new();
    for s in series {
        let hi = s.samples.partition_point(|x| x.t <= at + after);
        let lo = s.samples.partition_point(|x| x.t <= at - range - before);
        if lo >= hi {
            continue;
        }
        let points: Vec<(i64, f64)> =
            s.samples[lo..hi].iter().filter(|x| !is_stale_nan(x.v)).map(|x| (x.t, x.v)).collect();
        if !points.is_empty() {
            out.push(Series { labels: s.labels.clone(), points });
        }
    }
    out
}
