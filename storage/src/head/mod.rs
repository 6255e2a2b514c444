//! The in-memory head: every series with its recent samples, and the
//! postings index that finds series by label.
//!
//! Appends arrive as one batch per scrape ([`Db::append`]); queries take a
//! read lock on the index only long enough to collect the matching series,
//! then copy each series' samples under that series' own lock, so a long
//! query never holds up appends for more than one series at a time.
//!
//! [`Db`] is defined here with its opening (WAL replay, checkpoints) and
//! closing; its other methods are grouped by activity:
//! - `append`: series by label set, batches into open chunks and the WAL;
//! - `read`: selection by matchers and time, label names and values,
//!   cardinality, figures;
//! - `maintain`: sealed chunks to disk, checkpoints, retention, dead series;
//! - `import`: backfill into segments, snapshots;
//! - `index`: `MemIndex`, series by id and label hash, and the postings;
//! - `memseries`: one series in memory (`MemSeries`, `SeriesChunks`).

mod append;
mod import;
mod index;
mod maintain;
mod memseries;
mod read;

pub use import::ImportOutcome;
pub use read::Cardinality;

use crate::dir::{DataDir, DirError};
use crate::disk::{Disk, SledOptions, PARTITION_MS};
use crate::model::labels::Labels;
use crate::model::value::Sample;
use crate::wal::{Record, SeriesState, Wal};
use index::MemIndex;
use maintain::maintenance_loop;
use memseries::{MemSeries, SeriesChunks};
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// A handle to a series, valid for the life of the [`Db`]; it is also the
/// series' id on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesRef(pub u32);

/// What one [`Db::append`] call did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Samples stored.
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
    /// Samples stored since start.
    pub samples_appended: AtomicU64,
    /// Samples rejected as out of order.
    pub out_of_order: AtomicU64,
    /// Samples rejected as duplicates (same time, other value).
    pub duplicate: AtomicU64,
    /// Failed writes of the WAL, chunks or index (disk full, read-only…).
    pub write_errors: AtomicU64,
    /// Chunks written to chunk files.
    pub chunks_written: AtomicU64,
    /// WAL checkpoints written.
    pub checkpoints: AtomicU64,
    /// Series forgotten after retention removed all their samples.
    pub series_removed: AtomicU64,
}

/// One selected series with its samples in the asked time range.
#[derive(Clone, Debug)]
pub struct SeriesData {
    /// The series' labels.
    pub labels: Labels,
    /// Its samples in the range, oldest first.
    pub samples: Vec<Sample>,
}

/// How to open a persistent store.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The sled index's settings.
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
    /// The data dir itself cannot be used.
    #[error(transparent)]
    Dir(#[from] DirError),
    /// A file of the store could not be read or written.
    #[error("data dir {dir}: {what}: {source}")]
    Io {
        /// The data dir.
        dir: String,
        /// What was being done ("open the sled index", …).
        what: &'static str,
        /// What the system said.
        source: io::Error,
    },
}

/// What opening a persistent store found.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenReport {
    /// Series known after opening.
    pub series: usize,
    /// WAL records replayed.
    pub wal_records: u64,
    /// Samples those records held.
    pub wal_samples: u64,
    /// WAL segments that ended in a torn or corrupt record.
    pub corrupt_wal_segments: u64,
    /// How long opening took.
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
    index: RwLock<MemIndex>,
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

/// A mutex's guard; a panic elsewhere while it was held (a poisoned lock)
/// does not stop the store, whose state stays consistent at every unlock.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Db {
    /// The head index for reading (poisoning ignored, as in [`lock`]).
    fn index(&self) -> std::sync::RwLockReadGuard<'_, MemIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The head index for writing (poisoning ignored, as in [`lock`]).
    fn index_mut(&self) -> std::sync::RwLockWriteGuard<'_, MemIndex> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

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

    /// The store's counters.
    pub fn stats(&self) -> &DbStats {
        &self.stats
    }

    /// Makes everything appended so far durable (shutdown).
    pub fn close(&self) -> io::Result<()> {
        let Some(p) = &self.persist else { return Ok(()) };
        self.maintain();
        self.checkpoint()?;
        p.disk.sync()
    }
}

/// Bytes a persistent store uses on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskUsage {
    /// Bytes of chunk files.
    pub chunks: u64,
    /// Bytes of the sled index.
    pub index: u64,
    /// Bytes of WAL segments and checkpoints.
    pub wal: u64,
    /// Partition folders on disk.
    pub partitions: u64,
    /// Samples in chunk files.
    pub samples: u64,
    /// The index (sled) cache's capacity setting.
    pub index_cache_capacity: u64,
}

#[cfg(test)]
mod tests;
