//! Chunk encodings: the Gorilla XOR chunk for any float samples, and the
//! integer chunk for chunks of whole numbers. The count field's top bit
//! tells them apart; [`iter`] decodes either.

mod bstream;
pub mod int;
pub mod xor;

pub use xor::{XorAppender, XorIterator, SAMPLES_PER_CHUNK};

/// Decodes a stored chunk of either encoding.
#[derive(Clone, Debug)]
pub enum ChunkIter<'a> {
    /// A Gorilla XOR chunk.
    Xor(XorIterator<'a>),
    /// An integer chunk.
    Int(int::IntIterator<'a>),
}

/// An iterator over a chunk's samples, whichever its encoding.
pub fn iter(chunk: &[u8]) -> ChunkIter<'_> {
    match chunk.first() {
        Some(b) if b & 0x80 != 0 => ChunkIter::Int(int::IntIterator::new(chunk)),
        _ => ChunkIter::Xor(XorIterator::new(chunk)),
    }
}

impl ChunkIter<'_> {
    /// True when decoding stopped on malformed bytes.
    pub fn failed(&self) -> bool {
        match self {
            ChunkIter::Xor(i) => i.failed(),
            ChunkIter::Int(i) => i.failed(),
        }
    }
}

impl Iterator for ChunkIter<'_> {
    type Item = (i64, f64);

    #[inline]
    fn next(&mut self) -> Option<(i64, f64)> {
        match self {
            ChunkIter::Xor(i) => i.next(),
            ChunkIter::Int(i) => i.next(),
        }
    }
}

/// Appends the chunk's samples in `[mint, maxt]` to `out`; false when the
/// chunk's bytes stop making sense (the samples before that are kept).
/// One loop per encoding, so the per-sample work has no dispatch.
pub fn decode_into(chunk: &[u8], mint: i64, maxt: i64, out: &mut Vec<crate::Sample>) -> bool {
    out.reserve(usize::from(count(chunk)));
    match iter(chunk) {
        ChunkIter::Xor(i) => fill(i, mint, maxt, out),
        ChunkIter::Int(i) => fill(i, mint, maxt, out),
    }
}

#[inline(always)]
fn fill<I: Iterator<Item = (i64, f64)> + Failed>(
    mut it: I,
    mint: i64,
    maxt: i64,
    out: &mut Vec<crate::Sample>,
) -> bool {
    for (t, v) in it.by_ref() {
        if t > maxt {
            return true;
        }
        if t >= mint {
            out.push(crate::Sample { t, v });
        }
    }
    !it.failed()
}

trait Failed {
    fn failed(&self) -> bool;
}

impl Failed for XorIterator<'_> {
    fn failed(&self) -> bool {
        XorIterator::failed(self)
    }
}

impl Failed for int::IntIterator<'_> {
    fn failed(&self) -> bool {
        int::IntIterator::failed(self)
    }
}

/// The sample count in a chunk's header.
pub fn count(chunk: &[u8]) -> u16 {
    chunk.get(..2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]) & !int::INT_FLAG)
}

/// The smaller encoding of a sealed XOR chunk: the integer chunk when every
/// value is a whole number and that is shorter, else the chunk as it is.
pub fn compact(xor: &[u8]) -> Option<Vec<u8>> {
    let samples: Vec<(i64, f64)> = XorIterator::new(xor).collect();
    if samples.len() != usize::from(count(xor)) {
        return None;
    }
    int::encode(samples.into_iter()).filter(|b| b.len() < xor.len())
}

/// Most samples one chunk of either encoding can hold (the count's top bit is the encoding flag).
pub const MAX_CHUNK_SAMPLES: usize = 0x7fff;

/// Encodes samples (timestamps strictly increasing, at most
/// [`MAX_CHUNK_SAMPLES`]) in whichever encoding is smaller.
pub fn encode_best(samples: &[(i64, f64)]) -> Vec<u8> {
    debug_assert!(samples.len() <= MAX_CHUNK_SAMPLES);
    let mut a = XorAppender::new();
    for (t, v) in samples {
        a.append(*t, *v);
    }
    let xor = a.into_bytes();
    match int::encode(samples.iter().copied()) {
        Some(i) if i.len() < xor.len() => i,
        _ => xor,
    }
}
