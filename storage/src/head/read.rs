//! Reading: series selected by matchers over a time range, label names
//! and values, cardinality, and the store's figures.

use super::memseries::MemSeries;
use super::{lock, Db, DiskUsage, MemIndex, SeriesData, SeriesRef};
use crate::model::labels::{Labels, METRIC_NAME};
use crate::model::matcher::Matcher;
use crate::series::{Chunk, SelectedSeries};
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Db {
    /// Number of series known.
    pub fn num_series(&self) -> usize {
        self.index().iter().count()
    }

    /// The series matching every matcher with samples in `[mint, maxt]`,
    /// sorted by labels, each as the chunks holding them: nothing is decoded
    /// until read, and no lock is held meanwhile.
    pub fn select_series(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<SelectedSeries> {
        // Retention drops whole partitions; older samples left in a kept one stay invisible.
        let mint = mint.max(self.min_valid_t.load(Ordering::Relaxed));
        let series: Vec<(SeriesRef, Arc<MemSeries>)> = {
            let idx = self.index();
            idx.matching(matchers).into_iter().filter_map(|r| Some((r, idx.get(r)?.clone()))).collect()
        };
        let mut reader = self.persist.as_ref().map(|p| p.disk.reader());
        let mut out: Vec<SelectedSeries> = series
            .iter()
            .map(|(r, s)| {
                SelectedSeries::new(s.labels.clone(), self.chunks_of(&mut reader, *r, s, mint, maxt), mint, maxt)
            })
            .filter(|s| !s.is_empty())
            .collect();
        // Label sets are unique: an unstable sort gives the one order.
        out.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
        out
    }

    /// At most how many series match every matcher, found without reading
    /// them (to weigh a query before running it).
    pub fn estimate_series(&self, matchers: &[Matcher]) -> usize {
        self.index().estimate(matchers)
    }

    /// The series matching every matcher with their samples in `[mint, maxt]`
    /// decoded, sorted by labels.
    pub fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<SeriesData> {
        self.select_series(matchers, mint, maxt)
            .into_iter()
            .map(|s| SeriesData { samples: s.to_vec(), labels: s.labels })
            .filter(|s| !s.samples.is_empty())
            .collect()
    }

    /// A series' chunks overlapping `[mint, maxt]`: memory first, then disk,
    /// so a chunk moving to disk meanwhile is seen at least once (the
    /// reading keeps one sample per timestamp).
    pub(super) fn chunks_of(
        &self,
        reader: &mut Option<crate::disk::Reader<'_>>,
        r: SeriesRef,
        s: &MemSeries,
        mint: i64,
        maxt: i64,
    ) -> Vec<Chunk> {
        let mut mem = Vec::new();
        s.chunks().chunks_in(mint, maxt, &mut mem);
        let Some(reader) = reader else { return mem };
        if s.disk_maxt.load(Ordering::Relaxed) < mint || s.disk_mint.load(Ordering::Relaxed) > maxt {
            return mem;
        }
        let mut all = Vec::with_capacity(mem.len() + 4);
        if let Err(e) = reader.chunks(r.0, mint, maxt, &mut all) {
            tracing::warn!(series = %s.labels, error = %e, "reading chunks failed");
        }
        all.append(&mut mem);
        all
    }

    /// Label sets of the series matching every matcher with data in
    /// `[mint, maxt]` (by chunk time ranges), sorted, without reading samples.
    pub fn series_labels(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<Labels> {
        let mint = mint.max(self.min_valid_t.load(Ordering::Relaxed));
        let idx = self.index();
        let mut out: Vec<Labels> = idx
            .matching(matchers)
            .into_iter()
            .filter_map(|r| idx.get(r))
            .filter(|s| s.overlaps(mint, maxt))
            .map(|s| s.labels.clone())
            .collect();
        out.sort();
        out
    }

    /// Sorted label names of the series matching `matchers` (all series
    /// when empty) with data in `[mint, maxt]`.
    pub fn label_names(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<String> {
        let mint = mint.max(self.min_valid_t.load(Ordering::Relaxed));
        let idx = self.index();
        let mut names = BTreeSet::new();
        if matchers.is_empty() {
            // Through the postings: a name counts once one of its series has data in range.
            for (n, vals) in &idx.postings {
                if vals.values().flatten().filter_map(|r| idx.get(*r)).any(|s| s.overlaps(mint, maxt)) {
                    names.insert(n.clone());
                }
            }
            return names.into_iter().collect();
        }
        self.for_each_in_range(&idx, matchers, mint, maxt, |s| {
            for l in &s.labels {
                if !names.contains(l.name) {
                    names.insert(l.name.to_string());
                }
            }
        });
        names.into_iter().collect()
    }

    /// Sorted values of label `name` among series matching `matchers` with
    /// data in `[mint, maxt]`.
    pub fn label_values(&self, name: &str, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<String> {
        let mint = mint.max(self.min_valid_t.load(Ordering::Relaxed));
        let idx = self.index();
        let mut values = BTreeSet::new();
        if matchers.is_empty() {
            // Through the postings: only the series that have this label.
            if let Some(vals) = idx.postings.get(name) {
                for (v, refs) in vals {
                    if refs.iter().filter_map(|r| idx.get(*r)).any(|s| s.overlaps(mint, maxt)) {
                        values.insert(v.clone());
                    }
                }
            }
            return values.into_iter().collect();
        }
        self.for_each_in_range(&idx, matchers, mint, maxt, |s| {
            if let Some(v) = s.labels.get(name) {
                if !values.contains(v) {
                    values.insert(v.to_string());
                }
            }
        });
        values.into_iter().collect()
    }

    pub(super) fn for_each_in_range(
        &self,
        idx: &MemIndex,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
        mut f: impl FnMut(&MemSeries),
    ) {
        if matchers.is_empty() {
            for (_, s) in idx.iter() {
                if s.overlaps(mint, maxt) {
                    f(s);
                }
            }
        } else {
            for r in idx.matching(matchers) {
                if let Some(s) = idx.get(r).filter(|s| s.overlaps(mint, maxt)) {
                    f(s);
                }
            }
        }
    }

    /// Series counts for a cardinality view (as Prometheus's
    /// /api/v1/status/tsdb): the `limit` largest of each, descending.
    pub fn cardinality(&self, limit: usize) -> Cardinality {
        let idx = self.index();
        let top = |mut v: Vec<(String, u64)>| {
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v.truncate(limit);
            v
        };
        let series_by_metric = idx
            .postings
            .get(METRIC_NAME)
            .map(|vals| vals.iter().map(|(v, refs)| (v.clone(), refs.len() as u64)).collect())
            .unwrap_or_default();
        let values_by_label = idx.postings.iter().map(|(n, vals)| (n.clone(), vals.len() as u64)).collect();
        let series_by_label =
            idx.postings.iter().map(|(n, vals)| (n.clone(), vals.values().map(|r| r.len() as u64).sum())).collect();
        let series_by_pair = idx
            .postings
            .iter()
            .flat_map(|(n, vals)| vals.iter().map(move |(v, refs)| (format!("{n}={v}"), refs.len() as u64)))
            .collect();
        let bytes_by_label = idx
            .postings
            .iter()
            .map(|(n, vals)| (n.clone(), vals.iter().map(|(v, refs)| (v.len() * refs.len()) as u64).sum()))
            .collect();
        Cardinality {
            num_series: idx.iter().count() as u64,
            series_by_metric: top(series_by_metric),
            values_by_label: top(values_by_label),
            series_by_label: top(series_by_label),
            series_by_pair: top(series_by_pair),
            bytes_by_label: top(bytes_by_label),
        }
    }

    /// Times of the oldest and newest sample kept (from chunk ranges), if any.
    pub fn time_bounds(&self) -> Option<(i64, i64)> {
        let min_valid = self.min_valid_t.load(Ordering::Relaxed);
        let mut lo = i64::MAX;
        let mut hi = i64::MIN;
        for s in self.all_series() {
            let (dmin, dmax) = (s.disk_mint.load(Ordering::Relaxed), s.disk_maxt.load(Ordering::Relaxed));
            if dmin <= dmax {
                lo = lo.min(dmin);
                hi = hi.max(dmax);
            }
            if let Some((a, b)) = s.chunks().time_range() {
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
        (lo <= hi).then_some((lo.max(min_valid), hi))
    }

    /// Bytes of compressed sample data in memory.
    pub fn chunk_bytes(&self) -> usize {
        self.all_series().iter().map(|s| s.chunks().chunk_bytes()).sum()
    }

    /// Chunks held in memory (open and sealed-not-yet-written).
    pub fn chunks_in_memory(&self) -> u64 {
        self.all_series().iter().map(|s| s.chunks().chunk_count() as u64).sum()
    }

    /// Bytes on disk: chunk files, index, WAL (zeros for an in-memory store).
    pub fn disk_usage(&self) -> DiskUsage {
        let Some(p) = &self.persist else { return DiskUsage::default() };
        let (chunks, index) = p.disk.size_on_disk();
        let wal = lock(&p.wal).wal.size_on_disk();
        DiskUsage {
            chunks,
            index,
            wal,
            partitions: p.disk.partitions() as u64,
            samples: p.disk.samples_on_disk(),
            index_cache_capacity: p.disk.cache_capacity(),
        }
    }
}

/// Series counts by metric and label, largest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cardinality {
    /// Series in the store.
    pub num_series: u64,
    /// Series per metric name.
    pub series_by_metric: Vec<(String, u64)>,
    /// Distinct values per label name.
    pub values_by_label: Vec<(String, u64)>,
    /// Series per label name.
    pub series_by_label: Vec<(String, u64)>,
    /// `name=value` pairs.
    pub series_by_pair: Vec<(String, u64)>,
    /// Bytes of label values per label name (value length × series).
    pub bytes_by_label: Vec<(String, u64)>,
}

impl DiskUsage {
    /// Bytes of chunk files and index per sample in them (`None` before any chunk is written).
    pub fn bytes_per_sample(&self) -> Option<f64> {
        (self.samples > 0).then(|| (self.chunks + self.index) as f64 / self.samples as f64)
    }
}
