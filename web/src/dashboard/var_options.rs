//! Each variable's options for one view (from its query, custom list,
//! interval or constant), filtered and sorted as Grafana does, and the
//! selection the URL or the saved dashboard makes.

use super::model::Variable;
use super::panel::scrape_ms;
use super::vars::{self, Destination, Resolved};
use crate::AppState;
use promql::Value;
use std::collections::BTreeSet;
use storage::Matcher;

pub(super) struct VarView {
    pub(super) name: String,
    pub(super) label: String,
    pub(super) multi: bool,
    /// (value, shown text, selected)
    pub(super) options: Vec<(String, String, bool)>,
}

/// Options of a `query` variable from Prometheus's variable functions.
fn query_options(st: &AppState, q: &str, from: i64, to: i64) -> Result<Vec<String>, String> {
    let q = q.trim();
    let args = |prefix: &str| q.strip_prefix(prefix).and_then(|r| r.trim().strip_prefix('(')?.strip_suffix(')'));
    let matchers = |sel: &str| -> Result<Vec<Matcher>, String> {
        match promql::parse(sel.trim()) {
            Ok(promql::Expr::VectorSelector(vs)) => Ok(vs.matchers),
            Ok(_) => Err(format!("{sel:?} is not a selector")),
            Err(e) => Err(e.to_string()),
        }
    };
    if let Some(a) = args("label_values") {
        return match a.rsplit_once(',') {
            Some((sel, label)) => Ok(st.db.label_values(label.trim(), &matchers(sel)?, from, to)),
            None => Ok(st.db.label_values(a.trim(), &[], from, to)),
        };
    }
    if let Some(a) = args("label_names") {
        let m = if a.trim().is_empty() { Vec::new() } else { matchers(a)? };
        return Ok(st.db.label_names(&m, from, to));
    }
    if let Some(a) = args("metrics") {
        let re = storage::anchored_regex(&format!(".*(?:{}).*", a.trim())).map_err(|e| e.to_string())?;
        return Ok(st.db.label_values("__name__", &[], from, to).into_iter().filter(|n| re.is_match(n)).collect());
    }
    if let Some(a) = args("query_result") {
        let expr = promql::parse(a).map_err(|e| e.to_string())?;
        return match st.timed(crate::QueryKind::Instant, |e| e.instant(&st.db, &expr, to)).map_err(|e| e.to_string())? {
            Value::Vector(v) => Ok(v
                .iter()
                .map(|s| format!("{} {} {}", crate::html::series_name(&s.labels), promql::format_value(s.v), s.t))
                .collect()),
            Value::Scalar { t, v } => Ok(vec![format!("{{}} {} {t}", promql::format_value(v))]),
            _ => Ok(Vec::new()),
        };
    }
    Err(format!("unsupported variable query {q:?}"))
}

/// `a,b,c` or `text : value`; `\,` escapes a comma.
fn custom_options(q: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = q.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => cur.push(chars.next().unwrap_or(',')),
            ',' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|o| o.rsplit_once(" : ").map_or(o.trim().to_string(), |(_, v)| v.trim().to_string()))
        .filter(|o| !o.is_empty())
        .collect()
}

/// Applies a variable's `/regex/`: the first capture group (or the match) of each option.
fn apply_regex(options: Vec<String>, regex: &str) -> Vec<String> {
    let r = regex.trim();
    if r.is_empty() {
        return options;
    }
    let (pattern, flags) = match r.strip_prefix('/').and_then(|x| x.rsplit_once('/')) {
        Some((p, f)) => (p, f),
        None => (r, ""),
    };
    let pattern = if flags.contains('i') { format!("(?i){pattern}") } else { pattern.to_string() };
    let Ok(re) = regex::RegexBuilder::new(&pattern).size_limit(1 << 20).build() else { return options };
    options
        .into_iter()
        .filter_map(|o| {
            let c = re.captures(&o)?;
            let v = c.name("value").or_else(|| c.get(1)).or_else(|| c.get(0))?;
            Some(v.as_str().to_string())
        })
        .collect()
}

fn sort_options(v: &mut [String], sort: u8) {
    let num = |s: &String| s.parse::<f64>().unwrap_or(f64::NAN);
    match sort {
        1 | 7 => v.sort(),
        2 | 8 => v.sort_by(|a, b| b.cmp(a)),
        3 => v.sort_by(|a, b| num(a).total_cmp(&num(b))),
        4 => v.sort_by(|a, b| num(b).total_cmp(&num(a))),
        5 => v.sort_by_key(|a| a.to_lowercase()),
        6 => v.sort_by_key(|b| std::cmp::Reverse(b.to_lowercase())),
        _ => {}
    }
}

/// Resolves the variables in order (each may use those before it), with
/// the selection from the URL (`var-<name>`), else the saved one.
pub(super) fn resolve(
    st: &AppState,
    vars: &[Variable],
    params: &[(String, String)],
    from: i64,
    to: i64,
) -> (Vec<Resolved>, Vec<VarView>, Vec<(String, String)>) {
    let mut resolved: Vec<Resolved> = Vec::new();
    let mut views = Vec::new();
    let mut extra: Vec<(String, String)> = Vec::new();
    for v in vars {
        let scrape = scrape_ms(st);
        let mut b = vars::builtins(from, to, scrape, scrape, "");
        b.extend(extra.iter().cloned());
        let query = vars::interpolate(&v.query, &resolved, &b, Destination::Query);
        let mut options: Vec<String> = match v.kind.as_str() {
            "custom" => custom_options(&query),
            "interval" => custom_options(&query),
            "constant" | "textbox" => vec![query.clone()],
            "datasource" => vec!["default".into()],
            "query" => query_options(st, &query, from, to).unwrap_or_default(),
            _ => v.options.clone(),
        };
        if v.kind == "query" {
            options = apply_regex(options, &v.regex);
            let mut seen = BTreeSet::new();
            options.retain(|o| seen.insert(o.clone()));
            sort_options(&mut options, v.sort);
        }
        if v.kind == "interval" && v.auto {
            let min = promql::duration::parse_duration(&v.auto_min).unwrap_or(10_000);
            let auto = vars::interval_ms(to - from, i64::from(v.auto_count), min);
            let name = format!("__auto_interval_{}", v.name);
            extra.push((name.clone(), promql::duration::format_duration(auto)));
            options.insert(0, format!("${name}"));
        }
        let wanted: Vec<String> =
            params.iter().filter(|(k, _)| *k == format!("var-{}", v.name)).map(|(_, x)| x.clone()).collect();
        let mut selected = if wanted.is_empty() { v.current.clone() } else { wanted };
        let is_all = selected.iter().any(|s| s == "$__all" || s == "All");
        selected.retain(|s| options.contains(s) || s.starts_with("$__auto_interval"));
        if selected.is_empty() && !is_all {
            selected = options.first().cloned().into_iter().collect();
        }
        let mut values: Vec<String> = if is_all && v.include_all { options.clone() } else { selected.clone() };
        // The auto interval reads as its computed value.
        for x in &mut values {
            if let Some((_, auto)) = extra.iter().find(|(n, _)| x.strip_prefix('$') == Some(n.as_str())) {
                *x = auto.clone();
            }
        }
        resolved.push(Resolved {
            name: v.name.clone(),
            values,
            regex_escaped: v.multi || v.include_all,
            all_value: (is_all && v.include_all).then(|| v.all_value.clone()).flatten(),
        });
        if v.hide < 2 && v.kind != "constant" {
            let mut opts: Vec<(String, String, bool)> = Vec::new();
            if v.include_all {
                opts.push(("$__all".into(), "All".into(), is_all));
            }
            opts.extend(options.iter().map(|o| {
                let text = if o.starts_with("$__auto_interval") { "auto".to_string() } else { o.clone() };
                (o.clone(), text, !is_all && selected.contains(o))
            }));
            views.push(VarView {
                name: v.name.clone(),
                label: if v.label.is_empty() { v.name.clone() } else { v.label.clone() },
                multi: v.multi,
                options: opts,
            });
        }
    }
    (resolved, views, extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_options_and_regex_captures() {
        assert_eq!(custom_options("a, b\\,c,Text : v"), ["a", "b,c", "v"]);
        assert_eq!(apply_regex(vec!["x{quantile=\"0.5\"} 1".into(), "y 2".into()], "/quantile=\"([^\"]+)\"/"), ["0.5"]);
    }
}
