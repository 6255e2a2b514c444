//! Turning one scraped body into one batch for the store: the series
//! cache, target labels, metric relabeling, limits and staleness.
//!
//! This half of the scrape loop is synchronous and owns no I/O, so tests
//! drive it directly with bodies and timestamps.

mod cache;
pub mod metadata;

use crate::config::ScrapeConfig;
use crate::scrape::parse::{Entry, Format, Parser};
use cache::SeriesCache;
use metadata::{MetadataCache, MetricMetadata};
use std::sync::Arc;
use storage::model::relabel;
use storage::{stale_nan, Db, Labels, LabelsBuilder, Sample, SeriesRef, METRIC_NAME};

/// Synthetic series written for every scrape, as Prometheus names them.
pub const REPORT_SERIES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// Cache entries unseen for this many scrapes are forgotten.
const CACHE_MAX_AGE: u64 = 10;

/// What a successful append did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AppendReport {
    /// Sample lines in the body.
    pub scraped: u64,
    /// Samples left after metric relabeling.
    pub post_relabel: u64,
    /// Series this scrape saw for the first time.
    pub series_added: u64,
    pub out_of_order: u64,
    pub duplicate: u64,
}

/// Per-target state carried from one scrape to the next.
pub struct Appender {
    db: Arc<Db>,
    target_labels: Labels,
    config: Arc<ScrapeConfig>,
    cache: SeriesCache,
    iteration: u64,
    /// Series written without an explicit timestamp by the last successful
    /// scrape: those missing from the next one get a staleness marker.
    previous: Vec<SeriesRef>,
    report_refs: Option<[SeriesRef; 5]>,
    /// Reused between scrapes to avoid reallocating.
    batch: Vec<(SeriesRef, Sample)>,
    current: Vec<SeriesRef>,
    metadata: MetadataCache,
    /// The metadata list, when the last scrape changed it.
    new_metadata: Option<Arc<Vec<MetricMetadata>>>,
}

impl Appender {
    pub fn new(db: Arc<Db>, target_labels: Labels, config: Arc<ScrapeConfig>) -> Self {
        Appender {
            db,
            target_labels,
            config,
            cache: SeriesCache::default(),
            iteration: 0,
            previous: Vec::new(),
            report_refs: None,
            batch: Vec::new(),
            current: Vec::new(),
            metadata: MetadataCache::default(),
            new_metadata: None,
        }
    }

    /// Parses `body` and appends its samples at `ts` (ms), all or nothing.
    /// On error nothing from the body is stored and the caller should call
    /// [`Appender::mark_all_stale`], as Prometheus does after a failed scrape.
    pub fn append_body(&mut self, body: &str, format: Format, ts: i64) -> Result<AppendReport, String> {
        let (report, unknown) = self.append_once(body, format, ts)?;
        if unknown == 0 {
            return Ok(report);
        }
        // Retention removed series this cache still named (they had no samples
        // left): resolve every series again and append what did not land.
        self.cache = SeriesCache::default();
        Ok(self.append_once(body, format, ts)?.0)
    }

    /// One pass of [`Appender::append_body`], also returning how many
    /// samples named series the store no longer knows.
    fn append_once(&mut self, body: &str, format: Format, ts: i64) -> Result<(AppendReport, u64), String> {
        self.iteration += 1;
        self.batch.clear();
        self.current.clear();
        let mut report = AppendReport::default();
        let honor_ts = self.config.honor_timestamps;
        let sample_limit = self.config.sample_limit;
        for entry in Parser::new(body, format) {
            let entry = entry.map_err(|e| e.to_string())?;
            let s = match entry {
                Entry::Sample(s) => s,
                Entry::Type { name, kind } => {
                    self.metadata.set_type(name, kind, self.iteration);
                    continue;
                }
                Entry::Help { name, text } => {
                    self.metadata.set_help(name, text, self.iteration);
                    continue;
                }
                Entry::Unit { name, unit } => {
                    self.metadata.set_unit(name, unit, self.iteration);
                    continue;
                }
            };
            report.scraped += 1;
            let series = match self.cache.get(s.series, self.iteration) {
                Some(cached) => cached,
                None => {
                    let r = self.new_series(&s)?;
                    if r.is_some() {
                        report.series_added += 1;
                    }
                    self.cache.insert(s.series, r, self.iteration);
                    r
                }
            };
            let Some(r) = series else { continue };
            report.post_relabel += 1;
            if sample_limit > 0 && report.post_relabel > sample_limit {
                return Err(format!(
                    "sample_limit exceeded: the body has more than {sample_limit} samples after metric relabeling"
                ));
            }
            let t = match s.timestamp_ms {
                Some(t) if honor_ts => t,
                _ => {
                    self.current.push(r);
                    ts
                }
            };
            self.batch.push((r, Sample { t, v: s.value }));
        }
        // Series of the last scrape that did not come back go stale now.
        self.current.sort_unstable();
        self.current.dedup();
        for r in &self.previous {
            if self.current.binary_search(r).is_err() {
                self.batch.push((*r, Sample { t: ts, v: stale_nan() }));
            }
        }
        let out = self.db.append(&self.batch);
        report.out_of_order = out.out_of_order;
        report.duplicate = out.duplicate;
        std::mem::swap(&mut self.previous, &mut self.current);
        if self.iteration.is_multiple_of(CACHE_MAX_AGE) {
            self.cache.retain_recent(self.iteration, CACHE_MAX_AGE);
        }
        if let Some(list) = self.metadata.finish(self.iteration) {
            self.new_metadata = Some(list);
        }
        Ok((report, out.unknown))
    }

    /// The target's metric metadata, when a scrape since the last call changed it.
    pub fn take_metadata(&mut self) -> Option<Arc<Vec<MetricMetadata>>> {
        self.new_metadata.take()
    }

    /// Writes a staleness marker at `ts` for every series of the last
    /// successful scrape (after a failed scrape, or when the target goes away).
    pub fn mark_all_stale(&mut self, ts: i64) {
        let batch: Vec<(SeriesRef, Sample)> =
            self.previous.drain(..).map(|r| (r, Sample { t: ts, v: stale_nan() })).collect();
        self.db.append(&batch);
    }

    /// Writes `up` and the other report series at `ts`.
    pub fn append_report(&mut self, ts: i64, up: bool, duration_s: f64, r: &AppendReport) {
        let values =
            [if up { 1.0 } else { 0.0 }, duration_s, r.scraped as f64, r.post_relabel as f64, r.series_added as f64];
        for _ in 0..2 {
            let refs = *self.report_refs.get_or_insert_with(|| {
                REPORT_SERIES.map(|name| {
                    let mut lb = self.target_labels.builder();
                    lb.set(METRIC_NAME, name);
                    self.db.get_or_create(&lb.build())
                })
            });
            let batch: Vec<(SeriesRef, Sample)> =
                refs.iter().zip(values).map(|(r, v)| (*r, Sample { t: ts, v })).collect();
            if self.db.append(&batch).unknown == 0 {
                return;
            }
            // Removed after retention emptied them (the target was down for longer than the retention).
            self.report_refs = None;
        }
    }

    /// Marks the report series stale (the target went away).
    pub fn report_stale(&mut self, ts: i64) {
        if let Some(refs) = self.report_refs {
            let batch: Vec<(SeriesRef, Sample)> = refs.iter().map(|r| (*r, Sample { t: ts, v: stale_nan() })).collect();
            self.db.append(&batch);
        }
    }

    /// Labels of a series seen for the first time: the scraped labels, the
    /// target's labels (honor_labels or `exported_`), then metric relabeling.
    fn new_series(&self, s: &crate::scrape::parse::SampleEntry<'_>) -> Result<Option<SeriesRef>, String> {
        let cfg = &self.config;
        let mut scraped: Vec<(&str, std::borrow::Cow<'_, str>)> = Vec::with_capacity(8);
        for (name, value) in s.labels() {
            if name == METRIC_NAME || scraped.iter().any(|(n, _)| *n == name) {
                return Err(format!("label name {name:?} is not unique in {}", s.series));
            }
            scraped.push((name, value));
        }
        let mut lb = LabelsBuilder::default();
        lb.set(METRIC_NAME, s.name);
        for (n, v) in &scraped {
            lb.set(*n, v.as_ref());
        }
        for tl in &self.target_labels {
            let existing = lb.get(tl.name).map(str::to_string);
            if cfg.honor_labels {
                if existing.is_none() {
                    lb.set(tl.name.to_string(), tl.value.to_string());
                }
            } else {
                if let Some(v) = existing {
                    let mut exported = format!("exported_{}", tl.name);
                    while scraped.iter().any(|(n, _)| *n == exported) {
                        exported.insert_str(0, "exported_");
                    }
                    lb.set(exported, v);
                }
                lb.set(tl.name.to_string(), tl.value.to_string());
            }
        }
        if !relabel::process(&cfg.metric_relabel_configs, &mut lb) {
            return Ok(None);
        }
        let labels = lb.build();
        if labels.metric_name().is_none() {
            return Ok(None);
        }
        if cfg.label_limit > 0 && labels.len() as u64 > cfg.label_limit {
            return Err(format!(
                "label_limit exceeded (metric: {}, number of labels: {}, limit: {})",
                s.name,
                labels.len(),
                cfg.label_limit
            ));
        }
        for l in &labels {
            if cfg.label_name_length_limit > 0 && l.name.len() as u64 > cfg.label_name_length_limit {
                return Err(format!(
                    "label_name_length_limit exceeded (metric: {}, label name: {}, limit: {})",
                    s.name, l.name, cfg.label_name_length_limit
                ));
            }
            if cfg.label_value_length_limit > 0 && l.value.len() as u64 > cfg.label_value_length_limit {
                return Err(format!(
                    "label_value_length_limit exceeded (metric: {}, label: {}, limit: {})",
                    s.name, l.name, cfg.label_value_length_limit
                ));
            }
        }
        Ok(Some(self.db.get_or_create(&labels)))
    }
}

#[cfg(test)]
mod tests;
