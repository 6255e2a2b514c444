//! The in-memory head: every series with its recent samples, and the
//! postings index that finds series by label.
//!
//! Appends arrive as one batch per scrape ([`Db::append`]); queries take a
//! read lock on the index only long enough to collect the matching series,
//! then copy each series' samples under that series' own lock, so a long
//! query never holds up appends for more than one series at a time.

use crate::labels::{Labels, METRIC_NAME};
use crate::matcher::{MatchOp, Matcher};
use crate::memseries::{AppendResult, SeriesChunks};
use crate::sample::Sample;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// A handle to a series, valid for the life of the [`Db`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesRef(pub u32);

struct MemSeries {
    labels: Labels,
    chunks: Mutex<SeriesChunks>,
}

#[derive(Default)]
struct Index {
    series: Vec<Arc<MemSeries>>,
    /// Stable hash of the labels → refs with that hash (collisions are rare
    /// and resolved by comparing labels).
    by_hash: HashMap<u64, Vec<SeriesRef>>,
    /// label name → label value → series refs, ascending.
    postings: HashMap<String, HashMap<String, Vec<SeriesRef>>>,
}

/// What one [`Db::append`] call did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppendOutcome {
    pub appended: u64,
    /// Samples older than the newest sample of their series (rejected).
    pub out_of_order: u64,
    /// Samples with the newest timestamp of their series but another value
    /// (rejected, as Prometheus's "duplicate sample for timestamp").
    pub duplicate: u64,
}

/// Counters for Vigil's own /metrics.
#[derive(Debug, Default)]
pub struct DbStats {
    pub samples_appended: AtomicU64,
    pub out_of_order: AtomicU64,
    pub duplicate: AtomicU64,
}

/// One selected series with its samples in the asked time range.
#[derive(Clone, Debug)]
pub struct SeriesData {
    pub labels: Labels,
    pub samples: Vec<Sample>,
}

/// The store. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Db {
    index: RwLock<Index>,
    stats: DbStats,
    /// Samples before this time are hidden (retention).
    min_valid_t: AtomicI64,
}

impl Default for Db {
    fn default() -> Self {
        Db { index: RwLock::default(), stats: DbStats::default(), min_valid_t: AtomicI64::new(i64::MIN) }
    }
}

impl Db {
    /// An empty in-memory store.
    pub fn in_memory() -> Self {
        Db::default()
    }

    pub fn stats(&self) -> &DbStats {
        &self.stats
    }

    /// Number of series in the head.
    pub fn num_series(&self) -> usize {
        self.index.read().unwrap_or_else(|e| e.into_inner()).series.len()
    }

    /// The ref of the series with these labels, creating it if needed.
    pub fn get_or_create(&self, labels: &Labels) -> SeriesRef {
        let h = labels.stable_hash();
        {
            let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
            if let Some(r) = idx.lookup(h, labels) {
                return r;
            }
        }
        let mut idx = self.index.write().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = idx.lookup(h, labels) {
            return r;
        }
        let r = SeriesRef(idx.series.len() as u32);
        idx.series.push(Arc::new(MemSeries { labels: labels.clone(), chunks: Mutex::new(SeriesChunks::default()) }));
        idx.by_hash.entry(h).or_default().push(r);
        for l in labels {
            idx.postings.entry(l.name.clone()).or_default().entry(l.value.clone()).or_default().push(r);
        }
        r
    }

    /// The labels of a series.
    pub fn labels(&self, r: SeriesRef) -> Option<Labels> {
        let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
        idx.series.get(r.0 as usize).map(|s| s.labels.clone())
    }

    /// Appends one batch (typically one scrape). Each sample must be newer
    /// than its series' newest sample; an equal timestamp with the same value
    /// is ignored, with another value it is rejected as a duplicate.
    pub fn append(&self, batch: &[(SeriesRef, Sample)]) -> AppendOutcome {
        let mut out = AppendOutcome::default();
        let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
        for (r, s) in batch {
            let Some(series) = idx.series.get(r.0 as usize) else { continue };
            let mut chunks = series.chunks.lock().unwrap_or_else(|e| e.into_inner());
            match chunks.append(s.t, s.v) {
                AppendResult::Appended => out.appended += 1,
                AppendResult::OutOfOrder => out.out_of_order += 1,
                AppendResult::Duplicate => out.duplicate += 1,
                AppendResult::Unchanged => {}
            }
        }
        self.stats.samples_appended.fetch_add(out.appended, Ordering::Relaxed);
        self.stats.out_of_order.fetch_add(out.out_of_order, Ordering::Relaxed);
        self.stats.duplicate.fetch_add(out.duplicate, Ordering::Relaxed);
        out
    }

    /// Series matching every matcher, with their samples in `[mint, maxt]`,
    /// sorted by labels. Series with no sample in the range are left out.
    pub fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<SeriesData> {
        // Retention drops whole chunks; older samples left in a kept chunk stay invisible.
        let mint = mint.max(self.min_valid_t.load(Ordering::Relaxed));
        let series: Vec<Arc<MemSeries>> = {
            let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
            idx.matching(matchers).into_iter().map(|r| idx.series[r.0 as usize].clone()).collect()
        };
        let mut out: Vec<SeriesData> = series
            .iter()
            .filter_map(|s| {
                let mut samples = Vec::new();
                s.chunks.lock().unwrap_or_else(|e| e.into_inner()).samples_in(mint, maxt, &mut samples);
                (!samples.is_empty()).then(|| SeriesData { labels: s.labels.clone(), samples })
            })
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out
    }

    /// Label sets of the series matching every matcher, sorted, without
    /// reading any sample (the head covers all its series' time).
    pub fn series_labels(&self, matchers: &[Matcher]) -> Vec<Labels> {
        let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<Labels> =
            idx.matching(matchers).into_iter().map(|r| idx.series[r.0 as usize].labels.clone()).collect();
        out.sort();
        out
    }

    /// Sorted label names of the series matching `matchers` (all series when empty).
    pub fn label_names(&self, matchers: &[Matcher]) -> Vec<String> {
        let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
        if matchers.is_empty() {
            let mut v: Vec<String> = idx.postings.keys().cloned().collect();
            v.sort();
            return v;
        }
        let mut names = BTreeSet::new();
        for r in idx.matching(matchers) {
            let s = &idx.series[r.0 as usize];
            if s.chunks.lock().unwrap_or_else(|e| e.into_inner()).is_empty() {
                continue;
            }
            for l in &s.labels {
                names.insert(l.name.clone());
            }
        }
        names.into_iter().collect()
    }

    /// Sorted values of label `name` among series matching `matchers`.
    pub fn label_values(&self, name: &str, matchers: &[Matcher]) -> Vec<String> {
        let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
        if matchers.is_empty() {
            let mut v: Vec<String> = idx.postings.get(name).map(|m| m.keys().cloned().collect()).unwrap_or_default();
            v.sort();
            return v;
        }
        let mut values = BTreeSet::new();
        for r in idx.matching(matchers) {
            let s = &idx.series[r.0 as usize];
            if s.chunks.lock().unwrap_or_else(|e| e.into_inner()).is_empty() {
                continue;
            }
            if let Some(v) = s.labels.get(name) {
                values.insert(v.to_string());
            }
        }
        values.into_iter().collect()
    }

    /// Drops samples older than `min_t` (retention). Series stay, so refs
    /// held by scrape caches remain valid.
    pub fn truncate_before(&self, min_t: i64) {
        self.min_valid_t.fetch_max(min_t, Ordering::Relaxed);
        let series: Vec<Arc<MemSeries>> = self.index.read().unwrap_or_else(|e| e.into_inner()).series.clone();
        for s in series {
            s.chunks.lock().unwrap_or_else(|e| e.into_inner()).truncate_before(min_t);
        }
    }

    /// Bytes of compressed sample data in the head.
    pub fn chunk_bytes(&self) -> usize {
        let series: Vec<Arc<MemSeries>> = self.index.read().unwrap_or_else(|e| e.into_inner()).series.clone();
        series.iter().map(|s| s.chunks.lock().unwrap_or_else(|e| e.into_inner()).chunk_bytes()).sum()
    }
}

impl Index {
    fn lookup(&self, hash: u64, labels: &Labels) -> Option<SeriesRef> {
        self.by_hash.get(&hash)?.iter().copied().find(|r| self.series[r.0 as usize].labels == *labels)
    }

    /// Refs of series matching all matchers, ascending. Starts from the
    /// smallest postings list of an equality matcher with a non-empty value
    /// and filters the rest; without one, scans every series.
    fn matching(&self, matchers: &[Matcher]) -> Vec<SeriesRef> {
        let seed = matchers
            .iter()
            .filter(|m| m.op == MatchOp::Equal && !m.value.is_empty())
            .map(|m| self.postings.get(&m.name).and_then(|vals| vals.get(&m.value)).map_or(&[][..], |v| v.as_slice()))
            .min_by_key(|p| p.len());
        let accept = |r: &SeriesRef| {
            let labels = &self.series[r.0 as usize].labels;
            matchers.iter().all(|m| m.matches(labels.get_or_empty(&m.name)))
        };
        match seed {
            Some(p) => p.iter().copied().filter(accept).collect(),
            None => {
                // A metric-name regex still narrows the scan to matching names.
                let name_re = matchers.iter().find(|m| m.name == METRIC_NAME && m.op == MatchOp::Regex);
                match name_re.and_then(|m| self.postings.get(METRIC_NAME).map(|vals| (m, vals))) {
                    Some((m, vals)) => {
                        let mut refs: Vec<SeriesRef> = vals
                            .iter()
                            .filter(|(v, _)| m.matches(v))
                            .flat_map(|(_, refs)| refs.iter().copied())
                            .filter(accept)
                            .collect();
                        refs.sort_unstable();
                        refs
                    }
                    None => (0..self.series.len() as u32).map(SeriesRef).filter(accept).collect(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: i64, v: f64) -> Sample {
        Sample { t, v }
    }

    #[test]
    fn same_labels_same_ref() {
        let db = Db::in_memory();
        let a = db.get_or_create(&Labels::from_pairs([("__name__", "up"), ("job", "x")]));
        let b = db.get_or_create(&Labels::from_pairs([("job", "x"), ("__name__", "up")]));
        assert_eq!(a, b);
        assert_eq!(db.num_series(), 1);
    }

    #[test]
    fn out_of_order_and_duplicates_rejected() {
        let db = Db::in_memory();
        let r = db.get_or_create(&Labels::from_pairs([("__name__", "m")]));
        let o = db.append(&[(r, s(10, 1.0)), (r, s(10, 1.0)), (r, s(10, 2.0)), (r, s(5, 1.0)), (r, s(20, 3.0))]);
        assert_eq!(o, AppendOutcome { appended: 2, out_of_order: 1, duplicate: 1 });
        let got = db.select(&[], 0, 100);
        assert_eq!(got[0].samples, vec![s(10, 1.0), s(20, 3.0)]);
    }

    #[test]
    fn select_by_matchers_and_time() {
        let db = Db::in_memory();
        let a = db.get_or_create(&Labels::from_pairs([("__name__", "up"), ("job", "a")]));
        let b = db.get_or_create(&Labels::from_pairs([("__name__", "up"), ("job", "b")]));
        let c = db.get_or_create(&Labels::from_pairs([("__name__", "other"), ("job", "a")]));
        db.append(&[(a, s(1, 1.0)), (b, s(1, 0.0)), (c, s(1, 5.0)), (a, s(50, 1.0))]);
        let up = Matcher::new(MatchOp::Equal, "__name__", "up").unwrap();
        assert_eq!(db.select(std::slice::from_ref(&up), 0, 100).len(), 2);
        let not_a = Matcher::new(MatchOp::NotRegex, "job", "a").unwrap();
        let got = db.select(&[up.clone(), not_a], 0, 100);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].labels.get("job"), Some("b"));
        let late = db.select(&[up], 10, 100);
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].samples, vec![s(50, 1.0)]);
        let re = Matcher::new(MatchOp::Regex, "__name__", "u.").unwrap();
        assert_eq!(db.select(&[re], 0, 100).len(), 2);
        assert_eq!(db.label_values("job", &[]), vec!["a", "b"]);
        assert_eq!(db.label_names(&[]), vec!["__name__", "job"]);
    }

    #[test]
    fn truncate_drops_old_samples_only() {
        let db = Db::in_memory();
        let r = db.get_or_create(&Labels::from_pairs([("__name__", "m")]));
        db.append(&[(r, s(1, 1.0)), (r, s(2, 2.0)), (r, s(3, 3.0))]);
        db.truncate_before(3);
        assert_eq!(db.select(&[], 0, 10)[0].samples, vec![s(3, 3.0)]);
    }
}
