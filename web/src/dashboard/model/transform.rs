//! A panel's `transformations`, read in order: what each asks of the data
//! frames the queries return (merging, joining, turning series into rows,
//! labels into columns, filtering, sorting, organizing, reducing). Disabled
//! ones are skipped; ones Vigil does not apply are named in the panel's info.

use super::field_config::js_regex;
use super::fields::{organize_options, Organize};
use serde_json::Value;

/// One transformation.
#[derive(Clone, Debug)]
pub enum Transformation {
    /// `merge`: every frame into one, rows of equal labels and time joined.
    Merge,
    /// `seriesToRows`: a row per series and time (`Time`, `Metric`, `Value`).
    SeriesToRows,
    /// `joinByField` (and the older `seriesToColumns`): frames joined on a
    /// field (`Time` by default), outer.
    JoinByField {
        /// The field joined on.
        field: String,
    },
    /// `labelsToFields` (columns mode): each series' labels as columns.
    LabelsToFields {
        /// The label whose value names the value column (`valueLabel`).
        value_label: Option<String>,
    },
    /// `filterFieldsByName`: the fields kept.
    FilterFieldsByName {
        /// Names kept (all when empty and without a pattern).
        include: Vec<String>,
        /// A pattern of names kept.
        include_pattern: Option<regex::Regex>,
        /// Names dropped.
        exclude: Vec<String>,
        /// A pattern of names dropped.
        exclude_pattern: Option<regex::Regex>,
    },
    /// `sortBy`: rows ordered by a field.
    SortBy {
        /// The field.
        field: String,
        /// Largest first.
        desc: bool,
    },
    /// `organize`: fields hidden, ordered, renamed.
    Organize(Organize),
    /// `groupBy`: a row per distinct value of the grouping fields, the
    /// aggregated ones reduced over each group (`<name> (<calculation>)`).
    GroupBy {
        /// The grouping fields.
        keys: Vec<String>,
        /// The aggregated fields and their calculations.
        aggregates: Vec<(String, Vec<String>)>,
    },
    /// `calculateField`: a new field from each row's values (`reduceRow`, or
    /// `binary`: two fields, or a field and a number, by `+ - * /`).
    CalculateField {
        /// What is calculated.
        calc: Calc,
        /// The new field's name (Grafana's default when absent).
        alias: Option<String>,
        /// Only the new field (and time) kept.
        replace: bool,
    },
    /// `reduce` (series to rows): a row per field, a column per reducer.
    Reduce {
        /// The reducers (Grafana's ids).
        reducers: Vec<String>,
    },
}

/// What a `calculateField` calculates per row.
#[derive(Clone, Debug)]
pub enum Calc {
    /// A reducer over the row's values (of the named fields, or all).
    ReduceRow {
        /// Grafana's reducer id (`mean`, `sum`, `max`…).
        reducer: String,
        /// The fields reduced (all numeric ones when empty).
        include: Vec<String>,
    },
    /// `left op right`, each a field's name or a number.
    Binary {
        /// A field's name or a number.
        left: String,
        /// `+`, `-`, `*` or `/`.
        op: char,
        /// A field's name or a number.
        right: String,
    },
}

impl Calc {
    /// Grafana's name of the new field when the transformation gives none.
    pub fn default_name(&self) -> String {
        match self {
            Calc::ReduceRow { reducer, .. } => super::calc_title(reducer),
            Calc::Binary { left, op, right } => format!("{left} {op} {right}"),
        }
    }
}

/// A binary operand: a string, or `{"fixed": …}`, or a matcher's options.
fn operand(v: &Value) -> String {
    v.as_str()
        .or_else(|| v["fixed"].as_str())
        .or_else(|| v["matcher"]["options"].as_str())
        .map_or_else(|| v.as_f64().map(|n| n.to_string()).unwrap_or_default(), String::from)
}

/// The transformations Vigil applies, in order, and the ids of those it does not.
pub fn transformations(p: &Value) -> (Vec<Transformation>, Vec<String>) {
    let (mut out, mut ignored) = (Vec::new(), Vec::new());
    for t in p["transformations"].as_array().into_iter().flatten().filter(|t| t["disabled"] != true) {
        let o = &t["options"];
        let names = |v: &Value| -> Vec<String> {
            v.as_array().into_iter().flatten().filter_map(|n| n.as_str().map(String::from)).collect()
        };
        let id = t["id"].as_str().unwrap_or("");
        out.push(match id {
            "merge" => Transformation::Merge,
            "seriesToRows" => Transformation::SeriesToRows,
            "joinByField" | "seriesToColumns" => Transformation::JoinByField {
                field: o["byField"].as_str().filter(|f| !f.is_empty()).unwrap_or("Time").to_string(),
            },
            "labelsToFields" if o["mode"].as_str().is_none_or(|m| m == "columns") => Transformation::LabelsToFields {
                value_label: o["valueLabel"].as_str().filter(|v| !v.is_empty()).map(String::from),
            },
            "filterFieldsByName" => Transformation::FilterFieldsByName {
                include: names(&o["include"]["names"]),
                include_pattern: o["include"]["pattern"].as_str().and_then(js_regex),
                exclude: names(&o["exclude"]["names"]),
                exclude_pattern: o["exclude"]["pattern"].as_str().and_then(js_regex),
            },
            "sortBy" => match o["sort"][0]["field"].as_str() {
                Some(field) => Transformation::SortBy { field: field.to_string(), desc: o["sort"][0]["desc"] == true },
                None => continue,
            },
            "organize" => Transformation::Organize(organize_options(o)),
            "calculateField" => {
                let calc = match o["mode"].as_str().unwrap_or("reduceRow") {
                    "reduceRow" => Calc::ReduceRow {
                        reducer: o["reduce"]["reducer"].as_str().unwrap_or("sum").to_string(),
                        include: names(&o["reduce"]["include"]),
                    },
                    "binary" => match o["binary"]["operator"].as_str().and_then(|op| op.chars().next()) {
                        Some(op @ ('+' | '-' | '*' | '/')) => Calc::Binary {
                            left: operand(&o["binary"]["left"]),
                            op,
                            right: operand(&o["binary"]["right"]),
                        },
                        _ => {
                            ignored.push("transformation \"calculateField\" (operator)".into());
                            continue;
                        }
                    },
                    mode => {
                        ignored.push(format!("transformation \"calculateField\" ({mode})"));
                        continue;
                    }
                };
                Transformation::CalculateField {
                    calc,
                    alias: o["alias"].as_str().filter(|a| !a.is_empty()).map(String::from),
                    replace: o["replaceFields"] == true,
                }
            }
            "groupBy" => {
                let fields = o["fields"].as_object().into_iter().flatten();
                let (mut keys, mut aggregates) = (Vec::new(), Vec::new());
                for (name, f) in fields {
                    match f["operation"].as_str() {
                        Some("groupby") => keys.push(name.clone()),
                        Some("aggregate") => aggregates.push((name.clone(), names(&f["aggregations"]))),
                        _ => {}
                    }
                }
                Transformation::GroupBy { keys, aggregates }
            }
            "reduce" if o["mode"] != "reduceFields" => {
                let reducers = names(&o["reducers"]);
                Transformation::Reduce {
                    reducers: if reducers.is_empty() { vec!["lastNotNull".into()] } else { reducers },
                }
            }
            _ => {
                ignored.push(format!("transformation \"{id}\""));
                continue;
            }
        });
    }
    (out, ignored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn transformations_are_read_in_order_disabled_ones_skipped_unknown_ones_named() {
        let p = json!({"transformations": [
            {"id": "merge", "options": {}},
            {"id": "seriesToColumns", "options": {"byField": "instance"}},
            {"id": "filterFieldsByName", "options": {"include": {"names": ["a", "b"]}}},
            {"id": "sortBy", "options": {"sort": [{"field": "b", "desc": true}]}},
            {"id": "calculateField", "options": {"mode": "window"}},
            {"id": "organize", "disabled": true, "options": {}},
            {"id": "reduce", "options": {"reducers": []}}]});
        let (t, ignored) = transformations(&p);
        assert_eq!(t.len(), 5);
        assert!(matches!(&t[1], Transformation::JoinByField { field } if field == "instance"));
        assert!(matches!(&t[3], Transformation::SortBy { field, desc: true } if field == "b"));
        assert!(matches!(&t[4], Transformation::Reduce { reducers } if reducers == &["lastNotNull"]));
        assert_eq!(ignored, ["transformation \"calculateField\" (window)"]);
    }
}
