//! `info()` (experimental): series enriched with the data labels of their
//! info series; and `timestamp()` of a plain selector, which reads the
//! samples' own times.

use crate::engine::{Ctx, EvalError, Sample, Val};
use crate::parser::{Expr, VectorSelector};
use storage::{Labels, MatchOp, METRIC_NAME};

/// The time the samples of `e` evaluated at `t` are read at: its selectors'
/// `@` and `offset`, through subqueries (`info` enriches as of then).
fn ref_time(ctx: &Ctx, e: &Expr, t: i64) -> i64 {
    match e {
        Expr::VectorSelector(vs) | Expr::MatrixSelector { vs, .. } => ctx.at_time(vs.at, t) - vs.offset,
        Expr::Subquery { expr, at, offset, .. } => ref_time(ctx, expr, ctx.at_time(*at, t) - offset),
        Expr::Paren(x) | Expr::Neg(x) => ref_time(ctx, x, t),
        Expr::Aggregate { expr, .. } => ref_time(ctx, expr, t),
        Expr::Call { args, .. } => args
            .iter()
            .find(|a| matches!(a.value_type(), crate::ValueType::Vector | crate::ValueType::Matrix))
            .map_or(t, |a| ref_time(ctx, a, t)),
        Expr::Binary { lhs, rhs, .. } => {
            ref_time(ctx, if lhs.value_type() == crate::ValueType::Vector { lhs } else { rhs }, t)
        }
        Expr::Number(_) | Expr::String(_) => t,
    }
}

/// Labels that tie a series to its info series.
const IDENTIFYING: [&str; 2] = ["instance", "job"];

/// `info(v [, {selector}])`, with `v` evaluated as `base` (experimental): each series of `v` gains the
/// data labels of the info series (`target_info` unless the selector names
/// others) with its `instance` and `job`, as of the time `v` was read; the
/// selector's other matchers choose the labels. Labels already on the series
/// stay; where info series of one metric disagree, the newest sample wins.
pub(super) fn info(ctx: &Ctx, base: Vec<Sample>, args: &[Expr], t: i64) -> Result<Val, EvalError> {
    let given: &[storage::Matcher] = match args.get(1) {
        Some(Expr::VectorSelector(vs)) => &vs.matchers,
        _ => &[],
    };
    let (mut names, data): (Vec<storage::Matcher>, Vec<storage::Matcher>) =
        given.iter().cloned().partition(|m| m.name == METRIC_NAME);
    if names.is_empty() {
        names.push(storage::Matcher::new(MatchOp::Equal, METRIC_NAME, "target_info").expect("a valid matcher"));
    } else if !names.iter().any(|m| matches!(m.op, MatchOp::Equal | MatchOp::Regex)) {
        // Only exclusions: among the info metrics (named `…_info`).
        names.push(storage::Matcher::new(MatchOp::Regex, METRIC_NAME, ".+_info").expect("a valid matcher"));
    }
    let at = ref_time(ctx, &args[0], t);
    let lookback = ctx.engine.lookback_ms;
    let all: Vec<storage::Matcher> = names.iter().chain(&data).cloned().collect();
    // Info series present at `at`, with their newest sample's time.
    let mut infos: Vec<(Labels, i64)> = Vec::new();
    for (n, s) in ctx.db.select_series(&all, at - lookback + 1, at).into_iter().enumerate() {
        if n % 1024 == 1023 {
            ctx.check_deadline()?;
        }
        let newest = s.samples().filter(|x| x.t <= at && x.t > at - lookback).last();
        if let Some(x) = newest.filter(|x| !storage::is_stale_nan(x.v)) {
            infos.push((s.labels, x.t));
        }
    }
    let wanted: Vec<&str> = data.iter().map(|m| m.name.as_str()).collect();
    let must_match = data.iter().any(|m| !m.matches_empty());
    let mut out = Vec::with_capacity(base.len());
    for s in base {
        // Info series themselves pass as they are.
        let name = s.labels.metric_name().unwrap_or("");
        if !name.is_empty() && names.iter().all(|m| m.matches(name)) {
            out.push(s);
            continue;
        }
        let ident: Vec<(&str, &str)> =
            IDENTIFYING.iter().filter_map(|n| s.labels.get(n).filter(|v| !v.is_empty()).map(|v| (*n, v))).collect();
        // The newest matching info series of each info metric.
        let mut picked: Vec<&(Labels, i64)> = Vec::new();
        if !ident.is_empty() {
            for i in infos.iter().filter(|(l, _)| ident.iter().all(|(n, v)| l.get(n) == Some(*v))) {
                match picked.iter_mut().find(|p| p.0.metric_name() == i.0.metric_name()) {
                    Some(p) if p.1 < i.1 => *p = i,
                    Some(_) => {}
                    None => picked.push(i),
                }
            }
        }
        if picked.is_empty() {
            if !must_match {
                out.push(s);
            }
            continue;
        }
        let mut lb = s.labels.builder();
        let mut added: Vec<(String, String)> = Vec::new();
        for (l, _) in picked {
            for p in l.iter() {
                let skip = p.name == METRIC_NAME || IDENTIFYING.contains(&p.name) || p.value.is_empty();
                if skip || (!wanted.is_empty() && !wanted.contains(&p.name)) || s.labels.get(p.name).is_some() {
                    continue;
                }
                match added.iter().find(|(n, _)| n == p.name) {
                    Some((_, v)) if v != p.value => {
                        return Err(EvalError::Execution(format!(
                            "conflicting label: {:?} has values {v:?} and {:?} in info series for {}",
                            p.name, p.value, s.labels
                        )));
                    }
                    Some(_) => {}
                    None => added.push((p.name.to_string(), p.value.to_string())),
                }
            }
        }
        for (n, v) in added {
            lb.set(n, v);
        }
        out.push(Sample { labels: lb.build(), v: s.v, drop_name: s.drop_name });
    }
    Ok(Val::Vector(out))
}

/// `timestamp(selector)`: the time of each series' newest sample in the
/// lookback window at `t` (not `t` itself, as for other arguments).
pub(crate) fn timestamp_of_selector(ctx: &Ctx, inner: &VectorSelector, t: i64) -> Val {
    let at = ctx.at_time(inner.at, t) - inner.offset;
    let series = ctx.loaded.get(&(inner as *const VectorSelector));
    let mut out = Vec::new();
    for s in series.into_iter().flatten() {
        let idx = s.samples.partition_point(|x| x.t <= at);
        if idx == 0 {
            continue;
        }
        let last = s.samples[idx - 1];
        if last.t <= at - ctx.engine.lookback_ms || storage::is_stale_nan(last.v) {
            continue;
        }
        out.push(Sample { labels: s.labels.clone(), v: last.t as f64 / 1000.0, drop_name: true });
    }
    Val::Vector(out)
}
