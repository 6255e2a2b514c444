//! The integer chunk: for chunks whose every value is a whole number (most
//! counters, bucket counts, gauges of things), values are coded as
//! differences instead of XORed float bits.
//!
//! Layout: `count | 0x8000: u16 BE | t0: zigzag uvarint | v0: zigzag uvarint`,
//! then per sample the timestamp as in the XOR chunk (first a delta, then
//! delta-of-delta buckets) and the value difference `d = v - v_prev`:
//! `0` when `d` repeats the previous difference (0 before the first), else
//! a bucket of zigzag(d): `10`+4 bits, `110`+7, `1110`+10, `11110`+13,
//! `11111`+64 (widths fitted to scraped counters and gauges). A counter rising at a steady pace costs two bits per sample;
//! the XOR coding of the same integers costs about as many bits as the
//! integer has changing digits, plus its control bits.

use super::bstream::{BitReader, BitWriter};
use super::xor::{read_dod, read_uvarint, unzigzag, write_dod, write_uvarint, zigzag};

/// Set in the count field of an integer chunk.
pub const INT_FLAG: u16 = 0x8000;

const VALUE_BUCKETS: [u8; 5] = [4, 7, 10, 13, 64];

/// The value as an integer when it is one exactly (not -0.0, NaN or ±Inf,
/// and within ±2^53 so that the float round-trips).
pub fn as_int(v: f64) -> Option<i64> {
    let i = v as i64;
    ((i as f64).to_bits() == v.to_bits() && i.unsigned_abs() <= 1 << 53).then_some(i)
}

/// Encodes samples (timestamps strictly increasing) as an integer chunk,
/// or `None` when a value is not a whole number or there are too many.
pub fn encode(samples: impl ExactSizeIterator<Item = (i64, f64)>) -> Option<Vec<u8>> {
    let count = u16::try_from(samples.len()).ok().filter(|&c| c < INT_FLAG)?;
    let mut w = BitWriter::with_capacity(64);
    w.write_bits(u64::from(count | INT_FLAG), 16);
    let (mut t, mut t_delta, mut v, mut d_prev) = (0i64, 0i64, 0i64, 0i64);
    for (k, (ts, val)) in samples.enumerate() {
        let iv = as_int(val)?;
        match k {
            0 => {
                write_uvarint(&mut w, zigzag(ts));
                write_uvarint(&mut w, zigzag(iv));
            }
            _ => {
                let dt = ts.wrapping_sub(t);
                if k == 1 {
                    write_uvarint(&mut w, zigzag(dt));
                } else {
                    write_dod(&mut w, dt.wrapping_sub(t_delta));
                }
                t_delta = dt;
                let d = iv.wrapping_sub(v);
                if d == d_prev {
                    w.write_bit(false);
                } else {
                    let z = zigzag(d);
                    let k = VALUE_BUCKETS.iter().position(|&b| b == 64 || z < 1 << b).unwrap_or(4);
                    // k+1 one-bits, then a zero unless it is the last bucket.
                    let ones = k as u8 + 1;
                    w.write_bits((1 << ones) - 1, ones);
                    if k < 4 {
                        w.write_bit(false);
                    }
                    w.write_bits(z, VALUE_BUCKETS[k]);
                    d_prev = d;
                }
            }
        }
        t = ts;
        v = iv;
    }
    Some(w.into_bytes())
}

/// Decodes an integer chunk lazily.
#[derive(Clone, Debug)]
pub struct IntIterator<'a> {
    r: BitReader<'a>,
    count: u16,
    read: u16,
    t: i64,
    t_delta: i64,
    v: i64,
    d: i64,
    failed: bool,
}

impl<'a> IntIterator<'a> {
    /// Reads the chunk `chunk` (its header included).
    pub fn new(chunk: &'a [u8]) -> Self {
        let count = if chunk.len() >= 2 { u16::from_be_bytes([chunk[0], chunk[1]]) & !INT_FLAG } else { 0 };
        let body = chunk.get(2..).unwrap_or(&[]);
        IntIterator { r: BitReader::new(body), count, read: 0, t: 0, t_delta: 0, v: 0, d: 0, failed: false }
    }

    /// The chunk ended early or held a bad number: iteration stopped there.
    pub fn failed(&self) -> bool {
        self.failed
    }

    #[inline(always)]
    fn step(&mut self) -> Option<(i64, f64)> {
        if self.read == 0 {
            self.t = unzigzag(read_uvarint(&mut self.r)?);
            self.v = unzigzag(read_uvarint(&mut self.r)?);
        } else {
            // Most samples of a steady series: the same time step and the same
            // difference, two zero bits.
            if self.read > 1 && self.r.peek(2) == Some(0) {
                self.r.skip(2);
                self.t = self.t.wrapping_add(self.t_delta);
                self.v = self.v.wrapping_add(self.d);
                self.read += 1;
                return Some((self.t, self.v as f64));
            }
            if self.read == 1 {
                self.t_delta = unzigzag(read_uvarint(&mut self.r)?);
            } else {
                self.t_delta = self.t_delta.wrapping_add(read_dod(&mut self.r)?);
            }
            self.t = self.t.wrapping_add(self.t_delta);
            let ones = self.r.read_unary(5)?;
            if ones > 0 {
                self.d = unzigzag(self.r.read_bits(VALUE_BUCKETS[ones as usize - 1])?);
            }
            self.v = self.v.wrapping_add(self.d);
        }
        self.read += 1;
        Some((self.t, self.v as f64))
    }
}

impl Iterator for IntIterator<'_> {
    type Item = (i64, f64);

    #[inline]
    fn next(&mut self) -> Option<(i64, f64)> {
        if self.read >= self.count || self.failed {
            return None;
        }
        let s = self.step();
        if s.is_none() {
            self.failed = true;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_round_trip_small() {
        let samples: Vec<(i64, f64)> =
            (0..120).map(|k| (1_700_000_000_000 + k * 15_000, (1000 + k * 7) as f64)).collect();
        let bytes = encode(samples.iter().copied()).unwrap();
        assert!(bytes.len() < 2 + 12 + 4 + 2 + 120 * 2 / 8 + 2, "{} bytes", bytes.len());
        assert_eq!(IntIterator::new(&bytes).collect::<Vec<_>>(), samples);
    }

    #[test]
    fn only_exact_integers_qualify() {
        for v in [0.5, -0.0, f64::NAN, f64::INFINITY, 1e300, crate::stale_nan()] {
            assert!(encode([(0, 1.0), (1, v)].into_iter()).is_none(), "{v}");
        }
        let big = [(0i64, -(1i64 << 53) as f64), (1, (1i64 << 53) as f64), (2, 0.0), (3, -5.0)];
        let bytes = encode(big.iter().copied()).unwrap();
        assert_eq!(IntIterator::new(&bytes).collect::<Vec<_>>(), big);
    }
}
