//! Grafana dashboard JSON read leniently into what Vigil renders: panels on
//! the 24-column grid (legacy `rows[]` migrated as Grafana migrates them),
//! rows, targets, units and thresholds, and the templating variables.
//! Unknown keys are ignored; an unknown panel type is kept, to be shown as a
//! placeholder. ../shared/dashboards/GRAFANA-MODEL.md describes the model.

mod field_config;
mod fields;
mod reducers;
mod transform;

pub use field_config::{
    AxisPlacement, DrawStyle, FieldConfig, FieldMatcher, FieldOptions, FieldOverride, SeriesRef, StackMode,
};
use fields::{legend_calcs, legend_options, mappings, thresholds};
pub use fields::{LegendOptions, Mapping, Organize};
pub use reducers::{calc_title, reduce};
use serde_json::Value;
pub use transform::{Calc, Transformation};

/// Largest dashboard JSON accepted, in bytes.
pub const MAX_JSON_BYTES: usize = 8 << 20;
/// Most panels in one dashboard (rows and their children counted).
pub const MAX_PANELS: usize = 1000;

/// A dashboard as Vigil renders it.
#[derive(Clone, Debug)]
pub struct Dashboard {
    /// Grafana's `uid`: the dashboard's address (`/d/<uid>`).
    pub uid: String,
    /// Shown at the top and in lists.
    pub title: String,
    /// Grafana's `tags` (dashboard links select by them).
    pub tags: Vec<String>,
    /// Default time range, as Grafana writes it (`now-6h`, `now`).
    pub from: String,
    /// End of the default time range.
    pub to: String,
    /// Auto-refresh interval (`"30s"`; empty: none).
    pub refresh: String,
    /// Top-level panels, rows among them, in grid order.
    pub panels: Vec<Panel>,
    /// Template variables, in their order.
    pub variables: Vec<Variable>,
    /// Prometheus annotation queries (Grafana's built-in ones are left out).
    pub annotations: Vec<Annotation>,
    /// Dashboard links shown under the title.
    pub links: Vec<Link>,
    /// `graphTooltip`: 0 each panel on its own, 1 a shared crosshair, 2 a
    /// shared crosshair and tooltip.
    pub graph_tooltip: u8,
}

/// A dashboard link: to a URL (`type: link`) or to the dashboards carrying
/// all of `tags` (`type: dashboards`), keeping the variables and the time
/// range when asked.
#[derive(Clone, Debug, Default)]
pub struct Link {
    /// `type: dashboards` (else a plain link).
    pub dashboards: bool,
    /// Link text (dashboards links: shown when there is no match).
    pub title: String,
    /// Where a plain link goes.
    pub url: String,
    /// Shown on hover.
    pub tooltip: String,
    /// Dashboards links: the tags every linked dashboard carries.
    pub tags: Vec<String>,
    /// Carry the variables' selections (`includeVars`).
    pub include_vars: bool,
    /// Carry the time range (`keepTime`).
    pub keep_time: bool,
    /// Open in a new tab (`targetBlank`).
    pub target_blank: bool,
}

/// An annotation query: where its expression is non-zero, time series
/// panels mark the time.
#[derive(Clone, Debug, Default)]
pub struct Annotation {
    /// Its name in the dashboard's annotation list.
    pub name: String,
    /// The PromQL expression.
    pub expr: String,
    /// The query's step (`"60s"` when empty, as Grafana).
    pub step: String,
    /// `{{label}}` templates of the mark's title and text.
    pub title: String,
    /// `{{label}}` template of the mark's text.
    pub text: String,
    /// Labels whose values tag the mark (comma-separated).
    pub tag_keys: String,
    /// The marks' colour (`iconColor`).
    pub colour: String,
    /// Shown (Grafana's toggle, on unless `enable: false`).
    pub enable: bool,
    /// The sample's value is the mark's time (ms) rather than its own time.
    pub value_for_time: bool,
}

/// Where a panel sits on Grafana's 24-column grid (one row unit is 30 px).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GridPos {
    /// Column, 0–23.
    pub x: u32,
    /// Row unit from the top.
    pub y: u32,
    /// Width in columns.
    pub w: u32,
    /// Height in row units.
    pub h: u32,
}

/// One of a panel's queries (Grafana's `targets`).
#[derive(Clone, Debug, Default)]
pub struct PanelQuery {
    /// The PromQL expression, variables not yet interpolated.
    pub expr: String,
    /// `legendFormat` (`{{label}}` templates, `__auto`).
    pub legend: String,
    /// `refId` (`A`, `B`, …): overrides and `Value #A` columns name it.
    pub ref_id: String,
    /// Asked at the range's end (`instant`), over the range (`range`), or
    /// both; neither set (older JSON) means a range query.
    pub instant: bool,
    /// Asked over the range (see `instant`).
    pub range: bool,
    /// The query's own smallest step (`"10s"`, `">10s"`), also the scrape
    /// interval its `$__rate_interval` assumes.
    pub interval: String,
    /// Legacy resolution divisor: the step is multiplied by it (1–10).
    pub interval_factor: i64,
    /// `format: table`: one frame of rows (a row per series) instead of a frame per series.
    pub table: bool,
}

/// One step of a panel's thresholds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Threshold {
    /// `None`: the base step (−∞).
    pub value: Option<f64>,
    /// The colour from this value up.
    pub colour: String,
}

/// A panel (or a row) as Vigil renders it.
#[derive(Clone, Debug, Default)]
pub struct Panel {
    /// Grafana's panel `id` (`viewPanel` names it).
    pub id: u64,
    /// Grafana's `type` (`timeseries`, `stat`, `row`, …), legacy types migrated.
    pub kind: String,
    /// Title, variables not yet interpolated.
    pub title: String,
    /// Where it sits.
    pub grid: GridPos,
    /// Its queries.
    pub targets: Vec<PanelQuery>,
    /// `fieldConfig.defaults.unit` (Grafana's unit ids: `bytes`, `percentunit`, …).
    pub unit: String,
    /// Decimals shown (`None`: chosen by the value's size).
    pub decimals: Option<usize>,
    /// Lowest value of the axis or gauge (`None`: from the data).
    pub min: Option<f64>,
    /// Highest value of the axis or gauge (`None`: from the data).
    pub max: Option<f64>,
    /// Threshold steps, lowest first.
    pub thresholds: Vec<Threshold>,
    /// Threshold values are percentages of the range `min`..`max` (`mode: percentage`).
    pub thresholds_percent: bool,
    /// `fieldConfig.defaults.color`: `mode` (`palette-classic`, `fixed`,
    /// `thresholds`, …) and the colour of `fixed` and `shades`.
    pub colour_mode: String,
    /// The colour of `fixed` and `shades` modes.
    pub fixed_colour: Option<String>,
    /// Shown instead of "No data" (`noValue`).
    pub no_value: String,
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
    /// See `time_from`.
    pub time_shift: String,
    /// See `time_from`.
    pub hide_time_override: bool,
    /// Text panels: their content and mode.
    pub content: String,
    /// Rows: collapsed, and then holding their panels.
    pub collapsed: bool,
    /// A collapsed row's panels.
    pub children: Vec<Panel>,
    /// Stat/gauge reducer (`lastNotNull`, `mean`, `max`, …).
    pub reducer: String,
    /// Stat panels: a sparkline under the value (`graphMode: area`, legacy `sparkline.show`).
    pub sparkline: bool,
    /// Stat panels: `colorMode` (`value`, `background`, `background_solid`, `none`).
    pub stat_colour_mode: String,
    /// Stat panels: `textMode` (`auto`, `value`, `value_and_name`, `name`, `none`).
    pub stat_text_mode: String,
    /// Stat panels: `justifyMode` (`auto`: a wide box puts its name left and value right; `center`).
    pub stat_justify: String,
    /// Stat panels: `orientation` (`auto`, `horizontal`: boxes one under the other, `vertical`: side by side).
    pub stat_orientation: String,
    /// Pie charts: drawn as a donut.
    pub pie_donut: bool,
    /// Pie charts: what each slice is labelled with (`displayLabels`: `name`, `value`, `percent`).
    pub pie_labels: Vec<String>,
    /// Pie charts: the legend's values (`legend.values`: `value`, `percent`).
    pub pie_legend_values: Vec<String>,
    /// Legend calculations shown as columns (`min`, `max`, `mean`, `lastNotNull`…).
    pub legend_calcs: Vec<String>,
    /// Where and how the legend shows, and its order.
    pub legend: LegendOptions,
    /// What hovering a time series shows (`options.tooltip`, a legacy graph's `tooltip`).
    pub tooltip: crate::chart::Tooltip,
    /// The variable the panel is repeated for (`repeat`), one copy per selected value.
    pub repeat: String,
    /// Copies one under the other (`repeatDirection: v`) rather than side by side.
    pub repeat_vertical: bool,
    /// Most copies side by side (`maxPerRow`, 4 by default).
    pub max_per_row: u32,
    /// Bar gauges: `displayMode` (`gradient`, the default, `basic`, `lcd`).
    pub bar_mode: String,
    /// A bar gauge's `minVizHeight` and `minVizWidth`: bars are never thinner
    /// (the panel scrolls instead), 16 and 8 px by default as in Grafana.
    pub min_viz: (u32, u32),
    /// Gauges: the thresholds marked around the arc (`showThresholdMarkers`, on by default).
    pub threshold_markers: bool,
    /// Heatmaps: the colour scheme of the cells (`options.color.scheme`, Oranges by default).
    pub heatmap_scheme: String,
    /// Per-series options: `fieldConfig` defaults and overrides (legacy
    /// graph settings, `seriesOverrides` and `aliasColors` migrated in).
    pub field_config: FieldConfig,
    /// Tables: the `transformations` Vigil applies, in order.
    pub transformations: Vec<Transformation>,
    /// Value mappings for stat-like panels.
    pub mappings: Vec<Mapping>,
    /// Text panels: `markdown` (the default), `html` or `code`.
    pub text_mode: String,
}

/// A template variable.
#[derive(Clone, Debug, Default)]
pub struct Variable {
    /// Its name (`$name`).
    pub name: String,
    /// Shown in front of its picker (the name when empty).
    pub label: String,
    /// `query`, `custom`, `interval`, `constant`, `textbox`, `datasource`, ….
    pub kind: String,
    /// The query (`label_values(…)`, `query_result(…)`, …) or the custom list.
    pub query: String,
    /// Options kept are those this regex finds (its first group, when it has one).
    pub regex: String,
    /// Several values may be selected.
    pub multi: bool,
    /// An "All" option is offered.
    pub include_all: bool,
    /// What "All" stands for in queries (else every option, joined).
    pub all_value: Option<String>,
    /// The saved selection (`$__all` for All).
    pub current: Vec<String>,
    /// Saved options (custom, interval, or a query never refreshed).
    pub options: Vec<String>,
    /// 0 shown; 1 the label hidden; 2 the variable hidden.
    pub hide: u8,
    /// Options' order: 0 as given, 1/2 alphabetical, 3/4 numerical, 5/6 case-insensitive (odd: ascending).
    pub sort: u8,
    /// Interval variables: an `auto` option.
    pub auto: bool,
    /// `auto`: the range is cut into this many steps…
    pub auto_count: u32,
    /// …each at least this long.
    pub auto_min: String,
}

/// Why a dashboard could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The JSON is over the size limit.
    #[error("dashboard JSON is larger than {MAX_JSON_BYTES} bytes")]
    TooLarge,
    /// The text is not JSON.
    #[error("dashboard JSON does not parse at line {line}, column {col}: {message}")]
    Json {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        col: usize,
        /// serde_json's message.
        message: String,
    },
    /// JSON, but not shaped as a dashboard.
    #[error("not a dashboard: {0}")]
    Shape(String),
    /// More panels than the limit.
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
        graph_tooltip: num(&d["graphTooltip"]).map_or(0, |g| g.clamp(0.0, 2.0) as u8),
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

/// A panel's queries: those not hidden and not empty.
fn targets(p: &Value) -> Vec<PanelQuery> {
    p["targets"].as_array().map_or(Vec::new(), |ts| {
        ts.iter()
            .filter(|t| !truthy(&t["hide"]) && t["expr"].as_str().is_some_and(|e| !e.trim().is_empty()))
            .map(|t| {
                let instant = truthy(&t["instant"]);
                PanelQuery {
                    expr: s(t, "expr"),
                    legend: s(t, "legendFormat"),
                    ref_id: s(t, "refId"),
                    instant,
                    range: truthy(&t["range"]) || !instant,
                    interval: s(t, "interval"),
                    interval_factor: num(&t["intervalFactor"]).filter(|f| f.is_finite()).unwrap_or(1.0).clamp(1.0, 10.0)
                        as i64,
                    table: t["format"] == "table",
                }
            })
            .collect()
    })
}

/// An array of strings (others left out).
fn strings(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(String::from)).collect()
}

fn panel(p: &Value, count: &mut usize) -> Panel {
    *count += 1;
    let g = &p["gridPos"];
    let grid = GridPos {
        x: num(&g["x"]).unwrap_or(0.0).clamp(0.0, 23.0) as u32,
        // Far enough down for any dashboard; no further, so that sums of rows stay finite.
        y: num(&g["y"]).unwrap_or(0.0).clamp(0.0, 1_000_000.0) as u32,
        // Grafana's default for a panel without one: 6 wide, 3 high.
        w: num(&g["w"]).unwrap_or(6.0).clamp(1.0, 24.0) as u32,
        h: num(&g["h"]).unwrap_or(3.0).clamp(1.0, 100.0) as u32,
    };
    let kind = Some(s(p, "type")).filter(|k| !k.is_empty()).unwrap_or_else(|| "graph".into());
    let defaults = &p["fieldConfig"]["defaults"];
    let custom = &defaults["custom"];
    // Legacy graph and singlestat keep their settings elsewhere.
    let unit = match kind.as_str() {
        "graph" => s(&p["yaxes"][0], "format"),
        "singlestat" => s(p, "format"),
        _ => s(defaults, "unit"),
    };
    let decimals = num(&defaults["decimals"]).or_else(|| num(&p["decimals"])).map(|d| d.clamp(0.0, 12.0) as usize);
    let targets = targets(p);
    let reducer = p["options"]["reduceOptions"]["calcs"][0]
        .as_str()
        .map(String::from)
        .or_else(|| p["valueName"].as_str().map(String::from))
        .unwrap_or_else(|| "lastNotNull".into());
    let children = p["panels"].as_array().map_or(Vec::new(), |c| c.iter().map(|x| panel(x, count)).collect());
    Panel {
        id: num(&p["id"]).unwrap_or(0.0) as u64,
        kind: kind.clone(),
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
        sparkline: match kind.as_str() {
            "singlestat" => truthy(&p["sparkline"]["show"]),
            _ => p["options"]["graphMode"] != "none",
        },
        stat_text_mode: p["options"]["textMode"].as_str().unwrap_or("auto").to_string(),
        stat_justify: p["options"]["justifyMode"].as_str().unwrap_or("auto").to_string(),
        stat_orientation: p["options"]["orientation"].as_str().unwrap_or("auto").to_string(),
        stat_colour_mode: match kind.as_str() {
            "singlestat" if truthy(&p["colorBackground"]) => "background".into(),
            "singlestat" if truthy(&p["colorValue"]) => "value".into(),
            "singlestat" => "none".into(),
            _ => p["options"]["colorMode"].as_str().unwrap_or("value").to_string(),
        },
        pie_donut: s(&p["options"], "pieType") == "donut",
        pie_labels: strings(&p["options"]["displayLabels"]),
        pie_legend_values: strings(&p["options"]["legend"]["values"]),
        legend_calcs: legend_calcs(p),
        legend: legend_options(p),
        tooltip: match (&p["options"]["tooltip"], kind.as_str()) {
            (t, _) if t.is_object() => crate::chart::Tooltip::from_options(t),
            // A legacy graph's tooltip is shared unless it says otherwise.
            (_, "graph") if p["tooltip"]["shared"].is_null() => {
                crate::chart::Tooltip { mode: crate::chart::TooltipMode::Multi, ..Default::default() }
            }
            _ => crate::chart::Tooltip::from_options(&p["tooltip"]),
        },
        repeat: s(p, "repeat"),
        repeat_vertical: p["repeatDirection"] == "v",
        max_per_row: num(&p["maxPerRow"]).map_or(4, |m| m.clamp(1.0, 24.0) as u32),
        threshold_markers: p["options"]["showThresholdMarkers"] != false,
        bar_mode: p["options"]["displayMode"].as_str().unwrap_or("gradient").to_string(),
        min_viz: (
            p["options"]["minVizHeight"].as_u64().map_or(16, |v| v.min(300) as u32),
            p["options"]["minVizWidth"].as_u64().map_or(8, |v| v.min(300) as u32),
        ),
        heatmap_scheme: p["options"]["color"]["scheme"].as_str().unwrap_or("Oranges").to_string(),
        field_config: {
            // Transformations not applied are named in the panel's info with the options not drawn.
            let mut fc = FieldConfig::from_panel(p, &kind);
            fc.ignored.extend(transform::transformations(p).1);
            fc
        },
        transformations: transform::transformations(p).0,
        mappings: mappings(p),
        text_mode: Some(s(&p["options"], "mode")).filter(|m| !m.is_empty()).unwrap_or_else(|| s(p, "mode")),
    }
}

/// Legacy `rows[]` (schema ≤ 15) to row panels on the grid, as Grafana's
/// migration: `w = span × 2`, `h` from the row height in 38 px units.
fn migrate_rows(rows: &[Value], count: &mut usize) -> Vec<Panel> {
    let mut out = Vec::new();
    // Rows take ids after the largest panel id, one each, as Grafana's migration numbers them.
    let panels = rows.iter().flat_map(|r| r["panels"].as_array().map(Vec::as_slice).unwrap_or(&[]));
    let mut next_id = panels.filter_map(|p| num(&p["id"])).fold(0.0, f64::max) as u64 + 1;
    let mut y = 0u32;
    let single_untitled = rows.len() == 1 && !truthy(&rows[0]["showTitle"]);
    for r in rows {
        let height =
            num(&r["height"]).or_else(|| r["height"].as_str().and_then(|h| h.trim_end_matches("px").parse().ok()));
        let h = ((height.unwrap_or(250.0) / 38.0).ceil().clamp(3.0, 100.0)) as u32;
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
                id: next_id,
                kind: "row".into(),
                title: s(r, "title"),
                grid: GridPos { x: 0, y, w: 24, h: 1 },
                collapsed,
                children: if collapsed { std::mem::take(&mut children) } else { Vec::new() },
                ..Default::default()
            });
            next_id += 1;
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

    #[test]
    fn legacy_rows_get_ids_of_their_own_after_the_largest_panel_id() {
        let json = br#"{"rows": [
            {"title": "A", "showTitle": true, "collapse": true, "panels": [{"id": 7, "type": "graph"}]},
            {"title": "B", "showTitle": true, "collapse": true, "panels": [{"id": 3, "type": "graph"}]}]}"#;
        let d = parse(json, "rows").unwrap();
        let ids: Vec<u64> = d.panels.iter().map(|p| p.id).collect();
        assert_eq!(ids, [8, 9], "opening one row must not open the other");
    }

    #[test]
    fn a_panel_without_grid_pos_is_six_wide_and_three_high_as_in_grafana() {
        let d = parse(br#"{"panels": [{"type": "stat"}]}"#, "g").unwrap();
        assert_eq!(d.panels[0].grid, GridPos { x: 0, y: 0, w: 6, h: 3 });
    }

    #[test]
    fn singlestat_value_maps_are_migrated_only_for_mapping_type_one() {
        let json = br#"{"panels": [{"type": "singlestat", "mappingType": 1,
            "valueMaps": [{"value": "null", "op": "=", "text": "N/A"}, {"value": "1", "op": "=", "text": "UP"}],
            "rangeMaps": [{"from": "null", "to": "null", "text": "N/A"}]}]}"#;
        let p = &parse(json, "s").unwrap().panels[0];
        assert_eq!(p.map_value(5.0), None, "the range map is not migrated: a live value stays");
        assert_eq!(p.map_value(1.0), Some(("UP".into(), String::new())));
        assert_eq!(p.map_missing(), Some(("N/A".into(), String::new())), "null maps the missing value");
        let json = br#"{"panels": [{"type": "singlestat", "mappingType": 2,
            "rangeMaps": [{"from": "null", "to": "null", "text": "N/A"}, {"from": "0", "to": "10", "text": "low"}]}]}"#;
        let p = &parse(json, "s").unwrap().panels[0];
        assert_eq!(p.map_value(5.0), Some(("low".into(), String::new())), "a range without ends matches nothing");
        assert_eq!(p.map_value(50.0), None);
    }

    #[test]
    fn legend_options_read_from_the_panel_and_the_legacy_graph() {
        let d = parse(
            br#"{"panels": [
                {"type": "timeseries", "options": {"legend": {"displayMode": "table", "placement": "right", "width": 300,
                  "calcs": ["max"], "sortBy": "Max", "sortDesc": true}}},
                {"type": "timeseries", "options": {"legend": {"showLegend": false}}},
                {"type": "graph", "legend": {"show": true, "rightSide": true, "values": true, "max": true, "current": true,
                  "sort": "current", "sortDesc": true, "sideWidth": 250}},
                {"type": "graph", "legend": {"show": false}},
                {"type": "timeseries"}]}"#,
            "l",
        )
        .unwrap();
        let l: Vec<&LegendOptions> = d.panels.iter().map(|p| &p.legend).collect();
        assert_eq!(
            *l[0],
            LegendOptions {
                shown: true,
                right: true,
                width: Some(300),
                sort_by: "Max".into(),
                sort_desc: true,
                table: true
            }
        );
        assert!(!l[1].shown && !l[3].shown && l[4].shown && !l[4].right);
        assert_eq!((l[2].right, l[2].width, l[2].sort_by.as_str(), l[2].sort_desc), (true, Some(250), "Last *", true));
        assert_eq!(d.panels[2].legend_calcs, ["max", "lastNotNull"]);
    }

    #[test]
    fn stat_sparklines_and_colour_modes_follow_grafana_and_the_legacy_singlestat() {
        let d = parse(
            br#"{"panels": [
                {"type": "singlestat", "sparkline": {"show": false}},
                {"type": "singlestat", "sparkline": {"show": true}, "colorBackground": true},
                {"type": "stat", "options": {"graphMode": "none", "colorMode": "none"}},
                {"type": "stat"}]}"#,
            "s",
        )
        .unwrap();
        let got: Vec<(bool, &str)> = d.panels.iter().map(|p| (p.sparkline, p.stat_colour_mode.as_str())).collect();
        assert_eq!(got, [(false, "none"), (true, "background"), (false, "none"), (true, "value")]);
    }
}
