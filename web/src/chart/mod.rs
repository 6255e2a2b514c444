//! Charts drawn with plotters into SVG text: time series as lines broken
//! where data is missing or stale, with unit-formatted axes, a [`Theme`],
//! and each point's value as a hover title.
//!
//! Series names (label values from targets) never enter the SVG except
//! through [`xml_escape`]; legends are the page's HTML.

mod gradient;
mod heatmap;
mod shapes;
mod time_series;
mod timeline;

use crate::units;
use plotters::prelude::*;

pub use gradient::Gradient;
pub use heatmap::{heatmap, Cells};
pub use shapes::{bars, gauge, pie, sparkline, Bar, BarMode, Gauge, Slice};
pub use time_series::time_series;
pub use timeline::{state_timeline, Stretch};

/// One series: its name, its points (ms, value), its colour and how it is
/// drawn; NaN or a missing step is a gap. `colour` overrides the palette's
/// (`#rrggbb`).
#[derive(Clone, Debug, Default)]
pub struct Line {
    /// Shown in the legend and tooltip.
    pub name: String,
    /// (ms, value), oldest first.
    pub points: Vec<(i64, f64)>,
    /// `#rrggbb`; `None` takes the palette's next.
    pub colour: Option<String>,
    /// How it is drawn.
    pub style: SeriesStyle,
}

/// How a series is drawn: as a line, bars or points.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Draw {
    /// A line through the points.
    #[default]
    Line,
    /// A bar at each point, as wide as most of a step.
    Bars,
    /// Points only.
    Points,
}

/// How a line goes from one sample to the next.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Interpolation {
    /// Straight.
    #[default]
    Linear,
    /// A monotone curve through the samples.
    Smooth,
    /// The value holds until the next sample.
    StepAfter,
    /// The value changes at the previous sample.
    StepBefore,
}

/// One series' drawing style, as a time series panel's field options set it.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesStyle {
    /// Line, bars or points.
    pub draw: Draw,
    /// How the line joins the samples.
    pub interpolation: Interpolation,
    /// Line width in pixels (0: no line).
    pub width: f64,
    /// Dash and gap lengths in pixels (empty: solid).
    pub dash: Vec<f64>,
    /// Round line caps (dotted lines).
    pub round: bool,
    /// Opacity of the area under the line, or of the bars, 0–100 (0: none).
    pub fill: u8,
    /// Points drawn at every value (`Some(true)`), never (`Some(false)`), or
    /// only where a value stands alone (`None`).
    pub show_points: Option<bool>,
    /// Point diameter in pixels.
    pub point_size: f64,
    /// The stacking group it is summed in (`None`: not stacked).
    pub stack: Option<String>,
    /// Gaps (missing or NaN points) bridged when at most this long, in ms
    /// (`spanNulls`; `None`: every gap breaks the line).
    pub span_nulls: Option<i64>,
    /// Scaled on the right axis.
    pub right: bool,
    /// How its colour runs across the plot (`gradientMode`).
    pub gradient: Gradient,
    /// Left out of the hover values (`hideFrom.tooltip`).
    pub hide_tooltip: bool,
    /// The series (by name) its area fills down to, instead of zero (`fillBelowTo`).
    pub fill_below_to: Option<String>,
}

impl Default for SeriesStyle {
    fn default() -> Self {
        SeriesStyle {
            draw: Draw::Line,
            interpolation: Interpolation::Linear,
            width: 1.0,
            dash: Vec::new(),
            round: false,
            fill: 0,
            show_points: None,
            point_size: 4.0,
            stack: None,
            span_nulls: None,
            right: false,
            gradient: Gradient::None,
            hide_tooltip: false,
            fill_below_to: None,
        }
    }
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
    /// The right axis's unit and decimals, drawn when a series is on it.
    pub right: Option<Axis<'a>>,
    /// The left and the right axis's bounds (`min`, `max`, `axisSoftMin`, `axisSoftMax`).
    pub bounds: (Bounds, Bounds),
    /// Light or dark.
    pub theme: Theme,
    /// Times marked across the plot (annotations).
    pub marks: &'a [Mark],
    /// Thresholds drawn across the plot (`thresholdsStyle`), on the left axis.
    pub thresholds: Thresholds<'a>,
    /// The colour of a value, for series coloured by scheme (`gradientMode: scheme`).
    pub scheme: Option<&'a dyn Fn(f64) -> String>,
    /// What hovering shows (`options.tooltip`).
    pub tooltip: Tooltip,
    /// Each axis's label (`axisLabel`), written along it (empty: none).
    pub axis_labels: (&'a str, &'a str),
}

/// What hovering over a time series shows (Grafana's `options.tooltip`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tooltip {
    /// One series, all of them, or nothing.
    pub mode: TooltipMode,
    /// The order of the series listed.
    pub sort: TooltipSort,
}

/// Grafana's `tooltip.mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TooltipMode {
    /// The series nearest the pointer (`single`, Grafana's default).
    #[default]
    Single,
    /// Every series at the pointer's time (`multi`).
    Multi,
    /// No tooltip (`none`).
    Hidden,
}

/// Grafana's `tooltip.sort`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TooltipSort {
    /// In the series' order.
    #[default]
    None,
    /// Smallest value first.
    Asc,
    /// Largest value first.
    Desc,
}

impl Tooltip {
    /// From a panel's `options.tooltip` (or a legacy graph's `tooltip`:
    /// `shared`, and `sort` 0 none, 1 increasing, 2 decreasing).
    pub fn from_options(t: &serde_json::Value) -> Tooltip {
        let mode = match (t["mode"].as_str(), t["shared"].as_bool()) {
            (Some("multi"), _) | (None, Some(true)) => TooltipMode::Multi,
            (Some("none" | "hidden"), _) => TooltipMode::Hidden,
            _ => TooltipMode::Single,
        };
        let sort = match (t["sort"].as_str(), t["sort"].as_u64()) {
            (Some("asc"), _) | (_, Some(1)) => TooltipSort::Asc,
            (Some("desc"), _) | (_, Some(2)) => TooltipSort::Desc,
            _ => TooltipSort::None,
        };
        Tooltip { mode, sort }
    }
}

/// Thresholds across a time series plot: `(from value, colour)` steps,
/// lowest first (the first from −∞), drawn as lines, dashed lines, and/or
/// areas, as Grafana's `custom.thresholdsStyle.mode` asks.
#[derive(Clone, Copy, Debug, Default)]
pub struct Thresholds<'a> {
    /// The steps: where each starts (`None`: −∞) and its colour (`#rrggbb`;
    /// empty: transparent, drawn as nothing).
    pub steps: &'a [(Option<f64>, String)],
    /// A line at each step's value.
    pub line: bool,
    /// The lines dashed.
    pub dashed: bool,
    /// Each step's band shaded.
    pub area: bool,
}

/// How an axis labels its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Axis<'a> {
    /// Grafana unit id.
    pub unit: &'a str,
    /// Decimals (`None`: chosen by the value).
    pub decimals: Option<usize>,
}

/// An axis's bounds: hard ones replace the data's range at that end, soft
/// ones widen it to take them in (Grafana's `min`/`max` and `axisSoftMin`/`axisSoftMax`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bounds {
    /// `min`.
    pub min: Option<f64>,
    /// `max`.
    pub max: Option<f64>,
    /// `axisSoftMin`.
    pub soft_min: Option<f64>,
    /// `axisSoftMax`.
    pub soft_max: Option<f64>,
    /// A logarithmic scale of this base (`scaleDistribution: log`).
    pub log: Option<f64>,
    /// Zero in the middle (`axisCenteredZero`).
    pub centered_zero: bool,
}

impl Bounds {
    /// The range `(lo, hi)` from the data's, bounded (on a log scale, all in
    /// logarithms: the data's as given, the bounds' taken here, and the range
    /// widened to whole powers of the base).
    pub fn apply(&self, (mut lo, mut hi): (f64, f64)) -> (f64, f64) {
        let scaled = |v: f64| self.scaled(v);
        lo = self.soft_min.map(scaled).filter(|s| s.is_finite()).map_or(lo, |s| lo.min(s));
        hi = self.soft_max.map(scaled).filter(|s| s.is_finite()).map_or(hi, |s| hi.max(s));
        lo = self.min.map(scaled).filter(|s| s.is_finite()).unwrap_or(lo);
        hi = self.max.map(scaled).filter(|s| s.is_finite()).unwrap_or(hi);
        if self.log.is_some() {
            (lo, hi) = (lo.floor(), hi.ceil());
        }
        if self.centered_zero {
            let m = lo.abs().max(hi.abs());
            (lo, hi) = (-m, m);
        }
        if hi > lo {
            (lo, hi)
        } else {
            (lo, lo + 1.0)
        }
    }

    /// A value where it stands on this axis: itself, or its logarithm (NaN
    /// for values a log scale cannot show).
    pub fn scaled(&self, v: f64) -> f64 {
        match self.log {
            Some(base) if v > 0.0 => v.log(base),
            Some(_) => f64::NAN,
            None => v,
        }
    }

    /// The value a position on this axis stands for.
    pub fn unscaled(&self, y: f64) -> f64 {
        self.log.map_or(y, |base| base.powf(y))
    }
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
            Theme::Light => (RGBColor(0x46, 0x4c, 0x54), Some(RGBColor(0xff, 0xff, 0xff))),
            Theme::Dark => (RGBColor(0xc7, 0xd0, 0xd9), Some(RGBColor(0x18, 0x1b, 0x1f))),
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

/// Grafana's classic palette, in its order.
pub const PALETTE: [&str; 56] = [
    "#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1", "#BA43A9", "#705DA0", "#508642", "#CCA300",
    "#447EBC", "#C15C17", "#890F02", "#0A437C", "#6D1F62", "#584477", "#B7DBAB", "#F4D598", "#70DBED", "#F9BA8F",
    "#F29191", "#82B5D8", "#E5A8E2", "#AEA2E0", "#629E51", "#E5AC0E", "#64B0C8", "#E0752D", "#BF1B00", "#0A50A1",
    "#962D82", "#614D93", "#9AC48A", "#F2C96D", "#65C5DB", "#F9934E", "#EA6460", "#5195CE", "#D683CE", "#806EB7",
    "#3F6833", "#967302", "#2F575E", "#99440A", "#58140C", "#052B51", "#511749", "#3F2B5B", "#E0F9D7", "#FCEACA",
    "#CFFAFF", "#F9E2D2", "#FCE2DE", "#BADFF4", "#F9D9F9", "#DEDAF7",
];

/// The palette colour Grafana's `palette-classic-by-name` gives a series
/// name: the `string-hash` of the name picks among the palette's colours
/// that stand out on a light page (contrast with white of at least 3, as
/// Grafana filters them for its light theme).
pub fn colour_by_name(name: &str) -> &'static str {
    static READABLE: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let colours = READABLE.get_or_init(|| PALETTE.iter().copied().filter(|c| contrast_with_white(c) >= 3.0).collect());
    colours[string_hash(name) as usize % colours.len()]
}

/// npm's `string-hash`: djb2 with XOR over the UTF-16 code units, from the last.
fn string_hash(s: &str) -> u32 {
    let units: Vec<u16> = s.encode_utf16().collect();
    units.iter().rev().fold(5381i32, |h, &c| h.wrapping_mul(33) ^ i32::from(c)) as u32
}

/// WCAG contrast ratio of `#rrggbb` against white.
fn contrast_with_white(hex: &str) -> f64 {
    let channel = |k: usize| {
        let c = f64::from(u8::from_str_radix(&hex[1 + 2 * k..3 + 2 * k], 16).unwrap_or(0)) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
    1.05 / (luminance + 0.05)
}

/// The palette colour of series `i`.
pub fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// A colour as Grafana writes them: `#rgb`, `#rrggbb`, `#rrggbbaa`, `rgb(r, g, b)`
/// or `rgba(r, g, b, a)` (grey for anything else).
fn rgb(c: &str) -> RGBAColor {
    const GREY: RGBAColor = RGBAColor(128, 128, 128, 1.0);
    let c = c.trim();
    if let Some(hex) = c.strip_prefix('#') {
        let full: String = match hex.len() {
            3 | 4 => hex.chars().flat_map(|d| [d, d]).collect(),
            _ => hex.to_string(),
        };
        let Ok(v) = u32::from_str_radix(&full, 16) else { return GREY };
        return match full.len() {
            6 => RGBAColor((v >> 16) as u8, (v >> 8) as u8, v as u8, 1.0),
            8 => RGBAColor((v >> 24) as u8, (v >> 16) as u8, (v >> 8) as u8, f64::from(v as u8) / 255.0),
            _ => GREY,
        };
    }
    let Some(args) = c.strip_prefix("rgba(").or_else(|| c.strip_prefix("rgb(")).and_then(|a| a.strip_suffix(')'))
    else {
        return GREY;
    };
    let n: Vec<f64> = args.split(',').filter_map(|x| x.trim().parse().ok()).collect();
    match n[..] {
        [r, g, b] => RGBAColor(r as u8, g as u8, b as u8, 1.0),
        [r, g, b, a] => RGBAColor(r as u8, g as u8, b as u8, a.clamp(0.0, 1.0)),
        _ => GREY,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_name_colours_follow_npm_string_hash_over_the_readable_palette() {
        // string-hash("a") = (5381 * 33) ^ 97 = 177604.
        // Values from the JavaScript function itself (node): past 32 bits it
        // wraps as Int32 before the XOR; characters outside the BMP count as two units.
        assert_eq!(string_hash("a"), 177_604);
        assert_eq!(string_hash("hello world"), 2_616_892_229);
        assert_eq!(string_hash("cpu0"), 2_085_910_099);
        assert_eq!(string_hash("ü€😀"), 1_359_176_360);
        assert!(contrast_with_white("#7EB26D") < 3.0 && contrast_with_white("#1F78C1") > 3.0);
        let c = colour_by_name("cpu0");
        assert_eq!(c, colour_by_name("cpu0"), "the same name, the same colour");
        assert!(contrast_with_white(c) >= 3.0, "{c}");
    }

    #[test]
    fn tooltip_options_read_as_grafana_writes_them_single_by_default() {
        let t = |v: serde_json::Value| Tooltip::from_options(&v);
        assert_eq!(
            t(serde_json::json!({"mode": "multi", "sort": "desc"})),
            Tooltip { mode: TooltipMode::Multi, sort: TooltipSort::Desc }
        );
        assert_eq!(t(serde_json::json!({"mode": "none"})).mode, TooltipMode::Hidden);
        assert_eq!(t(serde_json::json!({})), Tooltip::default(), "Grafana's default: single, unsorted");
        // A legacy graph: shared, sort 1 increasing.
        assert_eq!(
            t(serde_json::json!({"shared": true, "sort": 1})),
            Tooltip { mode: TooltipMode::Multi, sort: TooltipSort::Asc }
        );
        assert_eq!(
            t(serde_json::json!({"shared": false, "sort": 2})),
            Tooltip { mode: TooltipMode::Single, sort: TooltipSort::Desc }
        );
    }

    #[test]
    fn colours_are_read_in_every_notation_grafana_writes() {
        assert_eq!(rgb("#73BF69"), RGBAColor(0x73, 0xbf, 0x69, 1.0));
        assert_eq!(rgb("#fff"), RGBAColor(255, 255, 255, 1.0));
        assert_eq!(rgb("rgba(50, 172, 45, 0.97)"), RGBAColor(50, 172, 45, 0.97));
        assert_eq!(rgb("rgb(245,54,54)"), RGBAColor(245, 54, 54, 1.0));
        assert_eq!(rgb("#ff000080").0, 255);
        assert_eq!(rgb("purple"), RGBAColor(128, 128, 128, 1.0), "names are resolved before drawing");
    }

    #[test]
    fn time_labels_by_span_in_utc() {
        let t = 1_456_747_200_500; // 2016-02-29T12:00:00.5Z
        assert_eq!(time_label(t, 3 * 86_400_000), "02-29 12:00");
        assert_eq!(time_label(t + 7_000, 600_000), "12:00:07");
        assert_eq!(time_label(-1, 2 * 86_400_000), "12-31 23:59");
        assert_eq!(time_label(i64::MAX, 0), "");
        assert_eq!(time_label(3_600_000 + 61_000, 3_600_000), "01:01");
    }
}
