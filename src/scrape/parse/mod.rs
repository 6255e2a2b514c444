//! Exposition format parsers: the Prometheus text format 0.0.4 and
//! OpenMetrics 1.0 text, both written with nom and run in place over the
//! scraped body.
//!
//! A [`Parser`] yields [`Entry`]s borrowing from the body: no `String` is
//! made per line. A sample's labels are checked while parsing and can be
//! walked again with [`SampleEntry::labels`] when the caller needs them (the
//! scrape loop only does so for series it has not seen before).

mod lex;
pub(crate) use lex::unescape;

use std::borrow::Cow;
use std::fmt;

/// Which grammar a body is in, chosen from the response's Content-Type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4` and anything unrecognised, as Prometheus does.
    Text,
    /// `application/openmetrics-text`.
    OpenMetrics,
}

impl Format {
    pub fn from_content_type(ct: Option<&str>) -> Format {
        match ct {
            Some(ct) if ct.trim_start().to_ascii_lowercase().starts_with("application/openmetrics-text") => {
                Format::OpenMetrics
            }
            _ => Format::Text,
        }
    }
}

/// The metric type declared by a `# TYPE` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    Unknown,
}

impl MetricType {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }
}

/// One parsed line.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry<'a> {
    Sample(SampleEntry<'a>),
    Type {
        name: &'a str,
        kind: MetricType,
    },
    /// The help text, still escaped (`\\` and `\n`) as in the body.
    Help {
        name: &'a str,
        text: &'a str,
    },
    Unit {
        name: &'a str,
        unit: &'a str,
    },
}

/// A sample line.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleEntry<'a> {
    /// The metric name and label set exactly as written: a stable key for
    /// caching the series across scrapes.
    pub series: &'a str,
    pub name: &'a str,
    /// The text between the braces (empty without braces), already checked.
    raw_labels: &'a str,
    pub value: f64,
    /// Milliseconds since the epoch, when the line has a timestamp.
    pub timestamp_ms: Option<i64>,
}

impl<'a> SampleEntry<'a> {
    /// The sample's labels (the metric name excluded) with escapes resolved.
    pub fn labels(&self) -> LabelIter<'a> {
        LabelIter { rest: self.raw_labels }
    }
}

/// Walks the label pairs of a checked label set.
pub struct LabelIter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for LabelIter<'a> {
    type Item = (&'a str, Cow<'a, str>);
    fn next(&mut self) -> Option<Self::Item> {
        let (rest, pair) = lex::label_pair(self.rest).ok()?;
        self.rest = lex::label_separator(rest);
        Some(pair)
    }
}

/// A body that does not parse: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.col, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Iterates over the entries of one body. Stops at the first error.
pub struct Parser<'a> {
    body: &'a str,
    rest: &'a str,
    line: usize,
    format: Format,
    seen_eof: bool,
    failed: bool,
    /// Name and type of the family declared last (OpenMetrics `_created` handling).
    family: Option<(&'a str, MetricType)>,
}

impl<'a> Parser<'a> {
    pub fn new(body: &'a str, format: Format) -> Self {
        Parser { body, rest: body, line: 0, format, seen_eof: false, failed: false, family: None }
    }

    fn error(&mut self, at: &str, message: impl Into<String>) -> ParseError {
        self.failed = true;
        // `at` is a sub-slice of the body (or empty); find where it starts.
        let offset = (at.as_ptr() as usize).saturating_sub(self.body.as_ptr() as usize).min(self.body.len());
        let offset = floor_boundary(self.body, offset);
        let line_start = self.body[..offset].rfind('\n').map_or(0, |i| i + 1);
        let col = self.body[line_start..offset].chars().count() + 1;
        ParseError { line: self.line, col, message: message.into() }
    }

    fn next_line(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        self.line += 1;
        let (line, rest) = match memchr_newline(self.rest) {
            Some(n) => (&self.rest[..n], &self.rest[n + 1..]),
            None => (self.rest, ""),
        };
        self.rest = rest;
        Some(line)
    }

    fn text_line(&mut self, line: &'a str) -> Option<Result<Entry<'a>, ParseError>> {
        let trimmed = line.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() {
            return None;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            return match lex::text_comment(comment) {
                Ok(entry) => entry.map(Ok),
                Err(e) => Some(Err(self.error(e.at, e.message))),
            };
        }
        Some(match lex::text_sample(trimmed) {
            Ok((_, s)) => Ok(Entry::Sample(s)),
            Err(e) => Err(self.error(e.at, e.message)),
        })
    }

    fn openmetrics_line(&mut self, line: &'a str) -> Option<Result<Entry<'a>, ParseError>> {
        if self.seen_eof {
            return Some(Err(self.error(line, "unexpected data after # EOF")));
        }
        if line == "# EOF" {
            self.seen_eof = true;
            return None;
        }
        if line.starts_with('#') {
            return Some(match lex::openmetrics_comment(line) {
                Ok(entry) => {
                    if let Entry::Type { name, kind } = entry {
                        self.family = Some((name, kind));
                    }
                    Ok(entry)
                }
                Err(e) => Err(self.error(e.at, e.message)),
            });
        }
        match lex::openmetrics_sample(line) {
            Ok((_, s)) => {
                // `_created` samples of counters, histograms and summaries carry
                // creation times, not values; Prometheus leaves them out.
                if let (Some(base), Some((family, kind))) = (s.name.strip_suffix("_created"), self.family) {
                    if base == family
                        && matches!(
                            kind,
                            MetricType::Counter
                                | MetricType::Histogram
                                | MetricType::Summary
                                | MetricType::GaugeHistogram
                        )
                    {
                        return None;
                    }
                }
                Some(Ok(Entry::Sample(s)))
            }
            Err(e) => Some(Err(self.error(e.at, e.message))),
        }
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            let Some(line) = self.next_line() else {
                if self.format == Format::OpenMetrics && !self.seen_eof {
                    let end = &self.body[self.body.len()..];
                    return Some(Err(self.error(end, "expected \"# EOF\" at the end of an OpenMetrics body")));
                }
                return None;
            };
            let entry = match self.format {
                Format::Text => self.text_line(line),
                Format::OpenMetrics => self.openmetrics_line(line),
            };
            if entry.is_some() {
                return entry;
            }
        }
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn memchr_newline(s: &str) -> Option<usize> {
    memchr::memchr(b'\n', s.as_bytes())
}

#[cfg(test)]
mod tests;
