//! Grafana dashboards, rendered on the server: `/dashboards` lists them,
//! `/d/<uid>?from=…&to=…&var-<name>=…` draws one on the 24-column grid.
//! Dashboards come from a provisioning directory (`--dashboards DIR`) and
//! the built-in "Vigil overview".

pub mod markdown;
pub mod model;
pub mod vars;

use crate::chart::{self, Line, TimeChart};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use model::{Dashboard, Panel, Variable};
use promql::Value;
use std::collections::BTreeSet;
use storage::{Labels, Matcher};
use vars::{Destination, Resolved};

/// The built-in self-monitoring dashboard.
pub const OVERVIEW_JSON: &str = include_str!("../../dashboards/vigil-overview.json");
/// The built-in host dashboard, listed once node_exporter metrics are scraped.
pub const HOST_JSON: &str = include_str!("../../dashboards/host.json");
/// The uid of the built-in host dashboard (node_exporter).
pub const HOST_UID: &str = "vigil-host";

/// Pixel width the grid is laid out for (panel widths and data points follow it).
const PAGE_WIDTH: i64 = 1400;
/// Most series one panel draws.
const MAX_LINES: usize = 50;

/// Reads every `*.json` in `dir` (sorted by name); a bad file is reported
/// by name and skipped.
pub fn load_dir(dir: &std::path::Path) -> (Vec<Dashboard>, Vec<String>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect(),
        Err(e) => return (out, vec![format!("{}: {e}", dir.display())]),
    };
    files.sort();
    for f in files {
        let stem = f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let parsed = std::fs::read(&f).map_err(|e| e.to_string()).and_then(|b| {
            if b.len() > model::MAX_JSON_BYTES {
                return Err(model::ModelError::TooLarge.to_string());
            }
            model::parse(&b, &stem).map_err(|e| e.to_string())
        });
        match parsed {
            Ok(d) => out.push(d),
            Err(e) => errors.push(format!("{}: {e}", f.display())),
        }
    }
    (out, errors)
}

/// The built-in dashboards.
pub fn builtin() -> Vec<Dashboard> {
    [(OVERVIEW_JSON, "vigil-overview"), (HOST_JSON, HOST_UID)]
        .iter()
        .filter_map(|(json, uid)| model::parse(json.as_bytes(), uid).ok())
        .collect()
}

/// Whether the host dashboard has something to show: a node_exporter is scraped.
pub fn host_listed(st: &AppState) -> bool {
    let m = Matcher::new(storage::MatchOp::Equal, "__name__", "node_uname_info").ok();
    m.is_some_and(|m| !st.db.series_labels(&[m], i64::MIN, i64::MAX).is_empty())
}

struct ListEntry {
    uid: String,
    title: String,
    tags: String,
    panels: usize,
}

#[derive(Template)]
#[template(path = "dashboards.html")]
struct ListPage {
    entries: Vec<ListEntry>,
    errors: Vec<String>,
}

/// GET /dashboards
pub async fn list(State(st): State<AppState>) -> Response {
    let host = host_listed(&st);
    let d = st.dashboards.read().unwrap_or_else(|e| e.into_inner());
    let entries = d
        .list
        .iter()
        .filter(|d| d.uid != HOST_UID || host)
        .map(|d| ListEntry {
            uid: d.uid.clone(),
            title: d.title.clone(),
            tags: d.tags.join(", "),
            panels: d.panels.iter().map(|p| 1 + p.children.len()).sum(),
        })
        .collect();
    crate::html::render(&ListPage { entries, errors: d.errors.clone() })
}

/// POST /dashboards/import: Grafana dashboard JSON as the body (or as the
/// `json` field of a form). Kept in `<data dir>/dashboards/<uid>.json`, so
/// it is there after a restart; a dashboard with the same uid is replaced.
/// A form is answered with a redirect to the dashboard, JSON with JSON.
pub async fn import(State(st): State<AppState>, headers: axum::http::HeaderMap, body: axum::body::Bytes) -> Response {
    let form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let json: Vec<u8> = if form {
        form_urlencoded::parse(&body)
            .find(|(k, _)| k == "json")
            .map(|(_, v)| v.into_owned().into_bytes())
            .unwrap_or_default()
    } else {
        body.to_vec()
    };
    let fail = |code: StatusCode, msg: String| {
        if form {
            (
                code,
                axum::response::Html(format!(
                    "<p>Import failed: {}</p><p><a href=\"/dashboards\">Back</a></p>",
                    chart::xml_escape(&msg)
                )),
            )
                .into_response()
        } else {
            (code, axum::Json(serde_json::json!({"status": "error", "error": msg}))).into_response()
        }
    };
    let d = match model::parse(&json, "imported") {
        Ok(d) => d,
        Err(e) => return fail(StatusCode::BAD_REQUEST, e.to_string()),
    };
    if let Some(dir) = st.db.path().map(|p| p.join("dashboards")) {
        let written =
            std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(dir.join(format!("{}.json", d.uid)), &json));
        if let Err(e) = written {
            return fail(StatusCode::INTERNAL_SERVER_ERROR, format!("keeping the dashboard failed: {e}"));
        }
    }
    let uid = d.uid.clone();
    {
        let mut all = st.dashboards.write().unwrap_or_else(|e| e.into_inner());
        match all.list.iter_mut().find(|x| x.uid == uid) {
            Some(x) => *x = d,
            None => all.list.push(d),
        }
    }
    let url = format!("/d/{uid}");
    if form {
        axum::response::Redirect::to(&url).into_response()
    } else {
        axum::Json(serde_json::json!({"status": "success", "uid": uid, "url": url})).into_response()
    }
}

/// Grafana's relative times: `now`, `now-6h`, `now-1d/d`; epoch ms; RFC 3339.
pub fn parse_time(s: &str, now: i64) -> Option<i64> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix("now") {
        // Rounding (`/d`) is not applied: the range keeps its length.
        let rest = rest.split('/').next().unwrap_or("");
        if rest.is_empty() {
            return Some(now);
        }
        let (sign, dur) = match rest.as_bytes()[0] {
            b'-' => (-1, &rest[1..]),
            b'+' => (1, &rest[1..]),
            _ => return None,
        };
        // Months (`M`) as 30 days; the rest as Prometheus durations.
        let ms = match dur.strip_suffix('M') {
            Some(n) => n.parse::<i64>().ok()?.checked_mul(30 * 86_400_000)?,
            None => promql::duration::parse_duration(dur).ok()?,
        };
        return Some(now + sign * ms);
    }
    if let Ok(ms) = s.parse::<i64>() {
        return Some(ms);
    }
    crate::time::parse_time(s).ok()
}

struct VarView {
    name: String,
    label: String,
    multi: bool,
    /// (value, shown text, selected)
    options: Vec<(String, String, bool)>,
}

/// A table cell: its text and, when coloured, its style.
#[derive(Clone)]
struct Cell {
    text: String,
    style: String,
}

struct LegendEntry {
    colour: String,
    name: String,
    /// The legend's calculations (min, max, mean, last…), formatted.
    calcs: Vec<String>,
}

struct PanelView {
    id: u64,
    kind: String,
    title: String,
    style: String,
    svg: String,
    legend: Vec<LegendEntry>,
    stat: String,
    stat_colour: String,
    text: String,
    error: String,
    placeholder: String,
    collapsed: bool,
    table_head: Vec<String>,
    table_rows: Vec<Vec<Cell>>,
    /// A data panel whose queries returned nothing to draw.
    no_data: bool,
    /// Titles of the legend's calculation columns (a table legend when any).
    legend_calcs: Vec<String>,
    /// A text panel's markdown, rendered (escaped first).
    text_html: String,
    /// The panel's own range in words (`Last 1 hour timeshift -1d`), if shown.
    time_info: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    uid: String,
    links: Vec<LinkView>,
    /// Annotation queries that failed, named.
    notes: Vec<String>,
    title: String,
    from: String,
    to: String,
    /// Seconds between reloads of the page (0: off).
    refresh_secs: u64,
    refresh: String,
    refresh_options: Vec<(&'static str, &'static str)>,
    from_ms: i64,
    to_ms: i64,
    ranges: Vec<(&'static str, &'static str)>,
    vars: Vec<VarView>,
    panels: Vec<PanelView>,
    view_panel: bool,
    /// The URL of this view without `open` (row headers add theirs).
    base_query: String,
    /// The URL of this view without the time range, `open` and `viewPanel`
    /// (time and panel links add theirs and keep the rest: variables, theme, refresh).
    keep_query: String,
    /// `light`, `dark`, or empty: the browser's preference.
    theme: String,
    /// What the form does not show but must keep: `viewPanel` and opened rows.
    hidden: Vec<(String, String)>,
}

/// Colours Grafana names in thresholds, as hex.
fn named_colour(c: &str) -> String {
    // Grafana's named palette: each hue's super-light, light, base, semi-dark and dark shade.
    const SHADES: [(&str, [&str; 5]); 6] = [
        ("green", ["#C8F2C2", "#96D98D", "#73BF69", "#56A64B", "#37872D"]),
        ("red", ["#FFA6B0", "#FF7383", "#F2495C", "#E02F44", "#C4162A"]),
        ("yellow", ["#FFF899", "#FFEE52", "#FADE2A", "#F2CC0C", "#E0B400"]),
        ("orange", ["#FFCB7D", "#FFB357", "#FF9830", "#FF780A", "#FA6400"]),
        ("blue", ["#C0D8FF", "#8AB8FF", "#5794F2", "#3274D9", "#1F60C4"]),
        ("purple", ["#DEB6F2", "#CA95E5", "#B877D9", "#A352CC", "#8F3BB8"]),
    ];
    let (shade, hue) = [("super-light-", 0), ("light-", 1), ("semi-dark-", 3), ("dark-", 4)]
        .iter()
        .find_map(|(prefix, k)| c.strip_prefix(prefix).map(|hue| (*k, hue)))
        .unwrap_or((2, c));
    if let Some((_, shades)) = SHADES.iter().find(|(name, _)| *name == hue) {
        return shades[shade].into();
    }
    match c {
        c if c.starts_with('#') || c.starts_with("rgb") => c.chars().filter(|c| !"<>\"';".contains(*c)).collect(),
        _ => "inherit".into(),
    }
}

/// `{{label}}` replaced by the series' label values; the default name otherwise.
fn legend_name(format: &str, labels: &Labels) -> String {
    if format.is_empty() || format == "__auto" {
        return crate::html::series_name(labels);
    }
    let mut out = String::new();
    let mut rest = format;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let Some(end) = rest[i..].find("}}") else {
            out.push_str(&rest[i..]);
            return out;
        };
        let name = rest[i + 2..i + end].trim();
        out.push_str(labels.get(name).unwrap_or(""));
        rest = &rest[i + end + 2..];
    }
    out.push_str(rest);
    out
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
fn resolve(
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

/// A legend of one reduced value per series, in the colours the chart drew them.
fn value_legend(reduced: &[(String, f64)], colour: impl Fn(usize) -> String, p: &Panel) -> Vec<LegendEntry> {
    reduced
        .iter()
        .enumerate()
        .map(|(i, (n, v))| LegendEntry {
            colour: colour(i),
            name: format!("{n}: {}", crate::units::format(*v, &p.unit, p.decimals)),
            calcs: Vec::new(),
        })
        .collect()
}

/// A legend column's title, as Grafana names the reducers.
fn calc_title(c: &str) -> &str {
    match c {
        "lastNotNull" | "last" | "current" => "Last",
        "mean" | "avg" => "Mean",
        "max" => "Max",
        "min" => "Min",
        "sum" | "total" => "Total",
        "first" | "firstNotNull" => "First",
        "count" => "Count",
        "range" => "Range",
        "diff" | "delta" => "Delta",
        other => other,
    }
}

fn reduce(points: &[(i64, f64)], how: &str) -> Option<f64> {
    let vals: Vec<f64> = points.iter().map(|p| p.1).filter(|v| v.is_finite()).collect();
    let v = match how {
        "mean" | "avg" => vals.iter().sum::<f64>() / vals.len().max(1) as f64,
        "max" => vals.iter().copied().fold(f64::NAN, f64::max),
        "min" => vals.iter().copied().fold(f64::NAN, f64::min),
        "sum" | "total" => vals.iter().sum(),
        "first" | "firstNotNull" => *vals.first()?,
        "count" => vals.len() as f64,
        "range" => vals.iter().copied().fold(f64::NAN, f64::max) - vals.iter().copied().fold(f64::NAN, f64::min),
        "diff" | "delta" => vals.last()? - vals.first()?,
        _ => *vals.last()?,
    };
    (!vals.is_empty()).then_some(v)
}

/// What every panel of one page view shares.
struct Frame<'a> {
    resolved: &'a [Resolved],
    extra: &'a [(String, String)],
    from: i64,
    to: i64,
    uid: &'a str,
    theme: chart::Theme,
    /// For /render/panel: the image's size instead of the grid's.
    image: Option<(u32, u32)>,
    /// The scrape interval: the floor of `$__interval` and the base of `$__rate_interval`
    /// (Grafana's data source setting; Vigil knows its own).
    scrape_ms: i64,
    /// The time of the request: panels with `timeFrom` end at it.
    now: i64,
    /// The dashboard's annotations over `[from, to]`, marked on time series.
    marks: &'a [chart::Mark],
}

impl<'a> Frame<'a> {
    /// A page's frame (the page's colours, the grid's sizes), without marks yet.
    fn new(
        resolved: &'a [Resolved],
        extra: &'a [(String, String)],
        (from, to): (i64, i64),
        uid: &'a str,
        scrape_ms: i64,
        now: i64,
    ) -> Self {
        Frame { resolved, extra, from, to, uid, theme: chart::Theme::Page, image: None, scrape_ms, now, marks: &[] }
    }

    /// What `$name`s stand for in a query over `(from, to)` at `step`: the
    /// built-ins (for a source scraped every `scrape` ms), then the page's extras.
    fn vars(&self, (from, to): (i64, i64), step: i64, scrape: i64) -> Vec<(String, String)> {
        let mut b = vars::builtins(from, to, step, scrape, self.uid);
        b.extend(self.extra.iter().cloned());
        b
    }
}

/// Each point as its share of the sum of all lines' values at its time
/// (Grafana's percent stacking); a time whose total is zero keeps zeros.
fn share_of_totals(lines: &mut [Line]) {
    let mut totals: std::collections::HashMap<i64, f64> = std::collections::HashMap::new();
    for p in lines.iter().flat_map(|l| &l.points).filter(|p| p.1.is_finite()) {
        *totals.entry(p.0).or_default() += p.1;
    }
    for p in lines.iter_mut().flat_map(|l| &mut l.points).filter(|p| p.1.is_finite()) {
        match totals.get(&p.0) {
            Some(&total) if total != 0.0 => p.1 /= total,
            Some(_) => p.1 = 0.0,
            None => {}
        }
    }
}

/// The colours of Grafana's continuous colour schemes (`continuous-GrYlRd`, …), low to high.
fn scheme(name: &str) -> Option<&'static [(u8, u8, u8)]> {
    const GREEN: (u8, u8, u8) = (0x73, 0xBF, 0x69);
    const YELLOW: (u8, u8, u8) = (0xFA, 0xDE, 0x2A);
    const RED: (u8, u8, u8) = (0xF2, 0x49, 0x5C);
    const BLUE: (u8, u8, u8) = (0x57, 0x94, 0xF2);
    const PURPLE: (u8, u8, u8) = (0xB8, 0x77, 0xD9);
    Some(match name {
        "GrYlRd" => &[GREEN, YELLOW, RED],
        "RdYlGr" => &[RED, YELLOW, GREEN],
        "BlYlRd" => &[BLUE, YELLOW, RED],
        "YlRd" => &[YELLOW, RED],
        "BlPu" => &[BLUE, PURPLE],
        "YlBl" => &[YELLOW, BLUE],
        "blues" => &[(0xC0, 0xD8, 0xFF), (0x1F, 0x60, 0xC4)],
        "reds" => &[(0xFF, 0xA6, 0xB0), (0xC4, 0x16, 0x2A)],
        "greens" => &[(0xC8, 0xF2, 0xC2), (0x37, 0x87, 0x2D)],
        "purples" => &[(0xDE, 0xB6, 0xF2), (0x8F, 0x3B, 0xB8)],
        _ => return None,
    })
}

/// The colour at `frac` (clamped to 0..=1; NaN as 0) along evenly spaced `stops`, as `#rrggbb`.
fn gradient(stops: &[(u8, u8, u8)], frac: f64) -> String {
    let f = if frac.is_nan() { 0.0 } else { frac.clamp(0.0, 1.0) } * (stops.len() - 1) as f64;
    let k = (f.floor() as usize).min(stops.len() - 2);
    let (a, b, t) = (stops[k], stops[k + 1], f - k as f64);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
    format!("#{:02X}{:02X}{:02X}", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The running config's scrape interval in milliseconds (at least 1).
fn scrape_ms(st: &AppState) -> i64 {
    (st.control.scrape_interval().as_millis() as i64).max(1)
}

/// A duration as a panel's `timeFrom`/`timeShift`/`interval` writes it (`1h`, `>10s`, `now-1h`).
fn panel_duration(text: &str) -> Option<i64> {
    let t = text.trim().trim_start_matches('>');
    let t = t.strip_prefix("now-").unwrap_or(t);
    promql::duration::parse_duration(t).ok().filter(|ms| *ms > 0)
}

/// Grafana's words for a panel's own range: `Last 1 hour`, `Last 7 days`,
/// `timeshift -1d`.
fn time_info(time_from: &str, time_shift: &str) -> String {
    let mut words = Vec::new();
    if let Some(ms) = panel_duration(time_from) {
        let units = [
            (31_536_000_000, "year"),
            (604_800_000, "week"),
            (86_400_000, "day"),
            (3_600_000, "hour"),
            (60_000, "minute"),
            (1000, "second"),
        ];
        words.push(match units.iter().find(|(u, _)| ms % u == 0) {
            Some((u, name)) if ms / u == 1 => format!("Last 1 {name}"),
            Some((u, name)) => format!("Last {} {name}s", ms / u),
            None => format!("Last {}", time_from.trim()),
        });
    }
    if panel_duration(time_shift).is_some() {
        words.push(format!("timeshift -{}", time_shift.trim()));
    }
    words.join(" ")
}

/// Renders one panel: its queries run over `[from, to]` (or the panel's own
/// range) at the step Grafana would ask for.
fn render_panel(st: &AppState, p: &Panel, f: &Frame) -> PanelView {
    let (resolved, theme) = (f.resolved, f.theme);
    let (mut from, mut to) = (f.from, f.to);
    let b = f.vars((from, to), f.scrape_ms, f.scrape_ms);
    // The panel's own range, as Grafana applies it: `timeFrom` ends now, `timeShift` moves back.
    let time_from = vars::interpolate(&p.time_from, resolved, &b, Destination::Text);
    let time_shift = vars::interpolate(&p.time_shift, resolved, &b, Destination::Text);
    if let Some(ms) = panel_duration(&time_from) {
        (from, to) = (f.now - ms, f.now);
    }
    if let Some(ms) = panel_duration(&time_shift) {
        (from, to) = (from - ms, to - ms);
    }
    let width_px = f.image.map_or((i64::from(p.grid.w) * PAGE_WIDTH / 24).max(100), |(w, _)| i64::from(w));
    let panel_min = panel_duration(&p.interval).unwrap_or(f.scrape_ms);
    // `$__interval` before each query's own floor and factor (Grafana's `adjustInterval`).
    let interval = vars::interval_ms(to - from, p.max_data_points.unwrap_or(width_px), panel_min);
    let floor = (to - from) / 11_000 + 1;
    let query_step = |t: &model::PanelQuery| {
        let own = panel_duration(&t.interval);
        let step = (interval * t.interval_factor).max(own.unwrap_or(panel_min)).max(floor);
        (step, own.unwrap_or(f.scrape_ms))
    };
    let step = p.targets.iter().map(|t| query_step(t).0).min().unwrap_or(interval.max(floor));
    let b = f.vars((from, to), step, f.scrape_ms);
    let title = vars::interpolate(&p.title, resolved, &b, Destination::Text);
    let mut view = PanelView {
        id: p.id,
        kind: p.kind.clone(),
        title,
        style: format!(
            "grid-column: {} / span {}; grid-row: {} / span {};",
            p.grid.x + 1,
            p.grid.w.min(24 - p.grid.x),
            p.grid.y + 1,
            p.grid.h
        ),
        svg: String::new(),
        legend: Vec::new(),
        stat: String::new(),
        stat_colour: String::new(),
        text: String::new(),
        error: String::new(),
        placeholder: String::new(),
        collapsed: p.collapsed,
        table_head: Vec::new(),
        table_rows: Vec::new(),
        no_data: false,
        legend_calcs: Vec::new(),
        text_html: String::new(),
        time_info: if p.hide_time_override { String::new() } else { time_info(&time_from, &time_shift) },
    };
    match p.kind.as_str() {
        "row" => return view,
        "text" => {
            let text = vars::interpolate(&p.content, resolved, &b, Destination::Text);
            match p.text_mode.as_str() {
                // HTML is not trusted: it is shown as text, as code is.
                "html" | "code" => view.text = text,
                _ => view.text_html = markdown::to_html(&text),
            }
            if view.text.is_empty() && view.text_html.is_empty() {
                view.text = " ".into();
            }
            return view;
        }
        "timeseries" | "graph" | "stat" | "singlestat" | "gauge" | "bargauge" | "piechart" | "table" => {}
        other => {
            view.placeholder = format!("Panel type \"{other}\" is not drawn by Vigil yet.");
            return view;
        }
    }
    let mut lines: Vec<Line> = Vec::new();
    // Each line's query and labels (tables show them).
    let mut meta: Vec<(String, Labels)> = Vec::new();
    for t in &p.targets {
        let (step, scrape) = query_step(t);
        let b = f.vars((from, to), step, scrape);
        let expr = vars::interpolate(&t.expr, resolved, &b, Destination::Query);
        let parsed = match promql::parse(&expr) {
            Ok(e) => e,
            Err(e) => {
                view.error = format!("{}: {e}", t.ref_id);
                return view;
            }
        };
        // The range query's series, then the instant query's (a point at `to`).
        let mut series: Vec<(Labels, Vec<(i64, f64)>)> = Vec::new();
        if t.range {
            // Steps end at `to`, so the newest point is always drawn.
            let start = to - (to - from + step - 1) / step * step;
            match st.timed(crate::QueryKind::Range, |e| e.range(&st.db, &parsed, start, to, step)) {
                Ok(Value::Matrix(m)) => series.extend(m.into_iter().map(|s| (s.labels, s.points))),
                Ok(_) => {}
                Err(e) => {
                    view.error = format!("{}: {e}", t.ref_id);
                    return view;
                }
            }
        }
        if t.instant {
            match st.timed(crate::QueryKind::Instant, |e| e.instant(&st.db, &parsed, to)) {
                Ok(Value::Vector(v)) => series.extend(v.into_iter().map(|s| (s.labels, vec![(to, s.v)]))),
                Ok(Value::Scalar { v, .. }) => series.push((Labels::empty(), vec![(to, v)])),
                Ok(_) => {}
                Err(e) => {
                    view.error = format!("{}: {e}", t.ref_id);
                    return view;
                }
            }
        }
        for (labels, mut points) in series {
            let name = vars::interpolate(&legend_name(&t.legend, &labels), resolved, &b, Destination::Text);
            let set = p.settings_for(&name, &t.ref_id);
            if set.hidden {
                continue;
            }
            if set.negative_y {
                points.iter_mut().for_each(|x| x.1 = -x.1);
            }
            lines.push(Line {
                name: set.display_name.map_or(name, |d| vars::interpolate(&d, resolved, &b, Destination::Text)),
                points,
                colour: set.colour.map(|c| named_colour(&c)).filter(|c| c.starts_with('#')),
            });
            meta.push((t.ref_id.clone(), labels));
        }
    }
    view.no_data = lines.iter().all(|l| l.points.iter().all(|p| !p.1.is_finite()));
    // Gauges and bars span the explicit min/max, else the unit's, else zero to the largest value.
    let reduced: Vec<(String, f64)> =
        lines.iter().filter_map(|l| Some((l.name.clone(), reduce(&l.points, &p.reducer)?))).collect();
    let (lo, hi) = match (p.min, p.max, p.unit.as_str()) {
        (min, Some(max), _) => (min.unwrap_or(0.0), max),
        (min, None, "percent") => (min.unwrap_or(0.0), 100.0),
        (min, None, "percentunit") => (min.unwrap_or(0.0), 1.0),
        (min, None, _) => (min.unwrap_or(0.0), reduced.iter().map(|r| r.1).fold(0.0, f64::max).max(f64::MIN_POSITIVE)),
    };
    // The colour of the last threshold step at or below `v` (steps in
    // percent of `lo..hi` when the thresholds say so).
    let colour_of = |v: f64| {
        if let Some(stops) = p.colour_mode.strip_prefix("continuous-").and_then(scheme) {
            return gradient(stops, (v - lo) / (hi - lo));
        }
        let at = |x: f64| if p.thresholds_percent { lo + (hi - lo) * x / 100.0 } else { x };
        let step = p.thresholds.iter().rev().find(|t| t.value.is_none_or(|x| v >= at(x)));
        match step {
            Some(t) => named_colour(&t.colour),
            None => "#73BF69".to_string(),
        }
    };
    // Series without a colour of their own take the panel's: a fixed one, or
    // their last value's threshold or scheme colour.
    for l in lines.iter_mut().filter(|l| l.colour.is_none()) {
        l.colour = match (&p.fixed_colour, p.colour_mode.as_str()) {
            (Some(c), _) => Some(named_colour(c)).filter(|c| c.starts_with('#')),
            (None, m) if m == "thresholds" || m.starts_with("continuous-") => {
                reduce(&l.points, "lastNotNull").map(colour_of).filter(|c| c.starts_with('#'))
            }
            _ => None,
        };
    }
    let no_value = if p.no_value.is_empty() { "No data" } else { p.no_value.as_str() };
    let (w, h) = (width_px as u32, f.image.map_or((p.grid.h * 38).saturating_sub(70).max(40), |(_, h)| h));
    // The frame of this panel's time series charts (and sparklines).
    let frame = |height: u32, style: chart::Style| TimeChart {
        width: width_px as u32,
        height,
        start: from,
        end: to,
        step,
        unit: &p.unit,
        decimals: p.decimals,
        theme,
        style,
        marks: &[],
    };
    match p.kind.as_str() {
        "gauge" => match reduced.first() {
            None => view.stat = no_value.into(),
            Some((_, v)) => {
                view.stat = crate::units::format(*v, &p.unit, p.decimals);
                view.stat_colour = colour_of(*v);
                view.svg = chart::gauge(*v, lo, hi, &view.stat_colour.clone(), w, h.saturating_sub(40).max(40), theme);
            }
        },
        "bargauge" => {
            if reduced.is_empty() {
                view.stat = no_value.into();
            }
            let items: Vec<(String, f64, String)> =
                reduced.iter().map(|(n, v)| (n.clone(), *v, colour_of(*v))).collect();
            view.legend = value_legend(&reduced, |i| items[i].2.clone(), p);
            view.svg = chart::bars(&items, lo, hi, w, h.saturating_sub(20).max(20), theme);
        }
        "piechart" => {
            view.legend = value_legend(&reduced, |i| chart::colour(i).to_string(), p);
            view.svg = chart::pie(&reduced, p.pie_donut, w.min(h.max(60) * 2), h.max(60), theme);
        }
        "table" => {
            // One row per label set; a value column per query, as Grafana joins them.
            let mut names: BTreeSet<String> = BTreeSet::new();
            let refs: Vec<String> = p.targets.iter().map(|t| t.ref_id.clone()).collect();
            // Joined on the labels other than the metric name (an operation drops it).
            // Each row's value per query: shown and raw.
            type Values = Vec<(String, Option<f64>)>;
            let mut rows: Vec<(Labels, Labels, Values)> = Vec::new();
            for (l, (ref_id, labels)) in lines.iter().zip(&meta) {
                names.extend(labels.iter().map(|x| x.name.to_string()));
                let raw = reduce(&l.points, "lastNotNull");
                let value = (raw.map_or(String::new(), |v| crate::units::format(v, &p.unit, p.decimals)), raw);
                let col = refs.iter().position(|r| r == ref_id).unwrap_or(0);
                let key = labels.without_metric_name();
                match rows.iter_mut().find(|(k, _, _)| *k == key) {
                    Some((_, _, vals)) => vals[col] = value,
                    None => {
                        let mut vals = vec![(String::new(), None); refs.len().max(1)];
                        vals[col] = value;
                        rows.push((key, labels.clone(), vals));
                    }
                }
            }
            let names: Vec<String> = names.into_iter().collect();
            let mut head = names.clone();
            if refs.len() > 1 {
                head.extend(refs.iter().map(|r| format!("Value #{r}")));
            } else {
                head.push("Value".into());
            }
            // Columns as the `organize` transformation leaves them; value cells
            // coloured by thresholds when the cells say so.
            let cols = p.organize.apply(&head);
            view.table_head = cols.iter().map(|(_, title)| title.clone()).collect();
            let coloured = matches!(p.cell_colour.as_str(), "color-background" | "color-text");
            view.table_rows = rows
                .into_iter()
                .map(|(_, labels, vals)| {
                    let mut cells: Vec<Cell> = names
                        .iter()
                        .map(|n| Cell { text: labels.get(n).unwrap_or("").to_string(), style: String::new() })
                        .collect();
                    cells.extend(vals.iter().map(|(text, raw)| {
                        let style = match (coloured, raw) {
                            (true, Some(v)) if p.cell_colour == "color-text" => format!("color: {}", colour_of(*v)),
                            (true, Some(v)) => format!("background: {}; color: #111", colour_of(*v)),
                            _ => String::new(),
                        };
                        Cell { text: text.clone(), style }
                    }));
                    cols.iter().map(|(i, _)| cells[*i].clone()).collect()
                })
                .collect();
            if view.table_rows.is_empty() {
                view.stat = no_value.into();
            }
        }
        "stat" | "singlestat" => {
            match lines.first().and_then(|l| reduce(&l.points, &p.reducer)) {
                None => view.stat = no_value.into(),
                Some(v) => {
                    view.stat = crate::units::format(v, &p.unit, p.decimals);
                    view.stat_colour = if p.thresholds.is_empty() && !p.colour_mode.starts_with("continuous-") {
                        "inherit".into()
                    } else {
                        colour_of(v)
                    };
                    if let Some((text, colour)) = p.map_value(v) {
                        if !text.is_empty() {
                            view.stat = text;
                        }
                        if !colour.is_empty() {
                            view.stat_colour = named_colour(&colour);
                        }
                    }
                }
            }
            let spark: Vec<Line> = lines.into_iter().take(1).collect();
            if !spark.is_empty() {
                view.svg = chart::time_series(&spark, &frame(60, chart::Style::default()));
            }
        }
        _ => {
            lines.truncate(MAX_LINES);
            view.legend_calcs = p.legend_calcs.iter().map(|c| calc_title(c).to_string()).collect();
            view.legend = lines
                .iter()
                .enumerate()
                .map(|(i, l)| LegendEntry {
                    colour: l.colour.clone().unwrap_or_else(|| chart::colour(i).to_string()),
                    name: l.name.clone(),
                    calcs: p
                        .legend_calcs
                        .iter()
                        .map(|c| {
                            reduce(&l.points, c).map_or("—".into(), |v| crate::units::format(v, &p.unit, p.decimals))
                        })
                        .collect(),
                })
                .collect();
            let height = f.image.map_or(
                (p.grid.h * 38).saturating_sub(80 + 14 * p.legend_calcs.len().min(1) as u32).max(60),
                |(_, h)| h,
            );
            let style = chart::Style { stack: p.stack, fill: p.fill.min(100) as u8, bars: p.draw == "bars" };
            if p.stack_percent {
                // Each time's values as shares of its total, on an axis of percent.
                share_of_totals(&mut lines);
                let frame = TimeChart { unit: "percentunit", decimals: None, marks: f.marks, ..frame(height, style) };
                view.svg = chart::time_series(&lines, &frame);
            } else {
                view.svg = chart::time_series(&lines, &TimeChart { marks: f.marks, ..frame(height, style) });
            }
        }
    }
    view
}

/// `GET /d/<uid>`
pub async fn show(State(st): State<AppState>, Path(uid): Path<String>, RawQuery(q): RawQuery) -> Response {
    let found = {
        let d = st.dashboards.read().unwrap_or_else(|e| e.into_inner());
        d.list.iter().find(|d| d.uid == uid).cloned()
    };
    let Some(d) = found else {
        return (StatusCode::NOT_FOUND, format!("no dashboard with uid {uid:?}")).into_response();
    };
    // Other dashboards (uid, title, tags), for links to dashboards by tag.
    let all_dashboards: Vec<(String, String, Vec<String>)> = if d.links.iter().any(|l| l.dashboards) {
        let list = st.dashboards.read().unwrap_or_else(|e| e.into_inner());
        list.list.iter().map(|x| (x.uid.clone(), x.title.clone(), x.tags.clone())).collect()
    } else {
        Vec::new()
    };
    let params: Vec<(String, String)> = q
        .as_deref()
        .map(|q| form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let now = storage::model::timestamp::now_ms();
    let from_s = get("from").unwrap_or_else(|| d.from.clone());
    let to_s = get("to").unwrap_or_else(|| d.to.clone());
    let to = parse_time(&to_s, now).unwrap_or(now);
    let from = parse_time(&from_s, now).filter(|f| *f < to).unwrap_or(to - 6 * 3_600_000);
    let view_panel: Option<u64> = get("viewPanel").and_then(|v| v.parse().ok());
    // Collapsed rows opened in the URL (`open=<row id>`, repeatable, or `open=all`).
    let open: Vec<String> = params.iter().filter(|(k, _)| k == "open").map(|(_, v)| v.clone()).collect();
    let is_open = move |id: u64| open.iter().any(|o| o == "all" || *o == id.to_string());
    // The page follows the browser's light or dark preference unless the URL names one
    // (`theme=light|dark`, as Grafana's); its charts follow the page.
    let theme = get("theme").filter(|t| t == "light" || t == "dark").unwrap_or_default();
    // Auto-refresh: `refresh=` in the URL (empty or `off`: none), else the dashboard's own.
    let refresh = get("refresh").unwrap_or_else(|| d.refresh.clone());
    let base_query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().filter(|(k, _)| k != "open"))
        .finish();
    let hidden: Vec<(String, String)> =
        params.iter().filter(|(k, _)| k == "open" || k == "viewPanel").cloned().collect();
    let keep_query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().filter(|(k, _)| !matches!(k.as_str(), "open" | "from" | "to" | "viewPanel")))
        .finish();
    // The panels' queries stop if the page's request goes away.
    let (st2, _cancel) = st.cancellable();
    let page = tokio::task::spawn_blocking(move || {
        let (resolved, var_views, extra) = resolve(&st2, &d.variables, &params, from, to);
        let frame = Frame::new(&resolved, &extra, (from, to), &d.uid, scrape_ms(&st2), now);
        let (marks, annotation_errors) = annotation_marks(&st2, &d, &frame);
        let frame = Frame { marks: &marks, ..frame };
        // The panels to draw, in page order: each with the style it takes
        // instead of its own, and whether it is a row opened in the URL.
        let mut jobs: Vec<(&Panel, Option<String>, bool)> = Vec::new();
        let alone = || Some("grid-column: 1 / span 24; grid-row: span 20;".to_string());
        for p in &d.panels {
            if view_panel.is_some_and(|id| id != p.id && !p.children.iter().any(|c| c.id == id)) {
                continue;
            }
            // A collapsed row's panels are not queried (as Grafana) until it is opened.
            let opened = view_panel.is_none() && p.kind == "row" && p.collapsed && is_open(p.id);
            if view_panel.is_none() || view_panel == Some(p.id) {
                jobs.push((p, view_panel.and_then(|_| alone()), opened));
            }
            for c in p.children.iter().filter(|c| opened || view_panel == Some(c.id)) {
                let style = match view_panel {
                    Some(_) => alone(),
                    // Its own rows follow the row's header (their y is as if expanded).
                    None => Some(format!(
                        "grid-column: {} / span {}; grid-row: span {};",
                        c.grid.x + 1,
                        c.grid.w.min(24 - c.grid.x),
                        c.grid.h
                    )),
                };
                jobs.push((c, style, false));
            }
        }
        let panels = render_all(&st2, &jobs, &frame);
        DashboardPage {
            links: link_views(&d, &all_dashboards, &resolved, &extra, (&from_s, &to_s)),
            notes: annotation_errors,
            uid: d.uid.clone(),
            title: d.title.clone(),
            from: from_s,
            to: to_s,
            refresh_secs: promql::duration::parse_duration(&refresh).map_or(0, |ms| (ms / 1000).max(5) as u64),
            refresh_options: vec![
                ("", "off"),
                ("5s", "5s"),
                ("10s", "10s"),
                ("30s", "30s"),
                ("1m", "1m"),
                ("5m", "5m"),
            ],
            refresh,
            from_ms: from,
            to_ms: to,
            ranges: vec![
                ("now-5m", "5m"),
                ("now-15m", "15m"),
                ("now-1h", "1h"),
                ("now-6h", "6h"),
                ("now-24h", "24h"),
                ("now-7d", "7d"),
            ],
            vars: var_views,
            panels,
            view_panel: view_panel.is_some(),
            base_query,
            keep_query,
            theme,
            hidden,
        }
    })
    .await;
    match page {
        Ok(p) => crate::html::render(&p),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// A dashboard link as the page shows it.
struct LinkView {
    href: String,
    text: String,
    tooltip: String,
    blank: bool,
}

/// The dashboard's links: URLs (variables filled in; only web and relative
/// addresses, so a link cannot run script) and the dashboards with all the
/// link's tags, with the variables and time range appended when asked.
fn link_views(
    d: &model::Dashboard,
    all: &[(String, String, Vec<String>)],
    resolved: &[Resolved],
    extra: &[(String, String)],
    time: (&str, &str),
) -> Vec<LinkView> {
    let mut out = Vec::new();
    for l in &d.links {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if l.include_vars {
            for r in resolved {
                pairs.extend(r.values.iter().map(|v| (format!("var-{}", r.name), v.clone())));
            }
        }
        if l.keep_time {
            pairs.push(("from".into(), time.0.into()));
            pairs.push(("to".into(), time.1.into()));
        }
        let with_params = |url: &str| {
            if pairs.is_empty() {
                return url.to_string();
            }
            let q = form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
            format!("{url}{}{q}", if url.contains('?') { '&' } else { '?' })
        };
        let text = |t: &str| vars::interpolate(t, resolved, extra, Destination::Text);
        if l.dashboards {
            for (uid, title, _) in all.iter().filter(|o| o.0 != d.uid && l.tags.iter().all(|t| o.2.contains(t))) {
                let href = with_params(&format!("/d/{uid}"));
                out.push(LinkView { href, text: title.clone(), tooltip: text(&l.tooltip), blank: l.target_blank });
            }
            continue;
        }
        let url = text(&l.url);
        let lower = url.trim_start().to_ascii_lowercase();
        let safe = lower.starts_with("http://")
            || lower.starts_with("https://")
            || (lower.starts_with('/') && !lower.starts_with("//"))
            || lower.starts_with('?')
            || lower.starts_with('#');
        if !safe {
            continue;
        }
        let title = if l.title.is_empty() { url.clone() } else { text(&l.title) };
        out.push(LinkView {
            href: with_params(url.trim()),
            text: title,
            tooltip: text(&l.tooltip),
            blank: l.target_blank,
        });
    }
    out
}

/// The dashboard's enabled annotation queries over `[from, to]` as marks,
/// as Grafana turns them into events: each series' non-zero samples, those
/// no more than a step apart joined into one span; titled by `titleFormat`
/// (else the annotation's name), `textFormat` (else the series) and the
/// values of `tagKeys`. A query that fails is named in the second list.
fn annotation_marks(st: &AppState, d: &model::Dashboard, f: &Frame) -> (Vec<chart::Mark>, Vec<String>) {
    let (mut marks, mut errors) = (Vec::new(), Vec::new());
    let (from, to) = (f.from, f.to);
    for a in d.annotations.iter().filter(|a| a.enable) {
        let b = f.vars((from, to), f.scrape_ms, f.scrape_ms);
        let step = panel_duration(&vars::interpolate(&a.step, f.resolved, &b, Destination::Text))
            .unwrap_or(60_000)
            .max((to - from) / 11_000 + 1);
        let b = f.vars((from, to), step, f.scrape_ms);
        let text = |t: &str| vars::interpolate(t, f.resolved, &b, Destination::Text);
        let expr = vars::interpolate(&a.expr, f.resolved, &b, Destination::Query);
        let result = promql::parse(&expr).map_err(|e| e.to_string()).and_then(|e| {
            let start = to - (to - from) / step * step;
            st.timed(crate::QueryKind::Range, |engine| engine.range(&st.db, &e, start, to, step))
                .map_err(|e| e.to_string())
        });
        let series = match result {
            Ok(Value::Matrix(m)) => m,
            Ok(_) => Vec::new(),
            Err(e) => {
                errors.push(format!("annotation {:?}: {e}", a.name));
                continue;
            }
        };
        let colour = named_colour(&a.colour);
        for s in series {
            let title = if a.title.is_empty() { text(&a.name) } else { text(&legend_name(&a.title, &s.labels)) };
            let body = text(&legend_name(&a.text, &s.labels));
            let tags: Vec<&str> =
                text(&a.tag_keys).split(',').filter_map(|k| s.labels.get(k.trim())).collect::<Vec<_>>();
            let mut label = format!("{title}\n{body}");
            if !tags.is_empty() {
                label.push_str(&format!("\ntags: {}", tags.join(", ")));
            }
            let mut open: Option<chart::Mark> = None;
            for &(t, v) in s.points.iter().filter(|p| p.1 != 0.0 && !p.1.is_nan()) {
                let t = if a.value_for_time { v as i64 } else { t };
                match &mut open {
                    Some(m) if t - m.end <= step && t >= m.end => m.end = t,
                    _ => {
                        marks.extend(open.take());
                        open = Some(chart::Mark { start: t, end: t, colour: colour.clone(), title: label.clone() });
                    }
                }
            }
            marks.extend(open);
        }
    }
    (marks, errors)
}

/// How heavy a panel's queries look before they run: the series their
/// selectors may match, by the index's postings.
fn panel_weight(st: &AppState, p: &Panel, f: &Frame) -> usize {
    let b = f.vars((f.from, f.to), f.scrape_ms, f.scrape_ms);
    p.targets
        .iter()
        .filter_map(|t| promql::parse(&vars::interpolate(&t.expr, f.resolved, &b, Destination::Query)).ok())
        .map(|e| e.selectors().iter().map(|vs| st.db.estimate_series(&vs.matchers)).sum::<usize>())
        .sum()
}

/// Renders the panels on all cores, as a browser queries a dashboard's
/// panels at once, the heaviest first (so that no heavy panel starts last
/// and keeps the page waiting); the views come back in page order.
fn render_all(st: &AppState, jobs: &[(&Panel, Option<String>, bool)], frame: &Frame) -> Vec<PanelView> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8).min(jobs.len().max(1));
    let mut order: Vec<(usize, usize)> =
        jobs.iter().enumerate().map(|(k, j)| (panel_weight(st, j.0, frame), k)).collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut views: Vec<(usize, PanelView)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(_, k)) = order.get(n) else { break done };
                        let (p, style, opened) = &jobs[k];
                        let mut v = render_panel(st, p, frame);
                        if let Some(style) = style {
                            v.style = style.clone();
                        }
                        if *opened {
                            v.collapsed = false;
                        }
                        done.push((k, v));
                    }
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    views.sort_by_key(|(k, _)| *k);
    views.into_iter().map(|(_, v)| v).collect()
}

/// GET /render/panel?uid=…&panelId=…&from=…&to=…&width=…&height=…&var-…:
/// one panel as an SVG image (`&format=png` for PNG), for chats and incident notes.
pub async fn render_image(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params: Vec<(String, String)> = q
        .as_deref()
        .map(|q| form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let bad = |m: String| (StatusCode::BAD_REQUEST, m).into_response();
    let uid = get("uid").unwrap_or_default();
    let Some(id) = get("panelId").and_then(|p| p.parse::<u64>().ok()) else {
        return bad("panelId: a panel id is required".into());
    };
    let found = {
        let d = st.dashboards.read().unwrap_or_else(|e| e.into_inner());
        d.list.iter().find(|d| d.uid == uid).cloned()
    };
    let Some(d) = found else {
        return (StatusCode::NOT_FOUND, format!("no dashboard with uid {uid:?}")).into_response();
    };
    let Some(panel) = d.panels.iter().flat_map(|p| std::iter::once(p).chain(&p.children)).find(|p| p.id == id).cloned()
    else {
        return (StatusCode::NOT_FOUND, format!("no panel {id} in {uid:?}")).into_response();
    };
    let size = |k: &str, default: u32| get(k).and_then(|v| v.parse::<u32>().ok()).unwrap_or(default).clamp(100, 4000);
    let (w, h) = (size("width", 1000), size("height", 500));
    let now = storage::model::timestamp::now_ms();
    let to = parse_time(&get("to").unwrap_or_else(|| d.to.clone()), now).unwrap_or(now);
    let from = parse_time(&get("from").unwrap_or_else(|| d.from.clone()), now)
        .filter(|f| *f < to)
        .unwrap_or(to - 6 * 3_600_000);
    let theme = chart::Theme::image(get("theme").as_deref());
    let png = get("format").as_deref() == Some("png");
    let svg = tokio::task::spawn_blocking(move || {
        let (resolved, _, extra) = resolve(&st, &d.variables, &params, from, to);
        let frame =
            Frame { theme, image: Some((w, h)), ..Frame::new(&resolved, &extra, (from, to), &d.uid, scrape_ms(&st), now) };
        let (marks, _) = annotation_marks(&st, &d, &frame);
        let frame = Frame { marks: &marks, ..frame };
        let v = render_panel(&st, &panel, &frame);
        if !v.svg.is_empty() && v.stat.is_empty() {
            return v.svg;
        }
        // Text-like panels: their value or message as an image.
        let text = [&v.stat, &v.error, &v.placeholder, &v.text].into_iter().find(|t| !t.is_empty()).cloned().unwrap_or_default();
        let (fg, bg) = if theme == chart::Theme::Dark { ("#c7d0d9", "#181b1f") } else { ("#464c54", "#ffffff") };
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}"><rect width="100%" height="100%" fill="{bg}"/><text x="50%" y="50%" text-anchor="middle" dominant-baseline="middle" font-family="sans-serif" font-size="{}" fill="{fg}">{}</text></svg>"#,
            (h / 4).clamp(12, 96),
            chart::xml_escape(&text)
        )
    })
    .await;
    let svg = match svg {
        Ok(svg) => svg,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    if png {
        return match tokio::task::spawn_blocking(move || crate::png::svg_to_png(&svg)).await {
            Ok(Ok(bytes)) => ([(axum::http::header::CONTENT_TYPE, "image/png")], bytes).into_response(),
            Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        };
    }
    ([(axum::http::header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuous_schemes_run_from_low_to_high() {
        let stops = scheme("GrYlRd").unwrap();
        assert_eq!(gradient(stops, 0.0), "#73BF69");
        assert_eq!(gradient(stops, 0.5), "#FADE2A");
        assert_eq!(gradient(stops, 1.0), "#F2495C");
        assert_eq!(gradient(stops, 7.0), "#F2495C", "clamped");
        assert_eq!(gradient(stops, f64::NAN), "#73BF69");
        assert_eq!(gradient(scheme("YlRd").unwrap(), 0.5), "#F69443");
        assert!(scheme("nonsense").is_none());
    }

    #[test]
    fn grafana_named_colours_and_their_shades() {
        assert_eq!(named_colour("green"), "#73BF69");
        assert_eq!(named_colour("dark-red"), "#C4162A");
        assert_eq!(named_colour("semi-dark-blue"), "#3274D9");
        assert_eq!(named_colour("light-orange"), "#FFB357");
        assert_eq!(named_colour("super-light-purple"), "#DEB6F2");
        assert_eq!(named_colour("#abc\"><script>"), "#abcscript");
        assert_eq!(named_colour("text"), "inherit");
        assert_eq!(named_colour("dark-"), "inherit");
    }

    #[test]
    fn grafana_times_and_legends_and_custom_options() {
        let now = 10 * 86_400_000;
        assert_eq!(parse_time("now", now), Some(now));
        assert_eq!(parse_time("now-6h", now), Some(now - 6 * 3_600_000));
        assert_eq!(parse_time("now-1d/d", now), Some(now - 86_400_000));
        assert_eq!(parse_time("1700000000000", now), Some(1_700_000_000_000));
        assert_eq!(parse_time("later", now), None);
        let l = Labels::from_pairs([("__name__", "up"), ("job", "a"), ("instance", "h:1")]);
        assert_eq!(legend_name("{{job}} on {{ instance }}{{missing}}", &l), "a on h:1");
        assert_eq!(legend_name("", &l), "up{instance=\"h:1\", job=\"a\"}");
        assert_eq!(custom_options("a, b\\,c,Text : v"), ["a", "b,c", "v"]);
        assert_eq!(apply_regex(vec!["x{quantile=\"0.5\"} 1".into(), "y 2".into()], "/quantile=\"([^\"]+)\"/"), ["0.5"]);
    }
}
