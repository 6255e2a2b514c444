//! Backfill: samples with timestamps, in the Prometheus text format or
//! OpenMetrics (plain or gzip), written straight into the store as chunks.
//!
//! A file is parsed whole before anything is written: a line that does not
//! parse stops the import with `file:line:col` and the store is left as it
//! was. Samples that parse but cannot be stored (no timestamp, a repeated
//! timestamp with another value, a timestamp already stored) are skipped
//! and counted by reason in the summary.

use crate::scrape::parse::{Entry, Format, Parser};
use flate2::read::GzDecoder;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::Path;
use storage::{Db, Labels, LabelsBuilder, Sample, METRIC_NAME};

/// Why an import stopped (nothing of the failing input was written).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{name}: {source}")]
    Read { name: String, source: std::io::Error },
    #[error("{name}:{line}:{col}: {message}")]
    Parse { name: String, line: usize, col: usize, message: String },
    #[error("{name}: not UTF-8 text (at byte {at})")]
    NotUtf8 { name: String, at: usize },
    #[error("{name}: writing to the store: {source}")]
    Store { name: String, source: std::io::Error },
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub series: u64,
    pub samples: u64,
    pub no_timestamp: u64,
    pub duplicate: u64,
    pub already_stored: u64,
}

impl Summary {
    pub fn rejected(&self) -> u64 {
        self.no_timestamp + self.duplicate + self.already_stored
    }

    fn add(&mut self, o: &Summary) {
        self.series += o.series;
        self.samples += o.samples;
        self.no_timestamp += o.no_timestamp;
        self.duplicate += o.duplicate;
        self.already_stored += o.already_stored;
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} series, {} samples", self.series, self.samples)?;
        if self.rejected() > 0 {
            let reasons: Vec<String> = [
                (self.no_timestamp, "without a timestamp"),
                (self.duplicate, "repeating a timestamp with another value"),
                (self.already_stored, "at a timestamp already stored"),
            ]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, why)| format!("{n} {why}"))
            .collect();
            write!(f, "; {} samples rejected: {}", self.rejected(), reasons.join(", "))?;
        }
        Ok(())
    }
}

/// Decompresses gzip (recognised by its magic bytes) and checks UTF-8.
pub fn decode_body(name: &str, bytes: Vec<u8>) -> Result<String, ImportError> {
    decode_body_limited(name, bytes, u64::MAX)
}

/// Like [`decode_body`], refusing more than `limit` bytes once decompressed
/// (a small gzip body can inflate without bound).
pub fn decode_body_limited(name: &str, bytes: Vec<u8>, limit: u64) -> Result<String, ImportError> {
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        GzDecoder::new(&bytes[..])
            .take(limit.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|source| ImportError::Read { name: name.to_string(), source })?;
        if out.len() as u64 > limit {
            return Err(ImportError::Read {
                name: name.to_string(),
                source: std::io::Error::other(format!("more than {limit} bytes once decompressed")),
            });
        }
        out
    } else {
        bytes
    };
    String::from_utf8(bytes)
        .map_err(|e| ImportError::NotUtf8 { name: name.to_string(), at: e.utf8_error().valid_up_to() })
}

/// OpenMetrics when the body ends with `# EOF`, the Prometheus text format otherwise.
pub fn detect_format(text: &str) -> Format {
    if text.trim_end().ends_with("# EOF") {
        Format::OpenMetrics
    } else {
        Format::Text
    }
}

/// Series with their samples, and the count of samples without a timestamp.
pub type Parsed = (Vec<(Labels, Vec<Sample>)>, u64);

/// Parses a whole body into series with their samples (first pass: nothing written).
pub fn parse(name: &str, text: &str, progress: &dyn Fn(u64)) -> Result<Parsed, ImportError> {
    let mut by_key: HashMap<&str, usize> = HashMap::new();
    let mut series: Vec<(Labels, Vec<Sample>)> = Vec::new();
    let mut no_timestamp = 0u64;
    let mut parser = Parser::new(text, detect_format(text));
    let mut n = 0u64;
    for entry in &mut parser {
        let entry = entry.map_err(|e| ImportError::Parse {
            name: name.to_string(),
            line: e.line,
            col: e.col,
            message: e.message,
        })?;
        let Entry::Sample(s) = entry else { continue };
        n += 1;
        if n.is_multiple_of(65_536) {
            let at = (s.series.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
            progress(at as u64);
        }
        let Some(t) = s.timestamp_ms else {
            no_timestamp += 1;
            continue;
        };
        let k = *by_key.entry(s.series).or_insert_with(|| {
            let mut lb = LabelsBuilder::default();
            lb.set(METRIC_NAME, s.name);
            for (ln, lv) in s.labels() {
                lb.set(ln, lv.into_owned());
            }
            series.push((lb.build(), Vec::new()));
            series.len() - 1
        });
        series[k].1.push(Sample { t, v: s.value });
    }
    progress(text.len() as u64);
    Ok((series, no_timestamp))
}

/// Imports one body (a file's or an HTTP request's) into a persistent store.
pub fn import_text(db: &Db, name: &str, text: &str, progress: &dyn Fn(u64)) -> Result<Summary, ImportError> {
    let (series, no_timestamp) = parse(name, text, progress)?;
    let o = db.import(series).map_err(|source| ImportError::Store { name: name.to_string(), source })?;
    Ok(Summary {
        series: o.series,
        samples: o.samples,
        no_timestamp,
        duplicate: o.duplicate,
        already_stored: o.already_stored,
    })
}

/// `vigil import FILE… --data-dir DIR`: each file in turn, with a progress
/// bar on a terminal; a file that fails stops the run (earlier files stay imported).
pub fn import_files(db: &Db, files: &[impl AsRef<Path>]) -> Result<Summary, ImportError> {
    let mut total = Summary::default();
    for f in files {
        let f = f.as_ref();
        let name = f.display().to_string();
        let bytes = std::fs::read(f).map_err(|source| ImportError::Read { name: name.clone(), source })?;
        let text = decode_body(&name, bytes)?;
        let bar =
            indicatif::ProgressBar::with_draw_target(Some(text.len() as u64), indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(format!("parsing {name}"));
        let s = import_text(db, &name, &text, &|at| bar.set_position(at));
        bar.finish_and_clear();
        let s = s?;
        eprintln!("{name}: {s}");
        total.add(&s);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_groups_series_and_counts_missing_timestamps() {
        let text = "# TYPE m gauge\nm{a=\"1\"} 1 1000\nm{a=\"1\"} 2 2000\nm{a=\"2\"} 5\nm{a=\"2\"} 6 3000\n";
        let (series, no_ts) = parse("x", text, &|_| {}).unwrap();
        assert_eq!(no_ts, 1);
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].1, vec![Sample { t: 1000, v: 1.0 }, Sample { t: 2000, v: 2.0 }]);
        assert_eq!(series[1].0.get("a"), Some("2"));
    }

    #[test]
    fn openmetrics_timestamps_are_seconds() {
        let text = "# TYPE m gauge\nm 1 1.5\n# EOF\n";
        let (series, _) = parse("x", text, &|_| {}).unwrap();
        assert_eq!(series[0].1, vec![Sample { t: 1500, v: 1.0 }]);
    }

    #[test]
    fn a_bad_line_names_file_line_and_column() {
        let err = parse("dump.txt", "m 1 1000\nm{a=1} 2 2000\n", &|_| {}).unwrap_err();
        assert!(err.to_string().starts_with("dump.txt:2:"), "{err}");
    }

    #[test]
    fn gzip_and_bad_utf8() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"m 1 1000\n").unwrap();
        assert_eq!(decode_body("a", gz.finish().unwrap()).unwrap(), "m 1 1000\n");
        let err = decode_body("b", b"m 1 \xff".to_vec()).unwrap_err();
        assert_eq!(err.to_string(), "b: not UTF-8 text (at byte 4)");
    }
}
