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
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // Most label text needs no escape: look at a byte only when it might.
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            b'<' => "\\u003c",
            b'>' => "\\u003e",
            b'&' => "\\u0026",
            0..0x20 => "",
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
            0xE2 if bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xA8 | 0xA9)) => {
                if bytes[i + 2] == 0xA8 {
                    "\\u2028"
                } else {
                    "\\u2029"
                }
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
            i += 1;
        } else {
            out.push_str(esc);
            i += if esc.starts_with("\\u202") { 3 } else { 1 };
        }
        start = i;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends a millisecond timestamp as Prometheus's seconds: `1700000000`,
/// `1700000000.5` is written `1700000000.500`.
pub fn timestamp(out: &mut String, t: i64) {
    if t < 0 {
        out.push('-');
    }
    let t = t.unsigned_abs();
    out.push_str(itoa::Buffer::new().format(t / 1000));
    let frac = t % 1000;
    if frac != 0 {
        out.push('.');
        for d in [frac / 100, frac / 10 % 10, frac % 10] {
            out.push(char::from(b'0' + d as u8));
        }
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
    fn every_character_round_trips() {
        for c in (0u32..0x3000).chain([0xE000, 0xFFFD, 0x1F600]).filter_map(char::from_u32) {
            let raw = format!("a{c}b{c}");
            let got = s(|o| string(o, &raw));
            assert_eq!(serde_json::from_str::<String>(&got).unwrap(), raw, "U+{:04X}", c as u32);
        }
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
