//! Gradients of a series' line and area (Grafana's `custom.gradientMode`),
//! as SVG linear gradients running down the plot: `opacity` fades the area
//! from its fill opacity at the plot's top to nothing at its bottom, `hue`
//! turns the colour's hue across the plot, `scheme` colours by the value the
//! height stands for (the panel's thresholds or continuous scheme).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// How a series' colour runs across the plot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Gradient {
    /// One colour (`none`).
    #[default]
    None,
    /// The area fades towards the plot's bottom.
    Opacity,
    /// The hue turns from the plot's top to its bottom.
    Hue,
    /// Coloured by the value at each height.
    Scheme,
}

impl Gradient {
    /// Grafana's name of the mode.
    pub fn parse(mode: &str) -> Gradient {
        match mode {
            "opacity" => Gradient::Opacity,
            "hue" => Gradient::Hue,
            "scheme" => Gradient::Scheme,
            _ => Gradient::None,
        }
    }
}

/// A fresh id for a gradient: unique in the page, whatever charts it holds.
fn next_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("vg{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Writes a gradient from `top` to `bottom` (pixels) with `stops` (offset
/// 0–1, colour, opacity) into `defs`, and returns the paint that uses it.
pub(super) fn paint(defs: &mut String, (top, bottom): (i32, i32), stops: &[(f64, String, f64)]) -> String {
    let id = next_id();
    let _ = write!(
        defs,
        r#"<linearGradient id="{id}" gradientUnits="userSpaceOnUse" x1="0" y1="{top}" x2="0" y2="{bottom}">"#
    );
    for (offset, colour, opacity) in stops {
        let _ = write!(defs, r#"<stop offset="{offset:.3}" stop-color="{colour}" stop-opacity="{opacity:.3}"/>"#);
    }
    defs.push_str("</linearGradient>");
    format!("url(#{id})")
}

/// The stops of an area (or, with `opacity` 1, a line) in `mode`: `hex`
/// its colour, `scheme` the colour of the value at a share of the plot's
/// height from its top (0) to its bottom (1).
pub(super) fn stops(
    mode: Gradient,
    hex: &str,
    opacity: f64,
    scheme: &dyn Fn(f64) -> String,
) -> Vec<(f64, String, f64)> {
    match mode {
        Gradient::None => vec![(0.0, hex.to_string(), opacity), (1.0, hex.to_string(), opacity)],
        Gradient::Opacity => vec![(0.0, hex.to_string(), opacity), (1.0, hex.to_string(), 0.0)],
        Gradient::Hue => vec![(0.0, spin(hex, 15.0), opacity), (1.0, spin(hex, -15.0), opacity)],
        Gradient::Scheme => (0..=8).map(|k| k as f64 / 8.0).map(|at| (at, scheme(at), opacity)).collect(),
    }
}

/// `#rrggbb` with its hue turned by `degrees` (other colours as they are).
fn spin(hex: &str, degrees: f64) -> String {
    let Some(v) = hex.strip_prefix('#').filter(|h| h.len() == 6).and_then(|h| u32::from_str_radix(h, 16).ok()) else {
        return hex.to_string();
    };
    let [r, g, b] = [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff].map(|c| f64::from(c) / 255.0);
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    let l = (max + min) / 2.0;
    let d = max - min;
    if d == 0.0 {
        return hex.to_string();
    }
    let s = d / (1.0 - (2.0 * l - 1.0).abs());
    let h = if max == r {
        60.0 * ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    let h = (h + degrees).rem_euclid(360.0);
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0).rem_euclid(2.0) - 1.0).abs());
    let (r1, g1, b1) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    format!("#{:02X}{:02X}{:02X}", byte(r1), byte(g1), byte(b1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_opacity_gradient_fades_the_area_from_its_fill_at_the_top_to_nothing_at_the_bottom() {
        let mut defs = String::new();
        let paint = paint(&mut defs, (10, 110), &stops(Gradient::Opacity, "#7EB26D", 0.3, &|_| String::new()));
        assert!(paint.starts_with("url(#vg") && defs.contains(&paint[5..paint.len() - 1]), "{paint} {defs}");
        assert!(defs.contains(r#"y1="10" x2="0" y2="110""#), "{defs}");
        assert!(defs.contains(r##"<stop offset="0.000" stop-color="#7EB26D" stop-opacity="0.300"/>"##), "{defs}");
        assert!(defs.contains(r##"<stop offset="1.000" stop-color="#7EB26D" stop-opacity="0.000"/>"##), "{defs}");
        let mut again = String::new();
        assert_ne!(paint, super::paint(&mut again, (10, 110), &[]), "every gradient its own id");
    }

    #[test]
    fn hue_turns_the_colour_and_scheme_follows_the_value_at_each_height() {
        assert_eq!(spin("#FF0000", 120.0), "#00FF00");
        assert_eq!(spin("#FF0000", -15.0), "#FF0040");
        assert_eq!(spin("#808080", 30.0), "#808080", "grey has no hue");
        let s = stops(Gradient::Scheme, "#000000", 1.0, &|at| if at < 0.5 { "red".into() } else { "green".into() });
        assert_eq!((s.first().unwrap().1.as_str(), s.last().unwrap().1.as_str()), ("red", "green"));
        assert_eq!(Gradient::parse("opacity"), Gradient::Opacity);
        assert_eq!(Gradient::parse("nonsense"), Gradient::None);
    }
}
