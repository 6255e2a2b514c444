//! Grafana dashboard JSON read leniently into what Vigil renders: panels on
//! the 24-column grid (legacy `rows[]` migrated as Grafana migrates them),
//! rows, targets, units and thresholds, and the templating variables.
//! Unknown keys are ignored; an unknown panel type is kept, to be shown as a
//! placeholder. ../shared/dashboards/GRAFANA-MODEL.md describes the model.

use serde_json::Value;

/// Largest dashboard JSON accepted, in bytes.
pub const MAX_JSON_BYTES: usize = 8 << 20;
/// Most panels in one dashboard (rows and their children counted).
pub const MAX_PANELS: usize = 1000;

#[derive(Clone, Debug)]
pub struct Dashboard {
    pub uid: String,
    pub title: String,
    pub tags: Vec<String>,
    /// Default time range, as Grafana writes it (`now-6h`, `now`).
    pub from: String,
    pub to: String,
    pub refresh: String,
    pub panels: Vec<Panel>,
    pub variables: Vec<Variable>,
    /// Prometheus annotation queries (Grafana's built-in ones are left out).
    pub annotations: Vec<Annotation>,
    /// Dashboard links shown under the title.
    pub links: Vec<Link>,
}

/// A dashboard link: to a URL (`type: link`) or to the dashboards carrying
/// all of `tags` (`type: dashboards`), keeping the variables and the time
/// range when asked.
#[derive(Clone, Debug, Default)]
pub struct Link {
    pub dashboards: bool,
    pub title: String,
    pub url: String,
    pub tooltip: String,
    pub tags: Vec<String>,
    pub include_vars: bool,
    pub keep_time: bool,
    pub target_blank: bool,
}

/// An annotation query: where its expression is non-zero, time series
/// panels mark the time.
#[derive(Clone, Debug, Default)]
pub struct Annotation {
    pub name: String,
    pub expr: String,
    /// The query's step (`"60s"` when empty, as Grafana).
    pub step: String,
    /// `{{label}}` templates of the mark's title and text.
    pub title: String,
    pub text: String,
    /// Labels whose values tag the mark (comma-separated).
    pub tag_keys: String,
    pub colour: String,
    /// Shown (Grafana's toggle, on unless `enable: false`).
    pub enable: bool,
    /// The sample's value is the mark's time (ms) rather than its own time.
    pub value_for_time: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct GridPos {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

#[derive(Clone, Debug, Default)]
pub struct Target {
    pub expr: String,
    pub legend: String,
    pub ref_id: String,
    /// Asked at the range's end (`instant`), over the range (`range`), or
    /// both; neither set (older JSON) means a range query.
    pub instant: bool,
    pub range: bool,
    /// The query's own smallest step (`"10s"`, `">10s"`), also the scrape
    /// interval its `$__rate_interval` assumes.
    pub interval: String,
    /// Legacy resolution divisor: the step is multiplied by it (1–10).
    pub interval_factor: i64,
}

#[derive(Clone, Debug, Default)]
pub struct Threshold {
    /// `None`: the base step (−∞).
    pub value: Option<f64>,
    pub colour: String,
}

#[derive(Clone, Debug, Default)]
pub struct Panel {
    pub id: u64,
    pub kind: String,
    pub title: String,
    pub grid: GridPos,
    pub targets: Vec<Target>,
    pub unit: String,
    pub decimals: Option<usize>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub thresholds: Vec<Threshold>,
    /// Threshold values are percentages of the range `min`..`max` (`mode: percentage`).
    pub thresholds_percent: bool,
    /// `fieldConfig.defaults.color`: `mode` (`palette-classic`, `fixed`,
    /// `thresholds`, …) and the colour of `fixed` and `shades`.
    pub colour_mode: String,
    pub fixed_colour: Option<String>,
    /// Shown instead of "No data" (`noValue`).
    pub no_value: String,
    /// Tables: the `organize` transformation (columns hidden, ordered, renamed).
    pub organize: Organize,
    /// Tables: value cells coloured by thresholds (`color-background`, `color-text`).
    pub cell_colour: String,
    /// Panel `interval`: the smallest step its queries may use.
    pub interval: String,
    /// Points a query should return at most (else the panel's width in pixels).
    pub max_data_points: Option<i64>,
    /// `timeFrom` (`"1h"`: the panel shows the last hour whatever the
    /// dashboard's range) and `timeShift` (`"1d"`: the range moved back),
    /// named in the panel's header unless `hideTimeOverride`.
    pub time_from: String,
    pub time_shift: String,
    pub hide_time_override: bool,
    /// Text panels: their content and mode.
    pub content: String,
    /// Rows: collapsed, and then holding their panels.
    pub collapsed: bool,
    pub children: Vec<Panel>,
    /// Stat/gauge reducer (`lastNotNull`, `mean`, `max`, …).
    pub reducer: String,
    /// Time series: stacked, filled, bars, points.
    pub stack: bool,
    /// Stacked as shares of each time's total (`stacking.mode: percent`, legacy `percentage`).
    pub stack_percent: bool,
    pub fill: u32,
    pub draw: String,
    /// Pie charts: drawn as a donut.
    pub pie_donut: bool,
    /// Legend calculations shown as columns (`min`, `max`, `mean`, `lastNotNull`…).
    pub legend_calcs: Vec<String>,
    /// Per-series settings (`fieldConfig.overrides`, legacy `seriesOverrides` and `aliasColors`).
    pub overrides: Vec<Override>,
    /// Value mappings for stat-like panels.
    pub mappings: Vec<Mapping>,
    /// Text panels: `markdown` (the default), `html` or `code`.
    pub text_mode: String,
}

/// Grafana's `organize` transformation of a table's columns, by their names.
#[derive(Clone, Debug, Default)]
pub struct Organize {
    pub exclude: Vec<String>,
    /// Columns' places (the others follow, in their order).
    pub index: Vec<(String, i64)>,
    pub rename: Vec<(String, String)>,
}

impl Organize {
    /// The columns to show, as (the column's position in `names`, its title).
    pub fn apply(&self, names: &[String]) -> Vec<(usize, String)> {
        let mut cols: Vec<(usize, String)> =
            names.iter().enumerate().filter(|(_, n)| !self.exclude.contains(n)).map(|(i, n)| (i, n.clone())).collect();
        let place = |n: &str| self.index.iter().find(|(k, _)| k == n).map_or(i64::MAX, |(_, i)| *i);
        cols.sort_by_key(|(i, n)| (place(n), *i));
        for (_, n) in cols.iter_mut() {
            if let Some((_, to)) = self.rename.iter().find(|(k, to)| k == n && !to.is_empty()) {
                *n = to.clone();
            }
        }
        cols
    }
}

fn organize(p: &Value) -> Organize {
    let mut out = Organize::default();
    let Some(t) = p["transformations"].as_array().into_iter().flatten().find(|t| t["id"] == "organize") else {
        return out;
    };
    let o = &t["options"];
    if let Some(m) = o["excludeByName"].as_object() {
        out.exclude = m.iter().filter(|(_, v)| truthy(v)).map(|(k, _)| k.clone()).collect();
    }
    if let Some(m) = o["indexByName"].as_object() {
        out.index = m.iter().filter_map(|(k, v)| Some((k.clone(), num(v)? as i64))).collect();
    }
    if let Some(m) = o["renameByName"].as_object() {
        out.rename = m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect();
    }
    out
}

/// Which series an override applies to.
#[derive(Clone, Debug)]
pub enum SeriesMatch {
    Name(String),
    Names(Vec<String>),
    Regex(regex::Regex),
    RefId(String),
}

/// Settings for the series an override matches.
#[derive(Clone, Debug, Default)]
pub struct SeriesSettings {
    pub colour: Option<String>,
    pub display_name: Option<String>,
    /// `custom.transform: negative-Y`: drawn below zero.
    pub negative_y: bool,
    /// Left out of the chart (`custom.hideFrom.viz`, legacy `legend: false` only hides from the legend).
    pub hidden: bool,
}

#[derive(Clone, Debug)]
pub struct Override {
    pub matcher: SeriesMatch,
    pub settings: SeriesSettings,
}

impl SeriesMatch {
    pub fn matches(&self, name: &str, ref_id: &str) -> bool {
        match self {
            SeriesMatch::Name(n) => n == name,
            SeriesMatch::Names(ns) => ns.iter().any(|n| n == name),
            SeriesMatch::Regex(r) => r.is_match(name),
            SeriesMatch::RefId(r) => r == ref_id,
        }
    }
}

/// A value mapping: what to show (and in which colour) for some values.
#[derive(Clone, Debug)]
pub enum Mapping {
    Value {
        value: String,
        text: String,
        colour: String,
    },
    Range {
        from: Option<f64>,
        to: Option<f64>,
        text: String,
        colour: String,
    },
    /// `null`, `nan`, `null+nan`.
    Special {
        nan: bool,
        text: String,
        colour: String,
    },
}

/// `/pattern/flags` or a bare pattern, compiled with a size limit.
fn js_regex(r: &str) -> Option<regex::Regex> {
    let (pattern, flags) = match r.strip_prefix('/').and_then(|x| x.rsplit_once('/')) {
        Some((p, f)) => (p, f),
        None => (r, ""),
    };
    let pattern = if flags.contains('i') { format!("(?i){pattern}") } else { pattern.to_string() };
    regex::RegexBuilder::new(&pattern).size_limit(1 << 20).build().ok()
}

fn colour_value(v: &Value) -> Option<String> {
    match v {
        Value::String(c) => Some(c.clone()),
        Value::Object(o) => o.get("fixedColor").and_then(|c| c.as_str()).map(String::from),
        _ => None,
    }
}

fn overrides(p: &Value) -> Vec<Override> {
    let mut out = Vec::new();
    for o in p["fieldConfig"]["overrides"].as_array().into_iter().flatten() {
        let m = &o["matcher"];
        let opt = &m["options"];
        let matcher = match m["id"].as_str().unwrap_or("") {
            "byName" => opt.as_str().map(|n| SeriesMatch::Name(n.to_string())),
            "byNames" => opt["names"]
                .as_array()
                .map(|ns| SeriesMatch::Names(ns.iter().filter_map(|n| n.as_str().map(String::from)).collect())),
            "byRegexp" => opt.as_str().and_then(js_regex).map(SeriesMatch::Regex),
            "byFrameRefID" => opt.as_str().map(|r| SeriesMatch::RefId(r.to_string())),
            _ => None,
        };
        let Some(matcher) = matcher else { continue };
        let mut settings = SeriesSettings::default();
        for prop in o["properties"].as_array().into_iter().flatten() {
            let v = &prop["value"];
            match prop["id"].as_str().unwrap_or("") {
                "color" => settings.colour = colour_value(v),
                "displayName" => settings.display_name = v.as_str().map(String::from),
                "custom.transform" => settings.negative_y = v == "negative-Y",
                "custom.hideFrom" => settings.hidden = truthy(&v["viz"]),
                _ => {}
            }
        }
        out.push(Override { matcher, settings });
    }
    // Legacy graph: seriesOverrides by alias (name or /regex/) and aliasColors.
    for o in p["seriesOverrides"].as_array().into_iter().flatten() {
        let Some(alias) = o["alias"].as_str() else { continue };
        let matcher = if alias.starts_with('/') {
            match js_regex(alias) {
                Some(r) => SeriesMatch::Regex(r),
                None => continue,
            }
        } else {
            SeriesMatch::Name(alias.to_string())
        };
        let settings = SeriesSettings {
            colour: o["color"].as_str().map(String::from),
            negative_y: o["transform"] == "negative-Y",
            ..Default::default()
        };
        out.push(Override { matcher, settings });
    }
    if let Some(colours) = p["aliasColors"].as_object() {
        for (name, c) in colours {
            let settings = SeriesSettings { colour: c.as_str().map(String::from), ..Default::default() };
            out.push(Override { matcher: SeriesMatch::Name(name.clone()), settings });
        }
    }
    out
}

fn mappings(p: &Value) -> Vec<Mapping> {
    let mut out = Vec::new();
    let result = |r: &Value| (s(r, "text"), s(r, "color"));
    for m in p["fieldConfig"]["defaults"]["mappings"].as_array().into_iter().flatten() {
        let o = &m["options"];
        match m["type"].as_str().unwrap_or("") {
            "value" => {
                for (value, r) in o.as_object().into_iter().flatten() {
                    let (text, colour) = result(r);
                    out.push(Mapping::Value { value: value.clone(), text, colour });
                }
            }
            "range" => {
                let (text, colour) = result(&o["result"]);
                out.push(Mapping::Range { from: num(&o["from"]), to: num(&o["to"]), text, colour });
            }
            "special" => {
                let (text, colour) = result(&o["result"]);
                let nan = matches!(o["match"].as_str(), Some("nan" | "null+nan" | "null"));
                out.push(Mapping::Special { nan, text, colour });
            }
            _ => {}
        }
    }
    // Legacy singlestat: valueMaps and rangeMaps.
    for m in p["valueMaps"].as_array().into_iter().flatten() {
        out.push(Mapping::Value { value: s(m, "value"), text: s(m, "text"), colour: String::new() });
    }
    for m in p["rangeMaps"].as_array().into_iter().flatten() {
        out.push(Mapping::Range {
            from: num(&m["from"]),
            to: num(&m["to"]),
            text: s(m, "text"),
            colour: String::new(),
        });
    }
    out
}

impl Panel {
    /// The settings of every override matching a series, later ones winning.
    pub fn settings_for(&self, name: &str, ref_id: &str) -> SeriesSettings {
        let mut out = SeriesSettings::default();
        for o in self.overrides.iter().filter(|o| o.matcher.matches(name, ref_id)) {
            let s = &o.settings;
            if s.colour.is_some() {
                out.colour = s.colour.clone();
            }
            if s.display_name.is_some() {
                out.display_name = s.display_name.clone();
            }
            out.negative_y |= s.negative_y;
            out.hidden |= s.hidden;
        }
        out
    }

    /// The mapped text and colour of a value, if a mapping applies.
    pub fn map_value(&self, v: f64) -> Option<(String, String)> {
        self.mappings.iter().find_map(|m| match m {
            Mapping::Value { value, text, colour } => {
                (value.parse::<f64>().ok() == Some(v)).then(|| (text.clone(), colour.clone()))
            }
            Mapping::Range { from, to, text, colour } => {
                (from.is_none_or(|f| v >= f) && to.is_none_or(|t| v <= t)).then(|| (text.clone(), colour.clone()))
            }
            Mapping::Special { nan, text, colour } => (*nan && v.is_nan()).then(|| (text.clone(), colour.clone())),
        })
    }
}

#[derive(Clone, Debug, Default)]
pub struct Variable {
    pub name: String,
    pub label: String,
    pub kind: String,
    pub query: String,
    pub regex: String,
    pub multi: bool,
    pub include_all: bool,
    pub all_value: Option<String>,
    /// The saved selection (`$__all` for All).
    pub current: Vec<String>,
    /// Saved options (custom, interval, or a query never refreshed).
    pub options: Vec<String>,
    pub hide: u8,
    pub sort: u8,
    pub auto: bool,
    pub auto_count: u32,
    pub auto_min: String,
}

/// Why a dashboard could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("dashboard JSON is larger than {MAX_JSON_BYTES} bytes")]
    TooLarge,
    #[error("dashboard JSON does not parse at line {line}, column {col}: {message}")]
    Json { line: usize, col: usize, message: String },
    #[error("not a dashboard: {0}")]
    Shape(String),
    #[error("the dashboard has more than {MAX_PANELS} panels")]
    TooManyPanels,
}

fn s(v: &Value, k: &str) -> String {
    match &v[k] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => s == "true" || s == "1",
        _ => false,
    }
}

/// Parses dashboard JSON (bare, or wrapped as `{"dashboard": …}`); `fallback_uid`
/// names one that has no uid (its file name, say).
pub fn parse(bytes: &[u8], fallback_uid: &str) -> Result<Dashboard, ModelError> {
    if bytes.len() > MAX_JSON_BYTES {
        return Err(ModelError::TooLarge);
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|e| ModelError::Json {
        line: e.line(),
        col: e.column(),
        message: e.to_string().split(" at line").next().unwrap_or("").to_string(),
    })?;
    // grafana.com exports ask for constants on import (`__inputs`): their
    // defaults stand in for `${NAME}` everywhere.
    let inputs: Vec<(String, String)> = v["__inputs"].as_array().map_or(Vec::new(), |l| {
        l.iter()
            .filter(|i| i["type"] == "constant")
            .filter_map(|i| Some((i["name"].as_str()?.to_string(), i["value"].as_str()?.to_string())))
            .collect()
    });
    let v = if inputs.is_empty() {
        v
    } else {
        let mut text = String::from_utf8_lossy(bytes).into_owned();
        for (name, value) in &inputs {
            let escaped = serde_json::to_string(value).unwrap_or_default();
            text = text.replace(&format!("${{{name}}}"), escaped.trim_matches('"'));
        }
        serde_json::from_str(&text).map_err(|e| ModelError::Shape(format!("after the __inputs were filled in: {e}")))?
    };
    let d = if v["dashboard"].is_object() { &v["dashboard"] } else { &v };
    if !d.is_object() {
        return Err(ModelError::Shape("the JSON is not an object".into()));
    }
    if !d["panels"].is_array() && !d["rows"].is_array() {
        return Err(ModelError::Shape("it has neither \"panels\" nor \"rows\"".into()));
    }
    let mut uid = s(d, "uid");
    if uid.is_empty() || !uid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        uid = fallback_uid.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    }
    let mut count = 0usize;
    let panels = match d["panels"].as_array() {
        Some(list) if !list.is_empty() || !d["rows"].is_array() => {
            list.iter().map(|p| panel(p, &mut count)).collect::<Vec<_>>()
        }
        _ => migrate_rows(d["rows"].as_array().map(Vec::as_slice).unwrap_or(&[]), &mut count),
    };
    if count > MAX_PANELS {
        return Err(ModelError::TooManyPanels);
    }
    let variables = d["templating"]["list"].as_array().map_or(Vec::new(), |l| l.iter().map(variable).collect());
    let refresh = match &d["refresh"] {
        Value::String(r) => r.clone(),
        _ => String::new(),
    };
    Ok(Dashboard {
        uid,
        title: Some(s(d, "title")).filter(|t| !t.is_empty()).unwrap_or_else(|| "Untitled".into()),
        tags: d["tags"]
            .as_array()
            .map_or(Vec::new(), |t| t.iter().filter_map(|x| x.as_str().map(String::from)).collect()),
        from: Some(s(&d["time"], "from")).filter(|t| !t.is_empty()).unwrap_or_else(|| "now-6h".into()),
        to: Some(s(&d["time"], "to")).filter(|t| !t.is_empty()).unwrap_or_else(|| "now".into()),
        refresh,
        panels: pack(panels),
        variables,
        links: d["links"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| Link {
                dashboards: s(l, "type") == "dashboards",
                title: s(l, "title"),
                url: s(l, "url"),
                tooltip: s(l, "tooltip"),
                tags: l["tags"]
                    .as_array()
                    .map_or(Vec::new(), |t| t.iter().filter_map(|x| x.as_str().map(String::from)).collect()),
                include_vars: truthy(&l["includeVars"]),
                keep_time: truthy(&l["keepTime"]),
                target_blank: truthy(&l["targetBlank"]),
            })
            .collect(),
        annotations: d["annotations"]["list"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| !truthy(&a["builtIn"]) && a["expr"].as_str().is_some_and(|e| !e.trim().is_empty()))
            .map(|a| Annotation {
                name: s(a, "name"),
                expr: s(a, "expr"),
                step: s(a, "step"),
                title: s(a, "titleFormat"),
                text: s(a, "textFormat"),
                tag_keys: s(a, "tagKeys"),
                colour: s(a, "iconColor"),
                enable: a["enable"].as_bool().unwrap_or(true),
                value_for_time: truthy(&a["useValueForTime"]),
            })
            .collect(),
    })
}

fn thresholds(p: &Value) -> Vec<Threshold> {
    let steps = &p["fieldConfig"]["defaults"]["thresholds"]["steps"];
    if let Some(list) = steps.as_array() {
        return list.iter().map(|t| Threshold { value: num(&t["value"]), colour: s(t, "color") }).collect();
    }
    // singlestat: "a,b" with three colours.
    let (Some(cuts), Some(colours)) = (p["thresholds"].as_str(), p["colors"].as_array()) else { return Vec::new() };
    let mut out =
        vec![Threshold { value: None, colour: colours.first().and_then(|c| c.as_str()).unwrap_or("").into() }];
    for (i, c) in cuts.split(',').filter_map(|c| c.trim().parse::<f64>().ok()).enumerate() {
        let colour = colours.get(i + 1).and_then(|c| c.as_str()).unwrap_or("").to_string();
        out.push(Threshold { value: Some(c), colour });
    }
    out
}

fn panel(p: &Value, count: &mut usize) -> Panel {
    *count += 1;
    let g = &p["gridPos"];
    let grid = GridPos {
        x: num(&g["x"]).unwrap_or(0.0).clamp(0.0, 23.0) as u32,
        y: num(&g["y"]).unwrap_or(0.0).max(0.0) as u32,
        w: num(&g["w"]).unwrap_or(12.0).clamp(1.0, 24.0) as u32,
        h: num(&g["h"]).unwrap_or(8.0).clamp(1.0, 100.0) as u32,
    };
    let kind = s(p, "type");
    let defaults = &p["fieldConfig"]["defaults"];
    let custom = &defaults["custom"];
    // Legacy graph and singlestat keep their settings elsewhere.
    let unit = match kind.as_str() {
        "graph" => s(&p["yaxes"][0], "format"),
        "singlestat" => s(p, "format"),
        _ => s(defaults, "unit"),
    };
    let decimals = num(&defaults["decimals"]).or_else(|| num(&p["decimals"])).map(|d| d.clamp(0.0, 12.0) as usize);
    let targets = p["targets"].as_array().map_or(Vec::new(), |ts| {
        ts.iter()
            .filter(|t| !truthy(&t["hide"]) && t["expr"].as_str().is_some_and(|e| !e.trim().is_empty()))
            .map(|t| {
                let instant = truthy(&t["instant"]);
                Target {
                    expr: s(t, "expr"),
                    legend: s(t, "legendFormat"),
                    ref_id: s(t, "refId"),
                    instant,
                    range: truthy(&t["range"]) || !instant,
                    interval: s(t, "interval"),
                    interval_factor: num(&t["intervalFactor"]).filter(|f| f.is_finite()).unwrap_or(1.0).clamp(1.0, 10.0)
                        as i64,
                }
            })
            .collect()
    });
    let reducer = p["options"]["reduceOptions"]["calcs"][0]
        .as_str()
        .map(String::from)
        .or_else(|| p["valueName"].as_str().map(String::from))
        .unwrap_or_else(|| "lastNotNull".into());
    let children = p["panels"].as_array().map_or(Vec::new(), |c| c.iter().map(|x| panel(x, count)).collect());
    Panel {
        id: num(&p["id"]).unwrap_or(0.0) as u64,
        kind: if kind.is_empty() { "graph".into() } else { kind.clone() },
        title: s(p, "title"),
        grid,
        targets,
        unit,
        decimals,
        min: num(&defaults["min"]),
        max: num(&defaults["max"]),
        thresholds: thresholds(p),
        thresholds_percent: s(&defaults["thresholds"], "mode") == "percentage",
        colour_mode: s(&defaults["color"], "mode"),
        fixed_colour: Some(s(&defaults["color"], "fixedColor"))
            .filter(|c| !c.is_empty() && matches!(s(&defaults["color"], "mode").as_str(), "fixed" | "shades")),
        no_value: s(defaults, "noValue"),
        organize: organize(p),
        cell_colour: Some(s(&custom["cellOptions"], "type"))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| s(custom, "displayMode")),
        interval: s(p, "interval"),
        max_data_points: num(&p["maxDataPoints"]).filter(|n| *n >= 1.0).map(|n| n.min(11_000.0) as i64),
        time_from: s(p, "timeFrom"),
        time_shift: s(p, "timeShift"),
        hide_time_override: truthy(&p["hideTimeOverride"]),
        content: Some(s(&p["options"], "content")).filter(|c| !c.is_empty()).unwrap_or_else(|| s(p, "content")),
        collapsed: truthy(&p["collapsed"]),
        children,
        reducer,
        stack: truthy(&p["stack"]) || matches!(s(&custom["stacking"], "mode").as_str(), "normal" | "percent"),
        stack_percent: (truthy(&p["stack"]) && truthy(&p["percentage"])) || s(&custom["stacking"], "mode") == "percent",
        fill: num(&custom["fillOpacity"]).or_else(|| num(&p["fill"]).map(|f| f * 10.0)).unwrap_or(0.0) as u32,
        draw: if truthy(&p["bars"]) { "bars".into() } else { s(custom, "drawStyle") },
        pie_donut: s(&p["options"], "pieType") == "donut",
        legend_calcs: legend_calcs(p),
        overrides: overrides(p),
        mappings: mappings(p),
        text_mode: Some(s(&p["options"], "mode")).filter(|m| !m.is_empty()).unwrap_or_else(|| s(p, "mode")),
    }
}

/// `options.legend.calcs`, or the legacy graph legend's `min`/`max`/`avg`/`current`/`total`.
fn legend_calcs(p: &Value) -> Vec<String> {
    if let Some(c) = p["options"]["legend"]["calcs"].as_array() {
        return c.iter().filter_map(|x| x.as_str().map(String::from)).collect();
    }
    let l = &p["legend"];
    if !truthy(&l["values"]) {
        return Vec::new();
    }
    [("min", "min"), ("max", "max"), ("avg", "mean"), ("current", "lastNotNull"), ("total", "sum")]
        .iter()
        .filter(|(k, _)| truthy(&l[*k]))
        .map(|(_, c)| c.to_string())
        .collect()
}

/// Legacy `rows[]` (schema ≤ 15) to row panels on the grid, as Grafana's
/// migration: `w = span × 2`, `h` from the row height in 38 px units.
fn migrate_rows(rows: &[Value], count: &mut usize) -> Vec<Panel> {
    let mut out = Vec::new();
    let mut y = 0u32;
    let single_untitled = rows.len() == 1 && !truthy(&rows[0]["showTitle"]);
    for r in rows {
        let height =
            num(&r["height"]).or_else(|| r["height"].as_str().and_then(|h| h.trim_end_matches("px").parse().ok()));
        let h = ((height.unwrap_or(250.0) / 38.0).ceil() as u32).max(3);
        let collapsed = truthy(&r["collapse"]);
        let mut children = Vec::new();
        let mut x = 0u32;
        let mut row_y = y + u32::from(!single_untitled);
        for p in r["panels"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let mut panel = panel(p, count);
            let w = (num(&p["span"]).unwrap_or(12.0).clamp(1.0, 12.0) * 2.0) as u32;
            if x + w > 24 {
                x = 0;
                row_y += h;
            }
            panel.grid = GridPos { x, y: row_y, w, h };
            x += w;
            children.push(panel);
        }
        if !single_untitled {
            *count += 1;
            out.push(Panel {
                kind: "row".into(),
                title: s(r, "title"),
                grid: GridPos { x: 0, y, w: 24, h: 1 },
                collapsed,
                children: if collapsed { std::mem::take(&mut children) } else { Vec::new() },
                ..Default::default()
            });
        }
        let used = if children.is_empty() && collapsed { 0 } else { row_y + h - y - u32::from(!single_untitled) };
        out.extend(children);
        y += u32::from(!single_untitled) + used;
    }
    out
}

/// Orders panels by (y, x) as Grafana lays them out.
fn pack(mut panels: Vec<Panel>) -> Vec<Panel> {
    panels.sort_by_key(|p| (p.grid.y, p.grid.x));
    panels
}

fn variable(v: &Value) -> Variable {
    let query = match &v["query"] {
        Value::String(q) => q.clone(),
        Value::Object(o) => o.get("query").and_then(|q| q.as_str()).unwrap_or("").to_string(),
        _ => String::new(),
    };
    let current = match &v["current"]["value"] {
        Value::String(x) => vec![x.clone()],
        Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(String::from)).collect(),
        _ => Vec::new(),
    };
    let options = v["options"]
        .as_array()
        .map_or(Vec::new(), |o| o.iter().filter_map(|x| x["value"].as_str().map(String::from)).collect());
    Variable {
        name: s(v, "name"),
        label: s(v, "label"),
        kind: s(v, "type"),
        query,
        regex: s(v, "regex"),
        multi: truthy(&v["multi"]),
        include_all: truthy(&v["includeAll"]),
        all_value: v["allValue"].as_str().filter(|a| !a.is_empty()).map(String::from),
        current,
        options,
        hide: num(&v["hide"]).unwrap_or(0.0) as u8,
        sort: num(&v["sort"]).unwrap_or(0.0) as u8,
        auto: truthy(&v["auto"]),
        auto_count: num(&v["auto_count"]).unwrap_or(30.0).max(1.0) as u32,
        auto_min: Some(s(v, "auto_min")).filter(|m| !m.is_empty()).unwrap_or_else(|| "10s".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_json_names_its_place_and_other_shapes_are_refused() {
        match parse(b"{\n  \"panels\": [,]\n}", "x") {
            Err(ModelError::Json { line: 2, col, .. }) => assert!(col > 0),
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse(b"[1, 2]", "x"), Err(ModelError::Shape(_))));
        assert!(matches!(parse(b"{\"title\": \"t\"}", "x"), Err(ModelError::Shape(_))));
        let many = format!("{{\"panels\": [{}]}}", vec!["{\"type\":\"text\"}"; MAX_PANELS + 1].join(","));
        assert!(matches!(parse(many.as_bytes(), "x"), Err(ModelError::TooManyPanels)));
    }

    #[test]
    fn legacy_rows_become_row_panels_on_the_grid() {
        let json = br#"{"schemaVersion": 14, "title": "Old", "rows": [
            {"title": "A", "showTitle": true, "height": "250px", "panels": [
                {"type": "graph", "span": 6, "yaxes": [{"format": "bytes"}], "targets": [{"expr": "up"}]},
                {"type": "singlestat", "span": 6, "format": "percent", "thresholds": "50,80", "colors": ["green", "yellow", "red"]},
                {"type": "text", "span": 12, "content": "hi"}]},
            {"title": "B", "collapse": true, "panels": [{"type": "graph", "span": 12}]}]}"#;
        let d = parse(json, "old").unwrap();
        assert_eq!(d.uid, "old");
        let kinds: Vec<&str> = d.panels.iter().map(|p| p.kind.as_str()).collect();
        assert_eq!(kinds, ["row", "graph", "singlestat", "text", "row"]);
        assert_eq!(d.panels[1].grid, GridPos { x: 0, y: 1, w: 12, h: 7 });
        assert_eq!(d.panels[2].grid, GridPos { x: 12, y: 1, w: 12, h: 7 });
        assert_eq!(d.panels[3].grid, GridPos { x: 0, y: 8, w: 24, h: 7 });
        assert_eq!(d.panels[1].unit, "bytes");
        assert_eq!(d.panels[2].thresholds.len(), 3);
        assert!(d.panels[4].collapsed && d.panels[4].children.len() == 1);
    }
}
