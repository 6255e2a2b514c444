//! Charts of single values: a gauge's arc, bar gauges and pies.

use super::{rgb, xml_escape, Theme};
use plotters::prelude::*;
use std::fmt::Write;

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

/// What a gauge shows: a value on `min..max` in its colour, and the
/// threshold bands marked around the arc (`(from, to, colour)` as fractions
/// of the arc, Grafana's threshold markers).
pub struct Gauge<'a> {
    /// The value.
    pub value: f64,
    /// The arc's start.
    pub min: f64,
    /// The arc's end.
    pub max: f64,
    /// The value's colour (`#rrggbb`).
    pub colour: &'a str,
    /// Threshold bands outside the arc (none: no markers).
    pub bands: &'a [(f64, f64, String)],
}

/// A gauge: a 240° arc from `min` to `max`, filled up to `value` in its
/// colour, the thresholds' bands in a thin arc around it.
pub fn gauge(g: &Gauge, width: u32, height: u32, theme: Theme) -> String {
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
        let along = |f: f64| start + (end - start) * f.clamp(0.0, 1.0);
        // The markers: a thin band around the outside, the arc within it.
        let band = (thick / 3).max(2);
        for (from, to, colour) in g.bands.iter().filter(|(a, b, _)| b > a) {
            let ring = arc(cx, cy, r - f64::from(band) / 2.0, along(*from), along(*to));
            let _ = root.draw(&PathElement::new(ring, rgb(colour).stroke_width(band)));
        }
        let r = if g.bands.is_empty() { r } else { r - f64::from(band) - 3.0 - f64::from(thick) / 2.0 };
        let _ = root.draw(&PathElement::new(arc(cx, cy, r, start, end), track.stroke_width(thick)));
        let frac = if g.max > g.min && g.value.is_finite() {
            ((g.value - g.min) / (g.max - g.min)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        if frac > 0.0 {
            let _ = root.draw(&PathElement::new(arc(cx, cy, r, start, along(frac)), rgb(g.colour).stroke_width(thick)));
        }
        let _ = root.present();
    }
    theme.finish(svg)
}

/// A stat panel's sparkline, as Grafana draws it behind the value: the
/// series as a filled area without axes, scaled to its own range over
/// `[start, end]`; a gap (NaN) breaks the line. Empty without two finite points.
pub fn sparkline(points: &[(i64, f64)], (start, end): (i64, i64), colour: &str, width: u32, height: u32) -> String {
    let finite: Vec<(i64, f64)> = points.iter().copied().filter(|p| p.1.is_finite()).collect();
    if finite.len() < 2 {
        return String::new();
    }
    let (lo, hi) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let (w, h) = (f64::from(width), f64::from(height));
    let span = (end - start).max(1) as f64;
    let x = |t: i64| ((t - start) as f64 / span * w).clamp(0.0, w);
    // A flat series runs along the middle; otherwise the range fills 90 % of the height.
    let y = |v: f64| if hi > lo { h - (v - lo) / (hi - lo) * h * 0.9 } else { h / 2.0 };
    let colour = xml_escape(colour);
    let mut line = String::new();
    let mut area = String::new();
    for run in points.split(|p| !p.1.is_finite()).filter(|r| r.len() > 1) {
        let _ = write!(line, "M{:.1} {:.1}", x(run[0].0), y(run[0].1));
        let _ = write!(area, "M{:.1} {h:.1}", x(run[0].0));
        for p in run {
            let _ = write!(line, "L{:.1} {:.1}", x(p.0), y(p.1));
            let _ = write!(area, "L{:.1} {:.1}", x(p.0), y(p.1));
        }
        let _ = write!(area, "L{:.1} {h:.1}Z", x(run[run.len() - 1].0));
    }
    format!(
        r#"<svg class="sparkline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" preserveAspectRatio="none"><path d="{area}" fill="{colour}" fill-opacity="0.18"/><path d="{line}" fill="none" stroke="{colour}" stroke-width="1.5" vector-effect="non-scaling-stroke"/></svg>"#
    )
}

/// How a bar gauge fills its bars (Grafana's `displayMode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BarMode {
    /// One colour: the value's.
    #[default]
    Basic,
    /// A gradient through the colours of the range up to the value.
    Gradient,
    /// Cells, each in the colour of its place in the range, lit up to the value.
    Lcd,
}

/// One bar: its name, its value (and as shown), and the value's colour (`#rrggbb`).
pub struct Bar {
    /// Shown by the bar.
    pub name: String,
    /// Its value.
    pub value: f64,
    /// The value as shown (unit, mapping).
    pub text: String,
    /// The value's colour.
    pub colour: String,
}

/// A bar gauge: one bar per item scaled from `min` to `max`, across (each
/// row named above, its value at the end) or `vertical` (side by side),
/// filled as `mode` says; `colour_at` gives the colour of a value of the
/// range (for gradients and cells).
pub fn bars(
    items: &[Bar],
    (min, max): (f64, f64),
    (width, height): (u32, u32),
    (mode, vertical): (BarMode, bool),
    colour_at: &dyn Fn(f64) -> String,
    theme: Theme,
) -> String {
    let RGBColor(r, g, b) = theme.colours().0;
    let fg = format!("#{r:02x}{g:02x}{b:02x}");
    let (w, h) = (f64::from(width), f64::from(height));
    let n = items.len().max(1) as f64;
    // Across, the values stand at the rows' ends: room for the longest, at the rows' font.
    let font = ((h / n - 18.0) * 0.8).clamp(10.0, 16.0);
    // Bold digits are some 0.62 of the font wide, "%" and letters more: 0.7 keeps them in.
    let longest = items.iter().map(|b| b.text.chars().count()).max().unwrap_or(1) as f64;
    let reserve = (longest * font * 0.7 + 10.0).min(w / 2.0);
    let frac = |v: f64| if max > min && v.is_finite() { ((v - min) / (max - min)).clamp(0.0, 1.0) } else { 0.0 };
    let mut out = String::new();
    let mut defs = String::new();
    let _ = write!(
        out,
        r#"<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">"#
    );
    if let Some(bg) = theme.colours().1 {
        let RGBColor(r, g, b) = bg;
        let _ = write!(out, "<rect width=\"100%\" height=\"100%\" fill=\"#{r:02x}{g:02x}{b:02x}\"/>");
    }
    for (k, bar) in items.iter().enumerate() {
        let k = k as f64;
        // The bar's box: across, a row with its name above; down, a column with its value above.
        let (x, y, bw, bh, horizontal) = if vertical {
            let slot = w / n;
            (k * slot + 2.0, 16.0, slot - 4.0, (h - 34.0).max(4.0), false)
        } else {
            let slot = h / n;
            (0.0, k * slot + 14.0, (w - reserve).max(10.0), (slot - 18.0).max(3.0), true)
        };
        let name = xml_escape(&bar.name);
        let text = xml_escape(&bar.text);
        let f = frac(bar.value);
        let track = format!(r#"fill="{fg}" fill-opacity="0.1""#);
        let _ = write!(out, "<g class=\"bar-gauge\"><title>{name}: {text}</title>");
        if horizontal {
            let _ = write!(
                out,
                r#"<text x="{x}" y="{}" font-family="sans-serif" font-size="11" fill="{fg}">{name}</text>"#,
                y - 3.0
            );
        } else {
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" text-anchor="middle" font-family="sans-serif" font-size="11" fill="{fg}">{name}</text>"#,
                x + bw / 2.0,
                h - 4.0
            );
        }
        match mode {
            BarMode::Lcd => lcd_cells(&mut out, (x, y, bw, bh, horizontal), f, &|t| colour_at(min + (max - min) * t)),
            _ => {
                let _ = write!(out, r#"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{bh:.1}" {track}/>"#);
                let fill = if mode == BarMode::Gradient {
                    // From the range's start to the value, through the colours on the way.
                    let id = format!("bar-gradient-{}", k as usize);
                    let (x2, y2) = if horizontal { ("100%", "0%") } else { ("0%", "0%") };
                    let y1 = if horizontal { "0%" } else { "100%" };
                    let _ = write!(defs, r#"<linearGradient id="{id}" x1="0%" y1="{y1}" x2="{x2}" y2="{y2}">"#);
                    for s in 0..=4 {
                        let t = f64::from(s) / 4.0;
                        let _ = write!(
                            defs,
                            r#"<stop offset="{}%" stop-color="{}"/>"#,
                            t * 100.0,
                            colour_at(min + (max - min) * f * t)
                        );
                    }
                    defs.push_str("</linearGradient>");
                    format!("url(#{id})")
                } else {
                    bar.colour.clone()
                };
                let (fx, fy, fw, fh) =
                    if horizontal { (x, y, bw * f, bh) } else { (x, y + bh * (1.0 - f), bw, bh * f) };
                if f > 0.0 {
                    let _ = write!(
                        out,
                        r#"<rect class="bar" x="{fx:.1}" y="{fy:.1}" width="{fw:.1}" height="{fh:.1}" fill="{fill}"/>"#
                    );
                }
            }
        }
        // The value in its colour: at the end of the row, or above the column.
        if horizontal {
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" font-family="sans-serif" font-size="{}" font-weight="600" fill="{}">{text}</text>"#,
                x + bw + 6.0,
                y + bh / 2.0 + font * 0.35,
                font,
                bar.colour
            );
        } else {
            let _ = write!(
                out,
                r#"<text x="{}" y="12" text-anchor="middle" font-family="sans-serif" font-size="12" font-weight="600" fill="{}">{text}</text>"#,
                x + bw / 2.0,
                bar.colour
            );
        }
        out.push_str("</g>");
    }
    if !defs.is_empty() {
        let at = out.find('>').map_or(0, |i| i + 1);
        out.insert_str(at, &format!("<defs>{defs}</defs>"));
    }
    out.push_str("</svg>");
    theme.finish(out)
}

/// An lcd bar: cells of about 8 px with 2 px between them along the box
/// `(x, y, w, h, across)`, each in the colour of its place (`colour_at` a
/// fraction of the range), lit up to the fraction `f`.
fn lcd_cells(
    out: &mut String,
    (x, y, bw, bh, horizontal): (f64, f64, f64, f64, bool),
    f: f64,
    colour_at: &dyn Fn(f64) -> String,
) {
    let cells = ((if horizontal { bw } else { bh }) / 10.0).floor().max(1.0) as usize;
    for c in 0..cells {
        let (t0, t1) = (c as f64 / cells as f64, (c + 1) as f64 / cells as f64);
        let colour = colour_at((t0 + t1) / 2.0);
        let opacity = if t1 <= f + 1e-9 { 1.0 } else { 0.15 };
        let (cx, cy, cw, ch) = if horizontal {
            (x + bw * t0, y, bw / cells as f64 - 2.0, bh)
        } else {
            (x, y + bh * (1.0 - t1), bw, bh / cells as f64 - 2.0)
        };
        let _ = write!(
            out,
            r#"<rect class="cell" x="{cx:.1}" y="{cy:.1}" width="{:.1}" height="{:.1}" fill="{colour}" fill-opacity="{opacity}"/>"#,
            cw.max(1.0),
            ch.max(1.0)
        );
    }
}

/// One slice of a pie: its series' name, value, colour, and label (empty: none).
pub struct Slice {
    /// The series' name.
    pub name: String,
    /// Its value (negative and missing values get no slice).
    pub value: f64,
    /// Its colour.
    pub colour: String,
    /// Drawn on the slice where it fits.
    pub label: String,
    /// The value as its hover title shows it (in its unit).
    pub value_text: String,
}

/// A pie (or a donut): a slice per item, in its colour, labelled where it fits.
pub fn pie(items: &[Slice], donut: bool, width: u32, height: u32, theme: Theme) -> String {
    let mut svg = String::new();
    let mut titles = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        theme.fill(&root);
        let total: f64 = items.iter().map(|s| s.value.max(0.0)).filter(|v| v.is_finite()).sum();
        let (cx, cy) = (f64::from(width) / 2.0, f64::from(height) / 2.0);
        let r = cx.min(cy) - 4.0;
        let mut a = std::f64::consts::FRAC_PI_2;
        for s in items {
            let (name, v) = (&s.name, s.value);
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
            let _ = root.draw(&Polygon::new(pts, rgb(&s.colour).filled()));
            let mid = a - sweep / 2.0;
            let at = if donut { 0.775 } else { 0.6 };
            let (tx, ty) = (cx + r * at * mid.cos(), cy - r * at * mid.sin());
            // Its label (`displayLabels`) where the slice has room for it.
            if !s.label.is_empty() && sweep * r * at > 6.0 * s.label.chars().count() as f64 {
                let _ = write!(
                    titles,
                    r##"<text x="{tx:.0}" y="{ty:.0}" dy="0.35em" text-anchor="middle" font-family="sans-serif" font-size="11" fill="#fff">{}</text>"##,
                    xml_escape(&s.label)
                );
            }
            let _ = write!(
                titles,
                r#"<circle cx="{tx:.0}" cy="{ty:.0}" r="{:.0}" fill="transparent"><title>{}: {} ({:.1}%)</title></circle>"#,
                (r * 0.3).max(4.0),
                xml_escape(name),
                xml_escape(&s.value_text),
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
    fn gauges_bars_and_pies_draw_with_escaped_names() {
        let at = |value: f64, bands: &[(f64, f64, String)]| {
            gauge(&Gauge { value, min: 0.0, max: 100.0, colour: "#73BF69", bands }, 200, 120, Theme::Light)
        };
        let g = at(50.0, &[]);
        assert_eq!(g.matches("<polyline").count(), 2, "the track and the value");
        assert!(g.contains("stroke=\"#73BF69\""));
        assert_eq!(at(-5.0, &[]).matches("<polyline").count(), 1, "nothing filled");
        let bands = [(0.0, 0.8, "#73BF69".to_string()), (0.8, 1.0, "#F2495C".to_string())];
        let marked = at(50.0, &bands);
        assert_eq!(marked.matches("<polyline").count(), 4, "two threshold bands, the track and the value");
        assert!(marked.contains("stroke=\"#F2495C\""));
        let items = [
            Bar { name: "<a>".into(), value: 3.0, text: "3".into(), colour: "#5794F2".into() },
            Bar { name: "b".into(), value: 1.0, text: "1".into(), colour: "#F2495C".into() },
        ];
        let colour_at = |v: f64| if v < 2.0 { "#73BF69".to_string() } else { "#F2495C".to_string() };
        let bar = |mode, vertical| bars(&items, (0.0, 4.0), (200, 60), (mode, vertical), &colour_at, Theme::Page);
        let b = bar(BarMode::Basic, false);
        assert!(b.contains("&lt;a&gt;") && !b.contains("<a>"));
        assert_eq!(b.matches("<rect class=\"bar\"").count(), 2);
        assert!(
            bar(BarMode::Gradient, false).contains("url(#bar-gradient-0)")
                && bar(BarMode::Gradient, false).contains("<linearGradient")
        );
        let lcd = bar(BarMode::Lcd, true);
        assert!(
            lcd.contains("<rect class=\"cell\"")
                && lcd.contains("fill-opacity=\"0.15\"")
                && lcd.contains("fill-opacity=\"1\""),
            "{lcd}"
        );
        let slice = |name: &str, value: f64| Slice {
            name: name.into(),
            value,
            colour: "#7EB26D".into(),
            label: String::new(),
            value_text: value.to_string(),
        };
        let p = pie(&[slice("x", 1.0), slice("<y>", 3.0), slice("zero", 0.0)], true, 200, 200, Theme::Page);
        assert!(p.contains("<polygon") && p.contains("75.0%") && p.contains("&lt;y&gt;"));
        // A donut is drawn as ring slices, with no hole painted in a background colour.
        let d = pie(&[slice("x", 1.0), slice("y", 1.0)], true, 100, 100, Theme::Page);
        assert_eq!(d.matches("<polygon").count(), 2);
        assert!(!d.contains("<circle cx=\"50\" cy=\"50\" r=\"26\"") && !d.contains("#FFFFFF"), "{d}");
    }

    #[test]
    fn a_sparkline_is_an_area_without_axes_broken_at_gaps() {
        let points = [(0, 1.0), (10, 3.0), (20, f64::NAN), (30, 2.0), (40, 2.5)];
        let s = sparkline(&points, (0, 40), "#73BF69", 200, 40);
        assert!(s.starts_with("<svg class=\"sparkline\"") && !s.contains("<text"), "{s}");
        assert_eq!(s.matches('M').count(), 4, "two runs, each a line and an area: {s}");
        assert!(s.contains("M0.0 40.0L0.0 40.0"), "the lowest value at the bottom: {s}");
        assert!(sparkline(&[(0, 1.0)], (0, 10), "#73BF69", 200, 40).is_empty());
    }
}
