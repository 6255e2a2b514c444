//! Query results written straight into the response text, without building
//! a JSON tree first: a 10k-series vector or a 100 × 1,000-point matrix is
//! mostly numbers and label strings, and this is where an API answer's time
//! goes. The output is byte for byte what Prometheus writes: timestamps as
//! seconds with the milliseconds after a point, values as quoted strings,
//! and strings escaped as Go's encoding/json does (`<`, `>`, `&`, U+2028
//! and U+2029 too, so a label value can never read as HTML).

use promql::{Series, VectorSample};
use std::fmt::Write;
use storage::Labels;

/// Appends `s` as a JSON string.
pub fn string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '<' => Some("\\u003c"),
            '>' => Some("\\u003e"),
            '&' => Some("\\u0026"),
            '\u{2028}' => Some("\\u2028"),
            '\u{2029}' => Some("\\u2029"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends a millisecond timestamp as Prometheus's seconds: `1700000000`,
/// `1700000000.5` is written `1700000000.500`.
pub fn timestamp(out: &mut String, t: i64) {
    let mut t = t as i128;
    if t < 0 {
        out.push('-');
        t = -t;
    }
    let _ = write!(out, "{}", t / 1000);
    let frac = t % 1000;
    if frac != 0 {
        let _ = write!(out, ".{frac:03}");
    }
}

/// Appends a sample value as the quoted string Prometheus writes.
pub fn value(out: &mut String, v: f64) {
    out.push('"');
    promql::write_value(out, v);
    out.push('"');
}

/// Appends a label set as a JSON object.
pub fn labels(out: &mut String, l: &Labels) {
    out.push('{');
    for (i, p) in l.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, p.name);
        out.push(':');
        string(out, p.value);
    }
    out.push('}');
}

fn point(out: &mut String, t: i64, v: f64) {
    out.push('[');
    timestamp(out, t);
    out.push(',');
    value(out, v);
    out.push(']');
}

/// `{"resultType":"vector","result":[…]}`
pub fn vector(out: &mut String, v: &[VectorSample]) {
    out.push_str(r#"{"resultType":"vector","result":["#);
    for (i, s) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"metric":"#);
        labels(out, &s.labels);
        out.push_str(r#","value":"#);
        point(out, s.t, s.v);
        out.push('}');
    }
    out.push_str("]}");
}

/// `{"resultType":"matrix","result":[…]}`
pub fn matrix(out: &mut String, m: &[Series]) {
    out.push_str(r#"{"resultType":"matrix","result":["#);
    for (i, s) in m.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"metric":"#);
        labels(out, &s.labels);
        out.push_str(r#","values":["#);
        for (k, (t, v)) in s.points.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            point(out, *t, *v);
        }
        out.push_str("]}");
    }
    out.push_str("]}");
}

/// `{"resultType":"scalar","result":[t,"v"]}`. Prometheus writes a scalar's
/// value in plain decimals whatever its size (`0.00000015`, not `1.5e-07`).
pub fn scalar(out: &mut String, t: i64, v: f64) {
    out.push_str(r#"{"resultType":"scalar","result":["#);
    timestamp(out, t);
    out.push_str(",\"");
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{v}");
    }
    out.push_str("\"]}");
}

/// `{"resultType":"string","result":[t,"s"]}`
pub fn string_result(out: &mut String, t: i64, s: &str) {
    out.push_str(r#"{"resultType":"string","result":["#);
    timestamp(out, t);
    out.push(',');
    string(out, s);
    out.push_str("]}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut String)) -> String {
        let mut out = String::new();
        f(&mut out);
        out
    }

    #[test]
    fn timestamps_as_prometheus_writes_them() {
        assert_eq!(s(|o| timestamp(o, 1_700_000_000_000)), "1700000000");
        assert_eq!(s(|o| timestamp(o, 1_700_000_000_500)), "1700000000.500");
        assert_eq!(s(|o| timestamp(o, 1_700_000_000_007)), "1700000000.007");
        assert_eq!(s(|o| timestamp(o, -1_500)), "-1.500");
        assert_eq!(s(|o| timestamp(o, i64::MIN)), "-9223372036854775.808");
    }

    #[test]
    fn strings_escaped_as_go_does_and_valid_json() {
        let raw = "a\"b\\c\n\t\u{1}<script>&\u{2028}é";
        let got = s(|o| string(o, raw));
        assert_eq!(got, r#""a\"b\\c\n\t\u0001\u003cscript\u003e\u0026\u2028é""#);
        assert_eq!(serde_json::from_str::<String>(&got).unwrap(), raw);
    }

    #[test]
    fn scalars_in_plain_decimals_as_prometheus_writes_them() {
        assert_eq!(s(|o| scalar(o, 1_000, 1.5e-7)), r#"{"resultType":"scalar","result":[1,"0.00000015"]}"#);
        assert_eq!(s(|o| scalar(o, 1_000, f64::NEG_INFINITY)), r#"{"resultType":"scalar","result":[1,"-Inf"]}"#);
    }

    #[test]
    fn a_vector_parses_back() {
        let v = vec![VectorSample { labels: Labels::from_pairs([("__name__", "up"), ("job", "x")]), t: 1_500, v: 1.0 }];
        let got: serde_json::Value = serde_json::from_str(&s(|o| vector(o, &v))).unwrap();
        assert_eq!(
            got,
            serde_json::json!({"resultType": "vector", "result": [{"metric": {"__name__": "up", "job": "x"}, "value": [1.5, "1"]}]})
        );
    }
}
