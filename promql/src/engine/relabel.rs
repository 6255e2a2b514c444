//! A range query whose expression is a `label_replace` or `label_join`
//! call, evaluated as Prometheus evaluates it over a range: the argument at
//! every step, then each of its series relabelled once (not once per step),
//! the metric name dropped where its step results would drop it. Series
//! that end up with the same labels are one series, and an error where two
//! of them have a value at the same time (as each step's vector would).

use super::{eval, Ctx, EvalError, FastMap, Series, Val};
use crate::engine::functions::{joiner, replacer};
use crate::parser::Expr;
use storage::{Labels, METRIC_NAME};

/// One series of the argument: its labels, whether its metric name is to
/// be dropped, and its points.
type ArgSeries = (Labels, bool, Vec<(i64, f64)>);

/// What a label function does to one label set (`None`: leaves it).
type Relabel = dyn Fn(&Labels) -> Option<Labels>;

/// The series of `expr` over the query's range, if it is a label function
/// call with literal arguments (`None`: evaluate it step by step).
pub(super) fn range(ctx: &Ctx, expr: &Expr) -> Result<Option<Vec<Series>>, EvalError> {
    let Expr::Call { func, args, .. } = expr else { return Ok(None) };
    let strings: Option<Vec<&str>> =
        args.iter().skip(1).map(|a| if let Expr::String(s) = a { Some(s.as_str()) } else { None }).collect();
    let (Some(strings), Some(arg)) = (strings, args.first()) else { return Ok(None) };
    let relabel: Box<Relabel> = match (func.name, strings.as_slice()) {
        ("label_replace", [dst, repl, src, re]) => Box::new(replacer(dst, repl, src, re)?),
        ("label_join", [dst, sep, srcs @ ..]) => {
            let srcs: Vec<String> = srcs.iter().map(|s| s.to_string()).collect();
            Box::new(joiner(dst, sep, &srcs)?)
        }
        _ => return Ok(None),
    };
    let dst = strings[0];
    // The argument's series over the range, by label set and whether its name is to go.
    let mut inner: Vec<ArgSeries> = Vec::new();
    let mut index: FastMap<(Labels, bool), usize> = FastMap::default();
    let (mut prev, mut cur): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    let mut t = ctx.start;
    while t <= ctx.end {
        ctx.check_deadline()?;
        let Val::Vector(samples) = eval::eval(ctx, arg, t)? else {
            return Err(EvalError::Execution("label functions take an instant vector".into()));
        };
        cur.clear();
        for (pos, s) in samples.into_iter().enumerate() {
            let k = match prev.get(pos) {
                Some(&k) if inner[k].0 == s.labels && inner[k].1 == s.drop_name => k,
                _ => *index.entry((s.labels, s.drop_name)).or_insert_with_key(|(l, d)| {
                    inner.push((l.clone(), *d, Vec::new()));
                    inner.len() - 1
                }),
            };
            if inner[k].2.last().is_some_and(|p| p.0 == t) {
                return Err(same_labelset());
            }
            inner[k].2.push((t, s.v));
            cur.push(k);
        }
        std::mem::swap(&mut prev, &mut cur);
        t += ctx.step;
    }
    // Each series relabelled once; those that meet are one, unless they meet at a time.
    let mut out: Vec<Series> = Vec::new();
    let mut by_labels: FastMap<Labels, usize> = FastMap::default();
    for (labels, drop_name, points) in inner {
        let (labels, set) = relabel(&labels).map_or((labels, false), |l| (l, true));
        let labels = if drop_name && !(set && dst == METRIC_NAME) { labels.without_metric_name() } else { labels };
        match by_labels.get(&labels) {
            Some(&k) => out[k].points = merge(std::mem::take(&mut out[k].points), points)?,
            None => {
                by_labels.insert(labels.clone(), out.len());
                out.push(Series { labels, points });
            }
        }
    }
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(Some(out))
}

/// Two series' points as one, in time order; an error where both have a time.
fn merge(a: Vec<(i64, f64)>, b: Vec<(i64, f64)>) -> Result<Vec<(i64, f64)>, EvalError> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.0 == y.0 => return Err(same_labelset()),
            (Some(x), Some(y)) if x.0 < y.0 => {
                out.push(*x);
                i += 1;
            }
            (Some(x), None) => {
                out.push(*x);
                i += 1;
            }
            (_, Some(y)) => {
                out.push(*y);
                j += 1;
            }
            (None, None) => break,
        }
    }
    Ok(out)
}

fn same_labelset() -> EvalError {
    EvalError::Execution("vector cannot contain metrics with the same labelset".into())
}
