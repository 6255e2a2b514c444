//! Time series charts: lines (solid, dashed or dotted, of any width),
//! areas, bars and points per series, stacked by group, broken where data
//! is missing, with hover titles and annotation marks.

use super::{
    gradient, is_safe_colour, time_label, units, xml_escape, Draw, Gradient, Interpolation, Line, SeriesStyle,
    TimeChart, TooltipMode, TooltipSort, PALETTE,
};
use plotters::prelude::*;
use std::fmt::Write;

/// Each series' points: (ms, value).
type Points = Vec<(i64, f64)>;

/// Each series' drawn points and, when stacked, what it stands on: series
/// of one stacking group are summed at equal timestamps in order; a gap
/// (NaN) adds nothing; series not stacked stand on zero.
fn stack_lines(lines: &[Line]) -> (Vec<Points>, Vec<Option<Points>>) {
    let mut base: std::collections::HashMap<(&str, i64), f64> = std::collections::HashMap::new();
    let mut tops = Vec::with_capacity(lines.len());
    let mut bottoms = Vec::with_capacity(lines.len());
    for l in lines {
        let Some(group) = l.style.stack.as_deref() else {
            tops.push(l.points.clone());
            bottoms.push(None);
            continue;
        };
        let mut top = Vec::with_capacity(l.points.len());
        let mut bottom = Vec::with_capacity(l.points.len());
        for &(t, v) in &l.points {
            let b = base.get(&(group, t)).copied().unwrap_or(0.0);
            if v.is_finite() {
                top.push((t, b + v));
                base.insert((group, t), b + v);
            } else {
                top.push((t, f64::NAN));
            }
            bottom.push((t, b));
        }
        tops.push(top);
        bottoms.push(Some(bottom));
    }
    (tops, bottoms)
}

/// Runs of points to be joined: split at NaN and at steps longer than 1.5 × `step`.
fn segments(points: &[(i64, f64)], step: i64) -> Vec<&[(i64, f64)]> {
    segments_within(points, step.saturating_mul(3) / 2)
}

/// Runs of points to be joined: split at NaN and where the next point is
/// more than `max_gap` ms away.
fn segments_within(points: &[(i64, f64)], max_gap: i64) -> Vec<&[(i64, f64)]> {
    let mut out = Vec::new();
    let mut start = None;
    for i in 0..points.len() {
        let ok = points[i].1.is_finite();
        let joined = i > 0 && points[i - 1].1.is_finite() && points[i].0 - points[i - 1].0 <= max_gap;
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

/// The y range covering every finite value, padded unless `exact`; `0..1` without data.
fn y_range<'a>(series: impl Iterator<Item = &'a Points>, exact: bool) -> (f64, f64) {
    let vals = series.flat_map(|p| p.iter().map(|p| p.1)).filter(|v| v.is_finite());
    let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    if exact {
        return (lo, hi);
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

/// A series as its axis places it: its values, or their logarithms.
fn on_scale(l: &Line, axis: &super::Bounds) -> Line {
    Line { points: l.points.iter().map(|&(t, v)| (t, axis.scaled(v))).collect(), ..l.clone() }
}

/// Each series' drawn points (stacked where it stacks) and what its area
/// stands on: the stack below it, or the series its `fillBelowTo` names.
fn stacked_with_fills(lines: &[Line]) -> (Vec<Points>, Vec<Option<Points>>) {
    let (tops, mut bottoms) = stack_lines(lines);
    for (i, l) in lines.iter().enumerate() {
        if let Some(j) = l.style.fill_below_to.as_ref().and_then(|n| lines.iter().position(|o| &o.name == n)) {
            bottoms[i] = Some(tops[j].clone());
        }
    }
    (tops, bottoms)
}

/// The y range of one axis: its series' points and what they stand on
/// (areas, bars and stacks stand on zero), bounded as the axis says.
fn axis_range(
    lines: &[Line],
    (tops, bottoms): (&[Points], &[Option<Points>]),
    axis: &super::Bounds,
    right: bool,
) -> (f64, f64) {
    let on = |k: &usize| lines[*k].style.right == right;
    let (mut lo, hi) = y_range(
        (0..lines.len()).filter(on).flat_map(|k| std::iter::once(&tops[k]).chain(&bottoms[k])),
        axis.log.is_some(),
    );
    let on_zero = |l: &Line| l.style.fill > 0 || l.style.draw == Draw::Bars || l.style.stack.is_some();
    if lines.iter().filter(|l| l.style.right == right).any(on_zero) && lo > 0.0 && axis.log.is_none() {
        lo = 0.0;
    }
    axis.apply((lo, hi))
}

/// Draws `lines` as an SVG time series chart, each in its own style.
pub fn time_series(lines: &[Line], c: &TimeChart) -> String {
    // On a log axis the series are drawn by their logarithms (hover titles keep the values).
    let values = lines;
    let scaled: Vec<Line>;
    let lines = if c.bounds.0.log.is_some() || c.bounds.1.log.is_some() {
        scaled = lines.iter().map(|l| on_scale(l, if l.style.right { &c.bounds.1 } else { &c.bounds.0 })).collect();
        &scaled[..]
    } else {
        lines
    };
    let mut svg = String::new();
    let (fg, _) = c.theme.colours();
    let grid = fg.mix(0.18);
    let (tops, bottoms) = stacked_with_fills(lines);
    let range =
        |right: bool| axis_range(lines, (&tops, &bottoms), if right { &c.bounds.1 } else { &c.bounds.0 }, right);
    let ((lo, hi), (lo2, hi2)) = (range(false), range(true));
    let right_axis = c.right.filter(|_| lines.iter().any(|l| l.style.right));
    let span = (c.end - c.start).max(1);
    let mut paths = Drawn { step: c.step, ..Drawn::default() };
    let mut hover = String::new();
    let (plot_x, plot_y): ((i32, i32), (i32, i32));
    {
        let root = SVGBackend::with_string(&mut svg, (c.width, c.height)).into_drawing_area();
        c.theme.fill(&root);
        let chart = ChartBuilder::on(&root)
            .margin(8)
            // Room for the last time label, centred on a tick near the right edge.
            .margin_right(if right_axis.is_some() { 8 } else { 28 })
            .x_label_area_size(22)
            .y_label_area_size(64)
            .right_y_label_area_size(if right_axis.is_some() { 64 } else { 0 })
            .build_cartesian_2d(c.start..c.end.max(c.start + 1), lo..hi);
        let Ok(chart) = chart else { return String::new() };
        let mut chart = chart.set_secondary_coord(c.start..c.end.max(c.start + 1), lo2..hi2);
        let label_style = ("sans-serif", 11).into_font().color(&fg);
        // About one label per 30 px of height, as Grafana spaces them (at least three).
        let mut y_labels = ((c.height / 30) as usize).max(3);
        if c.bounds.0.log.is_some() {
            // A label per power of the base (as many as fit).
            y_labels = y_labels.min((hi - lo).round() as usize + 1);
        }
        let left_label = |y: &f64| units::format(c.bounds.0.unscaled(*y), c.unit, c.decimals);
        let time_labels = |x: &i64| time_label(*x, span);
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(TRANSPARENT)
            .bold_line_style(grid)
            .axis_style(grid)
            .label_style(label_style.clone())
            .x_labels(((c.width / 110) as usize).max(2))
            .y_labels(y_labels)
            .x_label_formatter(&time_labels)
            .y_label_formatter(&left_label)
            .axis_desc_style(label_style.clone());
        // The axis's label (`axisLabel`), written along it.
        if !c.axis_labels.0.is_empty() {
            mesh.y_desc(c.axis_labels.0);
        }
        let _ = mesh.draw();
        if let Some(axis) = right_axis {
            let right_label = |y: &f64| units::format(c.bounds.1.unscaled(*y), axis.unit, axis.decimals);
            let mut mesh = chart.configure_secondary_axes();
            mesh.axis_style(grid)
                .label_style(label_style.clone())
                .y_labels(y_labels)
                .y_label_formatter(&right_label)
                .axis_desc_style(label_style);
            if !c.axis_labels.1.is_empty() {
                mesh.y_desc(c.axis_labels.1);
            }
            let _ = mesh.draw();
        }
        // Values past the axis's bounds run off the plot (clipped below), as in
        // Grafana; kept within ten plot heights so pixels stay finite.
        let past = |v: f64, lo: f64, hi: f64| v.clamp(lo - 10.0 * (hi - lo), hi + 10.0 * (hi - lo));
        let at_left = |t: i64, v: f64| chart.backend_coord(&(t, past(v, lo, hi)));
        let at_right = |t: i64, v: f64| chart.borrow_secondary().backend_coord(&(t, past(v, lo2, hi2)));
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        paths.plot_y = (ys.start, ys.end);
        for (i, l) in lines.iter().enumerate() {
            let hex = xml_escape(l.colour.as_deref().unwrap_or(PALETTE[i % PALETTE.len()]));
            let at: &dyn Fn(i64, f64) -> (i32, i32) = if l.style.right { &at_right } else { &at_left };
            let (a, b) = if l.style.right { (lo2, hi2) } else { (lo, hi) };
            paths.zero = 0f64.clamp(a, b);
            // A share of the plot's height from its top, as the colour of the value there.
            let by_height = |share: f64| c.scheme.map_or_else(|| hex.clone(), |f| xml_escape(&f(b - share * (b - a))));
            paths.series(l, &hex, (&tops[i], bottoms[i].as_deref()), at, &by_height);
        }
        plot_x = (xs.start, xs.end);
        plot_y = (ys.start, ys.end);
        let x_of = |t: i64| chart.backend_coord(&(t, lo)).0;
        // Where each series is drawn at a time (stacked series at their stack's top).
        let y_of = |i: usize, t: i64| {
            let k = tops[i].binary_search_by_key(&t, |p| p.0).ok()?;
            let at: &dyn Fn(i64, f64) -> (i32, i32) = if lines[i].style.right { &at_right } else { &at_left };
            Some(at(t, tops[i][k].1).1)
        };
        hover_columns(&mut hover, values, c, (x_of, &y_of), (xs.start, xs.end), (ys.start, ys.end));
        marks(&mut hover, c, x_of, (xs.start, xs.end), (ys.start, ys.end));
        let y_of = |v: f64| chart.backend_coord(&(c.start, c.bounds.0.scaled(v).clamp(lo, hi))).1;
        thresholds(&mut paths.fills, &c.thresholds, y_of, (xs.start, xs.end), (ys.start, ys.end));
        let _ = root.present();
    }
    if let Some(at) = svg.rfind("</svg>") {
        // The series in a viewport of the plot's own size: what runs past it is clipped.
        let (x, y, w, h) = (plot_x.0, plot_y.0 - 1, plot_x.1 - plot_x.0 + 1, plot_y.1 - plot_y.0 + 2);
        let defs = if paths.defs.is_empty() { String::new() } else { format!("<defs>{}</defs>", paths.defs) };
        let series = format!(
            "<svg class=\"plot\" x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" viewBox=\"{x} {y} {w} {h}\">{defs}{}{}{}</svg>",
            paths.fills, paths.strokes, paths.points
        );
        svg.insert_str(at, &(series + &hover));
    }
    // Where the time axis runs, for the page's drag-to-zoom.
    if let Some(end) = svg.starts_with("<svg ").then(|| svg.find('>')).flatten() {
        let times = format!(" data-start=\"{}\" data-end=\"{}\"", c.start, c.end);
        svg.insert_str(end, &format!(" data-plot-left=\"{}\" data-plot-right=\"{}\"{times}", plot_x.0, plot_x.1));
    }
    c.theme.finish(svg)
}

/// A series' drawn points, and what it stands on when stacked.
type Stacked<'a> = (&'a [(i64, f64)], Option<&'a [(i64, f64)]>);

/// The SVG of the series, in layers: areas and bars under every line, points on top.
#[derive(Default)]
struct Drawn {
    fills: String,
    strokes: String,
    points: String,
    /// The query step: bars are most of it wide, and longer gaps break lines.
    step: i64,
    /// Where zero is on the plot (clamped to the y range): unstacked series stand on it.
    zero: f64,
    /// The plot's top and bottom (pixels), where gradients run.
    plot_y: (i32, i32),
    /// The gradients the series paint with.
    defs: String,
}

impl Drawn {
    /// One series in its style: `top` its drawn points (stacked where it
    /// stacks), `below` what a stacked series stands on, `at` a point's pixel.
    /// `by_height` gives the colour at a share of the plot's height from its
    /// top (`gradientMode: scheme`).
    fn series(
        &mut self,
        l: &Line,
        hex: &str,
        (top, below): Stacked,
        at: &dyn Fn(i64, f64) -> (i32, i32),
        by_height: &dyn Fn(f64) -> String,
    ) {
        let (step, zero, stacked) = (self.step, self.zero, below.is_some());
        let bottom_at = |t: i64| -> f64 {
            below.and_then(|b| b.binary_search_by_key(&t, |p| p.0).ok().map(|k| b[k].1)).unwrap_or(zero)
        };
        let s = &l.style;
        let opacity = f64::from(s.fill.min(100)) / 100.0;
        if s.draw == Draw::Bars {
            let half = (step * 2 / 5).max(1);
            for &(t, v) in top.iter().filter(|p| p.1.is_finite()) {
                let (x0, y0) = at(t - half, v);
                let (x1, y1) = at(t + half, bottom_at(t));
                let (x, y, w, h) = (x0.min(x1), y0.min(y1), (x1 - x0).abs().max(1), (y1 - y0).abs());
                let _ = write!(
                    self.fills,
                    r#"<rect class="bar" x="{x}" y="{y}" width="{w}" height="{h}" fill="{hex}" fill-opacity="{}" stroke="{hex}"/>"#,
                    if s.fill > 0 { opacity } else { 0.8 }
                );
            }
            return;
        }
        let stroke = style_attributes(s);
        // A stacked series says its group (for people reading the SVG, and tests).
        let group = s.stack.as_ref().map_or(String::new(), |g| format!(" data-stack=\"{}\"", xml_escape(g)));
        // Colours: plain, or a gradient down the plot made once for the series.
        let (line_paint, fill_paint) = match s.gradient {
            Gradient::None => (hex.to_string(), format!("{hex}\" fill-opacity=\"{opacity}")),
            g => {
                let fill = gradient::paint(&mut self.defs, self.plot_y, &gradient::stops(g, hex, opacity, by_height));
                let line = match g {
                    Gradient::Opacity => hex.to_string(),
                    _ => gradient::paint(&mut self.defs, self.plot_y, &gradient::stops(g, hex, 1.0, by_height)),
                };
                (line, fill)
            }
        };
        // spanNulls: gaps (missing or NaN points) up to its length are bridged.
        let spanned: Vec<(i64, f64)>;
        let runs = match s.span_nulls {
            Some(span) => {
                spanned = top.iter().copied().filter(|p| p.1.is_finite()).collect();
                segments_within(&spanned, span.max(step.saturating_mul(3) / 2))
            }
            None => segments(top, step),
        };
        for seg in runs {
            let isolated = seg.len() == 1 && s.show_points != Some(false);
            if s.draw == Draw::Points || s.show_points == Some(true) || isolated {
                let r = s.point_size / 2.0;
                for &(t, v) in seg {
                    let (x, y) = at(t, v);
                    let _ = write!(self.points, r#"<circle class="point" cx="{x}" cy="{y}" r="{r}" fill="{hex}"/>"#);
                }
            }
            if seg.len() < 2 || s.draw == Draw::Points {
                continue;
            }
            let line: Vec<(i32, i32)> = seg.iter().map(|&(t, v)| at(t, v)).collect();
            let mut pts = interpolated(&line, s.interpolation);
            if s.width > 0.0 {
                let _ =
                    write!(self.strokes, r#"<path class="line" fill="none" stroke="{line_paint}"{stroke}{group} d=""#);
                write_path(&mut self.strokes, &pts, false);
                self.strokes.push_str("\"/>");
            }
            if s.fill > 0 {
                // Down to what the series stands on: its stack, or zero (two corners).
                if stacked {
                    let below: Vec<(i32, i32)> = seg.iter().map(|&(t, _)| at(t, bottom_at(t))).collect();
                    pts.extend(interpolated(&below, s.interpolation).into_iter().rev());
                } else {
                    let (first, last) = (seg[0].0, seg[seg.len() - 1].0);
                    pts.push(at(last, bottom_at(last)));
                    pts.push(at(first, bottom_at(first)));
                }
                let _ = write!(self.fills, r#"<path class="fill" fill="{fill_paint}"{group} d=""#);
                write_path(&mut self.fills, &pts, true);
                self.fills.push_str("\"/>");
            }
        }
    }
}

/// The points a line passes through between its samples (pixels, x
/// increasing): straight, in steps (the value holds until the next sample,
/// or changes at the previous one), or smooth as a monotone cubic (no
/// overshoot past the samples, as uPlot's spline), sampled every few pixels.
fn interpolated(pts: &[(i32, i32)], how: Interpolation) -> Vec<(i32, i32)> {
    let mut out = Vec::with_capacity(pts.len() * 2);
    match how {
        Interpolation::Linear => return pts.to_vec(),
        Interpolation::StepAfter | Interpolation::StepBefore => {
            for (k, &p) in pts.iter().enumerate() {
                if let Some(&prev) = k.checked_sub(1).map(|j| &pts[j]) {
                    out.push(if how == Interpolation::StepAfter { (p.0, prev.1) } else { (prev.0, p.1) });
                }
                out.push(p);
            }
        }
        Interpolation::Smooth => {
            let n = pts.len();
            let (x, y): (Vec<f64>, Vec<f64>) = pts.iter().map(|p| (f64::from(p.0), f64::from(p.1))).unzip();
            let d: Vec<f64> =
                (0..n - 1).map(|k| if x[k + 1] > x[k] { (y[k + 1] - y[k]) / (x[k + 1] - x[k]) } else { 0.0 }).collect();
            // Tangents (Fritsch–Carlson): flat at turning points, limited so the curve stays monotone.
            let mut m: Vec<f64> = (0..n)
                .map(|k| match (k.checked_sub(1).map(|j| d[j]), d.get(k).copied()) {
                    (Some(a), Some(b)) if a * b > 0.0 => (a + b) / 2.0,
                    (Some(_), Some(_)) => 0.0,
                    (Some(a), None) => a,
                    (None, Some(b)) => b,
                    (None, None) => 0.0,
                })
                .collect();
            for k in 0..n - 1 {
                if d[k] == 0.0 {
                    (m[k], m[k + 1]) = (0.0, 0.0);
                    continue;
                }
                let (a, b) = (m[k] / d[k], m[k + 1] / d[k]);
                if a * a + b * b > 9.0 {
                    let tau = 3.0 / (a * a + b * b).sqrt();
                    (m[k], m[k + 1]) = (tau * a * d[k], tau * b * d[k]);
                }
            }
            out.push(pts[0]);
            for k in 0..n - 1 {
                let h = x[k + 1] - x[k];
                let steps = (h / 4.0).ceil().max(1.0) as usize;
                for s in 1..=steps {
                    let t = s as f64 / steps as f64;
                    let (t2, t3) = (t * t, t * t * t);
                    let v = (2.0 * t3 - 3.0 * t2 + 1.0) * y[k]
                        + (t3 - 2.0 * t2 + t) * h * m[k]
                        + (-2.0 * t3 + 3.0 * t2) * y[k + 1]
                        + (t3 - t2) * h * m[k + 1];
                    out.push(((x[k] + h * t).round() as i32, v.round() as i32));
                }
            }
        }
    }
    out
}

/// Thresholds across the plot: bands under the series, lines over the
/// areas (both in `out`, which is drawn first).
fn thresholds(
    out: &mut String,
    t: &super::Thresholds,
    y_of: impl Fn(f64) -> i32,
    (left, right): (i32, i32),
    (top, bottom): (i32, i32),
) {
    for (k, (from, colour)) in t.steps.iter().enumerate() {
        if colour.is_empty() {
            continue;
        }
        let colour = xml_escape(colour);
        let y_from = from.map_or(bottom, &y_of);
        let y_to = t.steps.get(k + 1).and_then(|n| n.0).map_or(top, &y_of);
        if t.area && y_from > y_to {
            let _ = write!(
                out,
                r#"<rect class="threshold-area" x="{left}" y="{y_to}" width="{}" height="{}" fill="{colour}" fill-opacity="0.15"/>"#,
                right - left,
                y_from - y_to
            );
        }
        if t.line && from.is_some() && (top..=bottom).contains(&y_from) {
            let dash = if t.dashed { r#" stroke-dasharray="10 10""# } else { "" };
            let _ = write!(
                out,
                r#"<line class="threshold" x1="{left}" y1="{y_from}" x2="{right}" y2="{y_from}" stroke="{colour}"{dash}/>"#
            );
        }
    }
}

/// A line's width and dashes as SVG attributes (nothing for Grafana's
/// default 1 px solid line).
fn style_attributes(s: &SeriesStyle) -> String {
    let mut out = String::new();
    if s.width != 1.0 {
        let _ = write!(out, r#" stroke-width="{}""#, s.width);
    }
    if !s.dash.is_empty() {
        let dash: Vec<String> = s.dash.iter().map(|d| d.to_string()).collect();
        let _ = write!(out, r#" stroke-dasharray="{}""#, dash.join(" "));
    }
    if s.round {
        out.push_str(r#" stroke-linecap="round""#);
    }
    out
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

/// Series named in one hover title.
const HOVER_SERIES: usize = 6;

/// Hover values as Grafana's tooltip shows them: for each time across the
/// plot (at most one per [`HOVER_COLUMN_PX`]) a transparent column whose
/// title gives the time and the series' values there: every series in the
/// tooltip's order (`multi`), or (`single`) the column cut into a band per
/// series around where it is drawn, each band's title naming that series
/// alone, the nearest to the pointer. Series hidden from the tooltip are left
/// out. Bounded by the chart's width and [`HOVER_SERIES`], not by the series'
/// points, so a page of many busy charts stays light. `y_of` is where series
/// `i` is drawn at a time, if it has a value there.
fn hover_columns(
    out: &mut String,
    lines: &[Line],
    c: &TimeChart,
    (x_of, y_of): (impl Fn(i64) -> i32, &dyn Fn(usize, i64) -> Option<i32>),
    (left, right): (i32, i32),
    (top, bottom): (i32, i32),
) {
    if c.tooltip.mode == TooltipMode::Hidden {
        return;
    }
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
    let value = |l: &Line, v: f64| {
        let (unit, decimals) = match c.right {
            Some(axis) if l.style.right => (axis.unit, axis.decimals),
            _ => (c.unit, c.decimals),
        };
        format!("{}: {}", xml_escape(&l.name), xml_escape(&units::format(v, unit, decimals)))
    };
    for (k, &(t, x)) in columns.iter().enumerate() {
        let mut at: Vec<(usize, f64)> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.style.hide_tooltip)
            .filter_map(|(i, l)| l.points.binary_search_by_key(&t, |p| p.0).ok().map(|k| (i, l.points[k].1)))
            .filter(|(_, v)| v.is_finite())
            .collect();
        if at.is_empty() {
            continue;
        }
        match c.tooltip.sort {
            TooltipSort::Asc => at.sort_by(|a, b| a.1.total_cmp(&b.1)),
            TooltipSort::Desc => at.sort_by(|a, b| b.1.total_cmp(&a.1)),
            TooltipSort::None => {}
        }
        // Halfway to the neighbouring columns; the first and last reach the plot's
        // edges, as Grafana's cursor snaps to the nearest sample.
        let x0 = if k == 0 { left } else { (columns[k - 1].1 + x) / 2 };
        let x1 = columns.get(k + 1).map_or(right, |n| (x + n.1) / 2);
        let width = (x1 - x0).max(1);
        let when = time_label(t, 0);
        // Single, over more series than bands can tell apart: the column lists
        // the largest values, as multi does (bounded, like the page's weight).
        let crowded = at.len() > 2 * HOVER_SERIES;
        if crowded && c.tooltip.mode == TooltipMode::Single {
            at.sort_by(|a, b| b.1.total_cmp(&a.1));
        }
        if c.tooltip.mode == TooltipMode::Multi || crowded {
            let _ = write!(
                out,
                r#"<rect x="{x0}" y="{top}" width="{width}" height="{}" fill="transparent"><title>{when}"#,
                (bottom - top).max(1)
            );
            for &(i, v) in at.iter().take(HOVER_SERIES) {
                let _ = write!(out, "\n{}", value(&lines[i], v));
            }
            if at.len() > HOVER_SERIES {
                let _ = write!(out, "\n… and {} more", at.len() - HOVER_SERIES);
            }
            out.push_str("</title></rect>");
            continue;
        }
        // Single: from the top down, each series owns the height up to halfway to the next.
        let mut drawn: Vec<(i32, usize, f64)> =
            at.iter().filter_map(|&(i, v)| Some((y_of(i, t)?.clamp(top, bottom), i, v))).collect();
        drawn.sort_by_key(|d| d.0);
        drawn.dedup_by_key(|d| d.0);
        for (n, &(y, i, v)) in drawn.iter().enumerate() {
            let y0 = if n == 0 { top } else { (drawn[n - 1].0 + y) / 2 };
            let y1 = drawn.get(n + 1).map_or(bottom, |next| (y + next.0) / 2);
            let _ = write!(
                out,
                "<rect x=\"{x0}\" y=\"{y0}\" width=\"{width}\" height=\"{}\" fill=\"transparent\"><title>{when}\n{}</title></rect>",
                (y1 - y0).max(1),
                value(&lines[i], v)
            );
        }
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

#[cfg(test)]
mod tests;
