//! What a panel sets for its values: thresholds, value mappings, the
//! table's `organize` transformation, and the legend's calculations, read
//! from the panel's JSON (`fieldConfig`, `options`, and their legacy forms).
//! Per-series options and overrides are resolved in `field_config`.

use super::{num, s, truthy, Panel, Threshold};
use serde_json::Value;

/// Grafana's `organize` transformation of a table's columns, by their names.
#[derive(Clone, Debug, Default)]
pub struct Organize {
    /// Columns hidden.
    pub exclude: Vec<String>,
    /// Columns' places (the others follow, in their order).
    pub index: Vec<(String, i64)>,
    /// Columns' new titles.
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

/// An `organize` transformation from its options.
pub(super) fn organize_options(o: &Value) -> Organize {
    let mut out = Organize::default();
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

/// A value mapping: what to show (and in which colour) for some values.
#[derive(Clone, Debug)]
pub enum Mapping {
    /// One exact value (as text).
    Value {
        /// The value, as the panel formats it before units.
        value: String,
        /// What to show instead.
        text: String,
        /// The colour to show it in (empty: the panel's own).
        colour: String,
    },
    /// Values within `from..=to` (an open end when `None`).
    Range {
        /// Lowest value matched.
        from: Option<f64>,
        /// Highest value matched.
        to: Option<f64>,
        /// What to show instead.
        text: String,
        /// The colour to show it in (empty: the panel's own).
        colour: String,
    },
    /// `null`, `nan`, `null+nan`.
    Special {
        /// A missing value is matched.
        null: bool,
        /// NaN is matched.
        nan: bool,
        /// What to show instead.
        text: String,
        /// The colour to show it in (empty: the panel's own).
        colour: String,
    },
}

pub(super) fn mappings(p: &Value) -> Vec<Mapping> {
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
                let m = o["match"].as_str().unwrap_or("");
                out.push(Mapping::Special { null: m.starts_with("null"), nan: m.ends_with("nan"), text, colour });
            }
            _ => {}
        }
    }
    // Legacy singlestat: valueMaps when `mappingType` is 1, rangeMaps when
    // it is 2 (guessed from which list has entries when unset), as Grafana
    // migrates them; a value map of "null" is the no-value mapping.
    let listed = |k: &str| p[k].as_array().is_some_and(|a| !a.is_empty());
    let mapping_type = num(&p["mappingType"]).map(|t| t as i64).unwrap_or(if listed("valueMaps") {
        1
    } else if listed("rangeMaps") {
        2
    } else {
        0
    });
    if mapping_type == 1 {
        for m in p["valueMaps"].as_array().into_iter().flatten() {
            let (value, text) = (s(m, "value"), s(m, "text"));
            out.push(match value.trim() {
                "null" => Mapping::Special { null: true, nan: false, text, colour: String::new() },
                _ => Mapping::Value { value, text, colour: String::new() },
            });
        }
    }
    if mapping_type == 2 {
        for m in p["rangeMaps"].as_array().into_iter().flatten() {
            out.push(Mapping::Range {
                from: num(&m["from"]),
                to: num(&m["to"]),
                text: s(m, "text"),
                colour: String::new(),
            });
        }
    }
    out
}

impl Panel {
    /// The mapped text and colour of a value, if a mapping applies.
    pub fn map_value(&self, v: f64) -> Option<(String, String)> {
        self.mappings.iter().find_map(|m| match m {
            Mapping::Value { value, text, colour } => {
                (value.parse::<f64>().ok() == Some(v)).then(|| (text.clone(), colour.clone()))
            }
            // A range needs an end: one of "null" to "null" matches nothing.
            Mapping::Range { from, to, text, colour } => {
                ((from.is_some() || to.is_some()) && from.is_none_or(|f| v >= f) && to.is_none_or(|t| v <= t))
                    .then(|| (text.clone(), colour.clone()))
            }
            Mapping::Special { nan, text, colour, .. } => (*nan && v.is_nan()).then(|| (text.clone(), colour.clone())),
        })
    }

    /// The text and colour a `null` mapping gives a missing value, if one does.
    pub fn map_missing(&self) -> Option<(String, String)> {
        self.mappings.iter().find_map(|m| match m {
            Mapping::Special { null: true, text, colour, .. } => Some((text.clone(), colour.clone())),
            _ => None,
        })
    }
}

/// The steps of a `thresholds` option (`{mode, steps: [{value, color}]}`), if it has any.
pub(super) fn threshold_steps(t: &Value) -> Option<Vec<Threshold>> {
    let list = t["steps"].as_array()?;
    Some(list.iter().map(|t| Threshold { value: num(&t["value"]), colour: s(t, "color") }).collect())
}

pub(super) fn thresholds(p: &Value) -> Vec<Threshold> {
    if let Some(steps) = threshold_steps(&p["fieldConfig"]["defaults"]["thresholds"]) {
        return steps;
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

/// How a panel's legend is shown (`options.legend`, or a legacy graph's `legend`).
#[derive(Clone, Debug, PartialEq)]
pub struct LegendOptions {
    /// Shown at all (`showLegend`, `displayMode: hidden`, legacy `show`).
    pub shown: bool,
    /// To the right of the chart (`placement: right`, legacy `rightSide`).
    pub right: bool,
    /// Its width in pixels when on the right (`width`, legacy `sideWidth`).
    pub width: Option<u32>,
    /// The column entries are sorted by: `Name` or a calculation's title (`Max`, `Last *`, …).
    pub sort_by: String,
    /// Largest first.
    pub sort_desc: bool,
    /// A table of values (`displayMode: table`, legacy `alignAsTable`).
    pub table: bool,
}

impl Default for LegendOptions {
    fn default() -> Self {
        LegendOptions { shown: true, right: false, width: None, sort_by: String::new(), sort_desc: false, table: false }
    }
}

pub(super) fn legend_options(p: &Value) -> LegendOptions {
    let o = &p["options"]["legend"];
    if o.is_object() {
        return LegendOptions {
            shown: o["showLegend"] != false && o["displayMode"] != "hidden",
            right: o["placement"] == "right",
            width: num(&o["width"]).filter(|w| *w >= 1.0).map(|w| w.min(2000.0) as u32),
            sort_by: s(o, "sortBy"),
            sort_desc: truthy(&o["sortDesc"]),
            table: o["displayMode"] == "table",
        };
    }
    let l = &p["legend"];
    if !l.is_object() {
        return LegendOptions::default();
    }
    // The legacy sort key names a calculation; its column is titled as the migration titles it.
    let sort_by = match l["sort"].as_str() {
        Some("avg") => "Mean",
        Some("current") => "Last *",
        Some("total") => "Total",
        Some("min") => "Min",
        Some("max") => "Max",
        _ => "",
    };
    LegendOptions {
        shown: l["show"] != false,
        right: truthy(&l["rightSide"]),
        width: num(&l["sideWidth"]).filter(|w| *w >= 1.0).map(|w| w.min(2000.0) as u32),
        sort_by: sort_by.into(),
        sort_desc: truthy(&l["sortDesc"]),
        table: truthy(&l["alignAsTable"]),
    }
}

/// `options.legend.calcs`, or the legacy graph legend's `min`/`max`/`avg`/`current`/`total`.
pub(super) fn legend_calcs(p: &Value) -> Vec<String> {
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
