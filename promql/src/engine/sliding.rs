//! Range queries series by series. A range function over a selector
//! (`rate(x[5m])`, `max_over_time(x[1h])`) and an instant selector are
//! computed for every step of the query before the steps are evaluated: each
//! series' window (or newest sample) moves along its samples from step to
//! step, instead of each step searching every series again. Nodes whose
//! steps would hold more than [`MAX_PRECOMPUTED`] samples are left to the
//! step-by-step evaluation, which holds one step at a time. An aggregation that keeps no values (`sum`,
//! `avg`, `count`, `min`, `max`, …) directly over such a function is folded
//! in on the way: each series adds into its group at every step, and no
//! per-step vector of the function is built. The per-step evaluation then
//! takes each step's vector from here.
//!
//! Reading one series' samples front to back keeps them in cache; searching
//! thousands of series at every step does not. Values and their order of
//! addition are those of the per-step evaluation: a group adds its series in
//! series order at each step.

use super::aggregate::{is_numeric, GroupKey, Groups, Num};
use super::functions::{counter_info, is_range_function, keeps_name, window_of, window_value, RateTimes};
use super::numeric::check_quantile;
use super::{strip_parens, Ctx, EvalError, FastMap, Sample, SeriesData};
use crate::parser::{AggOp, Expr, Pos, VectorSelector};
use storage::is_stale_nan;

/// Each precomputed node's vector per step (taken as the step is evaluated).
pub(crate) type Precomputed = FastMap<*const Expr, Vec<Option<Vec<Sample>>>>;

/// Accumulators a folded aggregation may hold (groups × steps); above it
/// the aggregation is evaluated step by step.
const MAX_FOLDED: usize = 2_000_000;

/// Samples a node's precomputed steps may hold (series × steps, some 32
/// bytes each): above it the node is evaluated step by step, which holds one
/// step at a time.
const MAX_PRECOMPUTED: usize = 4_000_000;

/// Whether `series` series over the query's steps fit [`MAX_PRECOMPUTED`].
fn fits(ctx: &Ctx, series: usize) -> bool {
    series.saturating_mul(step_count(ctx)) <= MAX_PRECOMPUTED
}

/// A range function over a selector with constant parameters.
struct RangeCall<'e> {
    name: &'static str,
    /// The range argument (the matrix selector).
    marg: &'e Expr,
    vs: &'e VectorSelector,
    params: Vec<f64>,
    /// Where the range argument starts (for annotations).
    pos: Pos,
}

/// A constant argument: a number, in parentheses or negated.
fn number(e: &Expr) -> Option<f64> {
    match e {
        Expr::Number(v) => Some(*v),
        Expr::Paren(x) => number(x),
        Expr::Neg(x) => number(x).map(|v| -v),
        _ => None,
    }
}

/// `e` as a range function this module can slide, if it is one.
fn range_call<'e>(ctx: &Ctx, e: &'e Expr) -> Option<RangeCall<'e>> {
    let Expr::Call { func, args, pos, arg_pos } = strip_parens(e) else { return None };
    let name = func.name;
    let m_idx = usize::from(name == "quantile_over_time");
    if !is_range_function(func) || name == "absent_over_time" {
        return None;
    }
    let marg = strip_parens(args.get(m_idx)?);
    let Expr::MatrixSelector { vs, .. } = marg else { return None };
    if vs.anchored || vs.smoothed {
        return None;
    }
    let params: Vec<f64> =
        args.iter().enumerate().filter(|(k, _)| *k != m_idx).map(|(_, a)| number(a)).collect::<Option<_>>()?;
    let pos = arg_pos.first().copied().unwrap_or(*pos);
    if name == "quantile_over_time" {
        check_quantile(ctx, params[0], pos);
    }
    Some(RangeCall { name, marg, vs, params, pos })
}

/// Computes, for all steps of the range query in `ctx`, every range-function
/// call of `e` evaluated once per step (not inside a subquery) over a
/// selector with constant parameters, folding numeric aggregations over it.
pub(crate) fn precompute(ctx: &Ctx, e: &Expr, out: &mut Precomputed) -> Result<(), EvalError> {
    if let Some(call) = range_call(ctx, e).filter(|c| fits(ctx, loaded(ctx, c.vs).len())) {
        let mut steps: Vec<Vec<Sample>> = (0..step_count(ctx)).map(|_| Vec::new()).collect();
        let drop_name = !keeps_name(call.name);
        slide(ctx, &call, |_, s, k, v| steps[k].push(Sample { labels: s.labels.clone(), v, drop_name }))?;
        out.insert(e as *const Expr, steps.into_iter().map(Some).collect());
        return Ok(());
    }
    match e {
        Expr::Aggregate { op, expr, param: None, grouping, without, .. } if is_numeric(*op) => {
            match range_call(ctx, expr) {
                Some(call) => match fold(ctx, *op, grouping, *without, &call)? {
                    Some(steps) => {
                        out.insert(e as *const Expr, steps);
                    }
                    None => precompute(ctx, expr, out)?,
                },
                None => precompute(ctx, expr, out)?,
            }
        }
        Expr::Aggregate { expr, param, .. } => {
            precompute(ctx, expr, out)?;
            if let Some(p) = param {
                precompute(ctx, p, out)?;
            }
        }
        // `timestamp` reads its selector's samples itself; `info`'s label selector is no vector.
        Expr::Call { func, .. } if func.name == "timestamp" => {}
        Expr::Call { func, args, .. } => {
            let n = if func.name == "info" { 1 } else { args.len() };
            for a in &args[..n.min(args.len())] {
                precompute(ctx, a, out)?;
            }
        }
        Expr::Binary { lhs, rhs, .. } => {
            precompute(ctx, lhs, out)?;
            precompute(ctx, rhs, out)?;
        }
        Expr::Neg(x) | Expr::Paren(x) => precompute(ctx, x, out)?,
        // A subquery evaluates its inside at its own steps.
        Expr::Subquery { .. } => {}
        Expr::VectorSelector(vs) if !vs.smoothed && fits(ctx, loaded(ctx, vs).len()) => {
            out.insert(e as *const Expr, instant(ctx, vs));
        }
        Expr::Number(_) | Expr::String(_) | Expr::VectorSelector(_) | Expr::MatrixSelector { .. } => {}
    }
    Ok(())
}

/// The series a selector loaded.
fn loaded<'c>(ctx: &'c Ctx, vs: &VectorSelector) -> &'c [SeriesData] {
    ctx.loaded.get(&(vs as *const _)).map_or(&[], |v| v.as_slice())
}

/// An instant selector at every step: each series' newest sample in
/// `(t - lookback, t]` found by a cursor moving forward, not a search.
fn instant(ctx: &Ctx, vs: &VectorSelector) -> Vec<Option<Vec<Sample>>> {
    let steps = step_count(ctx);
    let mut out: Vec<Vec<Sample>> = (0..steps).map(|_| Vec::new()).collect();
    let times: Vec<i64> = (0..steps as i64).map(|k| ctx.at_time(vs.at, ctx.start + k * ctx.step) - vs.offset).collect();
    for s in loaded(ctx, vs) {
        let mut hi = 0;
        for (k, &at) in times.iter().enumerate() {
            while hi < s.samples.len() && s.samples[hi].t <= at {
                hi += 1;
            }
            let Some(last) = hi.checked_sub(1).map(|i| s.samples[i]) else { continue };
            if last.t <= at - ctx.engine.lookback_ms || is_stale_nan(last.v) {
                continue;
            }
            out[k].push(Sample { labels: s.labels.clone(), v: last.v, drop_name: false });
        }
    }
    out.into_iter().map(Some).collect()
}

fn step_count(ctx: &Ctx) -> usize {
    ((ctx.end - ctx.start) / ctx.step + 1) as usize
}

/// Sample time sequences whose windows [`slide`] remembers per query.
const MAX_KNOWN_TIMES: usize = 4096;

/// A step's samples `lo..hi` and, for a counter with two or more, the
/// time part of its extrapolation.
type Span = (usize, usize, Option<RateTimes>);

/// Calls `f(n, series, step, value)` for each series (the `n`th) of the call's selector, in
/// order, and each step where the function has a value: the window
/// `(start, end]` moves forward over the series' samples with two cursors.
/// Series scraped together have the same sample times: the windows' bounds
/// (and, for a rate, the part of the extrapolation that depends on times)
/// are found once per sequence of times and kept for the series that share it.
fn slide(ctx: &Ctx, c: &RangeCall, mut f: impl FnMut(usize, &SeriesData, usize, f64)) -> Result<(), EvalError> {
    // Each step's time and window (start, end, range).
    type Window = Option<(i64, i64, i64)>;
    let windows: Vec<(i64, Window)> =
        (0..step_count(ctx) as i64).map(|k| ctx.start + k * ctx.step).map(|t| (t, window_of(ctx, c.marg, t))).collect();
    let (mut points, mut fresh): (Vec<(i64, f64)>, Vec<storage::Sample>) = (Vec::new(), Vec::new());
    // For rate and increase: counter resets up to each sample, so a window
    // without one skips the scan for them (long windows stay cheap).
    let counter = matches!(c.name, "rate" | "increase");
    let rate = c.name == "rate";
    let mut resets: Vec<u32> = Vec::new();
    let mut times: Vec<i64> = Vec::new();
    let mut known: FastMap<Vec<i64>, Vec<Span>> = FastMap::default();
    let mut unkept: Vec<Span> = Vec::new();
    let spans_of = |times: &[i64], out: &mut Vec<Span>| {
        out.clear();
        let (mut lo, mut hi) = (0, 0);
        for &(_, w) in &windows {
            let Some((start, end, range)) = w else {
                out.push((0, 0, None));
                continue;
            };
            while hi < times.len() && times[hi] <= end {
                hi += 1;
            }
            while lo < hi && times[lo] <= start {
                lo += 1;
            }
            let rt = (counter && hi >= lo + 2)
                .then(|| RateTimes::new(times[lo], times[hi - 1], hi - lo, start, end, range, rate));
            out.push((lo, hi, rt));
        }
    };
    for (n, s) in loaded(ctx, c.vs).iter().enumerate() {
        if n % 256 == 0 {
            ctx.check_deadline()?;
        }
        // The series' samples without staleness markers (copied only when it has some).
        let samples: &[storage::Sample] = if s.samples.iter().any(|x| is_stale_nan(x.v)) {
            fresh.clear();
            fresh.extend(s.samples.iter().filter(|x| !is_stale_nan(x.v)).copied());
            &fresh
        } else {
            &s.samples
        };
        // As (time, value) pairs for the window functions, made when first needed.
        points.clear();
        if counter {
            resets.clear();
            let mut seen = 0;
            for (k, p) in samples.iter().enumerate() {
                if k > 0 && p.v < samples[k - 1].v {
                    seen += 1;
                }
                resets.push(seen);
            }
        }
        times.clear();
        times.extend(samples.iter().map(|p| p.t));
        if !known.contains_key(&times) {
            spans_of(&times, &mut unkept);
            if known.len() < MAX_KNOWN_TIMES {
                known.insert(times.clone(), std::mem::take(&mut unkept));
            }
        }
        let spans = known.get(&times).unwrap_or(&unkept);
        let mut noted = false;
        for (k, (&(t, w), &(lo, hi, rt))) in windows.iter().zip(spans).enumerate() {
            if lo >= hi {
                continue;
            }
            if !noted {
                counter_info(ctx, c.name, &s.labels, c.pos);
                noted = true;
            }
            let value = match rt {
                Some(rt) if resets[hi - 1] == resets[lo] => {
                    Some(rt.apply(samples[hi - 1].v - samples[lo].v, samples[lo].v, true))
                }
                _ => {
                    if points.is_empty() {
                        points.extend(samples.iter().map(|x| (x.t, x.v)));
                    }
                    window_value(c.name, &points[lo..hi], &c.params, w, t)?
                }
            };
            if let Some(v) = value {
                f(n, s, k, v);
            }
        }
    }
    Ok(())
}

/// `op by|without (grouping)` over the call at every step, each series
/// adding into its group's accumulator for that step. None when the groups
/// would need more than [`MAX_FOLDED`] accumulators.
fn fold(
    ctx: &Ctx,
    op: AggOp,
    grouping: &[String],
    without: bool,
    c: &RangeCall,
) -> Result<Option<Vec<Option<Vec<Sample>>>>, EvalError> {
    let series = loaded(ctx, c.vs);
    let mut by: Vec<&str> = grouping.iter().map(String::as_str).collect();
    by.sort_unstable();
    by.dedup();
    let key = GroupKey { by: &by, without };
    let mut found = Groups::default();
    let group_of: Vec<usize> = series.iter().map(|s| found.group_of(&key, &s.labels, grouping)).collect();
    let groups = found.labels;
    let steps = step_count(ctx);
    if groups.len().saturating_mul(steps) > MAX_FOLDED {
        return Ok(None);
    }
    // Group-major: a series adds along its group's row of steps.
    let mut acc = vec![Num::default(); groups.len() * steps];
    let drop_name = !keeps_name(c.name);
    slide(ctx, c, |n, _, k, v| {
        let a = &mut acc[group_of[n] * steps + k];
        a.drop_name |= drop_name;
        a.add(op, v);
    })?;
    // Each step's groups in group order, read along the rows.
    let mut out: Vec<Vec<Sample>> = (0..steps).map(|_| Vec::with_capacity(groups.len())).collect();
    for (g, row) in acc.chunks_exact(steps).enumerate() {
        for (k, a) in row.iter().enumerate().filter(|(_, a)| a.count > 0.0) {
            out[k].push(Sample { labels: groups[g].clone(), v: a.result(op), drop_name: a.drop_name });
        }
    }
    Ok(Some(out.into_iter().map(Some).collect()))
}

/// The precomputed vector of node `e` at `t`, if `t` is a step of the query.
pub(crate) fn take(ctx: &Ctx, e: &Expr, t: i64) -> Option<Vec<Sample>> {
    if ctx.step <= 0 || t < ctx.start || (t - ctx.start) % ctx.step != 0 {
        return None;
    }
    let k = ((t - ctx.start) / ctx.step) as usize;
    ctx.precomputed.borrow_mut().get_mut(&(e as *const Expr))?.get_mut(k)?.take()
}
