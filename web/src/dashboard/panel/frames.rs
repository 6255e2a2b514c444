//! A table's data as Grafana's table panel sees it: data frames (named
//! fields of values) built from the queries' series, then changed by the
//! panel's transformations in order.
//!
//! The frames are Grafana's Prometheus frames: a query in `table` format
//! (or an instant one) gives one frame with a row per series and sample
//! (`Time`, a column per label, `Value`, or `Value #<refId>` among several
//! queries); a range query gives a frame per series (`Time`, and the values
//! named as the legend names the series). Without a transformation that
//! shapes frames (merge, join, series to rows, labels to fields, group by,
//! reduce), a
//! table shows each series' latest value, joined across queries by labels,
//! as Grafana's older table panel did.

use crate::chart::Line;
use crate::dashboard::model::{reduce, Calc, Panel, Transformation};
use std::cmp::Ordering;
use storage::Labels;

/// One value of a field.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum V {
    /// A number (times are numbers: ms).
    Num(f64),
    /// Text (label values).
    Text(String),
    /// Missing.
    Null,
}

impl V {
    fn cmp(&self, other: &V) -> Ordering {
        match (self, other) {
            (V::Num(a), V::Num(b)) => a.total_cmp(b),
            (V::Text(a), V::Text(b)) => a.cmp(b),
            (V::Null, V::Null) => Ordering::Equal,
            (V::Null, _) => Ordering::Greater,
            (_, V::Null) => Ordering::Less,
            (V::Num(_), V::Text(_)) => Ordering::Less,
            (V::Text(_), V::Num(_)) => Ordering::Greater,
        }
    }
}

/// What a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// Sample times.
    Time,
    /// Label values (text).
    Label,
    /// Sample values.
    Value,
}

/// A named column of values.
#[derive(Clone, Debug)]
pub(super) struct Field {
    /// Its name (overrides match it).
    pub(super) name: String,
    /// The query it came from (`byFrameRefID`).
    pub(super) ref_id: String,
    pub(super) role: Role,
    /// A series' labels, for `labelsToFields`.
    pub(super) labels: Option<Labels>,
    pub(super) values: Vec<V>,
}

impl Field {
    fn new(name: &str, ref_id: &str, role: Role, values: Vec<V>) -> Field {
        Field { name: name.to_string(), ref_id: ref_id.to_string(), role, labels: None, values }
    }
}

/// A table: fields of equal length.
#[derive(Clone, Debug, Default)]
pub(super) struct Frame {
    pub(super) fields: Vec<Field>,
}

impl Frame {
    /// How many rows.
    pub(super) fn rows(&self) -> usize {
        self.fields.iter().map(|f| f.values.len()).max().unwrap_or(0)
    }

    fn time(&self) -> Option<&Field> {
        self.fields.iter().find(|f| f.role == Role::Time)
    }

    /// The frame's rows in the order `order` gives (indexes).
    fn reorder(&mut self, order: &[usize]) {
        for f in &mut self.fields {
            f.values = order.iter().map(|&i| f.values.get(i).cloned().unwrap_or(V::Null)).collect();
        }
    }
}

/// The frames a table's queries give, before transformations: Grafana's
/// when the panel shapes them, else the latest values joined by labels.
pub(super) fn from_series(p: &Panel, lines: &[Line], meta: &[(String, Labels)]) -> Vec<Frame> {
    let shapes = p.transformations.iter().any(|t| {
        matches!(
            t,
            Transformation::Merge
                | Transformation::SeriesToRows
                | Transformation::JoinByField { .. }
                | Transformation::LabelsToFields { .. }
                | Transformation::GroupBy { .. }
                | Transformation::Reduce { .. }
        )
    });
    if !shapes {
        return vec![latest_by_labels(p, lines, meta)];
    }
    let mut frames = Vec::new();
    for t in &p.targets {
        let series: Vec<(&Line, &Labels)> =
            lines.iter().zip(meta).filter(|(_, (r, _))| *r == t.ref_id).map(|(l, (_, labels))| (l, labels)).collect();
        if t.table || !t.range {
            let value = if p.targets.len() > 1 { format!("Value #{}", t.ref_id) } else { "Value".into() };
            frames.push(rows_of(&series, &t.ref_id, &value));
        } else {
            for (l, labels) in series {
                let mut value =
                    Field::new(&l.name, &t.ref_id, Role::Value, l.points.iter().map(|p| num(p.1)).collect());
                value.labels = Some(labels.clone());
                let time =
                    Field::new("Time", &t.ref_id, Role::Time, l.points.iter().map(|p| V::Num(p.0 as f64)).collect());
                frames.push(Frame { fields: vec![time, value] });
            }
        }
    }
    frames
}

fn num(v: f64) -> V {
    if v.is_finite() {
        V::Num(v)
    } else {
        V::Null
    }
}

/// A query's series as one frame of rows: `Time`, a column per label, the value.
fn rows_of(series: &[(&Line, &Labels)], ref_id: &str, value: &str) -> Frame {
    let mut names: Vec<String> = series.iter().flat_map(|(_, l)| l.iter().map(|x| x.name.to_string())).collect();
    names.sort();
    names.dedup();
    let mut time = Field::new("Time", ref_id, Role::Time, Vec::new());
    let mut labels: Vec<Field> = names.iter().map(|n| Field::new(n, ref_id, Role::Label, Vec::new())).collect();
    let mut values = Field::new(value, ref_id, Role::Value, Vec::new());
    for (line, l) in series {
        for &(t, v) in &line.points {
            time.values.push(V::Num(t as f64));
            for f in &mut labels {
                f.values.push(l.get(&f.name).map_or(V::Null, |x| V::Text(x.to_string())));
            }
            values.values.push(num(v));
        }
    }
    Frame { fields: std::iter::once(time).chain(labels).chain(std::iter::once(values)).collect() }
}

/// Each series' latest value, a row per label set (the metric name aside), a
/// value column per query (`Value`, or `Value #<refId>` among several).
fn latest_by_labels(p: &Panel, lines: &[Line], meta: &[(String, Labels)]) -> Frame {
    let refs: Vec<&str> = p.targets.iter().map(|t| t.ref_id.as_str()).collect();
    let mut names: Vec<String> = meta.iter().flat_map(|(_, l)| l.iter().map(|x| x.name.to_string())).collect();
    names.sort();
    names.dedup();
    let mut rows: Vec<(Labels, Labels, Vec<V>)> = Vec::new();
    for (l, (ref_id, labels)) in lines.iter().zip(meta) {
        let value = reduce(&l.points, "lastNotNull").map_or(V::Null, V::Num);
        let col = refs.iter().position(|r| r == ref_id).unwrap_or(0);
        let key = labels.without_metric_name();
        match rows.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, vals)) => vals[col] = value,
            None => {
                let mut vals = vec![V::Null; refs.len().max(1)];
                vals[col] = value;
                rows.push((key, labels.clone(), vals));
            }
        }
    }
    let mut fields: Vec<Field> = names
        .iter()
        .map(|n| {
            let values = rows.iter().map(|(_, l, _)| l.get(n).map_or(V::Null, |x| V::Text(x.to_string()))).collect();
            Field::new(n, "", Role::Label, values)
        })
        .collect();
    for (k, r) in refs.iter().enumerate().take(refs.len().max(1)) {
        let name = if refs.len() > 1 { format!("Value #{r}") } else { "Value".into() };
        fields.push(Field::new(&name, r, Role::Value, rows.iter().map(|(_, _, v)| v[k].clone()).collect()));
    }
    if refs.is_empty() {
        fields.push(Field::new("Value", "", Role::Value, rows.iter().map(|(_, _, v)| v[0].clone()).collect()));
    }
    Frame { fields }
}

/// `frames` through `transformations`, in order.
pub(super) fn apply(mut frames: Vec<Frame>, transformations: &[Transformation]) -> Vec<Frame> {
    for t in transformations {
        frames = match t {
            Transformation::Merge => vec![merge(&frames)],
            Transformation::SeriesToRows => vec![series_to_rows(&frames)],
            Transformation::JoinByField { field } => vec![join(&frames, field)],
            Transformation::LabelsToFields { value_label } => {
                frames.into_iter().map(|f| labels_to_fields(f, value_label.as_deref())).collect()
            }
            Transformation::FilterFieldsByName { include, include_pattern, exclude, exclude_pattern } => frames
                .into_iter()
                .map(|mut f| {
                    f.fields.retain(|x| {
                        let all = include.is_empty() && include_pattern.is_none();
                        let kept = all
                            || include.contains(&x.name)
                            || include_pattern.as_ref().is_some_and(|r| r.is_match(&x.name));
                        let dropped =
                            exclude.contains(&x.name) || exclude_pattern.as_ref().is_some_and(|r| r.is_match(&x.name));
                        kept && !dropped
                    });
                    f
                })
                .collect(),
            Transformation::SortBy { field, desc } => frames
                .into_iter()
                .map(|mut f| {
                    if let Some(k) = f.fields.iter().position(|x| x.name == *field) {
                        let mut order: Vec<usize> = (0..f.rows()).collect();
                        let key = &f.fields[k].values;
                        order.sort_by(|&a, &b| {
                            let (x, y) = (key.get(a).unwrap_or(&V::Null), key.get(b).unwrap_or(&V::Null));
                            if *desc {
                                y.cmp(x)
                            } else {
                                x.cmp(y)
                            }
                        });
                        f.reorder(&order);
                    }
                    f
                })
                .collect(),
            Transformation::Organize(o) => frames
                .into_iter()
                .map(|f| {
                    let names: Vec<String> = f.fields.iter().map(|x| x.name.clone()).collect();
                    let fields = o
                        .apply(&names)
                        .into_iter()
                        .map(|(i, title)| Field { name: title, ..f.fields[i].clone() })
                        .collect();
                    Frame { fields }
                })
                .collect(),
            Transformation::GroupBy { keys, aggregates } => {
                frames.into_iter().map(|f| group_by(f, keys, aggregates)).collect()
            }
            Transformation::CalculateField { calc, alias, replace } => {
                frames.into_iter().map(|f| calculate(f, calc, alias.as_deref(), *replace)).collect()
            }
            Transformation::Reduce { reducers } => vec![reduce_rows(&frames, reducers)],
        };
    }
    frames
}

/// Every frame into one: rows whose time and labels agree joined, each
/// value column kept under its name.
fn merge(frames: &[Frame]) -> Frame {
    let mut out: Vec<Field> = Vec::new();
    let mut keys: Vec<Vec<(String, V)>> = Vec::new();
    for f in frames {
        let key_fields: Vec<&Field> = f.fields.iter().filter(|x| x.role != Role::Value).collect();
        for x in &f.fields {
            if !out.iter().any(|o| o.name == x.name) {
                out.push(Field { values: vec![V::Null; keys.len()], labels: None, ..x.clone() });
            }
        }
        for row in 0..f.rows() {
            let key: Vec<(String, V)> =
                key_fields.iter().map(|x| (x.name.clone(), x.values.get(row).cloned().unwrap_or(V::Null))).collect();
            let at = match keys.iter().position(|k| *k == key) {
                Some(at) => at,
                None => {
                    keys.push(key);
                    out.iter_mut().for_each(|o| o.values.push(V::Null));
                    keys.len() - 1
                }
            };
            for x in &f.fields {
                if let (Some(o), Some(v)) = (out.iter_mut().find(|o| o.name == x.name), x.values.get(row)) {
                    o.values[at] = v.clone();
                }
            }
        }
    }
    Frame { fields: out }
}

/// A row per series and time, newest first: `Time`, `Metric`, `Value`.
fn series_to_rows(frames: &[Frame]) -> Frame {
    let mut rows: Vec<(V, String, V)> = Vec::new();
    for f in frames {
        let Some(time) = f.time() else { continue };
        for x in f.fields.iter().filter(|x| x.role == Role::Value) {
            for (t, v) in time.values.iter().zip(&x.values) {
                rows.push((t.clone(), x.name.clone(), v.clone()));
            }
        }
    }
    rows.sort_by(|a, b| b.0.cmp(&a.0));
    let (times, rest): (Vec<V>, Vec<(String, V)>) = rows.into_iter().map(|(t, m, v)| (t, (m, v))).unzip();
    let (metrics, values): (Vec<String>, Vec<V>) = rest.into_iter().unzip();
    Frame {
        fields: vec![
            Field::new("Time", "", Role::Time, times),
            Field::new("Metric", "", Role::Label, metrics.into_iter().map(V::Text).collect()),
            Field::new("Value", "", Role::Value, values),
        ],
    }
}

/// Frames joined on the field `on` (outer: every key of any frame, in order).
fn join(frames: &[Frame], on: &str) -> Frame {
    let mut keys: Vec<V> = frames
        .iter()
        .filter_map(|f| f.fields.iter().find(|x| x.name == on))
        .flat_map(|x| x.values.iter().cloned())
        .collect();
    keys.sort_by(|a, b| a.cmp(b));
    keys.dedup();
    let Some(first) = frames.iter().find_map(|f| f.fields.iter().find(|x| x.name == on)) else {
        return frames.first().cloned().unwrap_or_default();
    };
    let mut fields = vec![Field { values: keys.clone(), labels: None, ..first.clone() }];
    for f in frames {
        let Some(k) = f.fields.iter().find(|x| x.name == on) else { continue };
        for x in f.fields.iter().filter(|x| x.name != on) {
            let values = keys
                .iter()
                .map(|key| {
                    k.values.iter().position(|v| v == key).and_then(|i| x.values.get(i).cloned()).unwrap_or(V::Null)
                })
                .collect();
            fields.push(Field { values, ..x.clone() });
        }
    }
    Frame { fields }
}

/// A frame's series' labels as columns, its values named `Value` (or by the
/// value of `value_label`).
fn labels_to_fields(f: Frame, value_label: Option<&str>) -> Frame {
    let mut out = Vec::new();
    let rows = f.rows();
    for x in f.fields {
        let Some(labels) = x.labels.clone().filter(|_| x.role == Role::Value) else {
            out.push(x);
            continue;
        };
        let mut name = "Value".to_string();
        for l in labels.iter().filter(|l| l.name != "__name__") {
            if Some(l.name) == value_label {
                name = l.value.to_string();
                continue;
            }
            if !out.iter().any(|o: &Field| o.name == l.name) {
                out.push(Field::new(l.name, &x.ref_id, Role::Label, vec![V::Text(l.value.to_string()); rows]));
            }
        }
        out.push(Field { name, labels: None, ..x });
    }
    Frame { fields: out }
}

/// A row per distinct combination of the `keys` fields' values (in the
/// order they first appear), each aggregated field reduced over the group's
/// rows by each of its calculations (`<name> (<calculation>)`); other fields
/// dropped. A frame without a grouping field stays as it is.
fn group_by(f: Frame, keys: &[String], aggregates: &[(String, Vec<String>)]) -> Frame {
    let key_fields: Vec<&Field> = f.fields.iter().filter(|x| keys.contains(&x.name)).collect();
    if key_fields.is_empty() {
        return f;
    }
    let mut groups: Vec<(Vec<V>, Vec<usize>)> = Vec::new();
    for row in 0..f.rows() {
        let key: Vec<V> = key_fields.iter().map(|x| x.values.get(row).cloned().unwrap_or(V::Null)).collect();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, rows)) => rows.push(row),
            None => groups.push((key, vec![row])),
        }
    }
    let times: Vec<i64> = f
        .time()
        .map_or_else(Vec::new, |t| t.values.iter().map(|v| if let V::Num(n) = v { *n as i64 } else { 0 }).collect());
    let mut fields: Vec<Field> = key_fields
        .iter()
        .enumerate()
        .map(|(k, x)| Field {
            values: groups.iter().map(|(key, _)| key[k].clone()).collect(),
            labels: None,
            ..(*x).clone()
        })
        .collect();
    for x in &f.fields {
        let Some((_, calcs)) = aggregates.iter().find(|(n, _)| *n == x.name) else { continue };
        for calc in calcs {
            let values = groups
                .iter()
                .map(|(_, rows)| {
                    let points: Vec<(i64, f64)> = rows
                        .iter()
                        .map(|&r| {
                            (
                                times.get(r).copied().unwrap_or(r as i64),
                                match x.values.get(r) {
                                    Some(V::Num(n)) => *n,
                                    _ => f64::NAN,
                                },
                            )
                        })
                        .collect();
                    reduce(&points, calc).map_or(V::Null, V::Num)
                })
                .collect();
            let name = format!("{} ({calc})", x.name);
            fields.push(Field { name, role: Role::Value, labels: None, values, ..x.clone() });
        }
    }
    Frame { fields }
}

/// A new field of `calc` over each row (named `alias`, else Grafana's
/// default), alone with the time when `replace`.
fn calculate(mut f: Frame, calc: &Calc, alias: Option<&str>, replace: bool) -> Frame {
    let rows = f.rows();
    let number = |x: &V| if let V::Num(n) = x { *n } else { f64::NAN };
    let values: Vec<V> = (0..rows)
        .map(|row| {
            let field = |name: &str| f.fields.iter().find(|x| x.name == name).and_then(|x| x.values.get(row));
            let v = match calc {
                Calc::ReduceRow { reducer, include } => {
                    let points: Vec<(i64, f64)> = f
                        .fields
                        .iter()
                        .filter(|x| x.role == Role::Value && (include.is_empty() || include.contains(&x.name)))
                        .enumerate()
                        .map(|(i, x)| (i as i64, x.values.get(row).map_or(f64::NAN, number)))
                        .collect();
                    reduce(&points, reducer)
                }
                Calc::Binary { left, op, right } => {
                    let side = |s: &str| s.parse::<f64>().ok().or_else(|| field(s).map(number)).unwrap_or(f64::NAN);
                    Some(binary(side(left), *op, side(right)))
                }
            };
            v.map_or(V::Null, num)
        })
        .collect();
    let name = alias.map_or_else(|| calc.default_name(), String::from);
    if replace {
        f.fields.retain(|x| x.role == Role::Time);
    }
    f.fields.push(Field::new(&name, "", Role::Value, values));
    f
}

/// `a op b` for `calculateField`'s binary mode.
pub(super) fn binary(a: f64, op: char, b: f64) -> f64 {
    match op {
        '+' => a + b,
        '-' => a - b,
        '*' => a * b,
        _ => a / b,
    }
}

/// A row per value field of every frame: its name under `Field`, a column per reducer.
fn reduce_rows(frames: &[Frame], reducers: &[String]) -> Frame {
    let mut fields = vec![Field::new("Field", "", Role::Label, Vec::new())];
    fields.extend(
        reducers.iter().map(|r| Field::new(&crate::dashboard::model::calc_title(r), "", Role::Value, Vec::new())),
    );
    for f in frames {
        let times: Vec<i64> = f.time().map_or_else(Vec::new, |t| {
            t.values.iter().map(|v| if let V::Num(n) = v { *n as i64 } else { 0 }).collect()
        });
        for x in f.fields.iter().filter(|x| x.role == Role::Value) {
            let points: Vec<(i64, f64)> = x
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    (times.get(i).copied().unwrap_or(i as i64), if let V::Num(n) = v { *n } else { f64::NAN })
                })
                .collect();
            fields[0].values.push(V::Text(x.name.clone()));
            for (k, r) in reducers.iter().enumerate() {
                fields[k + 1].values.push(reduce(&points, r).map_or(V::Null, V::Num));
            }
        }
    }
    Frame { fields }
}
