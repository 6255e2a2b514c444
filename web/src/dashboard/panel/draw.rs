//! A panel's series drawn as its kind: gauge, bar gauge, pie, table, stat
//! (with its sparkline) or time series (with its legend), in colours from
//! the panel's thresholds, scheme or fixed colour.

use super::colour::{gradient, named_colour, scheme};
use super::frames;
use super::query::Series;
use super::{
    inner_height, inner_width, share_of_totals, Cell, Frame, LegendEntry, PanelTime, PanelView, StatBox, MAX_LINES,
};
use crate::chart::{self, Line, TimeChart};
use crate::dashboard::model::{calc_title, reduce};
use crate::dashboard::model::{AxisPlacement, FieldOptions, Panel, SeriesRef, StackMode, Threshold};
use storage::Labels;

/// What drawing one panel's series shares.
struct Drawing<'a> {
    p: &'a Panel,
    f: &'a Frame<'a>,
    time: &'a PanelTime,
    /// Each series reduced by the panel's reducer, by name.
    reduced: Vec<(String, f64)>,
    /// The range gauges, bars and percentage thresholds span.
    lo: f64,
    hi: f64,
    /// Shown where a value is missing ("No data" unless `noValue` says otherwise).
    no_value: &'a str,
    /// The drawing's size in pixels.
    w: u32,
    h: u32,
}

/// The largest font (10 to 80 px) at which `text` fits a box `w` × `h`
/// pixels: a digit is about 0.62 em wide in the page's sans-serif, bold.
fn fit_font(text: &str, w: f64, h: f64) -> u32 {
    let chars = text.chars().count().max(1) as f64;
    (w / (0.62 * chars)).min(h * 0.85).clamp(10.0, 80.0) as u32
}

/// Draws `series` into `view` as `p`'s kind.
pub(super) fn draw(view: &mut PanelView, p: &Panel, f: &Frame, time: &PanelTime, series: Series) {
    let Series { mut lines, meta, options } = series;
    // Series of NaN only are series (Grafana lists them, and maps their
    // missing value): "No data" is for queries that return none.
    view.no_data = lines.is_empty();
    let reduced: Vec<(String, f64)> =
        lines.iter().filter_map(|l| Some((l.name.clone(), reduce(&l.points, &p.reducer)?))).collect();
    // Gauges and bars span the explicit min/max, else the unit's, else zero to the largest value.
    let (lo, hi) = match (p.min, p.max, p.unit.as_str()) {
        (min, Some(max), _) => (min.unwrap_or(0.0), max),
        (min, None, "percent") => (min.unwrap_or(0.0), 100.0),
        (min, None, "percentunit") => (min.unwrap_or(0.0), 1.0),
        (min, None, _) => (min.unwrap_or(0.0), reduced.iter().map(|r| r.1).fold(0.0, f64::max).max(f64::MIN_POSITIVE)),
    };
    let d = Drawing {
        p,
        f,
        time,
        reduced,
        lo,
        hi,
        no_value: if p.no_value.is_empty() { "No data" } else { p.no_value.as_str() },
        w: time.width_px as u32,
        h: f.image.map_or(inner_height(p.grid.h), |(_, h)| h),
    };
    // Series without a colour of their own take the panel's: a fixed one, or
    // their last value's threshold or scheme colour.
    for l in lines.iter_mut().filter(|l| l.colour.is_none()) {
        l.colour = match (&p.fixed_colour, p.colour_mode.as_str()) {
            (Some(c), _) => Some(named_colour(c)).filter(|c| c.starts_with('#')),
            (None, m) if m == "thresholds" || m.starts_with("continuous-") => {
                reduce(&l.points, "lastNotNull").map(|v| d.colour_of(v)).filter(|c| c.starts_with('#'))
            }
            _ => None,
        };
    }
    match p.kind.as_str() {
        "gauge" => d.gauge(view),
        "bargauge" => d.bar_gauge(view),
        "piechart" => d.pie(view, &lines),
        "table" => d.table(view, &lines, &meta),
        "heatmap" | "state-timeline" | "status-history" if view.no_data => view.stat = d.no_value.into(),
        "state-timeline" => d.state_timeline(view, &lines, true),
        "status-history" => d.state_timeline(view, &lines, false),
        "heatmap" => view.svg = super::heatmap::draw(p, f, time, &lines, &meta, d.h),
        "stat" | "singlestat" => d.stat(view, lines, &options),
        _ => d.time_series(view, lines, &options),
    }
}

impl Drawing<'_> {
    /// The colour of the last threshold step at or below `v` (steps in
    /// percent of `lo..hi` when the thresholds say so), or of the scheme.
    fn colour_of(&self, v: f64) -> String {
        self.colour_by(v, &self.p.thresholds, self.p.thresholds_percent)
    }

    /// `colour_of` with these thresholds (a column's own, say).
    fn colour_by(&self, v: f64, thresholds: &[Threshold], percent: bool) -> String {
        let (p, lo, hi) = (self.p, self.lo, self.hi);
        if let Some(stops) = p.colour_mode.strip_prefix("continuous-").and_then(scheme) {
            return gradient(stops, (v - lo) / (hi - lo));
        }
        let at = |x: f64| if percent { lo + (hi - lo) * x / 100.0 } else { x };
        match thresholds.iter().rev().find(|t| t.value.is_none_or(|x| v >= at(x))) {
            Some(t) => named_colour(&t.colour),
            None => "#73BF69".to_string(),
        }
    }

    /// A table cell's style: its value's threshold colour on the text or
    /// the background when the column's cell type says so.
    fn cell_style(&self, v: f64, o: &FieldOptions) -> String {
        let p = self.p;
        let cell = if o.cell_type.is_empty() { p.cell_colour.as_str() } else { o.cell_type.as_str() };
        let (steps, percent) = if o.thresholds.is_empty() {
            (p.thresholds.as_slice(), p.thresholds_percent)
        } else {
            (o.thresholds.as_slice(), o.thresholds_percent)
        };
        match cell {
            "color-text" => format!("color: {}", self.colour_by(v, steps, percent)),
            "color-background" | "color-background-solid" => {
                format!("background: {}; color: #111", self.colour_by(v, steps, percent))
            }
            _ => String::new(),
        }
    }

    /// A gauge cell's bar (`cellOptions.type: gauge`): `width%` of the cell
    /// along the field's min..max (else its column's range, from zero), in
    /// its threshold colour, as a style.
    fn cell_bar(&self, v: f64, o: &FieldOptions, (lo, hi): (f64, f64)) -> String {
        let (min, max) = (o.min.unwrap_or(lo.min(0.0)), o.max.unwrap_or(hi));
        let share = if max > min { ((v - min) / (max - min)).clamp(0.0, 1.0) } else { 1.0 };
        let (steps, percent) = if o.thresholds.is_empty() {
            (self.p.thresholds.as_slice(), self.p.thresholds_percent)
        } else {
            (o.thresholds.as_slice(), o.thresholds_percent)
        };
        format!("width: {:.1}%; background: {}", share * 100.0, self.colour_by(v, steps, percent))
    }

    /// The frame of this panel's time series charts (and sparklines).
    fn frame(&self, height: u32) -> TimeChart<'_> {
        TimeChart {
            width: self.time.width_px as u32,
            height,
            start: self.time.from,
            end: self.time.to,
            step: self.time.step,
            unit: &self.p.unit,
            decimals: self.p.decimals,
            right: None,
            bounds: Default::default(),
            theme: self.f.theme,
            marks: &[],
            thresholds: Default::default(),
            scheme: None,
            tooltip: Default::default(),
            axis_labels: ("", ""),
        }
    }

    fn gauge(&self, view: &mut PanelView) {
        let p = self.p;
        match self.reduced.first() {
            // A series without a value (NaN or none in the range) shows what null maps to.
            None if !view.no_data => {
                let mapped = p.map_missing().filter(|(t, _)| !t.is_empty());
                view.stat = mapped.map_or_else(|| self.no_value.into(), |(t, _)| t);
            }
            None => view.stat = self.no_value.into(),
            Some((_, v)) => {
                view.stat = crate::units::format(*v, &p.unit, p.decimals);
                view.stat_colour = self.colour_of(*v);
                let height = self.h.max(40);
                let bands = if p.threshold_markers { self.threshold_bands() } else { Vec::new() };
                let g =
                    chart::Gauge { value: *v, min: self.lo, max: self.hi, colour: &view.stat_colour, bands: &bands };
                view.svg = chart::gauge(&g, self.w, height, self.f.theme);
            }
        }
    }

    /// The thresholds as bands along `lo..hi`: each step from its value (the
    /// base from `lo`) to the next, as fractions, in its colour.
    fn threshold_bands(&self) -> Vec<(f64, f64, String)> {
        let (p, lo, hi) = (self.p, self.lo, self.hi);
        if hi <= lo {
            return Vec::new();
        }
        let at = |x: f64| if p.thresholds_percent { lo + (hi - lo) * x / 100.0 } else { x };
        let frac = |v: f64| ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
        let steps: Vec<(f64, String)> =
            p.thresholds.iter().map(|t| (t.value.map_or(lo, at), named_colour(&t.colour))).collect();
        steps
            .iter()
            .enumerate()
            .map(|(k, (from, colour))| (frac(*from), steps.get(k + 1).map_or(1.0, |next| frac(next.0)), colour.clone()))
            .filter(|(_, _, c)| c.starts_with('#'))
            .collect()
    }

    fn bar_gauge(&self, view: &mut PanelView) {
        if self.reduced.is_empty() {
            view.stat = self.no_value.into();
        }
        let p = self.p;
        let items: Vec<chart::Bar> = self
            .reduced
            .iter()
            .map(|(name, v)| {
                let (text, colour) = p.map_value(*v).unwrap_or_default();
                chart::Bar {
                    name: name.clone(),
                    value: *v,
                    text: if text.is_empty() { crate::units::format(*v, &p.unit, p.decimals) } else { text },
                    colour: if colour.is_empty() { self.colour_of(*v) } else { named_colour(&colour) },
                }
            })
            .collect();
        let mode = match p.bar_mode.as_str() {
            "lcd" => chart::BarMode::Lcd,
            "basic" => chart::BarMode::Basic,
            _ => chart::BarMode::Gradient,
        };
        let vertical = match p.stat_orientation.as_str() {
            "vertical" => true,
            "horizontal" => false,
            _ => self.w < self.h,
        };
        let colour_at = |v: f64| self.colour_of(v);
        // Bars never thinner than minVizHeight (across) or minVizWidth (down),
        // with room for their names: what does not fit scrolls, as in Grafana.
        let (w, h, n) = (self.w, self.h.max(20), items.len() as u32);
        let size = if vertical {
            (w.max(n.saturating_mul(p.min_viz.1 + 4)), h)
        } else {
            (w, h.max(n.saturating_mul(p.min_viz.0 + 18)))
        };
        view.svg = chart::bars(&items, (self.lo, self.hi), size, (mode, vertical), &colour_at, self.f.theme);
        if size != (w, h) {
            view.svg = format!("<div class=\"bar-scroll\">{}</div>", view.svg);
        }
    }

    /// A table as Grafana's table panel shows it: the queries' frames through
    /// the panel's transformations (see `frames`), the first frame drawn, each
    /// column titled and formatted by the field options its name (and query)
    /// resolve to: display name, unit, decimals, thresholds, cell colouring.
    fn table(&self, view: &mut PanelView, lines: &[Line], meta: &[(String, Labels)]) {
        let p = self.p;
        let frame = frames::apply(frames::from_series(p, lines, meta), &p.transformations).into_iter().next();
        let frame = frame.unwrap_or_default();
        let options: Vec<FieldOptions> = frame
            .fields
            .iter()
            .map(|f| p.field_config.resolve(&SeriesRef { name: &f.name, ref_id: &f.ref_id, points: &[] }))
            .collect();
        view.table_head = frame
            .fields
            .iter()
            .zip(&options)
            .map(|(f, o)| o.display_name.clone().unwrap_or_else(|| f.name.clone()))
            .collect();
        view.table_widths =
            options.iter().map(|o| o.width.map_or_else(String::new, |w| format!("width: {w:.0}px"))).collect();
        // Each column's range, where gauge cells have no min or max of their own.
        let ranges: Vec<(f64, f64)> = frame
            .fields
            .iter()
            .map(|f| {
                let nums = f.values.iter().filter_map(|v| if let frames::V::Num(n) = v { Some(*n) } else { None });
                nums.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), n| (a.min(n), b.max(n)))
            })
            .collect();
        view.table_rows = (0..frame.rows())
            .map(|row| {
                frame
                    .fields
                    .iter()
                    .zip(&options)
                    .enumerate()
                    .map(|(k, (f, o))| match (f.values.get(row), f.role) {
                        (Some(frames::V::Num(t)), frames::Role::Time) => {
                            Cell { text: table_time(*t), style: String::new(), bar: String::new() }
                        }
                        (Some(frames::V::Num(v)), _) => Cell {
                            text: crate::units::format(*v, &o.unit, o.decimals),
                            style: if o.cell_type == "gauge" { String::new() } else { self.cell_style(*v, o) },
                            bar: if o.cell_type == "gauge" { self.cell_bar(*v, o, ranges[k]) } else { String::new() },
                        },
                        (Some(frames::V::Text(t)), _) => {
                            Cell { text: t.clone(), style: String::new(), bar: String::new() }
                        }
                        _ => Cell { text: String::new(), style: String::new(), bar: String::new() },
                    })
                    .collect()
            })
            .collect();
        if view.table_rows.is_empty() {
            view.stat = self.no_value.into();
        }
    }

    /// A band per series, cut where its value changes (`merge`, Grafana's
    /// state timeline) or at every sample (its status history): each
    /// stretch in its value mapping's colour (else its threshold colour) and
    /// text (else the value in the panel's unit).
    fn state_timeline(&self, view: &mut PanelView, lines: &[Line], merge: bool) {
        let p = self.p;
        let rows: Vec<(String, Vec<chart::Stretch>)> = lines
            .iter()
            .map(|l| {
                let mut stretches: Vec<chart::Stretch> = Vec::new();
                let mut last: Option<f64> = None;
                for (k, &(t, v)) in l.points.iter().enumerate() {
                    let end = l.points.get(k + 1).map_or(t + self.time.step, |next| next.0.min(t + 2 * self.time.step));
                    if !v.is_finite() {
                        last = None;
                        continue;
                    }
                    match stretches.last_mut() {
                        Some(s) if merge && last == Some(v) && s.end == t => s.end = end,
                        _ => {
                            let (text, colour) = p.map_value(v).unwrap_or_default();
                            stretches.push(chart::Stretch {
                                start: t,
                                end,
                                colour: if colour.is_empty() { self.colour_of(v) } else { named_colour(&colour) },
                                text: if text.is_empty() { crate::units::format(v, &p.unit, p.decimals) } else { text },
                            });
                        }
                    }
                    last = Some(v);
                }
                (l.name.clone(), stretches)
            })
            .collect();
        view.svg = chart::state_timeline(&rows, &self.frame(self.h));
    }

    /// The first series reduced, in its threshold or mapping colour, over its sparkline.
    fn stat(&self, view: &mut PanelView, lines: Vec<Line>, options: &[FieldOptions]) {
        let p = self.p;
        if lines.len() > 1 {
            return self.stat_boxes(view, &lines, options);
        }
        let (text, colour, background) = self.stat_reading(lines.first(), &p.unit, p.decimals);
        (view.stat, view.stat_colour, view.stat_background) = (text, colour, background);
        if p.sparkline && !view.no_data {
            if let Some(l) = lines.first() {
                // Behind the value, in its colour (the palette's first when the value is plain).
                let colour = Some(view.stat_colour.as_str()).filter(|c| c.starts_with('#')).unwrap_or(chart::colour(0));
                let (w, h) = (inner_width(p.grid.w).max(40.0) as u32, (self.h / 2).max(12));
                view.svg = chart::sparkline(&l.points, (self.time.from, self.time.to), colour, w, h);
            }
        }
        view.stat_font = self.stat_font_px(&view.stat);
    }

    /// One series' stat: its reduced value as shown (mapped, or in `unit`),
    /// its colour, and whether the colour fills the box (`colorMode`).
    fn stat_reading(&self, line: Option<&Line>, unit: &str, decimals: Option<usize>) -> (String, String, bool) {
        let p = self.p;
        let (mut text, mut colour) = (self.no_value.to_string(), String::new());
        let mapped = match line.and_then(|l| reduce(&l.points, &p.reducer)) {
            None => p.map_missing(),
            Some(v) => {
                text = crate::units::format(v, unit, decimals);
                // Without thresholds or a scheme the value keeps the text's colour.
                colour = if p.thresholds.is_empty() && !p.colour_mode.starts_with("continuous-") {
                    "inherit".into()
                } else {
                    self.colour_of(v)
                };
                p.map_value(v)
            }
        };
        if let Some((mapped_text, mapped_colour)) = mapped {
            if !mapped_text.is_empty() {
                text = mapped_text;
            }
            if !mapped_colour.is_empty() {
                colour = named_colour(&mapped_colour);
            }
        }
        let background = match p.stat_colour_mode.as_str() {
            "none" => {
                colour = "inherit".into();
                false
            }
            "background" | "background_solid" => colour != "inherit" && !colour.is_empty(),
            _ => false,
        };
        (text, colour, background)
    }

    /// Several series: a box each, side by side when the panel is wider
    /// than tall (else one under the other), named when `textMode` says so
    /// (by default when there are several), each value sized to its box.
    fn stat_boxes(&self, view: &mut PanelView, lines: &[Line], options: &[FieldOptions]) {
        let p = self.p;
        let n = lines.len().min(MAX_LINES);
        let (w, h) = (inner_width(p.grid.w), f64::from(self.h));
        let across = match p.stat_orientation.as_str() {
            "horizontal" => false,
            "vertical" => true,
            _ => w >= h,
        };
        let named = matches!(p.stat_text_mode.as_str(), "auto" | "" | "value_and_name" | "name");
        let (box_w, box_h) = if across { (w / n as f64, h) } else { (w, h / n as f64) };
        view.stat_across = across;
        view.stats = lines
            .iter()
            .zip(options)
            .take(n)
            .map(|(l, o)| {
                let (value, colour, background) = self.stat_reading(Some(l), &o.unit, o.decimals);
                let value = match p.stat_text_mode.as_str() {
                    "name" => l.name.clone(),
                    "none" => String::new(),
                    _ => value,
                };
                let name = if named && p.stat_text_mode != "name" { l.name.clone() } else { String::new() };
                // Grafana's wide layout: in a box more than 2.5 times wider than tall
                // the name stands left and the value right (side by side in the
                // middle with `justifyMode: center`); else the name takes a line above.
                let wide = !name.is_empty() && box_w > 2.5 * box_h;
                let font = if wide {
                    fit_font(&value, box_w / 2.0 - 12.0, box_h)
                } else {
                    fit_font(&value, box_w - 8.0, if name.is_empty() { box_h } else { box_h - 16.0 })
                };
                StatBox { name, value, colour, background, font, wide }
            })
            .collect();
    }

    /// A pie or donut: a slice per series (its reduced value, in its colour),
    /// labelled as `displayLabels` asks; the legend lists each series with
    /// the values `legend.values` asks for (value, percent), as a table or a
    /// list, below or right of the pie.
    fn pie(&self, view: &mut PanelView, lines: &[Line]) {
        let p = self.p;
        let items: Vec<(usize, f64)> =
            lines.iter().enumerate().filter_map(|(i, l)| Some((i, reduce(&l.points, &p.reducer)?))).collect();
        let total: f64 = items.iter().map(|x| x.1.max(0.0)).filter(|v| v.is_finite()).sum();
        let percent = |v: f64| if total > 0.0 { format!("{:.0}%", v.max(0.0) / total * 100.0) } else { "0%".into() };
        let colour = |i: usize| lines[i].colour.clone().unwrap_or_else(|| chart::colour(i).to_string());
        let describe = |what: &str, i: usize, v: f64| match what {
            "name" => lines[i].name.clone(),
            "value" => crate::units::format(v, &p.unit, p.decimals),
            "percent" => percent(v),
            _ => String::new(),
        };
        let slices: Vec<chart::Slice> = items
            .iter()
            .map(|&(i, v)| chart::Slice {
                name: lines[i].name.clone(),
                value: v,
                colour: colour(i),
                label: p
                    .pie_labels
                    .iter()
                    .map(|w| describe(w, i, v))
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join(" "),
                value_text: describe("value", i, v),
            })
            .collect();
        let values: Vec<&str> =
            p.pie_legend_values.iter().map(String::as_str).filter(|v| matches!(*v, "value" | "percent")).collect();
        let table = p.legend.table;
        if p.legend.shown {
            view.legend = items
                .iter()
                .map(|&(i, v)| {
                    let calcs: Vec<String> = values.iter().map(|w| describe(w, i, v)).collect();
                    let name = if table || calcs.is_empty() {
                        lines[i].name.clone()
                    } else {
                        format!("{} {}", lines[i].name, calcs.join(" "))
                    };
                    LegendEntry {
                        colour: colour(i),
                        name,
                        calcs: if table { calcs } else { Vec::new() },
                        href: String::new(),
                        isolate: String::new(),
                        off: false,
                    }
                })
                .collect();
            if table {
                view.legend_calcs =
                    values.iter().map(|w| if *w == "value" { "Value".into() } else { "Percent".into() }).collect();
            }
            self.legend_width(view);
        }
        let width = self.w.saturating_sub(if view.legend_width > 0 { view.legend_width + 8 } else { 0 }).max(60);
        let height = self.h.max(60);
        view.svg = chart::pie(&slices, p.pie_donut, width.min(height * 2), height, self.f.theme);
    }

    /// The legend's width when it stands right of the chart: as wide as
    /// asked, else as its longest row (at most 40 % of the panel).
    fn legend_width(&self, view: &mut PanelView) {
        let p = self.p;
        if p.legend.right && !view.legend.is_empty() {
            // A swatch, the name, and each value with its cell's padding (12 px monospace: 7.2 px a character).
            let row = |e: &LegendEntry| {
                44.0 + 7.2 * e.name.chars().count() as f64
                    + e.calcs.iter().map(|c| 18.0 + 7.2 * c.chars().count().max(4) as f64).sum::<f64>()
            };
            let fit = view.legend.iter().map(row).fold(0.0, f64::max) as u32;
            view.legend_width = p.legend.width.unwrap_or(fit).min(self.time.width_px as u32 * 2 / 5).max(60);
        }
    }

    /// The legend's entries (those not hidden from it), with their
    /// calculations in each series' unit, in the order the legend sorts
    /// them by (a calculation's column or the name); on the right, its width.
    fn legend(&self, view: &mut PanelView, lines: &[Line], options: &[FieldOptions]) {
        let p = self.p;
        view.legend_calcs = p.legend_calcs.iter().map(|c| calc_title(c)).collect();
        let isolated = super::isolated(self.f.query, p.id);
        let mut entries: Vec<(LegendEntry, Vec<Option<f64>>)> = lines
            .iter()
            .zip(options)
            .filter(|(_, o)| !o.hide_in_legend)
            .map(|(l, o)| {
                // Negative-Y only draws below zero: the legend reduces the values as queried.
                let unflipped: Vec<(i64, f64)>;
                let points = if o.negative_y {
                    unflipped = l.points.iter().map(|&(t, v)| (t, -v)).collect();
                    &unflipped
                } else {
                    &l.points
                };
                let values: Vec<Option<f64>> = p.legend_calcs.iter().map(|c| reduce(points, c)).collect();
                let calcs = values
                    .iter()
                    .map(|v| v.map_or("—".into(), |v| crate::units::format(v, &o.unit, o.decimals)))
                    .collect();
                // A click shows this series alone, or all again when it already is.
                let alone = isolated.len() == 1 && isolated[0] == l.name;
                let names: &[&str] = if alone { &[] } else { &[l.name.as_str()] };
                let entry = LegendEntry {
                    colour: l.colour.clone().unwrap_or_default(),
                    name: l.name.clone(),
                    calcs,
                    href: format!("/d/{}?{}", self.f.uid, super::with_isolated(self.f.query, p.id, names)),
                    isolate: format!("{}:{}", p.id, l.name),
                    off: o.hide_in_viz,
                };
                (entry, values)
            })
            .collect();
        let (sort, desc) = (&p.legend.sort_by, p.legend.sort_desc);
        if sort == "Name" {
            entries.sort_by(|a, b| if desc { b.0.name.cmp(&a.0.name) } else { a.0.name.cmp(&b.0.name) });
        } else if let Some(k) = view.legend_calcs.iter().position(|t| t == sort) {
            // Missing values last either way.
            entries.sort_by(|a, b| match (a.1[k], b.1[k]) {
                (Some(x), Some(y)) if desc => y.total_cmp(&x),
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            });
        }
        view.legend = entries.into_iter().map(|(e, _)| e).collect();
        self.legend_width(view);
    }

    /// The height the page gives a legend (12 px monospace lines of 16 px):
    /// a table's rows under its header, or a list's entries wrapped across
    /// the panel's width; at most 40 % of the panel, where it scrolls.
    fn legend_height(&self, legend: &[LegendEntry]) -> u32 {
        if legend.is_empty() {
            return 0;
        }
        let lines = if self.p.legend_calcs.is_empty() {
            // Each entry: a swatch, its name at about 7.2 px a character, and the gap.
            let width = inner_width(self.p.grid.w).max(1.0);
            let mut lines = 1u32;
            let mut used = 0.0;
            for l in legend {
                let w = (24.0 + 7.2 * l.name.chars().count() as f64).min(width);
                if used > 0.0 && used + w > width {
                    lines += 1;
                    used = 0.0;
                }
                used += w + 19.0;
            }
            lines
        } else {
            legend.len() as u32 + 1
        };
        (lines * 16 + 6).min(self.h * 2 / 5 + 6)
    }

    /// Grafana sizes a stat's value to its box: the panel under its title
    /// (a sparkline lies behind the value).
    fn stat_font_px(&self, text: &str) -> u32 {
        let (w, h) = match self.f.image {
            Some((w, h)) => (f64::from(w), f64::from(h)),
            None => (inner_width(self.p.grid.w), f64::from(self.h)),
        };
        fit_font(text, w, h)
    }

    /// Each series in its own style, with a legend and its calculations;
    /// series hidden from the chart stay in the legend, and those hidden
    /// from the legend stay on the chart.
    fn time_series(&self, view: &mut PanelView, mut lines: Vec<Line>, options: &[FieldOptions]) {
        let p = self.p;
        if view.no_data {
            // Grafana's "No data" (or the panel's `noValue`), not empty axes.
            view.stat = self.no_value.into();
            return;
        }
        lines.truncate(MAX_LINES);
        // Palette colours by series index, before any is hidden.
        for (i, l) in lines.iter_mut().enumerate() {
            l.colour.get_or_insert_with(|| chart::colour(i).to_string());
        }
        if p.legend.shown {
            self.legend(view, &lines, options);
        }
        let legend_below = if p.legend.right { 0 } else { self.legend_height(&view.legend) };
        let height = self.f.image.map_or_else(|| self.h.saturating_sub(legend_below).max(40), |(_, h)| h);
        let (mut drawn, drawn_options): (Vec<Line>, Vec<&FieldOptions>) =
            lines.into_iter().zip(options).filter(|(_, o)| !o.hide_in_viz).unzip();
        // Grafana gives each unit its own scale: the first on the left, the
        // others on the right unless a series names its side.
        let first_left = drawn_options.iter().find(|o| !matches!(o.axis, AxisPlacement::Right));
        let left = first_left.map_or((p.unit.as_str(), p.decimals), |o| (o.unit.as_str(), o.decimals));
        for (l, o) in drawn.iter_mut().zip(&drawn_options) {
            l.style.right = match o.axis {
                AxisPlacement::Right => true,
                AxisPlacement::Auto => o.unit != left.0,
                AxisPlacement::Left | AxisPlacement::Hidden => false,
            };
        }
        // Each axis bounded by the first of its series' options.
        let bounds_of = |right: bool| {
            let o = drawn.iter().zip(&drawn_options).find(|(l, _)| l.style.right == right).map(|(_, o)| *o);
            o.map_or_else(chart::Bounds::default, |o| chart::Bounds {
                min: o.min,
                max: o.max,
                soft_min: o.soft_min,
                soft_max: o.soft_max,
                log: o.log_base,
                centered_zero: o.centered_zero,
            })
        };
        let bounds = (bounds_of(false), bounds_of(true));
        // Each axis labelled as the first of its series' options say (`axisLabel`).
        let label_of = |right: bool| {
            drawn
                .iter()
                .zip(&drawn_options)
                .find(|(l, _)| l.style.right == right)
                .map_or("", |(_, o)| o.axis_label.as_str())
        };
        let axis_labels = (label_of(false), label_of(true));
        let right = drawn.iter().zip(&drawn_options).find(|(l, _)| l.style.right);
        let right = right.map(|(_, o)| chart::Axis { unit: o.unit.as_str(), decimals: o.decimals });
        // Thresholds across the plot as the first series' field options draw them.
        let style = drawn_options.first().map_or("off", |o| o.thresholds_style.as_str());
        let steps: Vec<(Option<f64>, String)> = drawn_options
            .first()
            .map(|o| if o.thresholds.is_empty() { &p.thresholds } else { &o.thresholds })
            .into_iter()
            .flatten()
            // A transparent step (or any colour that is not one) bounds its neighbours and draws nothing.
            .map(|t| (t.value, Some(named_colour(&t.colour)).filter(|c| c.starts_with('#')).unwrap_or_default()))
            .collect();
        let thresholds = chart::Thresholds {
            steps: &steps,
            line: matches!(style, "line" | "line+area" | "dashed" | "dashed+area"),
            dashed: style.starts_with("dashed"),
            area: style.ends_with("area"),
        };
        let scheme = |v: f64| self.colour_of(v);
        let mut frame = TimeChart {
            unit: left.0,
            decimals: left.1,
            right,
            bounds,
            marks: self.f.marks,
            thresholds,
            scheme: Some(&scheme),
            tooltip: self.p.tooltip,
            axis_labels,
            ..self.frame(height)
        };
        if view.legend_width > 0 {
            frame.width = frame.width.saturating_sub(view.legend_width + 8).max(100);
        }
        if drawn_options.iter().any(|o| o.stack == StackMode::Percent) {
            // Each time's values as shares of its total, on an axis of percent.
            share_of_totals(&mut drawn);
            view.svg = chart::time_series(&drawn, &TimeChart { unit: "percentunit", decimals: None, ..frame });
        } else {
            view.svg = chart::time_series(&drawn, &frame);
        }
    }
}

/// A time in a table cell, as Grafana's table shows times (UTC here).
fn table_time(ms: f64) -> String {
    jiff::Timestamp::from_millisecond(ms as i64)
        .map_or_else(|_| String::new(), |t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
}
