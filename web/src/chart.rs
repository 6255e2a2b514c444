//! Charts drawn with plotters into SVG text: time series as lines broken
//! where data is missing or stale, with unit-formatted axes, a [`Theme`],
//! and each point's value as a hover title.
//!
//! Series names (label values from targets) never enter the SVG except
//! through [`xml_escape`]; legends are the page's HTML.

use crate::units;
use plotters::prelude::*;
use std::fmt::Write;

/// One line: its name and its points (ms, value); NaN or a missing step is a
/// gap. `colour` overrides the palette's (`#rrggbb`).
#[derive(Default)]
pub struct Line {
    /// Shown in the legend and tooltip.
    pub name: String,
    /// (ms, value), oldest first.
    pub points: Vec<(i64, f64)>,
    /// `#rrggbb`; `None` takes the palette's next.
    pub colour: Option<String>,
}

/// The frame a time series chart is drawn in.
pub struct TimeChart<'a> {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The range's start (ms).
    pub start: i64,
    /// The range's end (ms).
    pub end: i64,
    /// The query step: points further apart than this (and a half) are not joined.
    pub step: i64,
    /// Grafana unit id for the axis.
    pub unit: &'a str,
    /// Decimals on the axis (`None`: chosen by the tick spacing).
    pub decimals: Option<usize>,
    /// Light or dark.
    pub theme: Theme,
    /// Lines, bars, fill, stacking.
    pub style: Style,
    /// Times marked across the plot (annotations).
    pub marks: &'a [Mark],
}

/// A time (`start == end`) or a span marked across a time series chart, as
/// Grafana draws annotations: a dashed line or a shaded band, its title on hover.
#[derive(Clone, Debug, Default)]
pub struct Mark {
    /// Start (ms).
    pub start: i64,
    /// End (ms); equal to `start` for a single time.
    pub end: i64,
    /// A `#rrggbb` colour (anything else draws in the chart's text colour).
    pub colour: String,
    /// Shown on hover.
    pub title: String,
}

/// The colours a chart is drawn in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    /// Inside a page: no background, and text, axes and tracks in the SVG's
    /// `currentColor`, so the chart follows the page's light or dark style.
    #[default]
    Page,
    /// A standalone image on white.
    Light,
    /// A standalone image on Grafana's dark background.
    Dark,
}

/// Stands for `currentColor` while plotters draws (it writes colours as `#RRGGBB`).
const PAGE_FG: RGBColor = RGBColor(1, 2, 3);

impl Theme {
    /// `theme=dark` → Dark, anything else → Light (for images).
    pub fn image(param: Option<&str>) -> Theme {
        if param == Some("dark") {
            Theme::Dark
        } else {
            Theme::Light
        }
    }

    /// Text colour and, for images, the background.
    fn colours(self) -> (RGBColor, Option<RGBColor>) {
        match self {
            Theme::Page => (PAGE_FG, None),
            Theme::Light => (rgb("#464c54"), Some(rgb("#ffffff"))),
            Theme::Dark => (rgb("#c7d0d9"), Some(rgb("#181b1f"))),
        }
    }

    /// Paints the background (images only) before drawing.
    fn fill<DB: DrawingBackend>(self, root: &DrawingArea<DB, plotters::coord::Shift>) {
        if let (_, Some(bg)) = self.colours() {
            let _ = root.fill(&bg);
        }
    }

    /// The SVG text with the page's stand-in colour turned into `currentColor`.
    fn finish(self, svg: String) -> String {
        if self == Theme::Page {
            svg.replace("\"#010203\"", "\"currentColor\"")
        } else {
            svg
        }
    }
}

/// How a time series chart draws its series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// Each series on top of the ones before it.
    pub stack: bool,
    /// Opacity of the area under each line, 0–100 (0: none).
    pub fill: u8,
    /// Bars at each point instead of lines.
    pub bars: bool,
}

/// Each series' points: (ms, value).
type Points = Vec<(i64, f64)>;

/// Series summed on top of each other at equal timestamps: (tops, bottoms).
fn stack_lines(lines: &[Line]) -> (Vec<Line>, Vec<Points>) {
    let mut base: std::collections::HashMap<i64, f64> = std::collections::HashMap::new();
    let mut tops = Vec::with_capacity(lines.len());
    let mut bottoms = Vec::with_capacity(lines.len());
    for l in lines {
        let mut top = Vec::with_capacity(l.points.len());
        let mut bottom = Vec::with_capacity(l.points.len());
        for (t, v) in &l.points {
            let b = base.get(t).copied().unwrap_or(0.0);
            if v.is_finite() {
                top.push((*t, b + v));
                base.insert(*t, b + v);
            } else {
                top.push((*t, f64::NAN));
            }
            bottom.push((*t, b));
        }
        tops.push(Line { name: l.name.clone(), points: top, colour: l.colour.clone() });
        bottoms.push(bottom);
    }
    (tops, bottoms)
}

/// Grafana's classic palette, in its order.
pub const PALETTE: [&str; 12] = [
    "#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1", "#BA43A9", "#705DA0", "#508642", "#CCA300",
    "#447EBC", "#C15C17",
];

/// The palette colour of series `i`.
pub fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

fn rgb(hex: &str) -> RGBColor {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap_or(0x808080);
    RGBColor((v >> 16) as u8, (v >> 8) as u8, v as u8)
}

/// `&`, `<`, `>`, `"` and `'` escaped for XML text and attributes.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `HH:MM` (UTC), with the date when the range spans more than a day.
/// A time beyond the years ±9999 has no label.
pub fn time_label(ms: i64, span_ms: i64) -> String {
    let format = if span_ms > 86_400_000 {
        "%m-%d %H:%M"
    } else if span_ms < 900_000 {
        "%H:%M:%S"
    } else {
        "%H:%M"
    };
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| String::new(), |t| t.strftime(format).to_string())
}

/// Runs of points to be joined: split at NaN and at steps longer than 1.5 × `step`.
fn segments(points: &[(i64, f64)], step: i64) -> Vec<&[(i64, f64)]> {
    let mut out = Vec::new();
    let mut start = None;
    for i in 0..points.len() {
        let ok = points[i].1.is_finite();
        let joined = i > 0 && points[i - 1].1.is_finite() && (points[i].0 - points[i - 1].0) * 2 <= step * 3;
        match (start, ok) {
            (Some(s), true) if joined => {
                let _ = s;
            }
            (Some(s), _) => {
                out.push(&points[s..i]);
                start = ok.then_some(i);
            }
            (None, true) => start = Some(i),
            (None, false) => {}
        }
    }
    if let Some(s) = start {
        out.push(&points[s..]);
    }
    out
}

/// The y range covering every finite value, padded; `0..1` without data.
fn y_range(lines: &[Line]) -> (f64, f64) {
    let vals = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).filter(|v| v.is_finite());
    let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    if lo == hi {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - pad, hi + pad);
    }
    let pad = (hi - lo) * 0.05;
    // Keep zero as the floor for data that never goes below it.
    let lo = if lo >= 0.0 && lo - pad < 0.0 { 0.0 } else { lo - pad };
    (lo, hi + pad)
}

/// Draws `lines` as an SVG time series chart.
pub fn time_series(lines: &[Line], c: &TimeChart) -> String {
    let mut svg = String::new();
    let (fg, _) = c.theme.colours();
    let grid = fg.mix(0.18);
    let unstacked = lines;
    let stacked;
    let (lines, bottoms): (&[Line], Option<Vec<Points>>) = if c.style.stack {
        let (tops, bottoms) = stack_lines(lines);
        stacked = tops;
        (&stacked, Some(bottoms))
    } else {
        (lines, None)
    };
    let (mut lo, hi) = y_range(lines);
    if (c.style.fill > 0 || c.style.bars || c.style.stack) && lo > 0.0 {
        lo = 0.0; // areas and bars stand on zero
    }
    let span = (c.end - c.start).max(1);
    let (mut hover, mut fills, mut strokes) = (String::new(), String::new(), String::new());
    let plot_x: (i32, i32);
    {
        let root = SVGBackend::with_string(&mut svg, (c.width, c.height)).into_drawing_area();
        c.theme.fill(&root);
        let chart = ChartBuilder::on(&root)
            .margin(8)
            // Room for the last time label, centred on a tick near the right edge.
            .margin_right(28)
            .x_label_area_size(22)
            .y_label_area_size(64)
            .build_cartesian_2d(c.start..c.end.max(c.start + 1), lo..hi);
        let Ok(mut chart) = chart else { return String::new() };
        let unit = c.unit.to_string();
        let decimals = c.decimals;
        let _ = chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(grid)
            .axis_style(grid)
            .label_style(("sans-serif", 11).into_font().color(&fg))
            .x_labels(((c.width / 110) as usize).max(2))
            .y_labels(((c.height / 40) as usize).max(2))
            .x_label_formatter(&|x| time_label(*x, span))
            .y_label_formatter(&|y| units::format(*y, &unit, decimals))
            .draw();
        let zero = 0f64.clamp(lo, hi);
        for (i, l) in lines.iter().enumerate() {
            let colour = rgb(l.colour.as_deref().unwrap_or(colour(i)));
            let bottom_at = |t: i64| -> f64 {
                let below = bottoms.as_ref().map(|b| &b[i]);
                below
                    .and_then(|b| b.binary_search_by_key(&t, |p| p.0).ok().map(|k| b[k].1))
                    .map_or(zero, |v| v.clamp(lo, hi))
            };
            if c.style.bars {
                let half = (c.step * 2 / 5).max(1);
                let bars =
                    l.points.iter().filter(|p| p.1.is_finite()).map(|&(t, v)| {
                        Rectangle::new([(t - half, bottom_at(t)), (t + half, v)], colour.mix(0.8).filled())
                    });
                let _ = chart.draw_series(bars);
            }
            if c.style.bars {
                continue;
            }
            // Lines and areas as compact paths (relative moves), areas under all lines.
            let hex = xml_escape(l.colour.as_deref().unwrap_or(PALETTE[i % PALETTE.len()]));
            for seg in segments(&l.points, c.step) {
                if seg.len() == 1 {
                    let _ = chart.draw_series(std::iter::once(Circle::new(seg[0], 2, colour.filled())));
                    continue;
                }
                let mut pts: Vec<(i32, i32)> = seg.iter().map(|p| chart.backend_coord(p)).collect();
                let _ = write!(strokes, r#"<path class="line" fill="none" stroke="{hex}" d=""#);
                write_path(&mut strokes, &pts, false);
                strokes.push_str("\"/>");
                if c.style.fill > 0 {
                    if bottoms.is_some() {
                        pts.extend(seg.iter().rev().map(|&(t, _)| chart.backend_coord(&(t, bottom_at(t)))));
                    } else {
                        // Down to zero: two corners close the area.
                        let (first, last) = (seg[0].0, seg[seg.len() - 1].0);
                        pts.push(chart.backend_coord(&(last, zero)));
                        pts.push(chart.backend_coord(&(first, zero)));
                    }
                    let opacity = f64::from(c.style.fill.min(100)) / 100.0;
                    let _ = write!(fills, r#"<path class="fill" fill="{hex}" fill-opacity="{opacity}" d=""#);
                    write_path(&mut fills, &pts, true);
                    fills.push_str("\"/>");
                }
            }
        }
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        plot_x = (xs.start, xs.end);
        let x_of = |t: i64| chart.backend_coord(&(t, lo)).0;
        hover_columns(&mut hover, unstacked, c, x_of, (xs.start, xs.end), (ys.start, ys.end));
        marks(&mut hover, c, x_of, (xs.start, xs.end), (ys.start, ys.end));
        let _ = root.present();
    }
    if let Some(at) = svg.rfind("</svg>") {
        svg.insert_str(at, &(fills + &strokes + &hover));
    }
    // Where the time axis runs, for the page's drag-to-zoom.
    if let Some(end) = svg.starts_with("<svg ").then(|| svg.find('>')).flatten() {
        svg.insert_str(end, &format!(" data-plot-left=\"{}\" data-plot-right=\"{}\"", plot_x.0, plot_x.1));
    }
    c.theme.finish(svg)
}

/// Writes `pts` as SVG path data: a move, then relative lines (repeated
/// points left out), closed with `Z` for areas. Some 5 bytes a point where
/// absolute `x,y` pairs take 8.
fn write_path(out: &mut String, pts: &[(i32, i32)], close: bool) {
    let Some(&(x0, y0)) = pts.first() else { return };
    let _ = write!(out, "M{x0} {y0}");
    let (mut prev, mut first) = ((x0, y0), true);
    for &p in &pts[1..] {
        let (dx, dy) = (p.0 - prev.0, p.1 - prev.1);
        if dx == 0 && dy == 0 {
            continue;
        }
        if first {
            out.push('l');
            first = false;
        } else if dx >= 0 {
            out.push(' ');
        }
        let _ = write!(out, "{dx}");
        if dy >= 0 {
            out.push(' ');
        }
        let _ = write!(out, "{dy}");
        prev = p;
    }
    if close {
        out.push('Z');
    }
}

/// Hover columns at least this many pixels wide.
const HOVER_COLUMN_PX: i32 = 10;
/// Series named in one hover title (the largest values first).
const HOVER_SERIES: usize = 6;

/// Hover values as Grafana's tooltip shows them: for each time across the
/// plot (at most one per [`HOVER_COLUMN_PX`]) a transparent column whose
/// title gives the time and each series' value there, largest first. Bounded
/// by the chart's width, not by its series and points, so a page of many
/// busy charts stays light.
fn hover_columns(
    out: &mut String,
    lines: &[Line],
    c: &TimeChart,
    x_of: impl Fn(i64) -> i32,
    (left, right): (i32, i32),
    (top, bottom): (i32, i32),
) {
    let mut times: Vec<i64> = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).collect();
    times.sort_unstable();
    times.dedup();
    let mut columns: Vec<(i64, i32)> = Vec::new();
    for t in times {
        let x = x_of(t);
        if columns.last().is_none_or(|&(_, last)| x >= last + HOVER_COLUMN_PX) {
            columns.push((t, x));
        }
    }
    for (k, &(t, x)) in columns.iter().enumerate() {
        let mut at: Vec<(&str, f64)> = lines
            .iter()
            .filter_map(|l| l.points.binary_search_by_key(&t, |p| p.0).ok().map(|i| (l.name.as_str(), l.points[i].1)))
            .filter(|(_, v)| v.is_finite())
            .collect();
        if at.is_empty() {
            continue;
        }
        at.sort_by(|a, b| b.1.total_cmp(&a.1));
        let x0 = if k == 0 { left } else { (columns[k - 1].1 + x) / 2 };
        let x1 = columns.get(k + 1).map_or(right, |n| (x + n.1) / 2);
        let _ = write!(
            out,
            r#"<rect x="{x0}" y="{top}" width="{}" height="{}" fill="transparent"><title>{}"#,
            (x1 - x0).max(1),
            (bottom - top).max(1),
            time_label(t, 0)
        );
        for (name, v) in at.iter().take(HOVER_SERIES) {
            let _ = write!(out, "\n{}: {}", xml_escape(name), xml_escape(&units::format(*v, c.unit, c.decimals)));
        }
        if at.len() > HOVER_SERIES {
            let _ = write!(out, "\n… and {} more", at.len() - HOVER_SERIES);
        }
        out.push_str("</title></rect>");
    }
}

/// The chart's marks over the plot, after the hover columns so that their
/// own titles show.
fn marks(
    out: &mut String,
    c: &TimeChart,
    x_of: impl Fn(i64) -> i32,
    (left, right): (i32, i32),
    (top, bottom): (i32, i32),
) {
    let RGBColor(r, g, b) = c.theme.colours().0;
    let fg = format!("#{r:02x}{g:02x}{b:02x}");
    for m in c.marks.iter().filter(|m| m.end >= c.start && m.start <= c.end) {
        let colour = if is_safe_colour(&m.colour) { m.colour.clone() } else { fg.clone() };
        let (x0, x1) = (x_of(m.start.max(c.start)).clamp(left, right), x_of(m.end.min(c.end)).clamp(left, right));
        let title = format!("{}\n{}", xml_escape(&m.title), time_label(m.start, 0));
        if x1 - x0 >= 2 {
            let _ = write!(
                out,
                r#"<g class="mark"><title>{title}</title><rect x="{x0}" y="{top}" width="{}" height="{}" fill="{colour}" fill-opacity="0.12"/><line x1="{x0}" y1="{top}" x2="{x0}" y2="{bottom}" stroke="{colour}" stroke-dasharray="3 3"/></g>"#,
                x1 - x0,
                bottom - top
            );
        } else {
            let _ = write!(
                out,
                r#"<g class="mark"><title>{title}</title><rect x="{}" y="{top}" width="7" height="{}" fill="transparent"/><line x1="{x0}" y1="{top}" x2="{x0}" y2="{bottom}" stroke="{colour}" stroke-dasharray="3 3"/></g>"#,
                x0 - 3,
                bottom - top
            );
        }
    }
}

/// `#rgb`, `#rrggbb` (with or without alpha) or `rgb(…)`/`rgba(…)` of
/// numbers: safe to write into an attribute as it is.
fn is_safe_colour(c: &str) -> bool {
    let hex = c
        .strip_prefix('#')
        .is_some_and(|h| matches!(h.len(), 3 | 4 | 6 | 8) && h.bytes().all(|b| b.is_ascii_hexdigit()));
    let func = (c.starts_with("rgb(") || c.starts_with("rgba("))
        && c.ends_with(')')
        && c.bytes().all(|b| b.is_ascii_alphanumeric() || b"(),. %".contains(&b))
        && c.len() < 40;
    hex || func
}

/// Points along a circle's arc from angle `a0` to `a1` (radians, 0 = east, counter-clockwise).
fn arc(cx: f64, cy: f64, r: f64, a0: f64, a1: f64) -> Vec<(i32, i32)> {
    let n = (((a1 - a0).abs() * r / 4.0).ceil() as usize).clamp(2, 400);
    (0..=n)
        .map(|k| {
            let a = a0 + (a1 - a0) * k as f64 / n as f64;
            ((cx + r * a.cos()).round() as i32, (cy - r * a.sin()).round() as i32)
        })
        .collect()
}

/// A gauge: a 240° arc from `min` to `max`, filled up to `value` in `colour`.
pub fn gauge(value: f64, min: f64, max: f64, colour: &str, width: u32, height: u32, theme: Theme) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let track = theme.colours().0.mix(0.15);
        theme.fill(&root);
        let (w, h) = (f64::from(width), f64::from(height));
        let r = (w / 2.0).min(h * 0.62) - 8.0;
        let (cx, cy) = (w / 2.0, h * 0.62);
        let thick = (r * 0.18).max(4.0) as u32;
        let (start, end) = (210f64.to_radians(), -30f64.to_radians());
        let _ = root.draw(&PathElement::new(arc(cx, cy, r, start, end), track.stroke_width(thick)));
        let frac = if max > min && value.is_finite() { ((value - min) / (max - min)).clamp(0.0, 1.0) } else { 0.0 };
        if frac > 0.0 {
            let a = start + (end - start) * frac;
            let _ = root.draw(&PathElement::new(arc(cx, cy, r, start, a), rgb(colour).stroke_width(thick)));
        }
        let _ = root.present();
    }
    theme.finish(svg)
}

/// Horizontal bars, one per (name, value, colour), scaled from `min` to `max`.
pub fn bars(items: &[(String, f64, String)], min: f64, max: f64, width: u32, height: u32, theme: Theme) -> String {
    let mut svg = String::new();
    let mut titles = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let track = theme.colours().0.mix(0.15);
        theme.fill(&root);
        let n = items.len().max(1) as i32;
        let slot = (height as i32 / n).max(4);
        for (i, (name, v, colour)) in items.iter().enumerate() {
            let y0 = i as i32 * slot + 2;
            let y1 = y0 + slot - 4;
            let frac = if max > min && v.is_finite() { ((v - min) / (max - min)).clamp(0.0, 1.0) } else { 0.0 };
            let x1 = (f64::from(width) * frac) as i32;
            let _ = root.draw(&Rectangle::new([(0, y0), (width as i32, y1)], track.filled()));
            let _ = root.draw(&Rectangle::new([(0, y0), (x1, y1)], rgb(colour).filled()));
            let _ = write!(
                titles,
                r#"<rect x="0" y="{y0}" width="{width}" height="{}" fill="transparent"><title>{}: {v}</title></rect>"#,
                y1 - y0,
                xml_escape(name)
            );
        }
        let _ = root.present();
    }
    if let Some(at) = svg.rfind("</svg>") {
        svg.insert_str(at, &titles);
    }
    theme.finish(svg)
}

/// A pie (or a donut): one slice per (name, value), palette colours in order.
pub fn pie(items: &[(String, f64)], donut: bool, width: u32, height: u32, theme: Theme) -> String {
    let mut svg = String::new();
    let mut titles = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        theme.fill(&root);
        let total: f64 = items.iter().map(|(_, v)| v.max(0.0)).filter(|v| v.is_finite()).sum();
        let (cx, cy) = (f64::from(width) / 2.0, f64::from(height) / 2.0);
        let r = cx.min(cy) - 4.0;
        let mut a = std::f64::consts::FRAC_PI_2;
        for (i, (name, v)) in items.iter().enumerate() {
            let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
            if total <= 0.0 || v <= 0.0 {
                continue;
            }
            let sweep = v / total * std::f64::consts::TAU;
            // A donut's slice is a ring's part: the outer arc, then the inner one back.
            let mut pts = arc(cx, cy, r, a, a - sweep);
            if donut {
                let mut inner = arc(cx, cy, r * 0.55, a, a - sweep);
                inner.reverse();
                pts.extend(inner);
            } else {
                pts.push((cx.round() as i32, cy.round() as i32));
            }
            let _ = root.draw(&Polygon::new(pts, rgb(colour(i)).filled()));
            let mid = a - sweep / 2.0;
            let (tx, ty) = (cx + r * 0.6 * mid.cos(), cy - r * 0.6 * mid.sin());
            let _ = write!(
                titles,
                r#"<circle cx="{tx:.0}" cy="{ty:.0}" r="{:.0}" fill="transparent"><title>{}: {v} ({:.1}%)</title></circle>"#,
                (r * 0.3).max(4.0),
                xml_escape(name),
                v / total * 100.0
            );
            a -= sweep;
        }
        let _ = root.present();
    }
    if let Some(at) = svg.rfind("</svg>") {
        svg.insert_str(at, &titles);
    }
    theme.finish(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_moves_without_repeats() {
        let mut out = String::new();
        write_path(&mut out, &[(10, 20), (12, 18), (12, 18), (11, 25), (14, 25)], true);
        assert_eq!(out, "M10 20l2-2-1 7 3 0Z");
    }

    #[test]
    fn lines_break_at_gaps_and_nan() {
        let p: Vec<(i64, f64)> =
            vec![(0, 1.0), (10, 2.0), (20, f64::NAN), (30, 3.0), (40, 4.0), (100, 5.0), (110, 6.0)];
        let segs: Vec<Vec<i64>> = segments(&p, 10).iter().map(|s| s.iter().map(|x| x.0).collect()).collect();
        assert_eq!(segs, vec![vec![0, 10], vec![30, 40], vec![100, 110]]);
    }

    #[test]
    fn a_chart_is_svg_with_escaped_hover_titles() {
        let lines = vec![Line {
            name: "up{job=\"<script>alert(1)</script>\"}".into(),
            points: (0..60).map(|k| (k * 15_000, (k % 7) as f64)).collect(),
            colour: None,
        }];
        let c = TimeChart {
            width: 600,
            height: 200,
            start: 0,
            end: 59 * 15_000,
            step: 15_000,
            unit: "s",
            decimals: None,
            theme: Theme::Light,
            style: Style::default(),
            marks: &[],
        };
        let svg = time_series(&lines, &c);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{}", &svg[..100.min(svg.len())]);
        assert!(svg.contains("<path class=\"line\" fill=\"none\" stroke=\"#7EB26D\" d=\"M"), "a line is drawn");
        assert!(!svg.contains("<script>"), "label text escaped");
        assert!(svg.contains("&lt;script&gt;"));
        assert_eq!(time_label(3_600_000 + 61_000, 3_600_000), "01:01");
    }

    #[test]
    fn time_labels_by_span_in_utc() {
        let t = 1_456_747_200_500; // 2016-02-29T12:00:00.5Z
        assert_eq!(time_label(t, 3 * 86_400_000), "02-29 12:00");
        assert_eq!(time_label(t + 7_000, 600_000), "12:00:07");
        assert_eq!(time_label(-1, 2 * 86_400_000), "12-31 23:59");
        assert_eq!(time_label(i64::MAX, 0), "");
    }

    #[test]
    fn stacked_series_sum_and_fills_and_bars_draw() {
        let lines = vec![
            Line { name: "a".into(), points: vec![(0, 1.0), (10, 2.0), (20, f64::NAN)], colour: None },
            Line { name: "b".into(), points: vec![(0, 3.0), (10, 4.0), (20, 5.0)], colour: None },
        ];
        let (tops, bottoms) = stack_lines(&lines);
        assert_eq!(tops[1].points[..2], [(0, 4.0), (10, 6.0)]);
        assert_eq!(bottoms[1], [(0, 1.0), (10, 2.0), (20, 0.0)]);
        assert_eq!(tops[1].points[2], (20, 5.0), "a gap below stacks on zero");
        let mut c = TimeChart {
            width: 300,
            height: 100,
            start: 0,
            end: 20,
            step: 10,
            unit: "",
            decimals: None,
            theme: Theme::Light,
            style: Style { stack: true, fill: 30, bars: false },
            marks: &[],
        };
        assert_eq!(time_series(&lines, &c).matches("<path class=\"fill\"").count(), 2, "filled areas");
        c.style = Style { bars: true, ..Style::default() };
        let svg = time_series(&lines, &c);
        assert!(svg.matches("<rect").count() >= 6 && !svg.contains("class=\"line\""), "bars, no lines");
    }

    #[test]
    fn gauges_bars_and_pies_draw_with_escaped_names() {
        let g = gauge(50.0, 0.0, 100.0, "#73BF69", 200, 120, Theme::Light);
        assert_eq!(g.matches("<polyline").count(), 2, "the track and the value");
        assert!(g.contains("stroke=\"#73BF69\""));
        assert_eq!(
            gauge(-5.0, 0.0, 100.0, "#73BF69", 200, 120, Theme::Light).matches("<polyline").count(),
            1,
            "nothing filled"
        );
        let b = bars(
            &[("<a>".into(), 3.0, "#5794F2".into()), ("b".into(), 1.0, "#F2495C".into())],
            0.0,
            4.0,
            200,
            60,
            Theme::Page,
        );
        assert!(b.contains("&lt;a&gt;") && !b.contains("<a>"));
        let p = pie(&[("x".into(), 1.0), ("<y>".into(), 3.0), ("zero".into(), 0.0)], true, 200, 200, Theme::Page);
        assert!(p.contains("<polygon") && p.contains("75.0%") && p.contains("&lt;y&gt;"));
    }

    #[test]
    fn page_charts_follow_the_page_and_images_carry_their_background() {
        let lines = vec![Line { name: "a".into(), points: vec![(0, 1.0), (10, 2.0)], colour: None }];
        let mut c = TimeChart {
            width: 300,
            height: 100,
            start: 0,
            end: 10,
            step: 10,
            unit: "",
            decimals: None,
            theme: Theme::Page,
            style: Style::default(),
            marks: &[],
        };
        let page = time_series(&lines, &c);
        assert!(page.contains("fill=\"currentColor\"") && page.contains("stroke=\"currentColor\""), "{page}");
        assert!(page.starts_with("<svg width=\"300\" height=\"100\""), "{page}");
        assert!(page.contains(" data-plot-left=\"72\" data-plot-right=\"272\">"), "the time axis for zooming: {page}");
        assert!(!page.contains("#010203") && !page.contains("#FFFFFF"), "no stand-in colour, no background");
        c.theme = Theme::Dark;
        let dark = time_series(&lines, &c);
        assert!(dark.contains("fill=\"#181B1F\"") && !dark.contains("currentColor"), "dark background");
        for svg in [
            gauge(1.0, 0.0, 2.0, "#73BF69", 100, 80, Theme::Page),
            bars(&[("a".into(), 1.0, "#73BF69".into())], 0.0, 2.0, 100, 20, Theme::Page),
        ] {
            assert!(svg.contains("\"currentColor\"") && !svg.contains("#010203"), "{svg}");
        }
        // A donut is drawn as ring slices, with no hole painted in a background colour.
        let d = pie(&[("x".into(), 1.0), ("y".into(), 1.0)], true, 100, 100, Theme::Page);
        assert_eq!(d.matches("<polygon").count(), 2);
        assert!(!d.contains("<circle cx=\"50\" cy=\"50\" r=\"26\"") && !d.contains("#FFFFFF"), "{d}");
    }

    #[test]
    fn without_data_the_frame_still_draws() {
        let c = TimeChart {
            width: 300,
            height: 100,
            start: 0,
            end: 1000,
            step: 10,
            unit: "",
            decimals: None,
            theme: Theme::Dark,
            style: Style::default(),
            marks: &[],
        };
        assert!(time_series(&[], &c).contains("</svg>"));
    }
}
