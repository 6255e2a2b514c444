//! A selected series as the chunks that hold its samples, decoded only when
//! read: [`SelectedSeries::samples`] iterates lazily, [`SelectedSeries::decode_into`]
//! fills a caller's buffer in one pass. The chunk bytes are shared (memory
//! chunks by `Arc`, files by their mapping), so a query holds no lock while
//! it decodes and appends go on.

use crate::chunkenc::{self, ChunkIter};
use crate::model::labels::Labels;
use crate::model::value::Sample;
use memmap2::Mmap;
use std::sync::Arc;

/// Where a chunk's bytes are.
#[derive(Clone)]
pub(crate) enum Bytes {
    /// A sealed or copied in-memory chunk.
    Shared(Arc<[u8]>),
    /// A range of a mapped chunk file, with the checksum it must have.
    Mapped { map: Arc<Mmap>, off: usize, len: usize, crc: u32 },
}

/// One chunk of a selected series.
#[derive(Clone)]
pub(crate) struct Chunk {
    pub mint: i64,
    pub maxt: i64,
    pub bytes: Bytes,
}

impl Chunk {
    /// The chunk's bytes, or `None` when a file's chunk fails its checksum
    /// or lies past the file's end (logged; the chunk is skipped).
    pub(crate) fn data(&self) -> Option<&[u8]> {
        match &self.bytes {
            Bytes::Shared(b) => Some(b),
            Bytes::Mapped { map, off, len, crc } => {
                let Some(b) = map.get(*off..off + len) else {
                    tracing::warn!(offset = off, "chunk lies past its file's end; skipped");
                    return None;
                };
                if crc32fast::hash(b) != *crc {
                    tracing::warn!(offset = off, "chunk fails its checksum; skipped");
                    return None;
                }
                Some(b)
            }
        }
    }
}

/// A selected series: its labels and the chunks overlapping `[mint, maxt]`,
/// oldest first.
#[derive(Clone)]
pub struct SelectedSeries {
    /// The series' labels.
    pub labels: Labels,
    chunks: Vec<Chunk>,
    mint: i64,
    maxt: i64,
    /// Some chunks overlap in time (one in memory and on disk while it is
    /// being persisted): reading sorts and keeps the first of equal times.
    overlapping: bool,
}

impl std::fmt::Debug for SelectedSeries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelectedSeries").field("labels", &self.labels).field("chunks", &self.chunks.len()).finish()
    }
}

impl SelectedSeries {
    /// `chunks` in any order; they are sorted by start time here (stably,
    /// so of two chunks starting together the first given wins duplicates).
    pub(crate) fn new(labels: Labels, mut chunks: Vec<Chunk>, mint: i64, maxt: i64) -> Self {
        chunks.retain(|c| c.maxt >= mint && c.mint <= maxt);
        if !chunks.is_sorted_by_key(|c| c.mint) {
            chunks.sort_by_key(|c| c.mint);
        }
        let overlapping = chunks.windows(2).any(|w| w[1].mint <= w[0].maxt);
        SelectedSeries { labels, chunks, mint, maxt, overlapping }
    }

    /// True when no chunk overlaps the range (the series has no samples in it).
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// At most this many samples: the chunks' counts, read from their
    /// headers without decoding (chunks reaching past the range count whole).
    pub fn max_samples(&self) -> usize {
        self.chunks.iter().filter_map(Chunk::data).map(|b| usize::from(chunkenc::count(b))).sum()
    }

    /// Appends the samples in range to `out`, oldest first, one per timestamp.
    pub fn decode_into(&self, out: &mut Vec<Sample>) {
        let from = out.len();
        for c in &self.chunks {
            let Some(b) = c.data() else { continue };
            if !chunkenc::decode_into(b, self.mint, self.maxt, out) {
                tracing::warn!(series = %self.labels, "chunk stops decoding early; the rest skipped");
            }
        }
        if self.overlapping {
            let tail = &mut out[from..];
            tail.sort_by_key(|s| s.t);
            let mut keep = from;
            for i in from..out.len() {
                if keep == from || out[keep - 1].t != out[i].t {
                    out[keep] = out[i];
                    keep += 1;
                }
            }
            out.truncate(keep);
        }
    }

    /// The samples in range, oldest first, decoded as the iterator advances.
    pub fn samples(&self) -> Samples<'_> {
        if self.overlapping {
            let mut v = Vec::new();
            self.decode_into(&mut v);
            return Samples { series: self, next: 0, cur: None, eager: Some(v.into_iter()) };
        }
        Samples { series: self, next: 0, cur: None, eager: None }
    }

    /// The samples in range, decoded into a vector of exactly their size.
    pub fn to_vec(&self) -> Vec<Sample> {
        let mut v = Vec::with_capacity(self.max_samples());
        self.decode_into(&mut v);
        v
    }
}

/// Lazily decoded samples of one series (see [`SelectedSeries::samples`]).
pub struct Samples<'a> {
    series: &'a SelectedSeries,
    next: usize,
    cur: Option<ChunkIter<'a>>,
    eager: Option<std::vec::IntoIter<Sample>>,
}

impl Iterator for Samples<'_> {
    type Item = Sample;

    fn next(&mut self) -> Option<Sample> {
        if let Some(e) = &mut self.eager {
            return e.next();
        }
        loop {
            if let Some(it) = &mut self.cur {
                for (t, v) in it.by_ref() {
                    if t > self.series.maxt {
                        break;
                    }
                    if t >= self.series.mint {
                        return Some(Sample { t, v });
                    }
                }
                self.cur = None;
            }
            let c = self.series.chunks.get(self.next)?;
            self.next += 1;
            self.cur = c.data().map(chunkenc::iter);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunkenc::encode_best;

    fn chunk(samples: &[(i64, f64)]) -> Chunk {
        Chunk {
            mint: samples[0].0,
            maxt: samples[samples.len() - 1].0,
            bytes: Bytes::Shared(encode_best(samples).into()),
        }
    }

    fn ts(s: &SelectedSeries) -> (Vec<i64>, Vec<i64>) {
        let lazy: Vec<i64> = s.samples().map(|x| x.t).collect();
        let mut v = Vec::new();
        s.decode_into(&mut v);
        (lazy, v.iter().map(|x| x.t).collect())
    }

    #[test]
    fn lazy_and_eager_reads_agree_and_clip_to_the_range() {
        let a: Vec<(i64, f64)> = (0..10).map(|k| (k * 10, k as f64)).collect();
        let b: Vec<(i64, f64)> = (10..20).map(|k| (k * 10, k as f64 + 0.5)).collect();
        // Given newest first: sorted on construction.
        let s = SelectedSeries::new(Labels::empty(), vec![chunk(&b), chunk(&a)], 35, 125);
        let (lazy, eager) = ts(&s);
        assert_eq!(lazy, (4..=12).map(|k| k * 10).collect::<Vec<_>>());
        assert_eq!(lazy, eager);
        assert_eq!(s.max_samples(), 20);
        assert_eq!(s.to_vec().len(), 9);
    }

    #[test]
    fn overlapping_chunks_read_once_per_timestamp_first_given_wins() {
        let disk: Vec<(i64, f64)> = (0..10).map(|k| (k * 10, 1.0)).collect();
        let mem: Vec<(i64, f64)> = (5..15).map(|k| (k * 10, 2.0)).collect();
        let s = SelectedSeries::new(Labels::empty(), vec![chunk(&disk), chunk(&mem)], i64::MIN, i64::MAX);
        let (lazy, eager) = ts(&s);
        assert_eq!(lazy, (0..15).map(|k| k * 10).collect::<Vec<_>>());
        assert_eq!(lazy, eager);
        let v = s.to_vec();
        assert!(v[..10].iter().all(|x| x.v == 1.0) && v[10..].iter().all(|x| x.v == 2.0));
    }

    #[test]
    fn chunks_outside_the_range_are_dropped() {
        let a: Vec<(i64, f64)> = (0..10).map(|k| (k, 0.0)).collect();
        let s = SelectedSeries::new(Labels::empty(), vec![chunk(&a)], 100, 200);
        assert!(s.is_empty());
        assert_eq!(s.samples().count(), 0);
    }
}
