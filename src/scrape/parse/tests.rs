//! Table-driven conformance cases, written from the text format 0.0.4 and
//! OpenMetrics 1.0 specifications and from what Prometheus's scraper
//! accepts and rejects.

use super::*;

/// (name, labels, value, timestamp) of one parsed sample.
type Parsed = (String, Vec<(String, String)>, f64, Option<i64>);

fn samples(body: &str, format: Format) -> Result<Vec<Parsed>, ParseError> {
    let mut out = Vec::new();
    for e in Parser::new(body, format) {
        if let Entry::Sample(s) = e? {
            let labels = s.labels().map(|(n, v)| (n.to_string(), v.into_owned())).collect();
            out.push((s.name.to_string(), labels, s.value, s.timestamp_ms));
        }
    }
    Ok(out)
}

/// Bodies the text parser must accept, with the number of samples each holds.
const TEXT_GOOD: &[(&str, usize)] = &[
    ("", 0),
    ("\n\n", 0),
    ("m 1\n", 1),
    ("m 1", 1),
    ("m 1 1700000000000\n", 1),
    ("m -1 -5\n", 1),
    ("m{} 1\n", 1),
    ("m{a=\"b\"} 1\n", 1),
    ("m{a=\"b\",} 1\n", 1),
    ("m { a = \"b\" , c=\"d\" } 1\n", 1),
    ("m{a=\"}\"} 1\n", 1),
    ("m{a=\"\\\"\\\\\\n\"} 1\n", 1),
    ("m{a=\"\\q\"} 1\n", 1),
    ("m{a=\"ünïcödé\"} 1\n", 1),
    ("m NaN\n", 1),
    ("m +Inf\n", 1),
    ("m -Inf\n", 1),
    ("m 1e-3\n", 1),
    ("m\t1\t2\n", 1),
    ("  m 1  \n", 1),
    ("m:sub_total 1\n", 1),
    ("_m 1\n", 1),
    ("# HELP m Some help.\n# TYPE m counter\nm 1\n", 1),
    ("# HELP m with \\\\ and \\n escapes\nm 1\n", 1),
    ("# HELP m\nm 1\n", 1),
    ("# TYPE m untyped\nm 1\n", 1),
    ("# TYPE m gauge\nm 1\n", 1),
    ("# TYPE m histogram\nm_bucket{le=\"+Inf\"} 1\nm_sum 1\nm_count 1\n", 3),
    ("# TYPE m summary\nm{quantile=\"0.5\"} 1\nm_sum 1\nm_count 1\n", 3),
    ("# just a comment\nm 1\n", 1),
    ("#\nm 1\n", 1),
    ("# TYPEX m foo\nm 1\n", 1),
    // Cases from Prometheus's own text parser tests.
    ("# \tTYPE go_gc_duration_seconds summary\ngo_gc_duration_seconds{quantile=\"0\"} 4.9351e-05\n", 1),
    ("go_gc_duration_seconds{ quantile=\"0.9\", a=\"b\"} 8.3835e-05\n", 1),
    ("go_gc_duration_seconds { quantile= \"1.0\", a= \"b\", } 8.3835e-05\n", 1),
    ("go_gc_duration_seconds { quantile = \"2.0\" a = \"b\" } 8.3835e-05\n", 1),
    ("m{a=\"b\" c=\"d\"} 1\n", 1),
    ("# Hrandom comment starting with prefix of HELP\n#\nwind_speed{A=\"2\",c=\"3\"} 12345\n", 1),
    ("# comment with escaped \\n newline\n# HELP nohelp1\n# HELP nohelp2 \n", 0),
    ("some:aggregate:rate5m{a_b=\"c\"}\t1\n", 1),
    ("go_goroutines 33  \t123123\n", 1),
    ("testmetric{_label_starting_with_underscore=\"foo\"} 1\n", 1),
    ("# HELP metric foo\x00bar\nnull_byte_metric{a=\"abc\x00\"} 1", 1),
    ("a{b=\"\x00ss\"} 1\n", 1),
    ("m infinity\nn -inf\no nan\n", 3),
];

/// Bodies the text parser must reject, with the line the error names.
const TEXT_BAD: &[(&str, usize)] = &[
    ("m\n", 1),
    ("m{a=\"b\"}\n", 1),
    ("m abc\n", 1),
    ("m 1 abc\n", 1),
    ("m 1 1.5\n", 1),
    ("m 1 2 3\n", 1),
    ("m{a=\"b} 1\n", 1),
    ("m{a=\"b\\\"} 1\n", 1),
    ("m{a=b} 1\n", 1),
    ("m{a} 1\n", 1),
    ("m{1a=\"b\"} 1\n", 1),
    ("m{a=\"b\"\n", 1),
    ("1m 1\n", 1),
    ("m-x 1\n", 1),
    ("{a=\"b\"} 1\n", 1),
    ("ok 1\nm{ 1\n", 2),
    ("# TYPE m foo\nm 1\n", 1),
    ("# TYPE m unknown\n", 1),
    ("# TYPE m\n", 1),
    ("# HELP 1m x\n", 1),
    // Cases from Prometheus's own text parser tests.
    ("a", 1),
    ("a{b='c'} 1\n", 1),
    ("a{b=\n", 1),
    ("a true\n", 1),
    ("something_weird{problem=\"", 1),
    ("empty_label_name{=\"\"} 0", 1),
    ("foo 1_2\n", 1),
    ("foo 0x1p-3\n", 1),
    ("foo 0 1_2\n", 1),
    ("{a=\"ok\"} 1", 1),
    ("# TYPE #\n", 1),
    ("# HELP #\n", 1),
    ("a{b=\x00\"ssss\"} 1\n", 1),
    ("a{b\x00=\"hiih\"}\t1", 1),
    ("a\x00{b=\"ddd\"} 1", 1),
    ("a 0 1\x00", 1),
];

#[test]
fn text_format_accepts() {
    for (body, n) in TEXT_GOOD {
        match samples(body, Format::Text) {
            Ok(s) => assert_eq!(s.len(), *n, "{body:?}"),
            Err(e) => panic!("{body:?} rejected: {e}"),
        }
    }
}

#[test]
fn text_format_rejects() {
    for (body, line) in TEXT_BAD {
        match samples(body, Format::Text) {
            Ok(s) => panic!("{body:?} accepted: {s:?}"),
            Err(e) => assert_eq!(e.line, *line, "{body:?}: {e}"),
        }
    }
}

#[test]
fn values_labels_and_timestamps() {
    let s = samples("m{a=\"x\\\"y\\\\z\\nw\",b=\"\\q\"} -2.5e3 1700000000123\n", Format::Text).unwrap();
    assert_eq!(s[0].0, "m");
    assert_eq!(s[0].1, vec![("a".into(), "x\"y\\z\nw".into()), ("b".into(), "\\q".into())]);
    assert_eq!(s[0].2, -2500.0);
    assert_eq!(s[0].3, Some(1_700_000_000_123));
    let s = samples("m NaN\nn +Inf\no -Inf\n", Format::Text).unwrap();
    assert!(s[0].2.is_nan());
    assert_eq!(s[1].2, f64::INFINITY);
    assert_eq!(s[2].2, f64::NEG_INFINITY);
}

#[test]
fn series_text_is_the_written_key() {
    let mut p = Parser::new("m{a=\"b\"}  1\nm 2\n", Format::Text);
    let Some(Ok(Entry::Sample(s))) = p.next() else { panic!() };
    assert_eq!(s.series, "m{a=\"b\"}");
    let Some(Ok(Entry::Sample(s))) = p.next() else { panic!() };
    assert_eq!(s.series, "m");
}

#[test]
fn errors_name_line_and_column() {
    let e = samples("ok 1\nm{a=\"b\"} zz\n", Format::Text).unwrap_err();
    assert_eq!((e.line, e.col), (2, 10), "{e}");
    assert!(e.message.contains("invalid value"), "{e}");
}

const OM_GOOD: &[(&str, usize)] = &[
    ("# EOF\n", 0),
    ("# EOF", 0),
    ("m 1\n# EOF\n", 1),
    ("# TYPE m counter\n# HELP m help\nm_total 1\nm_created 1700000000\n# EOF\n", 1),
    ("# TYPE m gauge\n# UNIT m seconds\nm 1 1700000000.5\n# EOF\n", 1),
    ("# TYPE m histogram\nm_bucket{le=\"1\"} 0\nm_bucket{le=\"+Inf\"} 1\nm_count 1\nm_sum 2\nm_created 1\n# EOF\n", 4),
    ("m_total 1 # {trace_id=\"abc\"} 1.0 1700000000\n# EOF\n", 1),
    ("m_total 1 # {} 2\n# EOF\n", 1),
    ("# TYPE m stateset\nm{m=\"a\"} 1\n# EOF\n", 1),
    ("# TYPE m info\nm_info{v=\"1\"} 1\n# EOF\n", 1),
];

const OM_BAD: &[(&str, usize)] = &[
    ("m 1\n", 1),
    ("m 1\n# EOF\nm 2\n", 3),
    ("m  1\n# EOF\n", 1),
    ("m 1 x\n# EOF\n", 1),
    ("m 1 # {a=\"b\"}\n# EOF\n", 1),
    ("m 1 # {a=\"b\"} x\n# EOF\n", 1),
    ("# TYPE m untyped\n# EOF\n", 1),
    ("# FOO m x\n# EOF\n", 1),
    ("#TYPE m counter\n# EOF\n", 1),
];

#[test]
fn openmetrics_accepts() {
    for (body, n) in OM_GOOD {
        match samples(body, Format::OpenMetrics) {
            Ok(s) => assert_eq!(s.len(), *n, "{body:?}"),
            Err(e) => panic!("{body:?} rejected: {e}"),
        }
    }
}

#[test]
fn openmetrics_rejects() {
    for (body, line) in OM_BAD {
        match samples(body, Format::OpenMetrics) {
            Ok(s) => panic!("{body:?} accepted: {s:?}"),
            Err(e) => assert!(e.line == *line || (*line == 1 && e.line <= 2), "{body:?}: {e}"),
        }
    }
}

#[test]
fn openmetrics_timestamps_are_seconds() {
    let s = samples("m 1 1700000000.123\n# EOF\n", Format::OpenMetrics).unwrap();
    assert_eq!(s[0].3, Some(1_700_000_000_123));
}

#[test]
fn content_type_picks_the_grammar() {
    assert_eq!(
        Format::from_content_type(Some("application/openmetrics-text; version=1.0.0; charset=utf-8")),
        Format::OpenMetrics
    );
    assert_eq!(Format::from_content_type(Some("text/plain; version=0.0.4")), Format::Text);
    assert_eq!(Format::from_content_type(Some("text/html")), Format::Text);
    assert_eq!(Format::from_content_type(None), Format::Text);
}

#[test]
fn one_megabyte_line_is_an_error_not_a_hang() {
    let mut body = String::from("m{a=\"");
    body.push_str(&"x".repeat(1 << 20));
    body.push('\n');
    assert!(samples(&body, Format::Text).is_err());
    let long_ok = format!("m{{a=\"{}\"}} 1\n", "y".repeat(1 << 20));
    assert_eq!(samples(&long_ok, Format::Text).unwrap().len(), 1);
}

#[test]
fn html_page_is_rejected() {
    let e = samples("<!DOCTYPE html>\n<html><body>Not metrics</body></html>\n", Format::Text).unwrap_err();
    assert_eq!(e.line, 1);
}
