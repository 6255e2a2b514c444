//! `vigil query instant|range EXPR [--server URL]`: asks a running Vigil (or
//! any Prometheus API) and prints the answer as `promtool query` does, so
//! scripts written around promtool's output keep working.

use serde_json::Value;
use std::fmt::Write;

/// What to ask.
pub enum Query {
    Instant { expr: String, time: Option<String> },
    Range { expr: String, start: Option<String>, end: Option<String>, step: Option<String> },
}

/// Sends the query and renders the answer; the error is what to print.
pub fn run(server: &str, q: &Query) -> Result<String, String> {
    let base = server.trim_end_matches('/');
    let (path, params): (&str, Vec<(&str, String)>) = match q {
        Query::Instant { expr, time } => {
            let mut p = vec![("query", expr.clone())];
            if let Some(t) = time {
                p.push(("time", t.clone()));
            }
            ("/api/v1/query", p)
        }
        Query::Range { expr, start, end, step } => {
            let end = match end {
                Some(e) => parse_time(e)?,
                None => now_s(),
            };
            let start = match start {
                Some(s) => parse_time(s)?,
                None => end - 300.0,
            };
            // promtool's default: about 250 points, whole seconds, at least one.
            let step = match step {
                Some(s) => s.clone(),
                None => format!("{}", ((end - start) / 250.0).floor().max(1.0)),
            };
            let p = vec![("query", expr.clone()), ("start", secs(start)), ("end", secs(end)), ("step", step)];
            ("/api/v1/query_range", p)
        }
    };
    let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    let url = format!("{base}{path}");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let text = rt.block_on(async {
        let resp = reqwest::Client::new()
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("query error: {e}"))?;
        resp.text().await.map_err(|e| format!("query error: {e}"))
    })?;
    let j: Value = serde_json::from_str(&text).map_err(|_| format!("query error: not an API answer: {text}"))?;
    if j["status"] != "success" {
        return Err(format!(
            "query error: {}: {}",
            j["errorType"].as_str().unwrap_or(""),
            j["error"].as_str().unwrap_or("")
        ));
    }
    render(&j["data"])
}

fn now_s() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

fn secs(t: f64) -> String {
    format!("{t:.3}")
}

/// Unix seconds or RFC 3339, as the API takes them.
fn parse_time(s: &str) -> Result<f64, String> {
    if let Ok(v) = s.parse::<f64>() {
        return Ok(v);
    }
    web::time::parse_time(s).map(|ms| ms as f64 / 1000.0).map_err(|e| format!("invalid time {s:?}: {e}"))
}

/// The answer as `promtool query` prints it (Prometheus's `model.Value` strings).
pub fn render(data: &Value) -> Result<String, String> {
    let mut out = String::new();
    let result = &data["result"];
    match data["resultType"].as_str() {
        Some("vector") => {
            for s in result.as_array().into_iter().flatten() {
                let _ = writeln!(out, "{} => {}", metric(&s["metric"]), pair(&s["value"]));
            }
        }
        Some("matrix") => {
            let mut series: Vec<&Value> = result.as_array().into_iter().flatten().collect();
            series.sort_by(|a, b| before(&a["metric"], &b["metric"]));
            for s in series {
                let (m, values) = (metric(&s["metric"]), &s["values"]);
                let _ = writeln!(out, "{m} =>");
                for p in values.as_array().into_iter().flatten() {
                    let _ = writeln!(out, "{}", pair(p));
                }
            }
        }
        Some("scalar") => {
            let _ = writeln!(out, "scalar: {}", pair(result));
        }
        Some("string") => {
            let _ = writeln!(out, "{}", result[1].as_str().unwrap_or(""));
        }
        other => return Err(format!("query error: unknown result type {other:?}")),
    }
    Ok(out)
}

/// Prometheus's `LabelSet.Before`: fewer labels first, then by the values
/// of the names of both, in name order (a missing name sorts first).
fn before(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let empty = serde_json::Map::new();
    let (a, b) = (a.as_object().unwrap_or(&empty), b.as_object().unwrap_or(&empty));
    if a.len() != b.len() {
        return a.len().cmp(&b.len());
    }
    let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for n in names {
        match (a.get(n).and_then(Value::as_str), b.get(n).and_then(Value::as_str)) {
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {}
        }
    }
    Ordering::Equal
}

/// `value @[seconds]`: both in Go's shortest plain decimals.
fn pair(p: &Value) -> String {
    let t = p[0].as_f64().unwrap_or(0.0);
    let v = p[1].as_str().unwrap_or("");
    let v = match v.parse::<f64>() {
        Ok(x) if x.is_finite() => format!("{x}"),
        _ => v.to_string(),
    };
    format!("{v} @[{t}]")
}

/// `name{a="1", b="2"}` with the labels sorted and Go-quoted.
fn metric(m: &Value) -> String {
    let Some(map) = m.as_object() else { return "{}".into() };
    let name = map.get("__name__").and_then(Value::as_str);
    let mut labels: Vec<String> = map
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| {
            let mut s = format!("{k}=");
            go_quote(&mut s, v.as_str().unwrap_or(""));
            s
        })
        .collect();
    if labels.is_empty() {
        return name.unwrap_or("{}").to_string();
    }
    labels.sort();
    format!("{}{{{}}}", name.unwrap_or(""), labels.join(", "))
}

/// Go's `%q`.
fn go_quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_print_as_promtool_prints_them() {
        let v = json!({"resultType": "vector", "result": [
            {"metric": {"__name__": "up", "job": "a\"b", "instance": "h:1"}, "value": [1700000000.5, "1"]},
            {"metric": {}, "value": [1700000000, "1e-07"]}
        ]});
        assert_eq!(
            render(&v).unwrap(),
            "up{instance=\"h:1\", job=\"a\\\"b\"} => 1 @[1700000000.5]\n{} => 0.0000001 @[1700000000]\n"
        );
        let m = json!({"resultType": "matrix", "result": [
            {"metric": {"__name__": "b"}, "values": [[10, "2"], [25, "NaN"]]},
            {"metric": {"__name__": "a"}, "values": [[10, "+Inf"]]}
        ]});
        assert_eq!(render(&m).unwrap(), "a =>\n+Inf @[10]\nb =>\n2 @[10]\nNaN @[25]\n");
        assert_eq!(render(&json!({"resultType": "scalar", "result": [5, "42"]})).unwrap(), "scalar: 42 @[5]\n");
    }
}
