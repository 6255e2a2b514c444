//! The background work: sealed chunks written to their partitions, WAL
//! checkpoints, retention by time and by size, and dead series removed.

use super::memseries::MemSeries;
use super::{lock, Db, Persist, SeriesRef};
use crate::disk::{ChunkToWrite, PARTITION_MS};
use crate::wal::{SeriesState, Wal};
use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

impl Db {
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
    /// [`AppendOutcome::unknown`](super::AppendOutcome::unknown) and resolves its labels again.
    pub fn remove_dead_series(&self, min_t: i64) -> usize {
        let mut idx = self.index_mut();
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

    pub(super) fn all_series(&self) -> Vec<Arc<MemSeries>> {
        self.index().iter().map(|(_, s)| s.clone()).collect()
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
            self.index_new_series(p, &mut w);
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
                let idx = self.index();
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
    pub(super) fn flush_sealed(&self, p: &Persist) -> io::Result<()> {
        let refs: Vec<SeriesRef> = std::mem::take(&mut *lock(&p.sealed_queue));
        if refs.is_empty() {
            return Ok(());
        }
        let series: Vec<(SeriesRef, Arc<MemSeries>)> = {
            let idx = self.index();
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

    pub(super) fn write_checkpoint(&self, p: &Persist, through: u64, wal_dir: &Path) -> io::Result<()> {
        // Sealed chunks first go to disk, so the checkpoint holds little more than open chunks.
        self.flush_sealed(p)?;
        p.disk.sync()?;
        let series: Vec<(SeriesRef, Arc<MemSeries>)> = {
            let idx = self.index();
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
}

pub(super) fn maintenance_loop(db: Weak<Db>, every: Duration) {
    loop {
        std::thread::sleep(every);
        let Some(db) = db.upgrade() else { return };
        db.maintain();
    }
}
