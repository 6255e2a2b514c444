//! Field options resolved per series as Grafana resolves them
//! (`applyFieldOverrides`): the panel kind's defaults, under the panel's
//! `fieldConfig.defaults`, then each override whose matcher picks the series,
//! in order, each property set at its path (a null value unsets it). The
//! result is read into [`FieldOptions`] once resolved.
//!
//! Legacy `graph` panels keep their settings at the panel's top level and in
//! `seriesOverrides`/`aliasColors`; [`FieldConfig::from_panel`] moves them
//! into the same shape first, as Grafana's time series migration does.

use super::fields::threshold_steps;
mod legacy_graph;

use super::{num, reduce, truthy, Threshold};
use legacy_graph::{legacy_graph_defaults, legacy_series_overrides};
use serde_json::{json, Map, Value};

/// Most overrides read from one panel (the rest are ignored and named).
pub const MAX_OVERRIDES: usize = 1000;

/// A panel's field configuration: defaults, and overrides in order.
#[derive(Clone, Debug, Default)]
pub struct FieldConfig {
    /// `fieldConfig.defaults` (legacy settings moved in), as JSON.
    pub defaults: Map<String, Value>,
    /// `fieldConfig.overrides` (legacy series overrides appended).
    pub overrides: Vec<FieldOverride>,
    /// What was read but cannot be applied (unknown matchers, bad regexes,
    /// overrides past the limit), in words for the panel's info.
    pub ignored: Vec<String>,
}

/// One override: the series it picks and the properties it sets.
#[derive(Clone, Debug)]
pub struct FieldOverride {
    /// Which series.
    pub matcher: FieldMatcher,
    /// `(id, value)` in order: `custom.lineStyle`, `color`, `unit`, …
    pub properties: Vec<(String, Value)>,
}

/// Grafana's field matchers, as they pick a series.
#[derive(Clone, Debug)]
pub enum FieldMatcher {
    /// `byName`: the display name, or the field's own name (`Value`).
    Name(String),
    /// `byNames`: any of the names; with `mode: exclude`, all but them.
    Names {
        /// The names listed.
        names: Vec<String>,
        /// `mode: "exclude"` ("All except: …").
        exclude: bool,
    },
    /// `byRegexp`: a JavaScript regex found anywhere in the display name.
    Regexp(regex::Regex),
    /// `byFrameRefID`: every series of one query.
    FrameRefId(String),
    /// `byType`: `number` picks every series (the time field is not drawn).
    Type(String),
    /// `byValue`: series whose reduced value compares to a number.
    Value {
        /// The reducer (`mean`, `max`, `lastNotNull`, …).
        reducer: String,
        /// `gt`, `gte`, `lt`, `lte`, `eq`, `ne`.
        op: String,
        /// The number compared with.
        value: f64,
    },
}

/// What a matcher sees of a series.
#[derive(Clone, Copy, Debug)]
pub struct SeriesRef<'a> {
    /// Its display name (the legend format's result).
    pub name: &'a str,
    /// The `refId` of its query.
    pub ref_id: &'a str,
    /// Its points (for `byValue`).
    pub points: &'a [(i64, f64)],
}

impl FieldMatcher {
    /// Whether the matcher picks `s`.
    pub fn matches(&self, s: &SeriesRef) -> bool {
        // Prometheus series are value fields named "Value" whatever their display name.
        let named = |n: &str| n == s.name || n == "Value";
        match self {
            FieldMatcher::Name(n) => named(n),
            FieldMatcher::Names { names, exclude } => names.iter().any(|n| named(n)) != *exclude,
            FieldMatcher::Regexp(r) => r.is_match(s.name),
            FieldMatcher::FrameRefId(r) => r == s.ref_id,
            FieldMatcher::Type(t) => t == "number",
            FieldMatcher::Value { reducer, op, value } => {
                reduce(s.points, reducer).is_some_and(|v| match op.as_str() {
                    "gt" => v > *value,
                    "gte" => v >= *value,
                    "lt" => v < *value,
                    "lte" => v <= *value,
                    "eq" => v == *value,
                    "ne" => v != *value,
                    _ => false,
                })
            }
        }
    }
}

/// Whether Vigil draws what a property sets (the others are kept, resolved,
/// and named in the panel's info as ignored).
fn is_drawn(id: &str) -> bool {
    const STANDARD: [&str; 7] = ["unit", "decimals", "displayName", "color", "thresholds", "min", "max"];
    const CUSTOM: [&str; 23] = [
        "axisLabel",
        "width",
        "axisCenteredZero",
        "scaleDistribution",
        "fillBelowTo",
        "axisSoftMin",
        "axisSoftMax",
        "gradientMode",
        "spanNulls",
        "thresholdsStyle",
        "drawStyle",
        "lineInterpolation",
        "lineWidth",
        "lineStyle",
        "fillOpacity",
        "showPoints",
        "pointSize",
        "stacking",
        "axisPlacement",
        "transform",
        "hideFrom",
        "cellOptions",
        "displayMode",
    ];
    match id.strip_prefix("custom.") {
        Some(key) => CUSTOM.contains(&key),
        None => STANDARD.contains(&id),
    }
}

/// `/pattern/flags` or a bare pattern, compiled with a size limit.
pub(super) fn js_regex(r: &str) -> Option<regex::Regex> {
    let (pattern, flags) = match r.strip_prefix('/').and_then(|x| x.rsplit_once('/')) {
        Some((p, f)) => (p, f),
        None => (r, ""),
    };
    let pattern = if flags.contains('i') { format!("(?i){pattern}") } else { pattern.to_string() };
    regex::RegexBuilder::new(&pattern).size_limit(1 << 20).build().ok()
}

/// The defaults a time series panel starts from when its JSON leaves an
/// option out (Grafana 11's `timeseries` plugin defaults).
fn time_series_defaults() -> Value {
    json!({
        "custom": {
            "drawStyle": "line",
            "lineInterpolation": "linear",
            "lineWidth": 1,
            "fillOpacity": 0,
            "gradientMode": "none",
            "showPoints": "auto",
            "pointSize": 5,
            "spanNulls": false,
            "stacking": {"mode": "none", "group": "A"},
            "axisPlacement": "auto",
            "scaleDistribution": {"type": "linear"},
            "thresholdsStyle": {"mode": "off"},
            "hideFrom": {"legend": false, "tooltip": false, "viz": false}
        },
        "color": {"mode": "palette-classic"}
    })
}

/// `b` laid over `a`: objects merged key by key, anything else replaced.
fn merge(a: &mut Value, b: &Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b.clone(),
    }
}

/// Sets (or, for null, removes) the value at a dotted path, as lodash's
/// `set`/`unset` do for Grafana's property ids: setting creates (or
/// replaces with objects) what lies on the way; unsetting changes nothing
/// when the path is not there.
fn set_path(config: &mut Map<String, Value>, path: &str, value: &Value) {
    let (parents, last) = match path.rsplit_once('.') {
        Some((parents, last)) => (Some(parents), last),
        None => (None, path),
    };
    let mut at = config;
    for k in parents.into_iter().flat_map(|p| p.split('.')) {
        if value.is_null() {
            match at.get_mut(k) {
                Some(Value::Object(m)) => at = m,
                _ => return,
            }
            continue;
        }
        let next = at.entry(k.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        let Value::Object(m) = next else { return };
        at = m;
    }
    if value.is_null() {
        at.remove(last);
    } else {
        at.insert(last.to_string(), value.clone());
    }
}

impl FieldConfig {
    /// The panel's field configuration, legacy graph settings migrated in.
    pub fn from_panel(p: &Value, kind: &str) -> FieldConfig {
        let mut out = FieldConfig::default();
        let mut defaults = if matches!(kind, "timeseries" | "graph") { time_series_defaults() } else { json!({}) };
        merge(&mut defaults, &p["fieldConfig"]["defaults"]);
        if kind == "graph" {
            merge(&mut defaults, &legacy_graph_defaults(p));
        }
        if let Value::Object(m) = defaults {
            out.defaults = m;
        }
        for (i, o) in p["fieldConfig"]["overrides"].as_array().into_iter().flatten().enumerate() {
            if i >= MAX_OVERRIDES {
                out.ignored.push(format!("overrides past the first {MAX_OVERRIDES}"));
                break;
            }
            match matcher(&o["matcher"]) {
                Ok(matcher) => {
                    let mut properties = Vec::new();
                    for prop in o["properties"].as_array().into_iter().flatten() {
                        let Some(id) = prop["id"].as_str() else { continue };
                        if !is_drawn(id) {
                            let what = format!("override property {id:?}");
                            if !out.ignored.contains(&what) {
                                out.ignored.push(what);
                            }
                        }
                        properties.push((id.to_string(), prop["value"].clone()));
                    }
                    out.overrides.push(FieldOverride { matcher, properties });
                }
                Err(why) => out.ignored.push(why),
            }
        }
        if kind == "graph" {
            legacy_series_overrides(p, &mut out);
        }
        // Table cells Vigil draws as text: the cell types it does not draw are named.
        let default_type = out.defaults.get("custom").and_then(|c| c["cellOptions"]["type"].as_str()).map(String::from);
        let override_types: Vec<String> = (out.overrides.iter().flat_map(|o| &o.properties))
            .filter(|(id, _)| id == "custom.cellOptions")
            .filter_map(|(_, v)| v["type"].as_str().map(String::from))
            .collect();
        for t in default_type.into_iter().chain(override_types) {
            let drawn =
                matches!(t.as_str(), "auto" | "color-text" | "color-background" | "color-background-solid" | "gauge");
            let what = format!("cell type {t:?}");
            if !drawn && !out.ignored.contains(&what) {
                out.ignored.push(what);
            }
        }
        out
    }

    /// The options of one series: defaults, then every override that picks
    /// it, in order.
    pub fn resolve(&self, s: &SeriesRef) -> FieldOptions {
        let mut config = self.defaults.clone();
        for o in self.overrides.iter().filter(|o| o.matcher.matches(s)) {
            for (id, value) in &o.properties {
                set_path(&mut config, id, value);
            }
        }
        FieldOptions::read(&Value::Object(config))
    }
}

/// A matcher from its JSON, or why it cannot be used.
fn matcher(m: &Value) -> Result<FieldMatcher, String> {
    let opt = &m["options"];
    let id = m["id"].as_str().unwrap_or("");
    let names = |v: &Value| v.as_array().into_iter().flatten().filter_map(|n| n.as_str().map(String::from)).collect();
    let found = match id {
        "byName" => opt.as_str().map(|n| FieldMatcher::Name(n.to_string())),
        "byNames" => Some(FieldMatcher::Names { names: names(&opt["names"]), exclude: opt["mode"] == "exclude" }),
        "byRegexp" => {
            let pattern = opt.as_str().unwrap_or("");
            return js_regex(pattern)
                .map(FieldMatcher::Regexp)
                .ok_or(format!("override regex {pattern:?} does not compile"));
        }
        "byFrameRefID" => opt.as_str().map(|r| FieldMatcher::FrameRefId(r.to_string())),
        "byType" => opt.as_str().map(|t| FieldMatcher::Type(t.to_string())),
        "byValue" => Some(FieldMatcher::Value {
            reducer: opt["reducer"].as_str().unwrap_or("allValues").to_string(),
            op: opt["op"].as_str().unwrap_or("gte").to_string(),
            value: num(&opt["value"]).unwrap_or(0.0),
        }),
        _ => None,
    };
    found.ok_or_else(|| format!("override matcher {id:?} is not known"))
}

/// A stacking group's name as JavaScript writes the value (`true`, `B`, `2`).
pub(super) fn group_name(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DrawStyle {
    /// A line through the points.
    #[default]
    Line,
    /// A bar at each point.
    Bars,
    /// Points only.
    Points,
}

/// Which axis a series is scaled on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AxisPlacement {
    /// The left, unless the unit differs from the first series' (then right).
    #[default]
    Auto,
    /// The left axis.
    Left,
    /// The right axis.
    Right,
    /// No axis drawn (the series keeps its own scale).
    Hidden,
}

/// How series stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StackMode {
    /// Not stacked.
    #[default]
    None,
    /// On top of the series before it in its group.
    Normal,
    /// As shares of its group's total at each time.
    Percent,
}

/// One series' options, resolved.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldOptions {
    /// `unit` (Grafana's unit id).
    pub unit: String,
    /// `decimals`.
    pub decimals: Option<usize>,
    /// `min` of the axis or gauge.
    pub min: Option<f64>,
    /// `max` of the axis or gauge.
    pub max: Option<f64>,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `noValue`.
    pub no_value: Option<String>,
    /// `color.mode` (`palette-classic` unless set).
    pub colour_mode: String,
    /// `color.fixedColor`, when the mode is `fixed` or `shades`.
    pub fixed_colour: Option<String>,
    /// `custom.drawStyle`.
    pub draw: DrawStyle,
    /// `custom.lineInterpolation`: `linear`, `smooth`, `stepBefore`, `stepAfter`.
    pub interpolation: String,
    /// `custom.lineWidth` in pixels.
    pub line_width: f64,
    /// `custom.lineStyle`: dash and gap lengths (empty: solid).
    pub dash: Vec<f64>,
    /// `custom.lineStyle.fill` is `dot` (round caps).
    pub dotted: bool,
    /// `custom.fillOpacity`, 0–100.
    pub fill_opacity: f64,
    /// `custom.gradientMode`: `none`, `opacity`, `hue` or `scheme`.
    pub gradient_mode: String,
    /// `custom.showPoints`: `auto`, `always` or `never`.
    pub show_points: String,
    /// `custom.pointSize` in pixels.
    pub point_size: f64,
    /// `custom.spanNulls`: gaps joined when true, or when shorter than this many ms.
    pub span_nulls: Option<i64>,
    /// `custom.stacking.mode`.
    pub stack: StackMode,
    /// `custom.stacking.group`: only series of one group stack together.
    pub stack_group: String,
    /// `custom.axisPlacement`.
    pub axis: AxisPlacement,
    /// `custom.axisLabel`.
    pub axis_label: String,
    /// `custom.axisSoftMin`: the axis reaches at least this low.
    pub soft_min: Option<f64>,
    /// `custom.axisSoftMax`: the axis reaches at least this high.
    pub soft_max: Option<f64>,
    /// `custom.scaleDistribution`: the log base, for a log scale.
    pub log_base: Option<f64>,
    /// `custom.width`: a table column's width in pixels.
    pub width: Option<f64>,
    /// `custom.axisCenteredZero`: zero in the middle of the axis.
    pub centered_zero: bool,
    /// `custom.fillBelowTo`: the series (by display name) its area fills down to.
    pub fill_below_to: Option<String>,
    /// `custom.transform: negative-Y`: drawn below zero.
    pub negative_y: bool,
    /// `custom.hideFrom.legend`.
    pub hide_in_legend: bool,
    /// `custom.hideFrom.tooltip`.
    pub hide_in_tooltip: bool,
    /// `custom.hideFrom.viz`: not drawn (still listed in the legend).
    pub hide_in_viz: bool,
    /// `custom.thresholdsStyle.mode`: `off`, `line`, `dashed`, `area`, `line+area`, `dashed+area`.
    pub thresholds_style: String,
    /// `thresholds` steps, lowest first (empty: none set).
    pub thresholds: Vec<Threshold>,
    /// `thresholds.mode: percentage`.
    pub thresholds_percent: bool,
    /// Tables: how a cell shows its value (`custom.cellOptions.type`, legacy
    /// `custom.displayMode`: `color-background`, `color-text`, `auto`, …).
    pub cell_type: String,
}

impl FieldOptions {
    /// Typed options from a resolved configuration; what is missing or of
    /// another type takes Grafana's default.
    pub fn read(c: &Value) -> FieldOptions {
        let custom = &c["custom"];
        let text = |v: &Value| v.as_str().map(String::from);
        let line_style = &custom["lineStyle"];
        let line_fill = line_style["fill"].as_str().unwrap_or("solid");
        let dash = match line_fill {
            "solid" => Vec::new(),
            _ => match line_style["dash"].as_array() {
                Some(d) => d.iter().filter_map(num).filter(|x| x.is_finite() && *x >= 0.0).take(8).collect(),
                None => vec![10.0, 10.0],
            },
        };
        let colour_mode = text(&c["color"]["mode"]).unwrap_or_else(|| {
            if c["thresholds"].is_object() {
                "thresholds".into()
            } else {
                "palette-classic".into()
            }
        });
        let stacking = &custom["stacking"];
        FieldOptions {
            unit: text(&c["unit"]).unwrap_or_default(),
            decimals: num(&c["decimals"]).filter(|d| d.is_finite() && *d >= 0.0).map(|d| d.min(12.0) as usize),
            min: num(&c["min"]).filter(|v| v.is_finite()),
            max: num(&c["max"]).filter(|v| v.is_finite()),
            display_name: text(&c["displayName"]).filter(|n| !n.is_empty()),
            no_value: text(&c["noValue"]),
            fixed_colour: text(&c["color"]["fixedColor"])
                .filter(|f| !f.is_empty() && matches!(colour_mode.as_str(), "fixed" | "shades")),
            colour_mode,
            draw: match custom["drawStyle"].as_str() {
                Some("bars") => DrawStyle::Bars,
                Some("points") => DrawStyle::Points,
                _ => DrawStyle::Line,
            },
            interpolation: text(&custom["lineInterpolation"]).unwrap_or_else(|| "linear".into()),
            line_width: num(&custom["lineWidth"]).filter(|w| w.is_finite()).unwrap_or(1.0).clamp(0.0, 10.0),
            dotted: line_fill == "dot",
            dash,
            gradient_mode: text(&custom["gradientMode"]).unwrap_or_default(),
            fill_opacity: num(&custom["fillOpacity"]).filter(|f| f.is_finite()).unwrap_or(0.0).clamp(0.0, 100.0),
            show_points: text(&custom["showPoints"]).unwrap_or_else(|| "auto".into()),
            point_size: num(&custom["pointSize"]).filter(|s| s.is_finite()).unwrap_or(5.0).clamp(1.0, 40.0),
            span_nulls: match &custom["spanNulls"] {
                Value::Bool(true) => Some(i64::MAX),
                Value::Number(n) => n.as_f64().filter(|ms| *ms > 0.0).map(|ms| ms as i64),
                _ => None,
            },
            stack: match stacking["mode"].as_str() {
                Some("normal") => StackMode::Normal,
                Some("percent") => StackMode::Percent,
                _ => StackMode::None,
            },
            stack_group: if stacking["group"].is_null() { "A".into() } else { group_name(&stacking["group"]) },
            axis: match custom["axisPlacement"].as_str() {
                Some("left") => AxisPlacement::Left,
                Some("right") => AxisPlacement::Right,
                Some("hidden") => AxisPlacement::Hidden,
                _ => AxisPlacement::Auto,
            },
            axis_label: text(&custom["axisLabel"]).unwrap_or_default(),
            soft_min: num(&custom["axisSoftMin"]).filter(|v| v.is_finite()),
            soft_max: num(&custom["axisSoftMax"]).filter(|v| v.is_finite()),
            width: num(&custom["width"]).filter(|w| w.is_finite() && *w > 0.0).map(|w| w.min(4000.0)),
            centered_zero: truthy(&custom["axisCenteredZero"]),
            fill_below_to: text(&custom["fillBelowTo"]).filter(|t| !t.is_empty()),
            log_base: (custom["scaleDistribution"]["type"] == "log")
                .then(|| num(&custom["scaleDistribution"]["log"]).unwrap_or(2.0))
                .filter(|b| *b > 1.0),
            negative_y: custom["transform"] == "negative-Y",
            hide_in_legend: truthy(&custom["hideFrom"]["legend"]),
            hide_in_tooltip: truthy(&custom["hideFrom"]["tooltip"]),
            hide_in_viz: truthy(&custom["hideFrom"]["viz"]),
            thresholds_style: text(&custom["thresholdsStyle"]["mode"]).unwrap_or_else(|| "off".into()),
            thresholds: threshold_steps(&c["thresholds"]).unwrap_or_default(),
            thresholds_percent: c["thresholds"]["mode"] == "percentage",
            // Older tables name gauges by their look (`gradient-gauge`, `lcd-gauge`, `basic`).
            cell_type: text(&custom["cellOptions"]["type"])
                .or_else(|| text(&custom["displayMode"]))
                .map(
                    |t| if matches!(t.as_str(), "gradient-gauge" | "lcd-gauge" | "basic") { "gauge".into() } else { t },
                )
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series<'a>(name: &'a str, ref_id: &'a str) -> SeriesRef<'a> {
        SeriesRef { name, ref_id, points: &[(0, 5.0)] }
    }

    fn resolve(panel: Value, name: &str) -> FieldOptions {
        let kind = panel["type"].as_str().unwrap_or("timeseries").to_string();
        FieldConfig::from_panel(&panel, &kind).resolve(&series(name, "A"))
    }

    #[test]
    fn hide_all_series_except_one_hides_the_others_not_that_one() {
        // Grafana's "Hide in area" → "All except": byNames in exclude mode.
        let panel = json!({"type": "timeseries", "fieldConfig": {"defaults": {}, "overrides": [{
            "matcher": {"id": "byNames", "options": {"mode": "exclude", "names": ["Total"], "prefix": "All except:", "readOnly": true}},
            "properties": [{"id": "custom.hideFrom", "value": {"legend": false, "tooltip": false, "viz": true}}]
        }]}});
        assert!(!resolve(panel.clone(), "Total").hide_in_viz);
        let other = resolve(panel, "Used");
        assert!(other.hide_in_viz && !other.hide_in_legend, "hidden from the chart, still in the legend");
    }

    #[test]
    fn overrides_apply_in_order_and_later_ones_win() {
        let panel = json!({"type": "timeseries", "fieldConfig": {"defaults": {"unit": "bytes", "custom": {"fillOpacity": 30}}, "overrides": [
            {"matcher": {"id": "byRegexp", "options": "/Tot/"}, "properties": [
                {"id": "custom.fillOpacity", "value": 0},
                {"id": "custom.stacking", "value": {"mode": "none", "group": "A"}},
                {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
                {"id": "unit", "value": "decbytes"}]},
            {"matcher": {"id": "byName", "options": "Total"}, "properties": [{"id": "custom.lineWidth", "value": 2}, {"id": "unit", "value": "bits"}]}
        ]}});
        let total = resolve(panel.clone(), "Total");
        assert_eq!((total.fill_opacity, total.line_width, total.unit.as_str()), (0.0, 2.0, "bits"));
        assert_eq!((total.stack, total.dash.clone()), (StackMode::None, vec![10.0, 10.0]));
        let used = resolve(panel, "Used");
        assert_eq!((used.fill_opacity, used.line_width, used.unit.as_str()), (30.0, 1.0, "bytes"));
        assert!(used.dash.is_empty());
    }

    #[test]
    fn a_null_property_value_unsets_the_option_as_lodash_unset_does() {
        let panel = json!({"type": "stat", "fieldConfig": {"defaults": {"unit": "bytes", "decimals": 2}, "overrides": [
            {"matcher": {"id": "byFrameRefID", "options": "A"}, "properties": [{"id": "unit", "value": null}]}]}});
        let o = resolve(panel, "x");
        assert_eq!((o.unit.as_str(), o.decimals), ("", Some(2)));
    }

    #[test]
    fn time_series_take_the_plugin_defaults_where_the_json_says_nothing() {
        let o = resolve(json!({"type": "timeseries"}), "x");
        assert_eq!((o.draw, o.line_width, o.fill_opacity, o.point_size), (DrawStyle::Line, 1.0, 0.0, 5.0));
        assert_eq!(
            (o.stack, o.axis, o.colour_mode.as_str()),
            (StackMode::None, AxisPlacement::Auto, "palette-classic")
        );
        // A custom block in the JSON is merged over the defaults, not in place of them.
        let o =
            resolve(json!({"type": "timeseries", "fieldConfig": {"defaults": {"custom": {"fillOpacity": 10}}}}), "x");
        assert_eq!((o.fill_opacity, o.line_width), (10.0, 1.0));
    }

    #[test]
    fn dot_and_dash_line_styles_default_to_ten_ten_as_grafana_draws_them() {
        let style = |s: Value| {
            resolve(json!({"type": "timeseries", "fieldConfig": {"defaults": {"custom": {"lineStyle": s}}}}), "x")
        };
        assert_eq!(style(json!({"fill": "dash"})).dash, vec![10.0, 10.0]);
        let dot = style(json!({"fill": "dot", "dash": [0, 10]}));
        assert_eq!((dot.dash, dot.dotted), (vec![0.0, 10.0], true));
        assert!(style(json!({"fill": "solid", "dash": [4, 4]})).dash.is_empty());
    }

    #[test]
    fn by_names_matches_the_value_field_name_and_by_value_compares_the_reduced_value() {
        let s = series("cpu0", "A");
        let m = FieldMatcher::Names { names: vec!["Value".into()], exclude: false };
        assert!(m.matches(&s), "Prometheus value fields are named Value");
        let over = FieldMatcher::Value { reducer: "lastNotNull".into(), op: "gt".into(), value: 4.0 };
        let under = FieldMatcher::Value { reducer: "lastNotNull".into(), op: "lt".into(), value: 4.0 };
        assert!(over.matches(&s) && !under.matches(&s));
        assert!(FieldMatcher::Type("number".into()).matches(&s));
        assert!(!FieldMatcher::Type("time".into()).matches(&s));
    }

    #[test]
    fn thresholds_without_a_colour_mode_colour_by_thresholds() {
        let o = resolve(
            json!({"type": "stat", "fieldConfig": {"defaults": {"thresholds": {"mode": "absolute", "steps": []}}}}),
            "x",
        );
        assert_eq!(o.colour_mode, "thresholds");
        let o = resolve(
            json!({"type": "stat", "fieldConfig": {"defaults": {"color": {"mode": "fixed", "fixedColor": "red"}}}}),
            "x",
        );
        assert_eq!((o.colour_mode.as_str(), o.fixed_colour.as_deref()), ("fixed", Some("red")));
    }

    #[test]
    fn table_cell_types_not_drawn_are_named() {
        let panel = json!({"type": "table", "fieldConfig": {"defaults": {"custom": {"cellOptions": {"type": "json-view"}}},
            "overrides": [{"matcher": {"id": "byName", "options": "x"}, "properties": [
                {"id": "custom.cellOptions", "value": {"type": "gauge"}},
                {"id": "custom.cellOptions", "value": {"type": "image"}}]}]}});
        let fc = FieldConfig::from_panel(&panel, "table");
        assert_eq!(fc.ignored, ["cell type \"json-view\"", "cell type \"image\""]);
    }

    #[test]
    fn unknown_matchers_and_bad_regexes_are_named_and_skipped() {
        let panel = json!({"type": "timeseries", "fieldConfig": {"defaults": {}, "overrides": [
            {"matcher": {"id": "byMagic", "options": "x"}, "properties": []},
            {"matcher": {"id": "byRegexp", "options": "/(/"}, "properties": []},
            {"matcher": {"id": "byName", "options": "x"}, "properties": [{"id": "custom.lineWidth", "value": 3}]}]}});
        let fc = FieldConfig::from_panel(&panel, "timeseries");
        assert_eq!(fc.overrides.len(), 1);
        assert_eq!(fc.ignored.len(), 2, "{:?}", fc.ignored);
        assert!(fc.ignored[0].contains("byMagic") && fc.ignored[1].contains("does not compile"));
        let panel = json!({"type": "timeseries", "fieldConfig": {"defaults": {}, "overrides": [
            {"matcher": {"id": "byName", "options": "x"}, "properties": [
                {"id": "custom.barAlignment", "value": 1}, {"id": "custom.lineWidth", "value": 2}, {"id": "links", "value": []}]},
            {"matcher": {"id": "byName", "options": "y"}, "properties": [{"id": "custom.barAlignment", "value": 0}]}]}});
        let fc = FieldConfig::from_panel(&panel, "timeseries");
        assert_eq!(
            fc.ignored,
            ["override property \"custom.barAlignment\"", "override property \"links\""],
            "named once, the drawn ones not at all"
        );
    }

    #[test]
    fn legacy_graph_settings_migrate_as_grafana_migrates_them() {
        let panel = json!({"type": "graph", "fill": 1, "linewidth": 2, "stack": true, "lines": true,
            "yaxes": [{"format": "bytes", "min": 0, "show": true}, {"format": "percent", "show": true}],
            "aliasColors": {"Total": "red"},
            "seriesOverrides": [{"alias": "Total", "stack": false, "fill": 0, "dashes": true, "yaxis": 2},
                                {"alias": "/^rx/", "transform": "negative-Y", "legend": false}]});
        let total = resolve(panel.clone(), "Total");
        // `stack: false` is a stacking group of its own: it stacks on nothing.
        assert_eq!((total.stack, total.stack_group.as_str(), total.fill_opacity), (StackMode::Normal, "false", 0.0));
        assert_eq!((total.dash.clone(), total.fixed_colour.as_deref()), (vec![10.0, 10.0], Some("red")));
        assert_eq!((total.unit.as_str(), total.min, total.line_width), ("percent", Some(0.0), 2.0));
        assert_eq!(total.show_points, "never");
        let other = resolve(panel.clone(), "Used");
        assert_eq!((other.stack, other.stack_group.as_str(), other.fill_opacity), (StackMode::Normal, "A", 10.0));
        assert_eq!(other.unit, "bytes");
        let rx = resolve(panel, "rx eth0");
        // Grafana's migration drops `legend: false`: the series stays in the legend.
        assert!(rx.negative_y && !rx.hide_in_legend && !rx.hide_in_viz);
        assert_eq!(resolve(json!({"type": "graph", "bars": true}), "x").fill_opacity, 100.0);
        assert_eq!(resolve(json!({"type": "graph", "lines": false}), "x").draw, DrawStyle::Points);
    }

    #[test]
    fn legacy_graph_thresholds_migrate_to_steps_and_a_style() {
        let panel = json!({"type": "graph", "thresholds": [
            {"value": 90, "op": "gt", "colorMode": "critical", "fill": true, "line": true},
            {"value": 70, "op": "gt", "colorMode": "warning", "fill": true, "line": false},
            {"value": 10, "op": "lt", "colorMode": "custom", "fillColor": "blue", "fill": false, "line": true}]});
        let fc = FieldConfig::from_panel(&panel, "graph");
        assert_eq!(fc.defaults["custom"]["thresholdsStyle"]["mode"], "line+area");
        assert_eq!(
            fc.defaults["thresholds"]["steps"],
            json!([{"value": null, "color": "blue"}, {"value": 10.0, "color": "transparent"},
                   {"value": 70.0, "color": "orange"}, {"value": 90.0, "color": "red"}])
        );
        let o = resolve(panel, "x");
        assert_eq!((o.thresholds_style.as_str(), o.thresholds.len()), ("line+area", 4));
    }

    #[test]
    fn set_path_replaces_whole_objects_and_creates_missing_parents() {
        let mut c = Map::new();
        set_path(&mut c, "custom.stacking", &json!({"mode": "normal"}));
        set_path(&mut c, "custom.stacking", &json!({"group": "B"}));
        assert_eq!(Value::Object(c.clone()), json!({"custom": {"stacking": {"group": "B"}}}));
        set_path(&mut c, "custom.stacking", &Value::Null);
        set_path(&mut c, "nothing.here", &Value::Null);
        assert_eq!(Value::Object(c), json!({"custom": {}}));
    }
}
