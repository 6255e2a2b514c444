//! One series' samples in the head: Gorilla chunks of up to 120 samples,
//! the newest one open for appends.
//!
//! A sample costs about a byte and a half here instead of the sixteen of a
//! plain `(i64, f64)`; reads decode only the chunks that overlap the range.

use crate::chunkenc::{XorAppender, XorIterator, SAMPLES_PER_CHUNK};
use crate::sample::Sample;

/// A full chunk and the time range it covers.
struct SealedChunk {
    mint: i64,
    maxt: i64,
    bytes: Box<[u8]>,
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

/// The chunks of one series.
#[derive(Default)]
pub struct SeriesChunks {
    sealed: Vec<SealedChunk>,
    open: Option<XorAppender>,
    open_mint: i64,
    last_t: i64,
    last_v: u64,
}

impl SeriesChunks {
    /// Appends a sample, cutting a new chunk every [`SAMPLES_PER_CHUNK`] samples.
    pub fn append(&mut self, t: i64, v: f64) -> AppendResult {
        let bits = v.to_bits();
        if self.open.is_some() || !self.sealed.is_empty() {
            if t < self.last_t {
                return AppendResult::OutOfOrder;
            }
            if t == self.last_t {
                return if bits == self.last_v { AppendResult::Unchanged } else { AppendResult::Duplicate };
            }
        }
        if self.open.as_ref().is_some_and(|a| a.count() >= SAMPLES_PER_CHUNK) {
            self.seal();
        }
        let open = self.open.get_or_insert_with(|| {
            self.open_mint = t;
            XorAppender::new()
        });
        open.append(t, v);
        self.last_t = t;
        self.last_v = bits;
        AppendResult::Appended
    }

    fn seal(&mut self) {
        if let Some(a) = self.open.take() {
            let maxt = a.last_t();
            self.sealed.push(SealedChunk { mint: self.open_mint, maxt, bytes: a.into_bytes().into_boxed_slice() });
        }
    }

    /// Appends the samples in `[mint, maxt]` to `out`, oldest first.
    pub fn samples_in(&self, mint: i64, maxt: i64, out: &mut Vec<Sample>) {
        let first = self.sealed.partition_point(|c| c.maxt < mint);
        for c in &self.sealed[first..] {
            if c.mint > maxt {
                return;
            }
            decode_into(&c.bytes, mint, maxt, out);
        }
        if let Some(a) = &self.open {
            if self.open_mint <= maxt {
                decode_into(a.bytes(), mint, maxt, out);
            }
        }
    }

    /// True when the series holds no sample at all.
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

    /// Bytes of chunk data held (for the storage figures).
    pub fn chunk_bytes(&self) -> usize {
        self.sealed.iter().map(|c| c.bytes.len()).sum::<usize>() + self.open.as_ref().map_or(0, |a| a.bytes().len())
    }
}

fn decode_into(chunk: &[u8], mint: i64, maxt: i64, out: &mut Vec<Sample>) {
    for (t, v) in XorIterator::new(chunk) {
        if t > maxt {
            break;
        }
        if t >= mint {
            out.push(Sample { t, v });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_chunks_read_back_by_range() {
        let mut s = SeriesChunks::default();
        for k in 0..1000i64 {
            assert_eq!(s.append(k * 10, k as f64), AppendResult::Appended);
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
        assert_eq!(s.append(10, 1.0), AppendResult::Appended);
        assert_eq!(s.append(10, 1.0), AppendResult::Unchanged);
        assert_eq!(s.append(10, 2.0), AppendResult::Duplicate);
        assert_eq!(s.append(5, 2.0), AppendResult::OutOfOrder);
        assert_eq!(s.append(11, f64::NAN), AppendResult::Appended);
    }

    #[test]
    fn truncation_drops_whole_old_chunks() {
        let mut s = SeriesChunks::default();
        for k in 0..240i64 {
            s.append(k, 0.0);
        }
        s.truncate_before(130);
        let mut out = Vec::new();
        s.samples_in(i64::MIN, i64::MAX, &mut out);
        assert_eq!(out.first().map(|x| x.t), Some(120));
        s.truncate_before(1_000);
        assert!(s.is_empty());
    }
}
