//! The in-memory head: every series with its recent samples, and the
//! postings index that finds series by label.
//!
//! Appends arrive as one batch per scrape ([`Db::append`]); queries take a
//! read lock on the index only long enough to collect the matching series,
//! then copy each series' samples under that series' own lock, so a long
//! query never holds up appends for more than one series at a time.

use crate::dir::{DataDir, DirError};
use crate::disk::{ChunkToWrite, Disk, SledOptions, PARTITION_MS};
use crate::memseries::{AppendResult, SeriesChunks};
use crate::model::labels::{Labels, METRIC_NAME};
use crate::model::matcher::{MatchOp, Matcher};
use crate::model::value::Sample;
use crate::series::{Chunk, SelectedSeries};
use crate::wal::{Record, SeriesState, Wal};
use std::collections::{BTreeSet, HashMap};
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

/// A handle to a series, valid for the life of the [`Db`]; it is also the
/// series' id on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesRef(pub u32);

struct MemSeries {
    labels: Labels,
    chunks: Mutex<SeriesChunks>,
    /// Time range of the series' chunks on disk (`MAX, MIN` when none).
    disk_mint: AtomicI64,
    disk_maxt: AtomicI64,
    /// Queued for writing its sealed chunks.
    queued: AtomicBool,
}

impl MemSeries {
    fn new(labels: Labels, chunks: SeriesChunks, disk_mint: i64, disk_maxt: i64) -> Self {
        MemSeries {
            labels,
            chunks: Mutex::new(chunks),
            disk_mint: AtomicI64::new(disk_mint),
            disk_maxt: AtomicI64::new(disk_maxt),
            queued: AtomicBool::new(false),
        }
    }

    fn chunks(&self) -> std::sync::MutexGuard<'_, SeriesChunks> {
        self.chunks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the series may have samples in `[mint, maxt]`, in memory or
    /// on disk (by chunk time ranges, without reading samples).
    fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        let (dmin, dmax) = (self.disk_mint.load(Ordering::Relaxed), self.disk_maxt.load(Ordering::Relaxed));
        (dmin <= dmax && dmax >= mint && dmin <= maxt)
            || self.chunks().time_range().is_some_and(|(a, b)| b >= mint && a <= maxt)
    }
}

#[derive(Default)]
struct Index {
    /// By id; `None` for an id whose series was never recorded.
    series: Vec<Option<Arc<MemSeries>>>,
    /// Stable hash of the labels → refs with that hash (collisions are rare
    /// and resolved by comparing labels).
    by_hash: hashbrown::HashTable<SeriesRef>,
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
    /// Samples for refs the store does not know (series removed after
    /// retention emptied them): the caller should resolve the labels again.
    pub unknown: u64,
}

/// Counters for Vigil's own /metrics.
#[derive(Debug, Default)]
pub struct DbStats {
    pub samples_appended: AtomicU64,
    pub out_of_order: AtomicU64,
    pub duplicate: AtomicU64,
    /// Failed writes of the WAL, chunks or index (disk full, read-only…).
    pub write_errors: AtomicU64,
    pub chunks_written: AtomicU64,
    pub checkpoints: AtomicU64,
    /// Series forgotten after retention removed all their samples.
    pub series_removed: AtomicU64,
}

/// One selected series with its samples in the asked time range.
#[derive(Clone, Debug)]
pub struct SeriesData {
    pub labels: Labels,
    pub samples: Vec<Sample>,
}

/// How to open a persistent store.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub sled: SledOptions,
    /// Run [`Db::maintain`] on a background thread every this often (`None`: the caller does).
    pub maintain_every: Option<Duration>,
    /// A checkpoint is written when the WAL has grown by this many bytes…
    pub checkpoint_bytes: u64,
    /// …or this long after the previous one.
    pub checkpoint_every: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sled: SledOptions::default(),
            maintain_every: Some(Duration::from_secs(1)),
            checkpoint_bytes: 16 << 20,
            checkpoint_every: Duration::from_secs(300),
        }
    }
}

/// Why a store cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Dir(#[from] DirError),
    #[error("data dir {dir}: {what}: {source}")]
    Io { dir: String, what: &'static str, source: io::Error },
}

/// What opening a persistent store found.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenReport {
    pub series: usize,
    pub wal_records: u64,
    pub wal_samples: u64,
    pub corrupt_wal_segments: u64,
    pub took: Duration,
}

struct WalState {
    wal: Wal,
    /// Series created but not yet in the WAL…
    unlogged: Vec<(u32, Labels)>,
    /// …and not yet in the index (needed before a checkpoint drops the WAL).
    unindexed: Vec<(u32, Labels)>,
    /// Reused buffer of the appended samples of one batch.
    logged: Vec<(u32, Sample)>,
    /// Segment length when the last checkpoint was taken, and when.
    bytes_since_checkpoint: u64,
    last_checkpoint: Instant,
    /// A batch failed to reach the WAL: only a checkpoint makes it durable.
    gap: bool,
}

struct Persist {
    dir: DataDir,
    disk: Disk,
    wal: Mutex<WalState>,
    opts: Options,
    sealed_queue: Mutex<Vec<SeriesRef>>,
    /// Open chunks starting before this were sealed (partitions closed).
    closed_before: AtomicI64,
    last_error: Mutex<Option<String>>,
    report: OpenReport,
    /// Held while a checkpoint is written or the WAL is copied.
    checkpointing: Mutex<()>,
}

/// The store. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Db {
    index: RwLock<Index>,
    stats: DbStats,
    /// Samples before this time are hidden (retention).
    min_valid_t: AtomicI64,
    /// Newest sample time appended.
    max_t: AtomicI64,
    /// Series ids below this existed at the previous pass of
    /// [`Db::remove_dead_series`]; only those may be removed, so a series
    /// just created and not yet appended to is never taken for dead.
    dead_watermark: std::sync::atomic::AtomicU32,
    persist: Option<Persist>,
}

impl Default for Db {
    fn default() -> Self {
        Db {
            index: RwLock::default(),
            stats: DbStats::default(),
            min_valid_t: AtomicI64::new(i64::MIN),
            max_t: AtomicI64::new(i64::MIN),
            dead_watermark: Default::default(),
            persist: None,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Db {
    /// An empty in-memory store.
    pub fn in_memory() -> Self {
        Db::default()
    }

    /// Opens (or creates) the store in `path`: locks the directory, loads
    /// the series index, and rebuilds the head from the WAL's checkpoint and
    /// segments. With `opts.maintain_every`, a background thread writes
    /// sealed chunks, fsyncs the WAL and takes checkpoints until the last
    /// `Arc` is dropped.
    pub fn open(path: &Path, opts: Options) -> Result<Arc<Db>, OpenError> {
        let started = Instant::now();
        let io_err = |what| move |source| OpenError::Io { dir: path.display().to_string(), what, source };
        let dir = DataDir::open(path)?;
        let (disk, found) = Disk::open(path, opts.sled).map_err(io_err("opening the index"))?;
        let mut db = Db::default();
        let mut report = OpenReport::default();
        {
            let idx = db.index.get_mut().unwrap_or_else(|e| e.into_inner());
            for s in disk.load_series().map_err(io_err("reading the series index"))? {
                // Where the head's chunks on disk end, WAL replay resumes.
                let chunks = match found.floors.get(&s.id) {
                    Some(&(t, v)) => SeriesChunks::with_last(t, v),
                    None => SeriesChunks::default(),
                };
                let (mint, maxt) = found.ranges.get(&s.id).copied().unwrap_or((i64::MAX, i64::MIN));
                idx.insert(SeriesRef(s.id), MemSeries::new(s.labels, chunks, mint, maxt));
            }
            // Ids of removed series are never given out again.
            let next = disk.next_series_id().map_err(io_err("reading the series index"))? as usize;
            if idx.series.len() < next {
                idx.series.resize_with(next, || None);
            }
        }
        let mut new_series = Vec::new();
        let mut replayed_samples = 0u64;
        let (wal, stats) = Wal::open(&path.join("wal"), |rec| match rec {
            Record::Series(list) => {
                let idx = db.index.get_mut().unwrap_or_else(|e| e.into_inner());
                for (id, labels) in list {
                    if idx.get(SeriesRef(id)).is_none() {
                        new_series.push((id, labels.clone()));
                        idx.insert(SeriesRef(id), MemSeries::new(labels, SeriesChunks::default(), i64::MAX, i64::MIN));
                    }
                }
            }
            Record::State(st) => db.restore_state(st),
            Record::Samples(list) => {
                replayed_samples += list.len() as u64;
                let idx = db.index.get_mut().unwrap_or_else(|e| e.into_inner());
                let mut max_t = i64::MIN;
                for (id, s) in list {
                    if let Some(series) = idx.get(SeriesRef(id)) {
                        series.chunks().append(s.t, s.v, PARTITION_MS);
                        max_t = max_t.max(s.t);
                    }
                }
                db.max_t.fetch_max(max_t, Ordering::Relaxed);
            }
        })
        .map_err(io_err("replaying the WAL"))?;
        // Series only the WAL knew go to the index before its segments can be dropped.
        disk.put_series(&new_series).map_err(io_err("writing the series index"))?;
        report.series = db.num_series();
        report.wal_records = stats.records;
        report.wal_samples = replayed_samples;
        report.corrupt_wal_segments = stats.corrupt_segments;
        report.took = started.elapsed();
        let queue: Vec<SeriesRef> = {
            let idx = db.index.get_mut().unwrap_or_else(|e| e.into_inner());
            idx.iter().filter(|(_, s)| s.chunks().has_sealed()).map(|(r, _)| r).collect()
        };
        db.persist = Some(Persist {
            dir,
            disk,
            wal: Mutex::new(WalState {
                wal,
                unlogged: Vec::new(),
                unindexed: Vec::new(),
                logged: Vec::new(),
                bytes_since_checkpoint: 0,
                last_checkpoint: Instant::now(),
                gap: false,
            }),
            opts,
            sealed_queue: Mutex::new(queue),
            closed_before: AtomicI64::new(i64::MIN),
            last_error: Mutex::new(None),
            report,
            checkpointing: Mutex::new(()),
        });
        let db = Arc::new(db);
        if let Some(every) = opts.maintain_every {
            let weak = Arc::downgrade(&db);
            std::thread::Builder::new()
                .name("storage-maintenance".into())
                .spawn(move || maintenance_loop(weak, every))
                .map_err(io_err("starting the maintenance thread"))?;
        }
        Ok(db)
    }

    fn restore_state(&mut self, st: SeriesState) {
        let idx = self.index.get_mut().unwrap_or_else(|e| e.into_inner());
        let Some(series) = idx.get(SeriesRef(st.id)) else { return };
        let mut chunks = series.chunks();
        // Chunks the head had already written (up to the series' newest head sample on disk) are skipped.
        for (mint, maxt, bytes) in st.sealed {
            chunks.restore_sealed(mint, maxt, bytes.into());
        }
        if let Some(open) = st.open {
            for (t, v) in crate::chunkenc::iter(&open) {
                chunks.append(t, v, PARTITION_MS);
                self.max_t.fetch_max(t, Ordering::Relaxed);
            }
        }
        // The newest sample may be in a chunk file already compacted away from the head's reach.
        if let Some((t, v)) = st.last {
            chunks.raise_last(t, v);
        }
    }

    /// What opening found (persistent stores only).
    pub fn open_report(&self) -> Option<OpenReport> {
        self.persist.as_ref().map(|p| p.report)
    }

    /// The data directory, for a persistent store.
    pub fn path(&self) -> Option<&Path> {
        self.persist.as_ref().map(|p| p.dir.path())
    }

    /// The last write error, if writing has failed since the last success.
    pub fn last_error(&self) -> Option<String> {
        self.persist.as_ref().and_then(|p| lock(&p.last_error).clone())
    }

    pub fn stats(&self) -> &DbStats {
        &self.stats
    }

    /// Number of series known.
    pub fn num_series(&self) -> usize {
        self.index.read().unwrap_or_else(|e| e.into_inner()).iter().count()
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
        idx.insert(r, MemSeries::new(labels.clone(), SeriesChunks::default(), i64::MAX, i64::MIN));
        if let Some(p) = &self.persist {
            let mut w = lock(&p.wal);
            w.unlogged.push((r.0, labels.clone()));
            w.unindexed.push((r.0, labels.clone()));
        }
        r
    }

    /// The labels of a series.
    pub fn labels(&self, r: SeriesRef) -> Option<Labels> {
        let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
        idx.get(r).map(|s| s.labels.clone())
    }

    /// Appends one batch (typically one scrape). Each sample must be newer
    /// than its series' newest sample; an equal timestamp with the same value
    /// is ignored, with another value it is rejected as a duplicate. A
    /// persistent store logs the accepted samples as one WAL record; if that
    /// write fails (disk full) the samples stay in memory, the error is
    /// counted and kept for [`Db::last_error`].
    pub fn append(&self, batch: &[(SeriesRef, Sample)]) -> AppendOutcome {
        let mut out = AppendOutcome::default();
        let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
        // The WAL lock spans the head append so the log keeps each series' order.
        let mut wal = self.persist.as_ref().map(|p| lock(&p.wal));
        let mut to_queue = Vec::new();
        let mut max_t = i64::MIN;
        for (r, s) in batch {
            let Some(series) = idx.get(*r) else {
                out.unknown += 1;
                continue;
            };
            let mut chunks = series.chunks();
            match chunks.append(s.t, s.v, if wal.is_some() { PARTITION_MS } else { 0 }) {
                AppendResult::Appended => {
                    out.appended += 1;
                    max_t = max_t.max(s.t);
                    if let Some(w) = wal.as_mut() {
                        w.logged.push((r.0, *s));
                        if chunks.has_sealed() && !series.queued.swap(true, Ordering::Relaxed) {
                            to_queue.push(*r);
                        }
                    }
                }
                AppendResult::OutOfOrder => out.out_of_order += 1,
                AppendResult::Duplicate => out.duplicate += 1,
                AppendResult::Unchanged => {}
            }
        }
        drop(idx);
        if let (Some(w), Some(p)) = (wal.as_mut(), &self.persist) {
            let logged = std::mem::take(&mut w.logged);
            let ws = &mut **w;
            let res = ws.wal.log(&ws.unlogged, &logged);
            match res {
                Ok(()) => {
                    w.unlogged.clear();
                    w.bytes_since_checkpoint = w.wal.segment_len();
                }
                Err(e) => {
                    w.gap = true;
                    self.write_failed("writing the WAL", &e);
                }
            }
            if !w.unindexed.is_empty() {
                match p.disk.put_series(&w.unindexed) {
                    Ok(()) => w.unindexed.clear(),
                    Err(e) => self.write_failed("writing the series index", &e),
                }
            }
            w.logged = logged;
            w.logged.clear();
            if !to_queue.is_empty() {
                lock(&p.sealed_queue).extend(to_queue);
            }
        }
        drop(wal);
        self.max_t.fetch_max(max_t, Ordering::Relaxed);
        self.stats.samples_appended.fetch_add(out.appended, Ordering::Relaxed);
        self.stats.out_of_order.fetch_add(out.out_of_order, Ordering::Relaxed);
        self.stats.duplicate.fetch_add(out.duplicate, Ordering::Relaxed);
        out
    }

    fn write_failed(&self, what: &str, e: &io::Error) {
        self.stats.write_errors.fetch_add(1, Ordering::Relaxed);
        let msg = format!("{what}: {e}");
        if let Some(p) = &self.persist {
            let mut last = lock(&p.last_error);
            if last.is_none() {
                tracing::error!(error = %msg, "storage write failed; samples stay in memory and writing is retried");
            } else {
                tracing::debug!(error = %msg, "storage write failed again");
            }
            *last = Some(msg);
        }
    }

    /// Clears the error once a checkpoint (which writes through every layer) succeeds.
    fn write_succeeded(&self) {
        if let Some(p) = &self.persist {
            if lock(&p.last_error).take().is_some() {
                tracing::info!("storage writes succeed again");
            }
        }
    }

    /// The series matching every matcher with samples in `[mint, maxt]`,
    /// sorted by labels, each as the chunks holding them: nothing is decoded
    /// until read, and no lock is held meanwhile.
    pub fn select_series(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<SelectedSeries> {
        // Retention drops whole partitions; older samples left in a kept one stay invisible.
        let mint = mint.max(self.min_valid_t.load(Ordering::Relaxed));
        let series: Vec<(SeriesRef, Arc<MemSeries>)> = {
            let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
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
        self.index.read().unwrap_or_else(|e| e.into_inner()).estimate(matchers)
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
    fn chunks_of(
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
        let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
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
        let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
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
        let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
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

    fn for_each_in_range(
        &self,
        idx: &Index,
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
        let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
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

    /// Drops samples older than `min_t` (retention): whole partitions on
    /// disk, whole chunks in memory, and hides what remains before `min_t`.
    /// Series stay, so refs held by scrape caches remain valid.
    pub fn truncate_before(&self, min_t: i64) {
        self.min_valid_t.fetch_max(min_t, Ordering::Relaxed);
        for s in self.all_series() {
            s.chunks().truncate_before(min_t);
        }
        if let Some(p) = &self.persist {
            match p.disk.drop_partitions_before(min_t) {
                Ok(n) if n > 0 => tracing::info!(partitions = n, "retention removed partitions"),
                Ok(_) => {}
                Err(e) => self.write_failed("removing old partitions", &e),
            }
        }
        self.remove_dead_series(min_t);
    }

    /// Forgets the series with no sample at or after `min_t` left anywhere
    /// that already existed at the previous call: out of the index, its
    /// postings and the stored series list. An
    /// appender still holding one of their refs sees it counted as
    /// [`AppendOutcome::unknown`] and resolves its labels again.
    pub fn remove_dead_series(&self, min_t: i64) -> usize {
        let mut idx = self.index.write().unwrap_or_else(|e| e.into_inner());
        let watermark = self.dead_watermark.swap(idx.series.len() as u32, Ordering::Relaxed);
        let dead: Vec<SeriesRef> = idx
            .iter()
            .take_while(|(r, _)| r.0 < watermark)
            .filter(|(_, s)| {
                s.disk_maxt.load(Ordering::Relaxed) < min_t && s.chunks().newest().is_none_or(|t| t < min_t)
            })
            .map(|(r, _)| r)
            .collect();
        if dead.is_empty() {
            return 0;
        }
        for r in &dead {
            idx.remove(*r);
        }
        let next_id = idx.series.len() as u32;
        drop(idx);
        self.stats.series_removed.fetch_add(dead.len() as u64, Ordering::Relaxed);
        tracing::info!(series = dead.len(), "retention removed series without samples");
        if let Some(p) = &self.persist {
            let ids: Vec<u32> = dead.iter().map(|r| r.0).collect();
            // Series not yet in the stored list must not reach it later.
            lock(&p.wal).unindexed.retain(|(id, _)| ids.binary_search(id).is_err());
            if let Err(e) = p.disk.delete_series(&ids, next_id) {
                // They come back on the next start, and go at the next retention pass.
                self.write_failed("removing series from the index", &e);
            }
        }
        dead.len()
    }

    /// Size-based retention: while the store (chunk files, index and WAL)
    /// takes more than `max_bytes`, drops the oldest partition, never the
    /// one the head appends to. Returns the partitions dropped.
    pub fn enforce_size(&self, max_bytes: u64) -> usize {
        let Some(p) = &self.persist else { return 0 };
        let head_partition = crate::disk::partition_of(self.max_t.load(Ordering::Relaxed));
        let mut dropped = 0;
        loop {
            let u = self.disk_usage();
            if u.chunks + u.index + u.wal <= max_bytes {
                break;
            }
            let Some(oldest) = p.disk.oldest_partition().filter(|&s| s < head_partition) else { break };
            let end = oldest.saturating_add(PARTITION_MS);
            tracing::info!(
                bytes = u.chunks + u.index + u.wal,
                max_bytes,
                partition = oldest,
                "size retention removes a partition"
            );
            self.truncate_before(end);
            dropped += 1;
        }
        dropped
    }

    fn all_series(&self) -> Vec<Arc<MemSeries>> {
        self.index.read().unwrap_or_else(|e| e.into_inner()).iter().map(|(_, s)| s.clone()).collect()
    }

    /// Chunks held in memory (open and sealed-not-yet-written).
    pub fn chunks_in_memory(&self) -> u64 {
        self.all_series().iter().map(|s| s.chunks().chunk_count() as u64).sum()
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

    /// Background work of a persistent store, also callable directly (tests,
    /// shutdown): fsyncs the WAL, writes sealed chunks, closes partitions
    /// the head has moved past, and takes a checkpoint when due.
    pub fn maintain(&self) {
        let Some(p) = &self.persist else { return };
        // 1. The WAL reaches the disk (a power loss then costs at most the last interval).
        let sync = {
            let mut w = lock(&p.wal);
            if !w.unlogged.is_empty() {
                let series = std::mem::take(&mut w.unlogged);
                match w.wal.log(&series, &[]) {
                    Ok(()) => {}
                    Err(e) => {
                        w.unlogged = series;
                        self.write_failed("writing the WAL", &e);
                    }
                }
            }
            if !w.unindexed.is_empty() {
                match p.disk.put_series(&w.unindexed) {
                    Ok(()) => w.unindexed.clear(),
                    Err(e) => self.write_failed("writing the series index", &e),
                }
            }
            w.wal.take_sync_handle()
        };
        if let Some(f) = sync {
            if let Err(e) = f.sync_data() {
                self.write_failed("syncing the WAL", &e);
            }
        }
        // An index closed by a write error is reopened (once there is room again);
        // until then the rest waits.
        if !p.disk.recover() {
            return;
        }
        // 2. Partitions the head moved past by half a partition are closed:
        //    their open chunks are sealed so they can go to disk.
        let head_max = self.max_t.load(Ordering::Relaxed);
        if head_max > i64::MIN {
            let boundary = crate::disk::partition_of(head_max.saturating_sub(PARTITION_MS / 2));
            if boundary > p.closed_before.load(Ordering::Relaxed) {
                let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
                let mut q = Vec::new();
                for (r, s) in idx.iter() {
                    let mut c = s.chunks();
                    c.seal_if_before(boundary);
                    if c.has_sealed() && !s.queued.swap(true, Ordering::Relaxed) {
                        q.push(r);
                    }
                }
                drop(idx);
                lock(&p.sealed_queue).extend(q);
                p.closed_before.store(boundary, Ordering::Relaxed);
            }
        }
        // 3. Sealed chunks go to disk; closed partitions' head files become segments.
        match self.flush_sealed(p) {
            Ok(()) => {
                if let Err(e) = p.disk.compact_before(p.closed_before.load(Ordering::Relaxed)) {
                    self.write_failed("compacting a partition", &e);
                }
            }
            Err(e) => self.write_failed("writing chunks", &e),
        }
        // 4. A checkpoint when the WAL has grown enough or aged.
        let due = {
            let w = lock(&p.wal);
            w.gap
                || w.bytes_since_checkpoint >= p.opts.checkpoint_bytes
                || (w.bytes_since_checkpoint > 0 && w.last_checkpoint.elapsed() >= p.opts.checkpoint_every)
        };
        if due {
            match self.checkpoint() {
                Ok(()) => self.write_succeeded(),
                Err(e) => self.write_failed("writing a WAL checkpoint", &e),
            }
        }
    }

    /// Writes the queued series' sealed chunks and makes them durable; only
    /// then are they dropped from memory. On error they stay, queued again.
    fn flush_sealed(&self, p: &Persist) -> io::Result<()> {
        let refs: Vec<SeriesRef> = std::mem::take(&mut *lock(&p.sealed_queue));
        if refs.is_empty() {
            return Ok(());
        }
        let series: Vec<(SeriesRef, Arc<MemSeries>)> = {
            let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
            refs.iter().filter_map(|&r| Some((r, idx.get(r)?.clone()))).collect()
        };
        for (_, s) in &series {
            s.queued.store(false, Ordering::Relaxed);
        }
        let mut chunks = Vec::new();
        let mut counts = Vec::with_capacity(series.len());
        for (r, s) in &series {
            let c = s.chunks();
            let before = chunks.len();
            chunks.extend(c.sealed().map(|sc| ChunkToWrite {
                series: r.0,
                mint: sc.mint,
                maxt: sc.maxt,
                bytes: sc.bytes.clone(),
            }));
            counts.push(chunks.len() - before);
        }
        let res = p.disk.write_chunks(&chunks).and_then(|()| p.disk.sync());
        let mut again = Vec::new();
        match &res {
            Ok(()) => {
                self.stats.chunks_written.fetch_add(chunks.len() as u64, Ordering::Relaxed);
                let mut it = chunks.iter();
                for ((r, s), n) in series.iter().zip(counts) {
                    let written: Vec<&ChunkToWrite> = it.by_ref().take(n).collect();
                    if let (Some(first), Some(last)) = (written.first(), written.last()) {
                        s.disk_mint.fetch_min(first.mint, Ordering::Relaxed);
                        s.disk_maxt.fetch_max(last.maxt, Ordering::Relaxed);
                    }
                    let mut c = s.chunks();
                    c.forget_sealed(n);
                    if c.has_sealed() && !s.queued.swap(true, Ordering::Relaxed) {
                        again.push(*r);
                    }
                }
            }
            Err(_) => {
                for (r, s) in &series {
                    if !s.queued.swap(true, Ordering::Relaxed) {
                        again.push(*r);
                    }
                }
            }
        }
        lock(&p.sealed_queue).extend(again);
        res
    }

    /// Writes a WAL checkpoint: the in-memory chunks of every series, which
    /// replace the WAL segments written so far.
    pub fn checkpoint(&self) -> io::Result<()> {
        let Some(p) = &self.persist else { return Ok(()) };
        let _one_at_a_time = lock(&p.checkpointing);
        // Everything logged so far is in segments up to `through`, and in the head;
        // every series they name must be in the index before they go.
        let (through, wal_dir, gap) = {
            let mut w = lock(&p.wal);
            if !w.unlogged.is_empty() || !w.unindexed.is_empty() {
                return Err(io::Error::other("new series are not yet in the WAL and index"));
            }
            let through = w.wal.cut()?;
            // Batches that missed the WAL before this point are in the head, so in this checkpoint.
            let gap = std::mem::take(&mut w.gap);
            (through, w.wal.dir().to_path_buf(), gap)
        };
        let res = self.write_checkpoint(p, through, &wal_dir);
        if res.is_err() && gap {
            lock(&p.wal).gap = true;
        }
        res
    }

    fn write_checkpoint(&self, p: &Persist, through: u64, wal_dir: &Path) -> io::Result<()> {
        // Sealed chunks first go to disk, so the checkpoint holds little more than open chunks.
        self.flush_sealed(p)?;
        p.disk.sync()?;
        let series: Vec<(SeriesRef, Arc<MemSeries>)> = {
            let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
            idx.iter().map(|(r, s)| (r, s.clone())).collect()
        };
        let states = series.iter().filter_map(|(r, s)| {
            let c = s.chunks();
            let sealed: Vec<(i64, i64, Vec<u8>)> = c.sealed().map(|sc| (sc.mint, sc.maxt, sc.bytes.to_vec())).collect();
            let open = c.open_bytes().map(<[u8]>::to_vec);
            let last = c.last();
            (!sealed.is_empty() || open.is_some() || last.is_some()).then_some(SeriesState {
                id: r.0,
                sealed,
                open,
                last,
            })
        });
        Wal::write_checkpoint(wal_dir, through, states)?;
        let mut w = lock(&p.wal);
        w.bytes_since_checkpoint = 0;
        w.last_checkpoint = Instant::now();
        self.stats.checkpoints.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Writes whole series straight to chunk files (backfill), bypassing the
    /// WAL and the head. Samples are sorted by time; within a series a
    /// repeated timestamp with the same value is dropped, with another value
    /// it is rejected, and so is a sample whose timestamp is already stored.
    /// Everything written is durable when this returns. Only for a
    /// persistent store.
    pub fn import(&self, series: Vec<(Labels, Vec<Sample>)>) -> io::Result<ImportOutcome> {
        let Some(p) = &self.persist else { return Err(io::Error::other("import needs a data dir")) };
        let mut out = ImportOutcome::default();
        let mut to_write: Vec<(u32, Vec<Sample>)> = Vec::new();
        let mut touched: Vec<(Arc<MemSeries>, i64, i64)> = Vec::new();
        let mut reader = Some(p.disk.reader());
        for (labels, mut samples) in series {
            if samples.is_empty() {
                continue;
            }
            samples.sort_by_key(|s| s.t);
            let mut kept: Vec<Sample> = Vec::with_capacity(samples.len());
            for s in samples {
                match kept.last() {
                    Some(l) if l.t == s.t && l.v.to_bits() == s.v.to_bits() => {}
                    Some(l) if l.t == s.t => out.duplicate += 1,
                    _ => kept.push(s),
                }
            }
            let r = self.get_or_create(&labels);
            let Some(ms) = self.index.read().unwrap_or_else(|e| e.into_inner()).get(r).cloned() else { continue };
            let (mint, maxt) = (kept[0].t, kept[kept.len() - 1].t);
            let stored =
                SelectedSeries::new(labels, self.chunks_of(&mut reader, r, &ms, mint, maxt), mint, maxt).to_vec();
            if !stored.is_empty() {
                let before = kept.len();
                kept.retain(|s| stored.binary_search_by_key(&s.t, |x| x.t).is_err());
                out.already_stored += (before - kept.len()) as u64;
            }
            if kept.is_empty() {
                continue;
            }
            out.series += 1;
            out.samples += kept.len() as u64;
            touched.push((ms, kept[0].t, kept[kept.len() - 1].t));
            to_write.push((r.0, kept));
        }
        drop(reader);
        // New series reach the index before chunks name them.
        {
            let mut w = lock(&p.wal);
            if !w.unindexed.is_empty() {
                p.disk.put_series(&w.unindexed)?;
                w.unindexed.clear();
            }
        }
        to_write.sort_by_key(|(id, _)| *id);
        let chunks = p.disk.write_series(&to_write)?;
        for (s, mint, maxt) in &touched {
            s.disk_mint.fetch_min(*mint, Ordering::Relaxed);
            s.disk_maxt.fetch_max(*maxt, Ordering::Relaxed);
        }
        self.stats.chunks_written.fetch_add(chunks, Ordering::Relaxed);
        Ok(out)
    }

    /// Writes a consistent copy of the store into `dest` (new or empty),
    /// which Vigil can open as a data dir: a checkpoint and the WAL after it,
    /// the index, then the chunk files. Appends and queries go on meanwhile;
    /// the copy holds at least everything appended before the call.
    pub fn snapshot(&self, dest: &Path) -> Result<(), OpenError> {
        let Some(p) = &self.persist else {
            return Err(OpenError::Io {
                dir: dest.display().to_string(),
                what: "snapshot",
                source: io::Error::other("an in-memory store has nothing to copy"),
            });
        };
        let io_err = |what| move |source| OpenError::Io { dir: dest.display().to_string(), what, source };
        if std::fs::read_dir(dest).is_ok_and(|mut d| d.next().is_some()) {
            return Err(io_err("choosing the snapshot's directory")(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "it exists and is not empty; a snapshot goes into a new or empty directory",
            )));
        }
        let target = DataDir::open(dest)?;
        self.checkpoint().map_err(io_err("writing a checkpoint"))?;
        {
            let _no_checkpoint_now = lock(&p.checkpointing);
            let wal_dir = lock(&p.wal).wal.dir().to_path_buf();
            let to = dest.join("wal");
            std::fs::create_dir_all(&to).map_err(io_err("creating the WAL dir"))?;
            for e in std::fs::read_dir(&wal_dir).map_err(io_err("listing the WAL"))?.flatten() {
                let name = e.file_name();
                if name.to_string_lossy().ends_with(".tmp") {
                    continue;
                }
                std::fs::copy(e.path(), to.join(&name))
                    .and_then(|_| std::fs::File::open(to.join(&name))?.sync_all())
                    .map_err(io_err("copying the WAL"))?;
            }
        }
        p.disk.copy_to(dest).map_err(io_err("copying the index and chunks"))?;
        std::fs::File::open(dest).and_then(|d| d.sync_all()).map_err(io_err("syncing"))?;
        drop(target);
        Ok(())
    }

    /// Makes everything appended so far durable (shutdown).
    pub fn close(&self) -> io::Result<()> {
        let Some(p) = &self.persist else { return Ok(()) };
        self.maintain();
        self.checkpoint()?;
        p.disk.sync()
    }
}

/// Series counts by metric and label, largest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cardinality {
    pub num_series: u64,
    pub series_by_metric: Vec<(String, u64)>,
    /// Distinct values per label name.
    pub values_by_label: Vec<(String, u64)>,
    pub series_by_label: Vec<(String, u64)>,
    /// `name=value` pairs.
    pub series_by_pair: Vec<(String, u64)>,
    /// Bytes of label values per label name (value length × series).
    pub bytes_by_label: Vec<(String, u64)>,
}

/// What one [`Db::import`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    pub series: u64,
    pub samples: u64,
    /// Repeated timestamps with another value within the import.
    pub duplicate: u64,
    /// Timestamps the store already held for the series.
    pub already_stored: u64,
}

/// Bytes a persistent store uses on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskUsage {
    pub chunks: u64,
    pub index: u64,
    pub wal: u64,
    pub partitions: u64,
    /// Samples in chunk files.
    pub samples: u64,
    /// The index (sled) cache's capacity setting.
    pub index_cache_capacity: u64,
}

impl DiskUsage {
    /// Bytes of chunk files and index per sample in them (`None` before any chunk is written).
    pub fn bytes_per_sample(&self) -> Option<f64> {
        (self.samples > 0).then(|| (self.chunks + self.index) as f64 / self.samples as f64)
    }
}

fn maintenance_loop(db: Weak<Db>, every: Duration) {
    loop {
        std::thread::sleep(every);
        let Some(db) = db.upgrade() else { return };
        db.maintain();
    }
}

impl Index {
    fn get(&self, r: SeriesRef) -> Option<&Arc<MemSeries>> {
        self.series.get(r.0 as usize)?.as_ref()
    }

    fn iter(&self) -> impl Iterator<Item = (SeriesRef, &Arc<MemSeries>)> {
        self.series.iter().enumerate().filter_map(|(i, s)| Some((SeriesRef(i as u32), s.as_ref()?)))
    }

    fn insert(&mut self, r: SeriesRef, s: MemSeries) {
        let i = r.0 as usize;
        if self.series.len() <= i {
            self.series.resize_with(i + 1, || None);
        }
        if self.series[i].is_some() {
            return;
        }
        let hash = s.labels.stable_hash();
        let series = &self.series;
        let hash_of =
            |r: &SeriesRef| series.get(r.0 as usize).and_then(|s| s.as_ref()).map_or(0, |s| s.labels.stable_hash());
        self.by_hash.insert_unique(hash, r, hash_of);
        for l in &s.labels {
            let refs = self.postings.entry(l.name.to_string()).or_default().entry(l.value.to_string()).or_default();
            // Ids loaded out of order still give ascending postings.
            let at = refs.partition_point(|x| *x < r);
            refs.insert(at, r);
        }
        self.series[i] = Some(Arc::new(s));
    }

    /// Takes a series out of the index and its postings (its id is not reused).
    fn remove(&mut self, r: SeriesRef) {
        let Some(s) = self.series.get_mut(r.0 as usize).and_then(Option::take) else { return };
        if let Ok(e) = self.by_hash.find_entry(s.labels.stable_hash(), |x| *x == r) {
            e.remove();
        }
        for l in &s.labels {
            let Some(vals) = self.postings.get_mut(l.name) else { continue };
            if let Some(refs) = vals.get_mut(l.value) {
                refs.retain(|x| *x != r);
                if refs.is_empty() {
                    vals.remove(l.value);
                }
            }
            if vals.is_empty() {
                self.postings.remove(l.name);
            }
        }
    }

    fn lookup(&self, hash: u64, labels: &Labels) -> Option<SeriesRef> {
        self.by_hash.find(hash, |&r| self.get(r).is_some_and(|s| s.labels == *labels)).copied()
    }

    /// At most how many series match all matchers, from the postings alone:
    /// the shortest list of an equality matcher, else every series.
    fn estimate(&self, matchers: &[Matcher]) -> usize {
        matchers
            .iter()
            .filter(|m| m.op == MatchOp::Equal && !m.value.is_empty())
            .map(|m| self.postings.get(&m.name).and_then(|vals| vals.get(&m.value)).map_or(0, |v| v.len()))
            .min()
            .unwrap_or(self.series.len())
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
            self.get(*r).is_some_and(|s| matchers.iter().all(|m| m.matches(s.labels.get_or_empty(&m.name))))
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
        assert_eq!(o, AppendOutcome { appended: 2, out_of_order: 1, duplicate: 1, unknown: 0 });
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
        assert_eq!(db.label_values("job", &[], i64::MIN, i64::MAX), vec!["a", "b"]);
        assert_eq!(db.label_names(&[], i64::MIN, i64::MAX), vec!["__name__", "job"]);
    }

    #[test]
    fn label_apis_follow_the_time_range() {
        let db = Db::in_memory();
        let a = db.get_or_create(&Labels::from_pairs([("__name__", "up"), ("job", "a"), ("zone", "x")]));
        let b = db.get_or_create(&Labels::from_pairs([("__name__", "up"), ("job", "b")]));
        db.get_or_create(&Labels::from_pairs([("__name__", "never"), ("job", "c")]));
        db.append(&[(a, s(1, 1.0)), (a, s(10, 1.0)), (b, s(50, 1.0))]);
        assert_eq!(db.label_values("job", &[], 40, 100), vec!["b"]);
        assert_eq!(db.label_values("job", &[], 0, 10), vec!["a"]);
        assert_eq!(
            db.label_values("job", &[], i64::MIN, i64::MAX),
            vec!["a", "b"],
            "series without samples are left out"
        );
        assert_eq!(db.label_names(&[], 40, 100), vec!["__name__", "job"]);
        assert_eq!(db.label_names(&[], 0, 5), vec!["__name__", "job", "zone"]);
        let up = Matcher::new(MatchOp::Equal, "__name__", "up").unwrap();
        assert_eq!(db.series_labels(std::slice::from_ref(&up), 11, 49).len(), 0);
        assert_eq!(db.series_labels(&[up], 10, 50).len(), 2);
        let c = db.cardinality(2);
        assert_eq!(c.num_series, 3);
        assert_eq!(c.series_by_metric, vec![("up".to_string(), 2), ("never".to_string(), 1)]);
        assert_eq!(c.series_by_label[0], ("__name__".to_string(), 3));
        assert_eq!(c.values_by_label[0], ("job".to_string(), 3));
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
