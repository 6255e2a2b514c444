//! Appending: series created by label set, and one batch of samples per
//! scrape into their open chunks and the WAL.

use super::memseries::{AppendResult, MemSeries, SeriesChunks};
use super::{lock, AppendOutcome, Db, Persist, SeriesRef, WalState};
use crate::disk::PARTITION_MS;
use crate::model::labels::Labels;
use crate::model::value::Sample;
use std::io;
use std::sync::atomic::Ordering;

impl Db {
    /// The ref of the series with these labels, creating it if needed.
    pub fn get_or_create(&self, labels: &Labels) -> SeriesRef {
        let h = labels.stable_hash();
        {
            let idx = self.index();
            if let Some(r) = idx.lookup(h, labels) {
                return r;
            }
        }
        let mut idx = self.index_mut();
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
        let idx = self.index();
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
        let idx = self.index();
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
            self.index_new_series(p, w);
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

    /// Puts series created since the last call into the sled index (kept
    /// for the next call if that fails).
    pub(super) fn index_new_series(&self, p: &Persist, w: &mut WalState) {
        if w.unindexed.is_empty() {
            return;
        }
        match p.disk.put_series(&w.unindexed) {
            Ok(()) => w.unindexed.clear(),
            Err(e) => self.write_failed("writing the series index", &e),
        }
    }

    pub(super) fn write_failed(&self, what: &str, e: &io::Error) {
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
    pub(super) fn write_succeeded(&self) {
        if let Some(p) = &self.persist {
            if lock(&p.last_error).take().is_some() {
                tracing::info!("storage writes succeed again");
            }
        }
    }
}
