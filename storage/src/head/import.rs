//! Backfill and snapshots: whole series imported into segments, and the
//! store copied to another directory while it runs.

use super::memseries::MemSeries;
use super::{lock, Db, OpenError};
use crate::dir::DataDir;
use crate::model::labels::Labels;
use crate::model::value::Sample;
use crate::series::SelectedSeries;
use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Db {
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
            let Some(ms) = self.index().get(r).cloned() else { continue };
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
}

/// What one [`Db::import`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Series that received samples.
    pub series: u64,
    /// Samples stored.
    pub samples: u64,
    /// Repeated timestamps with another value within the import.
    pub duplicate: u64,
    /// Timestamps the store already held for the series.
    pub already_stored: u64,
}
