//! A legacy Grafana `graph` panel's settings as time series field options,
//! migrated as Grafana's `flotToGraphOptions` migrates them: the panel's
//! lines, fill, dashes, points, stacking and y axes as defaults, and its
//! `aliasColors` and `seriesOverrides` as overrides, each override's keys in
//! their order.

use super::{group_name, js_regex, FieldConfig, FieldMatcher, FieldOverride};
use crate::dashboard::model::{num, truthy};
use serde_json::{json, Value};

/// A legacy `yaxes[n]` as field options (Grafana's `getFieldConfigFromOldAxis`).
fn legacy_axis(y: &Value) -> Value {
    let mut out = json!({});
    if !y.is_object() {
        return out;
    }
    if let Some(unit) = y["format"].as_str() {
        out["unit"] = json!(unit);
    }
    for k in ["decimals", "min", "max"] {
        if let Some(v) = num(&y[k]) {
            out[k] = json!(v);
        }
    }
    out["custom"] = json!({"axisPlacement": if truthy(&y["show"]) { "auto" } else { "hidden" }});
    if let Some(label) = y["label"].as_str().filter(|l| !l.is_empty()) {
        out["custom"]["axisLabel"] = json!(label);
    }
    if let Some(base) = num(&y["logBase"]).filter(|b| *b == 2.0 || *b == 10.0) {
        out["custom"]["scaleDistribution"] = json!({"type": "log", "log": base});
    }
    out
}

/// A legacy graph's dash settings: `[dashLength, spaceLength]`, 10 and 10 by default.
fn legacy_dash(o: &Value, base: [f64; 2]) -> [f64; 2] {
    [num(&o["dashLength"]).unwrap_or(base[0]), num(&o["spaceLength"]).unwrap_or(base[1])]
}

/// A legacy graph's panel-wide settings as time series defaults (Grafana's
/// `flotToGraphOptions`; a missing `lines` is the graph panel's default, on).
pub(super) fn legacy_graph_defaults(p: &Value) -> Value {
    let mut out = legacy_axis(&p["yaxes"][0]);
    let mut custom = out["custom"].as_object().cloned().unwrap_or_default();
    let lines = p["lines"].as_bool().unwrap_or(true);
    let draw = if truthy(&p["bars"]) {
        "bars"
    } else if lines {
        "line"
    } else {
        "points"
    };
    custom.insert("drawStyle".into(), json!(draw));
    if truthy(&p["points"]) {
        custom.insert("showPoints".into(), json!("always"));
        if let Some(r) = num(&p["pointradius"]) {
            custom.insert("pointSize".into(), json!(2.0 + r * 2.0));
        }
    } else if draw != "points" {
        custom.insert("showPoints".into(), json!("never"));
    }
    custom.insert("lineWidth".into(), json!(num(&p["linewidth"]).unwrap_or(1.0)));
    if truthy(&p["dashes"]) {
        custom.insert("lineStyle".into(), json!({"fill": "dash", "dash": legacy_dash(p, [10.0, 10.0])}));
    }
    let fill_below = p["seriesOverrides"].as_array().into_iter().flatten().any(|o| o["fillBelowTo"].is_string());
    if fill_below {
        custom.insert("fillOpacity".into(), json!(35));
    } else if let Some(f) = num(&p["fill"]) {
        custom.insert("fillOpacity".into(), json!(f * 10.0));
    }
    if let Some(g) = num(&p["fillGradient"]).filter(|g| *g > 0.0) {
        custom.insert("gradientMode".into(), json!("opacity"));
        custom.insert("fillOpacity".into(), json!(g * 10.0));
    }
    if draw == "bars" {
        custom.insert("fillOpacity".into(), json!(100));
    }
    custom.insert("spanNulls".into(), json!(p["nullPointMode"] == "connected"));
    if truthy(&p["steppedLine"]) {
        custom.insert("lineInterpolation".into(), json!("stepAfter"));
    }
    if truthy(&p["stack"]) {
        let mode = if truthy(&p["percentage"]) { "percent" } else { "normal" };
        custom.insert("stacking".into(), json!({"mode": mode, "group": "A"}));
    }
    if let Some((steps, mode)) = legacy_thresholds(&p["thresholds"]) {
        custom.insert("thresholdsStyle".into(), json!({ "mode": mode }));
        out["thresholds"] = json!({"mode": "absolute", "steps": steps});
    }
    out["custom"] = Value::Object(custom);
    out
}

/// A legacy graph's `thresholds` (`[{value, op: gt|lt, colorMode, fill, line}]`) as
/// threshold steps and a `thresholdsStyle` mode, as Grafana's migration builds
/// them: `gt` starts a coloured step, `lt` colours what lies below it (the
/// rest transparent, which draws nothing).
fn legacy_thresholds(t: &Value) -> Option<(Vec<Value>, &'static str)> {
    let mut list: Vec<&Value> = t.as_array()?.iter().filter(|x| num(&x["value"]).is_some()).collect();
    if list.is_empty() {
        return None;
    }
    list.sort_by(|a, b| num(&a["value"]).unwrap_or(0.0).total_cmp(&num(&b["value"]).unwrap_or(0.0)));
    let colour = |x: &Value| match x["colorMode"].as_str() {
        Some("warning") => "orange".to_string(),
        Some("custom") => x["fillColor"].as_str().or(x["lineColor"].as_str()).unwrap_or("red").to_string(),
        _ => "red".to_string(),
    };
    let (mut steps, mut area, mut line) = (Vec::new(), false, false);
    for (k, x) in list.iter().enumerate() {
        let value = num(&x["value"]);
        area |= truthy(&x["fill"]);
        line |= truthy(&x["line"]);
        let next = list.get(k + 1);
        match x["op"].as_str() {
            Some("lt") => {
                if steps.is_empty() {
                    steps.push(json!({"value": null, "color": colour(x)}));
                }
                let after = match next {
                    Some(n) if n["op"] == "lt" => colour(n),
                    _ => "transparent".into(),
                };
                steps.push(json!({"value": value, "color": after}));
            }
            _ => steps.push(json!({"value": value, "color": colour(x)})),
        }
    }
    if steps.first().is_some_and(|s| !s["value"].is_null()) {
        steps.insert(0, json!({"value": null, "color": "transparent"}));
    }
    let mode = match (line, area) {
        (true, true) => "line+area",
        (false, true) => "area",
        _ => "line",
    };
    Some((steps, mode))
}

/// A legacy graph's `aliasColors` and `seriesOverrides` as overrides, after
/// the panel's own, each override's keys in their order (Grafana's migration).
pub(super) fn legacy_series_overrides(p: &Value, out: &mut FieldConfig) {
    if let Some(colours) = p["aliasColors"].as_object() {
        for (name, c) in colours {
            let Some(c) = c.as_str().filter(|c| !c.is_empty()) else { continue };
            out.overrides.push(FieldOverride {
                matcher: FieldMatcher::Name(name.clone()),
                properties: vec![("color".into(), json!({"mode": "fixed", "fixedColor": c}))],
            });
        }
    }
    let y1 = legacy_axis(&p["yaxes"][0]);
    let panel_dash = legacy_dash(p, [10.0, 10.0]);
    for o in p["seriesOverrides"].as_array().into_iter().flatten() {
        let Some(alias) = o["alias"].as_str().filter(|a| !a.is_empty()) else { continue };
        let matcher = if alias.len() > 1 && alias.starts_with('/') && alias.ends_with('/') {
            match js_regex(alias) {
                Some(r) => FieldMatcher::Regexp(r),
                None => {
                    out.ignored.push(format!("series override regex {alias:?} does not compile"));
                    continue;
                }
            }
        } else {
            FieldMatcher::Name(alias.to_string())
        };
        let mut properties: Vec<(String, Value)> = Vec::new();
        let mut set = |id: &str, v: Value| properties.push((id.to_string(), v));
        let mut dash: Option<(bool, [f64; 2])> = None;
        for (k, v) in o.as_object().into_iter().flatten() {
            match k.as_str() {
                "yaxis" if num(v) == Some(2.0) => {
                    // The right axis's settings where they differ from the left's.
                    let y2 = legacy_axis(&p["yaxes"][1]);
                    for (key, value) in y2.as_object().into_iter().flatten() {
                        if key == "custom" {
                            for (ck, cv) in value.as_object().into_iter().flatten() {
                                if y1["custom"][ck] != *cv {
                                    set(&format!("custom.{ck}"), cv.clone());
                                }
                            }
                        } else if y1[key] != *value {
                            set(key, value.clone());
                        }
                    }
                }
                "fill" => set("custom.fillOpacity", json!(num(v).unwrap_or(0.0) * 10.0)),
                "fillBelowTo" => set("custom.fillBelowTo", v.clone()),
                "fillGradient" if truthy(v) => {
                    set("custom.gradientMode", json!("opacity"));
                    set("custom.fillOpacity", json!(num(v).unwrap_or(0.0) * 10.0));
                }
                "points" => set("custom.showPoints", json!(if truthy(v) { "always" } else { "never" })),
                "bars" if truthy(v) => {
                    set("custom.drawStyle", json!("bars"));
                    set("custom.fillOpacity", json!(100));
                }
                "bars" => set("custom.drawStyle", json!("line")),
                "lines" if v == false => set("custom.lineWidth", json!(0)),
                "lines" => set("custom.drawStyle", json!("line")),
                "linewidth" => set("custom.lineWidth", v.clone()),
                "pointradius" => set("custom.pointSize", json!(2.0 + num(v).unwrap_or(0.0) * 2.0)),
                "dashes" | "dashLength" | "spaceLength" => {
                    let d = dash.get_or_insert((truthy(&p["dashes"]), panel_dash));
                    match k.as_str() {
                        "dashes" => d.0 = truthy(v),
                        "dashLength" => d.1[0] = num(v).unwrap_or(10.0),
                        _ => d.1[1] = num(v).unwrap_or(10.0),
                    }
                }
                // Grafana stacks the series in a group named by the value.
                "stack" => set("custom.stacking", json!({"mode": "normal", "group": group_name(v)})),
                "color" => set("color", json!({"mode": "fixed", "fixedColor": v})),
                "transform" => set("custom.transform", v.clone()),
                _ => {}
            }
        }
        if let Some((on, d)) = dash {
            set("custom.lineStyle", json!({"fill": if on { "dash" } else { "solid" }, "dash": d}));
        }
        if !properties.is_empty() {
            out.overrides.push(FieldOverride { matcher, properties });
        }
    }
}
