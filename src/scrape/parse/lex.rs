//! The tokens and lines of both exposition grammars, as nom parsers over
//! `&str`. Each returns the rest of the input; failures carry the input
//! remaining at the fault so that [`super::Parser`] can turn it into a
//! line and column.

use super::{Entry, MetricType, SampleEntry};
use nom::bytes::complete::take_while;
use nom::Parser;
use std::borrow::Cow;

/// A failure: the input remaining where it happened and what was wrong.
#[derive(Debug)]
pub struct LexError<'a> {
    pub at: &'a str,
    pub message: String,
}

type LResult<'a, T> = Result<(&'a str, T), LexError<'a>>;

fn fail<'a, T>(at: &'a str, message: impl Into<String>) -> LResult<'a, T> {
    Err(LexError { at, message: message.into() })
}

type ByteResult<'a> = nom::IResult<&'a [u8], &'a [u8], nom::error::Error<&'a [u8]>>;

/// Byte classes as lookup tables: one load per byte on the hot path.
/// `digits`: 0-9 allowed; `colon`: `:` allowed.
const fn class(digits: bool, colon: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphabetic() || b == b'_' || (colon && b == b':') || (digits && b.is_ascii_digit());
        c += 1;
    }
    t
}

const NAME_START: [bool; 256] = class(false, true);
const NAME_CHAR: [bool; 256] = class(true, true);
const LABEL_START: [bool; 256] = class(false, false);
const LABEL_CHAR: [bool; 256] = class(true, false);

#[inline]
fn is_name_start(c: u8) -> bool {
    NAME_START[c as usize]
}
#[inline]
fn is_name_char(c: u8) -> bool {
    NAME_CHAR[c as usize]
}
#[inline]
fn is_label_start(c: u8) -> bool {
    LABEL_START[c as usize]
}
#[inline]
fn is_label_char(c: u8) -> bool {
    LABEL_CHAR[c as usize]
}
#[inline]
fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Length of the longest prefix whose bytes satisfy `pred`: nom over the
/// bytes, a tight loop with no UTF-8 decoding. Every predicate here accepts
/// ASCII only, so the length is always a char boundary.
#[inline]
fn span(i: &str, pred: impl Fn(u8) -> bool) -> usize {
    let r: ByteResult = take_while(pred).parse(i.as_bytes());
    r.map_or(0, |(_, m)| m.len())
}

#[inline]
fn starts_with(i: &str, pred: impl Fn(u8) -> bool) -> bool {
    i.as_bytes().first().is_some_and(|&c| pred(c))
}

#[inline]
fn blanks(i: &str) -> &str {
    &i[span(i, is_blank)..]
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub fn metric_name(i: &str) -> LResult<'_, &str> {
    if !starts_with(i, is_name_start) {
        return fail(i, "expected a metric name");
    }
    let n = span(i, is_name_char);
    Ok((&i[n..], &i[..n]))
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
fn label_name(i: &str) -> LResult<'_, &str> {
    if !starts_with(i, is_label_start) {
        return fail(i, "expected a label name");
    }
    let n = span(i, is_label_char);
    Ok((&i[n..], &i[..n]))
}

/// A double-quoted label value. `\\`, `\"` and `\n` are unescaped; any other
/// escaped character is kept as written, as Prometheus's scraper does.
fn label_value(i: &str) -> LResult<'_, Cow<'_, str>> {
    let Some(body) = i.strip_prefix('"') else {
        return fail(i, "expected a quoted label value");
    };
    let bytes = body.as_bytes();
    let mut escaped = false;
    let mut k = 0;
    while let Some(off) = memchr::memchr3(b'"', b'\\', b'\n', &bytes[k..]) {
        k += off;
        match bytes[k] {
            b'"' => {
                let raw = &body[..k];
                let v = if escaped { Cow::Owned(unescape(raw)) } else { Cow::Borrowed(raw) };
                return Ok((&body[k + 1..], v));
            }
            b'\\' => {
                escaped = true;
                k += 2;
                if k > bytes.len() {
                    break;
                }
            }
            _ => break,
        }
    }
    fail(i, "unterminated label value (missing closing quote)")
}

/// `\n`, `\\` and `\"` as the characters they stand for (label values, HELP text);
/// an unknown escape is kept as written.
pub(crate) fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// `name="value"`, with blanks allowed around `=` in the text format.
pub fn label_pair(i: &str) -> LResult<'_, (&str, Cow<'_, str>)> {
    let (rest, name) = label_name(i)?;
    let rest = blanks(rest);
    let Some(rest) = rest.strip_prefix('=') else {
        return fail(rest, format!("expected '=' after label name {name:?}"));
    };
    let rest = blanks(rest);
    let (rest, value) = label_value(rest)?;
    Ok((rest, (name, value)))
}

/// Skips what separates two pairs of an already checked label set.
pub fn label_separator(i: &str) -> &str {
    let rest = blanks(i);
    blanks(rest.strip_prefix(',').unwrap_or(rest))
}

/// `{…}` → the text inside the braces, every pair checked. With
/// `lenient_commas` (the text format), pairs may also be separated by blanks
/// alone, as Prometheus's text lexer allows.
fn label_set(i: &str, lenient_commas: bool) -> LResult<'_, &str> {
    let Some(inner) = i.strip_prefix('{') else {
        return fail(i, "expected '{'");
    };
    let mut rest = blanks(inner);
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            let raw = &inner[..inner.len() - rest.len()];
            return Ok((after, raw));
        }
        let (r, _) = label_pair(rest)?;
        let r = blanks(r);
        rest = match r.strip_prefix(',') {
            Some(r) => blanks(r),
            None if r.starts_with('}') => r,
            None if lenient_commas && starts_with(r, is_label_start) => r,
            None => return fail(r, "expected ',' or '}' after a label"),
        };
    }
}

/// A float as Go's ParseFloat reads it (NaN, ±Inf in any case included).
fn float(i: &str, what: &str) -> LResult<'static, f64> {
    i.parse::<f64>().map(|v| ("", v)).map_err(|_| LexError { at: "", message: format!("invalid {what} {i:?}") })
}

fn token(i: &str) -> (&str, &str) {
    let end = span(i, |c| !is_blank(c));
    // Stop only at ASCII blanks, so `end` is a char boundary.
    (&i[..end], &i[end..])
}

/// `name{labels} value [timestamp_ms]` (text format 0.0.4).
pub fn text_sample(line: &str) -> LResult<'_, SampleEntry<'_>> {
    let (rest, name) = metric_name(line)?;
    let rest = blanks(rest);
    let (rest, raw_labels) = if rest.starts_with('{') { label_set(rest, true)? } else { (rest, "") };
    let series = &line[..line.len() - rest.len()];
    let series = series.trim_end_matches([' ', '\t']);
    let rest = blanks(rest);
    if rest.is_empty() {
        return fail(rest, format!("expected a value after {name:?}"));
    }
    let (value_tok, rest) = token(rest);
    let value =
        float(value_tok, "value").map_err(|e| LexError { at: value_tok_at(line, value_tok), message: e.message })?.1;
    let rest = blanks(rest);
    let timestamp_ms = if rest.is_empty() {
        None
    } else {
        let (ts_tok, after) = token(rest);
        let ts = ts_tok
            .parse::<i64>()
            .map_err(|_| LexError { at: rest, message: format!("invalid timestamp {ts_tok:?}") })?;
        let after = blanks(after);
        if !after.is_empty() {
            return fail(after, "unexpected text after the timestamp");
        }
        Some(ts)
    };
    Ok(("", SampleEntry { series, name, raw_labels, value, timestamp_ms }))
}

fn value_tok_at<'a>(line: &'a str, tok: &'a str) -> &'a str {
    // `tok` is a sub-slice of `line`; find where it starts.
    let off = tok.as_ptr() as usize - line.as_ptr() as usize;
    &line[off..]
}

fn metric_type(word: &str) -> Option<MetricType> {
    Some(match word {
        "counter" => MetricType::Counter,
        "gauge" => MetricType::Gauge,
        "histogram" => MetricType::Histogram,
        "gaugehistogram" => MetricType::GaugeHistogram,
        "summary" => MetricType::Summary,
        "info" => MetricType::Info,
        "stateset" => MetricType::StateSet,
        "unknown" => MetricType::Unknown,
        "untyped" => MetricType::Unknown,
        _ => return None,
    })
}

/// The text after `#` in the text format: HELP, TYPE or a plain comment.
pub fn text_comment(c: &str) -> Result<Option<Entry<'_>>, LexError<'_>> {
    let body = blanks(c);
    let (word, rest) = token(body);
    if (word != "HELP" && word != "TYPE") || !starts_with(rest, is_blank) {
        return Ok(None);
    }
    let rest = blanks(rest);
    let (after, name) = metric_name(rest)?;
    if !after.is_empty() && !starts_with(after, is_blank) {
        return Err(LexError { at: after, message: "invalid character in metric name".into() });
    }
    let arg = blanks(after);
    if word == "HELP" {
        return Ok(Some(Entry::Help { name, text: arg }));
    }
    let kind_word = arg.trim_end_matches([' ', '\t']);
    match metric_type(kind_word).filter(|k| {
        matches!(
            k,
            MetricType::Counter | MetricType::Gauge | MetricType::Histogram | MetricType::Summary | MetricType::Unknown
        )
    }) {
        Some(kind) if kind_word != "unknown" => Ok(Some(Entry::Type { name, kind })),
        _ => Err(LexError { at: arg, message: format!("invalid metric type {kind_word:?}") }),
    }
}

/// `# HELP|TYPE|UNIT name arg` in OpenMetrics (single spaces, nothing else).
pub fn openmetrics_comment(line: &str) -> Result<Entry<'_>, LexError<'_>> {
    let Some(rest) = line.strip_prefix("# ") else {
        return Err(LexError { at: line, message: "expected \"# \" to start a metadata line".into() });
    };
    let (word, rest) = rest.split_at(rest.find(' ').unwrap_or(rest.len()));
    let Some(rest) = rest.strip_prefix(' ') else {
        return Err(LexError { at: rest, message: "expected HELP, TYPE, UNIT or EOF after '#'".into() });
    };
    let (after, name) = metric_name(rest)?;
    let arg = match after.strip_prefix(' ') {
        Some(a) => a,
        None if after.is_empty() => "",
        None => return Err(LexError { at: after, message: "invalid character in metric name".into() }),
    };
    match word {
        "HELP" => Ok(Entry::Help { name, text: arg }),
        "UNIT" => Ok(Entry::Unit { name, unit: arg }),
        "TYPE" => match metric_type(arg).filter(|_| arg != "untyped") {
            Some(kind) => Ok(Entry::Type { name, kind }),
            None => Err(LexError { at: arg, message: format!("invalid metric type {arg:?}") }),
        },
        _ => Err(LexError { at: line, message: format!("expected HELP, TYPE, UNIT or EOF after '#', got {word:?}") }),
    }
}

/// `name{labels} value [timestamp_s] [# {exemplar} value [timestamp]]`.
pub fn openmetrics_sample(line: &str) -> LResult<'_, SampleEntry<'_>> {
    let (rest, name) = metric_name(line)?;
    let (rest, raw_labels) = if rest.starts_with('{') { label_set(rest, false)? } else { (rest, "") };
    let series = &line[..line.len() - rest.len()];
    let Some(rest) = rest.strip_prefix(' ') else {
        return fail(rest, "expected a single space before the value");
    };
    let (sample_part, exemplar) = match rest.find(" # ") {
        Some(k) => (&rest[..k], Some(&rest[k + 3..])),
        None => (rest, None),
    };
    let mut parts = sample_part.split(' ');
    let value_tok = parts.next().unwrap_or("");
    let value = float(value_tok, "value").map_err(|e| LexError { at: rest, message: e.message })?.1;
    let timestamp_ms = match parts.next() {
        None => None,
        Some(ts) => {
            let secs = ts
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite())
                .ok_or_else(|| LexError { at: value_tok_at(line, ts), message: format!("invalid timestamp {ts:?}") })?;
            Some((secs * 1000.0).round() as i64)
        }
    };
    if let Some(extra) = parts.next() {
        return fail(value_tok_at(line, extra), "unexpected text after the timestamp");
    }
    if let Some(ex) = exemplar {
        exemplar_check(ex)?;
    }
    Ok(("", SampleEntry { series, name, raw_labels, value, timestamp_ms }))
}

/// Exemplars are parsed to validate the line, then dropped.
fn exemplar_check(ex: &str) -> Result<(), LexError<'_>> {
    let (rest, _) = label_set(ex, false)?;
    let Some(rest) = rest.strip_prefix(' ') else {
        return Err(LexError { at: rest, message: "expected a space before the exemplar value".into() });
    };
    let mut parts = rest.split(' ');
    for (k, what) in ["exemplar value", "exemplar timestamp"].iter().enumerate() {
        match parts.next() {
            Some(tok) => {
                float(tok, what).map_err(|e| LexError { at: rest, message: e.message })?;
            }
            None if k == 0 => return Err(LexError { at: rest, message: "missing exemplar value".into() }),
            None => {}
        }
    }
    match parts.next() {
        Some(_) => Err(LexError { at: rest, message: "unexpected text after the exemplar".into() }),
        None => Ok(()),
    }
}
