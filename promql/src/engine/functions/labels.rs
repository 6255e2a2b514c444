//! Functions over labels: `label_replace`, `label_join`, `absent`'s labels,
//! and the sorting functions (`sort`, `sort_desc`, `sort_by_label`,
//! `sort_by_label_desc`).

use crate::engine::numeric::nan_last;
use crate::engine::{Ctx, EvalError, FastMap, Sample, Val};
use crate::parser::{Expr, Pos};
use storage::{Labels, MatchOp, METRIC_NAME};

/// `absent(v)`: nothing when `v` has samples, else one sample of value 1
/// with the equality matchers of the argument's selector as labels.
pub(super) fn absent(v: Vec<Sample>, arg: &Expr) -> Val {
    if !v.is_empty() {
        return Val::Vector(Vec::new());
    }
    Val::Vector(vec![Sample { labels: absent_labels(arg), v: 1.0, drop_name: false }])
}

/// `label_join(v, dst, sep, src…)`: `dst` set to the values of `src…` joined by `sep`.
pub(super) fn label_join(
    ctx: &Ctx,
    pos: Pos,
    v: Vec<Sample>,
    dst: &str,
    sep: &str,
    srcs: &[String],
) -> Result<Val, EvalError> {
    if !storage::is_valid_label_name(dst) {
        return Err(EvalError::Execution(format!("invalid destination label name in label_join(): {dst}")));
    }
    let mut memo = ctx.relabelled.borrow_mut();
    let memo = memo.entry(pos).or_default();
    let mut v = v;
    for (i, s) in v.iter_mut().enumerate() {
        let (labels, set) = memo.output(i, &s.labels, |labels| {
            let joined: Vec<&str> = srcs.iter().map(|n| labels.get(n).unwrap_or("")).collect();
            Some(with_label(labels, dst, joined.join(sep)))
        });
        s.labels = labels;
        // A metric name written this way is kept (not dropped later with
        // the name of the function's input).
        s.drop_name &= !(set && dst == METRIC_NAME);
    }
    Ok(Val::Vector(v))
}

/// One `label_replace`/`label_join` call's results so far: its regex, and
/// the output label set of each input label set it has seen.
#[derive(Default)]
pub(crate) struct Relabelled {
    regex: Option<regex::Regex>,
    /// By each input's address (the input kept, so that the address stays
    /// its own): the input, its output, and whether the label was set.
    out: FastMap<usize, (Labels, Labels, bool)>,
    /// The last step's inputs' addresses and outputs, by position: steps
    /// mostly repeat the same series in the same order, found without hashing.
    last: Vec<(usize, Labels, bool)>,
}

impl Relabelled {
    /// The output for `labels` and whether it was set: remembered, or made
    /// by `make` (`None`: unchanged).
    /// `i` is the input's position in its vector.
    fn output(&mut self, i: usize, labels: &Labels, make: impl FnOnce(&Labels) -> Option<Labels>) -> (Labels, bool) {
        let addr = labels.addr();
        if let Some((a, out, set)) = self.last.get(i) {
            if *a == addr {
                return (out.clone(), *set);
            }
        }
        let (out, set) = match self.out.get(&addr) {
            Some((_, out, set)) => (out.clone(), *set),
            None => {
                let (out, set) = make(labels).map_or_else(|| (labels.clone(), false), |l| (l, true));
                self.out.insert(addr, (labels.clone(), out.clone(), set));
                (out, set)
            }
        };
        if i < self.last.len() {
            self.last[i] = (addr, out.clone(), set);
        } else if i == self.last.len() {
            self.last.push((addr, out.clone(), set));
        }
        (out, set)
    }
}

/// What `label_replace(_, dst, repl, src, re)` does to one label set
/// (`None`: left as it is), its arguments checked as the call checks them.
pub(crate) fn replacer(
    dst: &str,
    repl: &str,
    src: &str,
    re: &str,
) -> Result<impl Fn(&Labels) -> Option<Labels>, EvalError> {
    let regex = storage::anchored_regex(re)
        .map_err(|e| EvalError::Execution(format!("invalid regular expression in label_replace(): {}", e.reason)))?;
    if !storage::is_valid_label_name(dst) {
        return Err(EvalError::Execution(format!("invalid destination label name in label_replace(): {dst}")));
    }
    let (dst, repl, src) = (dst.to_string(), repl.to_string(), src.to_string());
    Ok(move |labels: &Labels| {
        let caps = regex.captures(labels.get_or_empty(&src))?;
        let mut res = String::new();
        caps.expand(&repl, &mut res);
        Some(with_label(labels, &dst, res))
    })
}

/// What `label_join(_, dst, sep, srcs…)` does to one label set, its
/// destination checked as the call checks it.
pub(crate) fn joiner(dst: &str, sep: &str, srcs: &[String]) -> Result<impl Fn(&Labels) -> Option<Labels>, EvalError> {
    if !storage::is_valid_label_name(dst) {
        return Err(EvalError::Execution(format!("invalid destination label name in label_join(): {dst}")));
    }
    let (dst, sep, srcs) = (dst.to_string(), sep.to_string(), srcs.to_vec());
    Ok(move |labels: &Labels| {
        let joined: Vec<&str> = srcs.iter().map(|n| labels.get(n).unwrap_or("")).collect();
        Some(with_label(labels, &dst, joined.join(&sep)))
    })
}

/// `labels` with `dst` set to `value` (an empty value removes it).
fn with_label(labels: &Labels, dst: &str, value: String) -> Labels {
    let mut lb = labels.builder();
    lb.set(dst.to_string(), value);
    lb.build()
}

/// `sort` and `sort_desc`: by value, NaN last either way.
pub(super) fn sort(mut v: Vec<Sample>, desc: bool) -> Val {
    v.sort_by(|a, b| nan_last(a.v, b.v, desc));
    Val::Vector(v)
}

/// `sort_by_label` (and `_desc`): by the named labels' values in natural
/// order, then by the whole label set.
pub(super) fn sort_by_label(mut v: Vec<Sample>, names: &[String], desc: bool) -> Val {
    v.sort_by(|a, b| {
        for n in names {
            let o = natural_cmp(a.labels.get_or_empty(n), b.labels.get_or_empty(n));
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        a.labels.cmp(&b.labels)
    });
    if desc {
        v.reverse();
    }
    Val::Vector(v)
}

/// The labels `absent` reports: the equality matchers of the selector.
pub(super) fn absent_labels(e: &Expr) -> Labels {
    let vs = match e {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector { vs, .. } => vs,
        Expr::Paren(x) => return absent_labels(x),
        _ => return Labels::empty(),
    };
    // A label named by more than one matcher is left out.
    let mut pairs: Vec<(String, String)> = Vec::new();
    for m in &vs.matchers {
        let repeated = vs.matchers.iter().filter(|x| x.name == m.name).count() > 1;
        if m.op == MatchOp::Equal && m.name != METRIC_NAME && !repeated {
            pairs.push((m.name.to_string(), m.value.to_string()));
        }
    }
    Labels::from_pairs(pairs)
}

pub(super) fn label_replace(
    ctx: &Ctx,
    pos: Pos,
    v: Vec<Sample>,
    dst: &str,
    repl: &str,
    src: &str,
    re: &str,
) -> Result<Val, EvalError> {
    let mut memo = ctx.relabelled.borrow_mut();
    let memo = memo.entry(pos).or_default();
    if memo.regex.is_none() {
        let regex = storage::anchored_regex(re).map_err(|e| {
            EvalError::Execution(format!("invalid regular expression in label_replace(): {}", e.reason))
        })?;
        if !storage::is_valid_label_name(dst) {
            return Err(EvalError::Execution(format!("invalid destination label name in label_replace(): {dst}")));
        }
        memo.regex = Some(regex);
    }
    let Relabelled { regex: Some(regex), out, last } = memo else { return Ok(Val::Vector(v)) };
    let mut memo = Relabelled { regex: None, out: std::mem::take(out), last: std::mem::take(last) };
    let mut v = v;
    for (i, s) in v.iter_mut().enumerate() {
        let (labels, set) = memo.output(i, &s.labels, |labels| {
            let caps = regex.captures(labels.get_or_empty(src))?;
            let mut res = String::new();
            caps.expand(repl, &mut res);
            Some(with_label(labels, dst, res))
        });
        if set {
            s.labels = labels;
            s.drop_name &= dst != METRIC_NAME;
        }
    }
    (*out, *last) = (memo.out, memo.last);
    Ok(Val::Vector(v))
}

/// Natural order for sort_by_label: digit runs compare as numbers.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, _) => return std::cmp::Ordering::Less,
            (_, None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let nx = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let ny = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (sx, sy) = (&x[..nx], &y[..ny]);
                let tx = sx.iter().skip_while(|c| **c == b'0').count();
                let ty = sy.iter().skip_while(|c| **c == b'0').count();
                let o = tx.cmp(&ty).then_with(|| sx[nx - tx..].cmp(&sy[ny - ty..]));
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
                x = &x[nx..];
                y = &y[ny..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}
