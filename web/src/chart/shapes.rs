//! Charts of single values: a gauge's arc, bar gauges and pies.

use super::{colour, rgb, xml_escape, Theme};
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
        // A donut is drawn as ring slices, with no hole painted in a background colour.
        let d = pie(&[("x".into(), 1.0), ("y".into(), 1.0)], true, 100, 100, Theme::Page);
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
