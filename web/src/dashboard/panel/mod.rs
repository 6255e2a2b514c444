//! One panel drawn: its own time range and the step Grafana would ask for,
//! its queries, its colours, and its drawing per panel kind; and all of a
//! page's panels drawn at once.

mod colour;
mod draw;
mod frames;
mod heatmap;
mod legend;
mod query;

use super::markdown;
use super::model::{self, Panel};
use super::vars::{self, Destination, Resolved};
use crate::chart::{self, Line};
use crate::AppState;
pub(super) use colour::named_colour;
pub(super) use legend::legend_name;

/// Pixel width the grid is laid out for (panel widths and data points follow it).
const PAGE_WIDTH: i64 = 1400;

/// Most series one panel draws.
const MAX_LINES: usize = 50;

/// A table cell: its text and, when coloured, its style.
#[derive(Clone)]
pub(super) struct Cell {
    pub(super) text: String,
    pub(super) style: String,
    /// A gauge cell's bar: its length in percent of the cell and its colour (empty: none).
    pub(super) bar: String,
}

/// One value box of a stat panel showing several series.
pub(super) struct StatBox {
    /// The series' name (empty when the text mode hides it).
    pub(super) name: String,
    /// The value as shown.
    pub(super) value: String,
    /// Its colour (`inherit`: the text's).
    pub(super) colour: String,
    /// The colour fills the box instead of the text.
    pub(super) background: bool,
    /// The value's font size in pixels, fitted to the box.
    pub(super) font: u32,
    /// Name left, value right (a box much wider than tall).
    pub(super) wide: bool,
}

pub(super) struct LegendEntry {
    pub(super) colour: String,
    pub(super) name: String,
    /// The legend's calculations (min, max, mean, last…), formatted.
    pub(super) calcs: Vec<String>,
    /// The page showing only this series in its chart, or every series again
    /// when it is the only one shown (Grafana's click on a legend entry); empty
    /// where a legend does not isolate.
    pub(super) href: String,
    /// `panel:name` for the page's script: ctrl-click adds or removes the series.
    pub(super) isolate: String,
    /// Hidden from the chart (greyed in the legend).
    pub(super) off: bool,
}

pub(super) struct PanelView {
    pub(super) id: u64,
    pub(super) kind: String,
    pub(super) title: String,
    pub(super) style: String,
    pub(super) svg: String,
    pub(super) legend: Vec<LegendEntry>,
    pub(super) stat: String,
    pub(super) stat_colour: String,
    /// The stat's colour fills its box (`colorMode: background`) instead of its text.
    pub(super) stat_background: bool,
    /// The stat's font size in pixels, fitted to the panel (0: the page's default).
    pub(super) stat_font: u32,
    /// Stat panels of several series: a box each.
    pub(super) stats: Vec<StatBox>,
    /// Those boxes side by side (else one under the other).
    pub(super) stat_across: bool,
    /// Wide boxes keep name and value together in the middle (`justifyMode: center`).
    pub(super) stat_centred: bool,
    /// What the panel's JSON asks for that Vigil does not draw, for its info mark.
    pub(super) ignored: String,
    pub(super) text: String,
    pub(super) error: String,
    pub(super) placeholder: String,
    pub(super) collapsed: bool,
    pub(super) table_head: Vec<String>,
    /// Each column's width (`custom.width`), as a style (empty: as wide as it needs).
    pub(super) table_widths: Vec<String>,
    pub(super) table_rows: Vec<Vec<Cell>>,
    /// A data panel whose queries returned nothing to draw.
    pub(super) no_data: bool,
    /// Titles of the legend's calculation columns (a table legend when any).
    pub(super) legend_calcs: Vec<String>,
    /// The legend's width in pixels when it stands right of the chart (0: below it).
    pub(super) legend_width: u32,
    /// A text panel's markdown, rendered (escaped first).
    pub(super) text_html: String,
    /// The panel's own range in words (`Last 1 hour timeshift -1d`), if shown.
    pub(super) time_info: String,
    /// Its queries as run, for the panel's menu.
    pub(super) queries: Vec<query::PanelQueryRun>,
}

/// What every panel of one page view shares.
#[derive(Clone, Copy)]
pub(super) struct Frame<'a> {
    pub(super) resolved: &'a [Resolved],
    pub(super) extra: &'a [(String, String)],
    pub(super) from: i64,
    pub(super) to: i64,
    pub(super) uid: &'a str,
    pub(super) theme: chart::Theme,
    /// For /render/panel: the image's size instead of the grid's.
    pub(super) image: Option<(u32, u32)>,
    /// The scrape interval: the floor of `$__interval` and the base of `$__rate_interval`
    /// (Grafana's data source setting; Vigil knows its own).
    pub(super) scrape_ms: i64,
    /// The time of the request: panels with `timeFrom` end at it.
    pub(super) now: i64,
    /// The dashboard's annotations over `[from, to]`, marked on time series.
    pub(super) marks: &'a [chart::Mark],
    /// The page's URL parameters, for links that change one of them.
    pub(super) query: &'a [(String, String)],
}

impl<'a> Frame<'a> {
    /// A page's frame (the page's colours, the grid's sizes), without marks yet.
    pub(super) fn new(
        resolved: &'a [Resolved],
        extra: &'a [(String, String)],
        (from, to): (i64, i64),
        uid: &'a str,
        scrape_ms: i64,
        now: i64,
    ) -> Self {
        let (theme, image) = (chart::Theme::Page, None);
        Frame { resolved, extra, from, to, uid, theme, image, scrape_ms, now, marks: &[], query: &[] }
    }

    /// What `$name`s stand for in a query over `(from, to)` at `step`: the
    /// built-ins (for a source scraped every `scrape` ms), then the page's extras.
    pub(super) fn vars(&self, (from, to): (i64, i64), step: i64, scrape: i64) -> Vec<(String, String)> {
        let mut b = vars::builtins(from, to, step, scrape, self.uid);
        b.extend(self.extra.iter().cloned());
        b
    }
}

/// The height in pixels under a panel's title, on Grafana's grid of 30 px
/// rows 8 px apart (less the panel's padding, border and title).
pub(super) fn inner_height(rows: u32) -> u32 {
    (rows * 38).saturating_sub(8 + 14 + 24).max(20)
}

/// The width in pixels inside a panel `columns` wide on a page laid out
/// for `PAGE_WIDTH`: 24 columns 8 px apart, less padding and border.
pub(super) fn inner_width(columns: u32) -> f64 {
    let column = (PAGE_WIDTH as f64 - 23.0 * 8.0) / 24.0;
    f64::from(columns) * column + f64::from(columns.saturating_sub(1)) * 8.0 - 22.0
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

/// The running config's scrape interval in milliseconds (at least 1).
pub(super) fn scrape_ms(st: &AppState) -> i64 {
    (st.control.scrape_interval().as_millis() as i64).max(1)
}

/// A duration as a panel's `timeFrom`/`timeShift`/`interval` writes it (`1h`, `>10s`, `now-1h`).
pub(super) fn panel_duration(text: &str) -> Option<i64> {
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
/// range) at the step Grafana would ask for, then drawn as its kind.
pub(super) fn render_panel(st: &AppState, p: &Panel, f: &Frame) -> PanelView {
    let time = PanelTime::new(p, f);
    let title = vars::interpolate(&p.title, f.resolved, &time.vars, Destination::Text);
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
        stat_background: false,
        stat_font: 0,
        stats: Vec::new(),
        stat_across: true,
        stat_centred: p.stat_justify == "center",
        ignored: p.field_config.ignored.join("; "),
        text: String::new(),
        error: String::new(),
        placeholder: String::new(),
        collapsed: p.collapsed,
        table_head: Vec::new(),
        table_widths: Vec::new(),
        table_rows: Vec::new(),
        no_data: false,
        legend_calcs: Vec::new(),
        legend_width: 0,
        text_html: String::new(),
        time_info: if p.hide_time_override { String::new() } else { time_info(&time.time_from, &time.time_shift) },
        queries: Vec::new(),
    };
    match p.kind.as_str() {
        "row" => return view,
        "text" => {
            let text = vars::interpolate(&p.content, f.resolved, &time.vars, Destination::Text);
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
        "timeseries" | "graph" | "stat" | "singlestat" | "gauge" | "bargauge" | "piechart" | "table" | "heatmap"
        | "state-timeline" | "status-history" => {}
        other => {
            view.placeholder = format!("Panel type \"{other}\" is not drawn by Vigil yet.");
            return view;
        }
    }
    let mut queries = Vec::new();
    let run = query::run(st, p, f, &time, &mut queries);
    view.queries = queries;
    match run {
        Ok(mut series) => {
            if p.kind != "table" {
                query::calculate_fields(p, &mut series);
            }
            draw::draw(&mut view, p, f, &time, series)
        }
        Err(e) => view.error = e,
    }
    view
}

/// A panel's time range and steps, as Grafana works them out.
pub(super) struct PanelTime {
    /// The range queried: the page's, or the panel's own (`timeFrom`, `timeShift`).
    pub(super) from: i64,
    pub(super) to: i64,
    /// The panel's step: the smallest of its queries' steps.
    pub(super) step: i64,
    /// `$__interval` before each query's own floor and factor.
    interval: i64,
    /// The panel's `interval` (else the scrape interval): the queries' smallest step.
    panel_min: i64,
    /// No query asks for more than 11,000 points, as Prometheus allows.
    floor: i64,
    /// The panel's width in pixels (the image's for /render/panel).
    pub(super) width_px: i64,
    /// `timeFrom` and `timeShift`, interpolated.
    time_from: String,
    time_shift: String,
    /// The built-in variables at the panel's step.
    pub(super) vars: Vec<(String, String)>,
}

impl PanelTime {
    fn new(p: &Panel, f: &Frame) -> PanelTime {
        let (mut from, mut to) = (f.from, f.to);
        let b = f.vars((from, to), f.scrape_ms, f.scrape_ms);
        // The panel's own range, as Grafana applies it: `timeFrom` ends now, `timeShift` moves back.
        let time_from = vars::interpolate(&p.time_from, f.resolved, &b, Destination::Text);
        let time_shift = vars::interpolate(&p.time_shift, f.resolved, &b, Destination::Text);
        if let Some(ms) = panel_duration(&time_from) {
            (from, to) = (f.now - ms, f.now);
        }
        if let Some(ms) = panel_duration(&time_shift) {
            (from, to) = (from - ms, to - ms);
        }
        // Charts are drawn at the size they are shown, so that their text is too.
        let width_px = f.image.map_or((inner_width(p.grid.w) as i64).max(100), |(w, _)| i64::from(w));
        let panel_min = panel_duration(&p.interval).unwrap_or(f.scrape_ms);
        // `$__interval` before each query's own floor and factor (Grafana's `adjustInterval`).
        let interval = vars::interval_ms(to - from, p.max_data_points.unwrap_or(width_px), panel_min);
        let floor = (to - from) / 11_000 + 1;
        let mut time =
            PanelTime { from, to, step: 0, interval, panel_min, floor, width_px, time_from, time_shift, vars: b };
        time.step = p.targets.iter().map(|t| time.query_step(t, f).0).min().unwrap_or(interval.max(floor));
        time.vars = f.vars((from, to), time.step, f.scrape_ms);
        time
    }

    /// One query's step, and the scrape interval its `$__rate_interval` assumes.
    pub(super) fn query_step(&self, t: &model::PanelQuery, f: &Frame) -> (i64, i64) {
        let own = panel_duration(&t.interval);
        let step = (self.interval * t.interval_factor).max(own.unwrap_or(self.panel_min)).max(self.floor);
        (step, own.unwrap_or(f.scrape_ms))
    }
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
/// One panel to draw: the panel, the style it takes instead of its own, whether
/// it is a row opened in the URL, and the variables it sees (a repeated copy's own).
pub(super) type Job<'a> = (&'a Panel, Option<String>, bool, Option<&'a [Resolved]>);

pub(super) fn render_all(st: &AppState, jobs: &[Job], frame: &Frame) -> Vec<PanelView> {
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
                        let (p, style, opened, own) = &jobs[k];
                        let frame = Frame { resolved: own.unwrap_or(frame.resolved), ..*frame };
                        let mut v = render_panel(st, p, &frame);
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

/// The series isolated in panel `id` by the page's URL (`isolate=<id>:<name>`,
/// repeatable): only these are drawn, as Grafana draws after a click on a legend entry.
pub(super) fn isolated(query: &[(String, String)], id: u64) -> Vec<&str> {
    let prefix = format!("{id}:");
    query.iter().filter(|(k, _)| k == "isolate").filter_map(|(_, v)| v.strip_prefix(prefix.as_str())).collect()
}

/// The page's URL query with panel `id`'s isolated series replaced by `names`.
pub(super) fn with_isolated(query: &[(String, String)], id: u64, names: &[&str]) -> String {
    let prefix = format!("{id}:");
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.extend_pairs(query.iter().filter(|(k, v)| k != "isolate" || !v.starts_with(prefix.as_str())));
    for n in names {
        q.append_pair("isolate", &format!("{id}:{n}"));
    }
    q.finish()
}
