//! One series in the head ([`MemSeries`]): its labels, its samples as
//! Gorilla chunks of up to 120 samples ([`SeriesChunks`], the newest one open
//! for appends), and the time range of its chunks on disk.
//!
//! A sample costs about a byte and a half here instead of the sixteen of a
//! plain `(i64, f64)`; reads decode only the chunks that overlap the range.

use crate::chunkenc::{self, XorAppender, SAMPLES_PER_CHUNK};
use crate::model::labels::Labels;
#[cfg(test)]
use crate::model::value::Sample;
use crate::series::{Bytes, Chunk};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Mutex;

/// One series in the head.
pub(super) struct MemSeries {
    pub(super) labels: Labels,
    pub(super) chunks: Mutex<SeriesChunks>,
    /// Time range of the series' chunks on disk (`MAX, MIN` when none).
    pub(super) disk_mint: AtomicI64,
    pub(super) disk_maxt: AtomicI64,
    /// Queued for writing its sealed chunks.
    pub(super) queued: AtomicBool,
}

impl MemSeries {
    pub(super) fn new(labels: Labels, chunks: SeriesChunks, disk_mint: i64, disk_maxt: i64) -> Self {
        MemSeries {
            labels,
            chunks: Mutex::new(chunks),
            disk_mint: AtomicI64::new(disk_mint),
            disk_maxt: AtomicI64::new(disk_maxt),
            queued: AtomicBool::new(false),
        }
    }

    pub(super) fn chunks(&self) -> std::sync::MutexGuard<'_, SeriesChunks> {
        self.chunks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the series may have samples in `[mint, maxt]`, in memory or
    /// on disk (by chunk time ranges, without reading samples).
    pub(super) fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        let (dmin, dmax) = (self.disk_mint.load(Ordering::Relaxed), self.disk_maxt.load(Ordering::Relaxed));
        (dmin <= dmax && dmax >= mint && dmin <= maxt)
            || self.chunks().time_range().is_some_and(|(a, b)| b >= mint && a <= maxt)
    }
}

/// A full chunk and the time range it covers.
pub struct SealedChunk {
    pub mint: i64,
    pub maxt: i64,
    pub bytes: std::sync::Arc<[u8]>,
}

/// What happened to one appended sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendResult {
    Appended,
    /// Older than the newest sample: rejected.
    OutOfOrder,
    /// Same timestamp as the newest sample, another value: rejected.
    Duplicate,
    /// Same timestamp and same value bits: nothing to do.
    Unchanged,
}

/// The chunks of one series: sealed ones not yet on disk (all of them for
/// an in-memory store) and the open one.
#[derive(Default)]
pub struct SeriesChunks {
    sealed: Vec<SealedChunk>,
    open: Option<XorAppender>,
    open_mint: i64,
    last_t: i64,
    last_v: u64,
    /// Whether `last_t`/`last_v` hold the series' newest sample (which may
    /// already be on disk).
    has_last: bool,
}

impl SeriesChunks {
    /// A series whose newest sample, already persisted, is `(t, v_bits)`.
    pub fn with_last(t: i64, v_bits: u64) -> Self {
        SeriesChunks { last_t: t, last_v: v_bits, has_last: true, ..Default::default() }
    }

    /// Appends a sample, cutting a new chunk every [`SAMPLES_PER_CHUNK`]
    /// samples and at each partition boundary (`partition_ms`, 0 for none).
    pub fn append(&mut self, t: i64, v: f64, partition_ms: i64) -> AppendResult {
        let bits = v.to_bits();
        if self.has_last {
            if t < self.last_t {
                return AppendResult::OutOfOrder;
            }
            if t == self.last_t {
                return if bits == self.last_v { AppendResult::Unchanged } else { AppendResult::Duplicate };
            }
        }
        if self.open.as_ref().is_some_and(|a| {
            a.count() >= SAMPLES_PER_CHUNK
                || (partition_ms > 0 && t.div_euclid(partition_ms) != self.open_mint.div_euclid(partition_ms))
        }) {
            self.seal();
        }
        let open = self.open.get_or_insert_with(|| {
            self.open_mint = t;
            XorAppender::new()
        });
        open.append(t, v);
        self.last_t = t;
        self.last_v = bits;
        self.has_last = true;
        AppendResult::Appended
    }

    fn seal(&mut self) {
        if let Some(a) = self.open.take() {
            let maxt = a.last_t();
            self.sealed.push(SealedChunk { mint: self.open_mint, maxt, bytes: a.into_bytes().into() });
        }
    }

    /// The newest sample (time, value bits), if the series has one anywhere.
    pub fn last(&self) -> Option<(i64, u64)> {
        self.has_last.then_some((self.last_t, self.last_v))
    }

    /// Makes `(t, v_bits)` the newest sample when it is newer than what is
    /// known (a checkpoint's record of a sample already on disk).
    pub fn raise_last(&mut self, t: i64, v_bits: u64) {
        if !self.has_last || t > self.last_t {
            (self.last_t, self.last_v, self.has_last) = (t, v_bits, true);
        }
    }

    /// Puts back a sealed chunk recorded by a checkpoint (oldest first).
    pub fn restore_sealed(&mut self, mint: i64, maxt: i64, bytes: std::sync::Arc<[u8]>) {
        if self.open.is_none() && (!self.has_last || self.last_t < mint) {
            let mut it = chunkenc::iter(&bytes);
            let last = it.by_ref().last();
            if let Some((t, v)) = last.filter(|_| !it.failed()) {
                self.last_t = t;
                self.last_v = v.to_bits();
                self.has_last = true;
                self.sealed.push(SealedChunk { mint, maxt, bytes });
            }
        }
    }

    /// The open chunk's bytes.
    pub fn open_bytes(&self) -> Option<&[u8]> {
        self.open.as_ref().map(|a| a.bytes())
    }

    /// Whether sealed chunks wait to be written.
    pub fn has_sealed(&self) -> bool {
        !self.sealed.is_empty()
    }

    /// Seals the open chunk when it starts before `t` (a partition closes).
    pub fn seal_if_before(&mut self, t: i64) {
        if self.open.is_some() && self.open_mint < t {
            self.seal();
        }
    }

    /// The sealed chunks, for writing (they stay readable until
    /// [`SeriesChunks::forget_sealed`] is called after the write).
    pub fn sealed(&self) -> impl Iterator<Item = &SealedChunk> {
        self.sealed.iter()
    }

    /// Drops the first `n` sealed chunks, now on disk.
    pub fn forget_sealed(&mut self, n: usize) {
        self.sealed.drain(..n.min(self.sealed.len()));
    }

    /// Appends the samples in `[mint, maxt]` to `out`, oldest first (the
    /// tests read a series with it; queries go through [`Chunk`]s).
    #[cfg(test)]
    pub fn samples_in(&self, mint: i64, maxt: i64, out: &mut Vec<Sample>) {
        let first = self.sealed.partition_point(|c| c.maxt < mint);
        for c in &self.sealed[first..] {
            if c.mint > maxt {
                return;
            }
            chunkenc::decode_into(&c.bytes, mint, maxt, out);
        }
        if let Some(a) = &self.open {
            if self.open_mint <= maxt {
                chunkenc::decode_into(a.bytes(), mint, maxt, out);
            }
        }
    }

    /// Appends the chunks overlapping `[mint, maxt]` to `out`, oldest first;
    /// the open chunk as a copy of its bytes so far.
    pub(crate) fn chunks_in(&self, mint: i64, maxt: i64, out: &mut Vec<Chunk>) {
        let first = self.sealed.partition_point(|c| c.maxt < mint);
        for c in self.sealed[first..].iter().take_while(|c| c.mint <= maxt) {
            out.push(Chunk { mint: c.mint, maxt: c.maxt, bytes: Bytes::Shared(c.bytes.clone()) });
        }
        if let Some(a) = &self.open {
            if self.open_mint <= maxt && a.last_t() >= mint {
                out.push(Chunk { mint: self.open_mint, maxt: a.last_t(), bytes: Bytes::Shared(a.bytes().into()) });
            }
        }
    }

    /// Chunks in memory.
    pub fn chunk_count(&self) -> usize {
        self.sealed.len() + usize::from(self.open.is_some())
    }

    /// Times of the first and last sample in memory.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let first = self.sealed.first().map(|c| c.mint).or(self.open.as_ref().map(|_| self.open_mint))?;
        Some((first, self.last_t))
    }

    /// True when the series holds no sample in memory.
    pub fn is_empty(&self) -> bool {
        self.sealed.is_empty() && self.open.is_none()
    }

    /// Drops sealed chunks that end before `min_t`.
    pub fn truncate_before(&mut self, min_t: i64) {
        let cut = self.sealed.partition_point(|c| c.maxt < min_t);
        self.sealed.drain(..cut);
        if self.sealed.is_empty() && self.open.is_some() && self.last_t < min_t {
            self.open = None;
        }
    }

    /// Time of the newest sample known (in memory, or persisted and
    /// remembered for ordering), if any.
    pub fn newest(&self) -> Option<i64> {
        (self.has_last || !self.is_empty()).then_some(self.last_t)
    }

    /// Bytes of chunk data held (for the storage figures).
    pub fn chunk_bytes(&self) -> usize {
        self.sealed.iter().map(|c| c.bytes.len()).sum::<usize>() + self.open.as_ref().map_or(0, |a| a.bytes().len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_chunks_read_back_by_range() {
        let mut s = SeriesChunks::default();
        for k in 0..1000i64 {
            assert_eq!(s.append(k * 10, k as f64, 0), AppendResult::Appended);
        }
        assert_eq!(s.sealed.len(), 8);
        let mut out = Vec::new();
        s.samples_in(2_395, 2_430, &mut out);
        let ts: Vec<i64> = out.iter().map(|x| x.t).collect();
        assert_eq!(ts, vec![2_400, 2_410, 2_420, 2_430]);
        out.clear();
        s.samples_in(i64::MIN, i64::MAX, &mut out);
        assert_eq!(out.len(), 1000);
        assert!(s.chunk_bytes() < 1000 * 4, "{} bytes", s.chunk_bytes());
    }

    #[test]
    fn order_and_duplicates() {
        let mut s = SeriesChunks::default();
        assert_eq!(s.append(10, 1.0, 0), AppendResult::Appended);
        assert_eq!(s.append(10, 1.0, 0), AppendResult::Unchanged);
        assert_eq!(s.append(10, 2.0, 0), AppendResult::Duplicate);
        assert_eq!(s.append(5, 2.0, 0), AppendResult::OutOfOrder);
        assert_eq!(s.append(11, f64::NAN, 0), AppendResult::Appended);
    }

    #[test]
    fn truncation_drops_whole_old_chunks() {
        let mut s = SeriesChunks::default();
        for k in 0..240i64 {
            s.append(k, 0.0, 0);
        }
        s.truncate_before(130);
        let mut out = Vec::new();
        s.samples_in(i64::MIN, i64::MAX, &mut out);
        assert_eq!(out.first().map(|x| x.t), Some(120));
        s.truncate_before(1_000);
        assert!(s.is_empty());
    }
}
