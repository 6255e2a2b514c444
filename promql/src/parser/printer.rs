//! Expressions written back as text, as Prometheus's `String()` writes
//! them (the answer of /api/v1/format_query and what the pages show): one
//! space around binary operators, `by (…)` before the argument, matchers
//! sorted, durations in canonical units, strings quoted as Go quotes them.

use super::ast::{AggOp, At, BinOp, Card, DurExpr, Durations, Expr, VectorSelector};
use crate::duration::format_duration;
use std::fmt::{self, Display, Formatter, Write};
use storage::{MatchOp, METRIC_NAME};

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number(v) => write_number(f, *v),
            Expr::String(s) => write_quoted(f, s),
            Expr::VectorSelector(vs) => {
                write_selector(f, vs)?;
                write_extended(f, vs)?;
                write_at_offset(f, vs.at, vs.offset, vs.durs.as_deref())
            }
            Expr::MatrixSelector { vs, range } => {
                write_selector(f, vs)?;
                match vs.durs.as_ref().and_then(|d| d.range.as_ref()) {
                    Some(r) => write!(f, "[{r}]")?,
                    None => write!(f, "[{}]", format_duration(*range))?,
                }
                write_extended(f, vs)?;
                write_at_offset(f, vs.at, vs.offset, vs.durs.as_deref())
            }
            Expr::Subquery { expr, range, step, offset, at, durs } => {
                match durs.as_ref().and_then(|d| d.range.as_ref()) {
                    Some(r) => write!(f, "{expr}[{r}:")?,
                    None => write!(f, "{expr}[{}:", format_duration(*range))?,
                }
                match (durs.as_ref().and_then(|d| d.step.as_ref()), step.filter(|s| *s != 0)) {
                    (Some(s), _) => write!(f, "{s}")?,
                    (None, Some(s)) => f.write_str(&format_duration(s))?,
                    (None, None) => {}
                }
                f.write_char(']')?;
                write_at_offset(f, *at, *offset, durs.as_deref())
            }
            Expr::Neg(e) => write!(f, "-{e}"),
            Expr::Paren(e) => write!(f, "({e})"),
            Expr::Binary { op, lhs, rhs, return_bool, matching } => {
                write!(f, "{lhs} {}", op.symbol())?;
                if *return_bool {
                    f.write_str(" bool")?;
                }
                // As Prometheus: the matching is written only with labels or `on`.
                if let Some(m) = matching.as_ref().filter(|m| !m.labels.is_empty() || m.on) {
                    write!(f, " {} ({})", if m.on { "on" } else { "ignoring" }, m.labels.join(", "))?;
                    match m.card {
                        Card::ManyToOne => write!(f, " group_left ({})", m.include.join(", "))?,
                        Card::OneToMany => write!(f, " group_right ({})", m.include.join(", "))?,
                        _ => {}
                    }
                }
                if let Some(m) = matching {
                    write_fills(f, m.fill_left, m.fill_right)?;
                }
                write!(f, " {rhs}")
            }
            Expr::Call { func, args, .. } => {
                write!(f, "{}(", func.name)?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_char(')')
            }
            Expr::Aggregate { op, expr, param, grouping, without, .. } => {
                f.write_str(agg_name(*op))?;
                if *without {
                    write!(f, " without ({}) ", grouping.join(", "))?;
                } else if !grouping.is_empty() {
                    write!(f, " by ({}) ", grouping.join(", "))?;
                }
                f.write_char('(')?;
                if let Some(p) = param {
                    write!(f, "{p}, ")?;
                }
                write!(f, "{expr})")
            }
        }
    }
}

/// Lines longer than this are split by [`Expr::pretty`].
const MAX_LINE: usize = 100;

impl Expr {
    /// The expression laid out as Prometheus's prettier does (what
    /// /api/v1/format_query answers): on one line when that fits in 100
    /// characters, else each operand, argument or aggregated expression on
    /// its own lines, indented two spaces per level.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.pretty_into(&mut out, 0);
        out
    }

    fn pretty_into(&self, out: &mut String, level: usize) {
        let indent = |out: &mut String, n: usize| out.extend(std::iter::repeat_n("  ", n));
        let flat = self.to_string();
        match self {
            Expr::Subquery { expr, range, step, offset, at, durs } if flat.len() > MAX_LINE => {
                expr.pretty_into(out, level);
                let suffix = Expr::Subquery {
                    expr: Box::new(Expr::Number(0.0)),
                    range: *range,
                    step: *step,
                    offset: *offset,
                    at: *at,
                    durs: durs.clone(),
                }
                .to_string();
                out.push_str(&suffix[1..]);
            }
            Expr::Neg(e) => {
                indent(out, level);
                out.push('-');
                let mut child = String::new();
                e.pretty_into(&mut child, level);
                out.push_str(child.trim());
            }
            _ if flat.len() <= MAX_LINE => {
                indent(out, level);
                out.push_str(&flat);
            }
            Expr::Aggregate { op, expr, param, grouping, without, .. } => {
                indent(out, level);
                out.push_str(agg_name(*op));
                if *without {
                    let _ = write!(out, " without ({}) ", grouping.join(", "));
                } else if !grouping.is_empty() {
                    let _ = write!(out, " by ({}) ", grouping.join(", "));
                }
                out.push_str("(\n");
                if let Some(p) = param {
                    p.pretty_into(out, level + 1);
                    out.push_str(",\n");
                }
                expr.pretty_into(out, level + 1);
                out.push('\n');
                indent(out, level);
                out.push(')');
            }
            Expr::Binary { op, lhs, rhs, return_bool, matching } => {
                lhs.pretty_into(out, level + 1);
                out.push('\n');
                indent(out, level);
                // The operator line is what `String()` puts between the operands.
                let mut line = Expr::Binary {
                    op: *op,
                    lhs: Box::new(Expr::Number(0.0)),
                    rhs: Box::new(Expr::Number(0.0)),
                    return_bool: *return_bool,
                    matching: matching.clone(),
                }
                .to_string();
                line.truncate(line.len() - 2);
                out.push_str(&line[2..]);
                out.push('\n');
                rhs.pretty_into(out, level + 1);
            }
            Expr::Call { func, args, .. } => {
                indent(out, level);
                out.push_str(func.name);
                out.push_str("(\n");
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(",\n");
                    }
                    a.pretty_into(out, level + 1);
                }
                out.push('\n');
                indent(out, level);
                out.push(')');
            }
            Expr::Paren(e) => {
                indent(out, level);
                out.push_str("(\n");
                e.pretty_into(out, level + 1);
                out.push('\n');
                indent(out, level);
                out.push(')');
            }
            _ => {
                indent(out, level);
                out.push_str(&flat);
            }
        }
    }
}

fn agg_name(op: AggOp) -> &'static str {
    match op {
        AggOp::Sum => "sum",
        AggOp::Avg => "avg",
        AggOp::Count => "count",
        AggOp::Min => "min",
        AggOp::Max => "max",
        AggOp::Group => "group",
        AggOp::Stddev => "stddev",
        AggOp::Stdvar => "stdvar",
        AggOp::TopK => "topk",
        AggOp::BottomK => "bottomk",
        AggOp::Quantile => "quantile",
        AggOp::CountValues => "count_values",
        AggOp::LimitK => "limitk",
        AggOp::LimitRatio => "limit_ratio",
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`, with Prometheus's spellings
/// of the infinities.
fn write_number(f: &mut Formatter<'_>, v: f64) -> fmt::Result {
    if v.is_nan() {
        f.write_str("NaN")
    } else if v.is_infinite() {
        f.write_str(if v > 0.0 { "+Inf" } else { "-Inf" })
    } else {
        write!(f, "{v}")
    }
}

/// Go's `strconv.Quote`.
pub(crate) fn write_quoted(f: &mut impl Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            '\u{7}' => f.write_str("\\a")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            '\u{b}' => f.write_str("\\v")?,
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{:02x}", c as u32)?,
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
                if (c as u32) < 0x10000 {
                    write!(f, "\\u{:04x}", c as u32)?
                } else {
                    write!(f, "\\U{:08x}", c as u32)?
                }
            }
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

fn write_selector(f: &mut Formatter<'_>, vs: &VectorSelector) -> fmt::Result {
    let name = vs.name.as_deref().unwrap_or("");
    let mut matchers: Vec<String> = vs
        .matchers
        .iter()
        .filter(|m| !(m.name == METRIC_NAME && m.op == MatchOp::Equal && m.value == name && !name.is_empty()))
        .map(|m| {
            let mut s = format!("{}{}", m.name, m.op);
            let _ = write_quoted(&mut s, &m.value);
            s
        })
        .collect();
    f.write_str(name)?;
    if matchers.is_empty() {
        return Ok(());
    }
    matchers.sort();
    write!(f, "{{{}}}", matchers.join(","))
}

fn write_at_offset(f: &mut Formatter<'_>, at: Option<At>, offset: i64, durs: Option<&Durations>) -> fmt::Result {
    match at {
        Some(At::Time(t)) => write!(f, " @ {:.3}", t as f64 / 1000.0)?,
        Some(At::Start) => f.write_str(" @ start()")?,
        Some(At::End) => f.write_str(" @ end()")?,
        None => {}
    }
    if let Some(o) = durs.and_then(|d| d.offset.as_ref()) {
        return write!(f, " offset {o}");
    }
    match offset {
        0 => Ok(()),
        o if o > 0 => write!(f, " offset {}", format_duration(o)),
        o => write!(f, " offset -{}", format_duration(-o)),
    }
}

/// ` anchored` or ` smoothed`, as Prometheus writes them before `@` and `offset`.
fn write_extended(f: &mut Formatter<'_>, vs: &VectorSelector) -> fmt::Result {
    if vs.anchored {
        f.write_str(" anchored")
    } else if vs.smoothed {
        f.write_str(" smoothed")
    } else {
        Ok(())
    }
}

/// ` fill(v)` when both sides fill alike, else each side's.
fn write_fills(f: &mut Formatter<'_>, left: Option<f64>, right: Option<f64>) -> fmt::Result {
    let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
    match (left, right) {
        (Some(a), Some(b)) if same(a, b) => {
            f.write_str(" fill(")?;
            write_number(f, a)?;
            f.write_char(')')
        }
        _ => {
            for (name, v) in [("fill_left", left), ("fill_right", right)] {
                if let Some(v) = v {
                    write!(f, " {name}(")?;
                    write_number(f, v)?;
                    f.write_char(')')?;
                }
            }
            Ok(())
        }
    }
}

impl Display for DurExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            DurExpr::Number(v) => write_number(f, *v),
            DurExpr::Duration(ms) => f.write_str(&format_duration(*ms)),
            DurExpr::Step => f.write_str("step()"),
            DurExpr::Range => f.write_str("range()"),
            DurExpr::Neg(x) => write!(f, "-{x}"),
            DurExpr::Paren(x) => write!(f, "({x})"),
            DurExpr::Binary(op, a, b) => write!(f, "{a} {} {b}", op.symbol()),
            DurExpr::MinOf(a, b) => write!(f, "min_of({a}, {b})"),
            DurExpr::MaxOf(a, b) => write!(f, "max_of({a}, {b})"),
        }
    }
}

impl Display for BinOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

#[cfg(test)]
mod tests {
    use crate::parser::parse;

    #[test]
    fn long_expressions_are_split_as_prometheus_splits_them() {
        let short = "sum by (job) (rate(x[5m]))";
        assert_eq!(parse(short).unwrap().pretty(), short);
        let e = parse(
            "sum by (job) (rate(http_requests_total{job=\"api-server\",handler=~\"/api/v1/query_range|/api/v1/query|/api/v1/series\"}[5m])) / on (job) group_left () sum by (job) (rate(http_requests_total[5m]))",
        )
        .unwrap();
        let want = r#"  sum by (job) (
    rate(
      http_requests_total{handler=~"/api/v1/query_range|/api/v1/query|/api/v1/series",job="api-server"}[5m]
    )
  )
/ on (job) group_left ()
  sum by (job) (rate(http_requests_total[5m]))"#;
        assert_eq!(e.pretty(), want);
        assert_eq!(parse(want).unwrap().to_string(), e.to_string());
    }

    #[test]
    fn expressions_print_as_prometheus_prints_them() {
        for (input, want) in [
            ("up", "up"),
            ("up{job='a',  instance=~\"x.*\"}", "up{instance=~\"x.*\",job=\"a\"}"),
            ("{__name__=\"up\"}", "{__name__=\"up\"}"),
            ("rate(http_requests_total[5m] offset 1w)", "rate(http_requests_total[5m] offset 1w)"),
            ("x @ 1609746000 offset -90m", "x @ 1609746000.000 offset -1h30m"),
            ("x[5m] @ end()", "x[5m] @ end()"),
            ("sum by(job)(rate(x[1m]))", "sum by (job) (rate(x[1m]))"),
            ("sum(x) without (a,b)", "sum without (a, b) (x)"),
            ("topk(3, x)", "topk(3, x)"),
            ("count_values(\"v\", x)", "count_values(\"v\", x)"),
            ("a + on(b) group_left(c) d", "a + on (b) group_left (c) d"),
            ("a > bool 1", "a > bool 1"),
            ("a and ignoring(x) b", "a and ignoring (x) b"),
            ("-(a)", "-(a)"),
            ("max_over_time(x[1h:5m])", "max_over_time(x[1h:5m])"),
            ("x[10m:]", "x[10m:]"),
            ("1e3 + Inf", "1000 + +Inf"),
            ("\"a\\nb\"", "\"a\\nb\""),
            ("2 ^ 3 ^ 2", "2 ^ 3 ^ 2"),
            (
                "label_replace(up, \"dst\", \"$1\", \"src\", \"(.*)\")",
                "label_replace(up, \"dst\", \"$1\", \"src\", \"(.*)\")",
            ),
        ] {
            let e = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            let got = e.to_string();
            assert_eq!(got, want, "{input}");
            // What is printed parses back to what prints the same.
            assert_eq!(parse(&got).unwrap().to_string(), got);
        }
    }
}
