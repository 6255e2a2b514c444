//! The Gorilla chunk: delta-of-delta timestamps and XOR-encoded floats, as
//! in Facebook's Gorilla paper and Prometheus's `chunkenc/xor.go`.
//!
//! Layout (storage/docs/format.md has the byte-level description):
//! `count: u16 BE | t0: zigzag LEB128 | v0: 64 bits | dt1: LEB128 | v1 XOR | (dod, v XOR)*`.
//! Regular scrapes cost one bit per timestamp; an unchanged value one bit.

use super::bstream::{BitReader, BitWriter};
pub(super) use crate::model::varint::{unzigzag, zigzag};

/// Samples per chunk before it is cut (Prometheus's figure).
pub const SAMPLES_PER_CHUNK: u16 = 120;

/// A chunk being written.
#[derive(Clone, Debug)]
pub struct XorAppender {
    w: BitWriter,
    count: u16,
    t: i64,
    t_delta: i64,
    v: u64,
    leading: u8,
    trailing: u8,
}

impl Default for XorAppender {
    fn default() -> Self {
        let mut w = BitWriter::with_capacity(128);
        w.write_bits(0, 16); // count, patched on every append
        XorAppender { w, count: 0, t: 0, t_delta: 0, v: 0, leading: 0xff, trailing: 0 }
    }
}

pub(super) fn write_uvarint(w: &mut BitWriter, mut x: u64) {
    loop {
        let byte = (x & 0x7f) as u8;
        x >>= 7;
        if x == 0 {
            w.write_byte(byte);
            return;
        }
        w.write_byte(byte | 0x80);
    }
}

pub(super) fn read_uvarint(r: &mut BitReader) -> Option<u64> {
    let mut x = 0u64;
    for shift in (0..64).step_by(7) {
        let b = r.read_bits(8)?;
        x |= (b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(x);
        }
    }
    None
}

/// A timestamp's delta of delta: `0`, or `10`+14, `110`+17, `1110`+20,
/// `1111`+64 bits (two's complement in the narrow buckets).
pub(super) fn write_dod(w: &mut BitWriter, dod: i64) {
    if dod == 0 {
        w.write_bit(false);
    } else if fits(dod, 14) {
        w.write_bits(0b10, 2);
        w.write_bits(dod as u64 & ((1 << 14) - 1), 14);
    } else if fits(dod, 17) {
        w.write_bits(0b110, 3);
        w.write_bits(dod as u64 & ((1 << 17) - 1), 17);
    } else if fits(dod, 20) {
        w.write_bits(0b1110, 4);
        w.write_bits(dod as u64 & ((1 << 20) - 1), 20);
    } else {
        w.write_bits(0b1111, 4);
        w.write_bits(dod as u64, 64);
    }
}

/// Reads what [`write_dod`] wrote.
#[inline]
pub(super) fn read_dod(r: &mut BitReader) -> Option<i64> {
    Some(match r.read_unary(4)? {
        0 => 0,
        k => {
            let bits = [0, 14, 17, 20, 64][k as usize];
            let raw = r.read_bits(bits)?;
            if bits == 64 || raw <= 1 << (bits - 1) {
                raw as i64
            } else {
                raw as i64 - (1i64 << bits)
            }
        }
    })
}

fn fits(x: i64, bits: u8) -> bool {
    let lim = 1i64 << (bits - 1);
    -(lim - 1) <= x && x <= lim
}

impl XorAppender {
    /// An empty chunk.
    pub fn new() -> Self {
        Self::default()
    }

    /// Samples in the chunk.
    pub fn count(&self) -> u16 {
        self.count
    }

    /// Bytes of the chunk so far (count header included).
    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    /// The chunk's bytes, header included.
    pub fn into_bytes(self) -> Vec<u8> {
        self.w.into_bytes()
    }

    /// The newest timestamp appended (meaningless when empty).
    pub fn last_t(&self) -> i64 {
        self.t
    }

    /// Bits of the newest value appended (meaningless when empty).
    pub fn last_v_bits(&self) -> u64 {
        self.v
    }

    /// Appends a sample; the caller keeps timestamps strictly increasing.
    pub fn append(&mut self, t: i64, v: f64) {
        let vb = v.to_bits();
        match self.count {
            0 => {
                write_uvarint(&mut self.w, zigzag(t));
                self.w.write_bits(vb, 64);
            }
            1 => {
                let dt = t - self.t;
                write_uvarint(&mut self.w, zigzag(dt));
                self.write_value(vb);
                self.t_delta = dt;
            }
            _ => {
                let dt = t - self.t;
                write_dod(&mut self.w, dt.wrapping_sub(self.t_delta));
                self.write_value(vb);
                self.t_delta = dt;
            }
        }
        self.t = t;
        self.v = vb;
        self.count += 1;
        self.patch_count();
    }

    fn patch_count(&mut self) {
        // The count lives in the first two bytes, written as 16 zero bits at creation.
        self.w.patch_u16(0, self.count);
    }

    fn write_value(&mut self, vb: u64) {
        let delta = vb ^ self.v;
        if delta == 0 {
            self.w.write_bit(false);
            return;
        }
        self.w.write_bit(true);
        let leading = (delta.leading_zeros() as u8).min(31);
        let trailing = delta.trailing_zeros() as u8;
        if self.leading != 0xff && leading >= self.leading && trailing >= self.trailing {
            self.w.write_bit(false);
            let sig = 64 - self.leading - self.trailing;
            self.w.write_bits(delta >> self.trailing, sig);
        } else {
            self.leading = leading;
            self.trailing = trailing;
            self.w.write_bit(true);
            self.w.write_bits(leading as u64, 5);
            let sig = 64 - leading - trailing;
            // 64 significant bits are written as 0 in six bits.
            self.w.write_bits(if sig == 64 { 0 } else { sig as u64 }, 6);
            self.w.write_bits(delta >> trailing, sig);
        }
    }
}

/// Decodes a chunk lazily, one sample per `next`.
#[derive(Clone, Debug)]
pub struct XorIterator<'a> {
    r: BitReader<'a>,
    count: u16,
    read: u16,
    t: i64,
    t_delta: i64,
    v: u64,
    leading: u8,
    trailing: u8,
    /// Set when the bytes are malformed: iteration stops.
    failed: bool,
}

impl<'a> XorIterator<'a> {
    /// Reads the chunk `chunk` (its header included).
    pub fn new(chunk: &'a [u8]) -> Self {
        let count = if chunk.len() >= 2 { u16::from_be_bytes([chunk[0], chunk[1]]) } else { 0 };
        let body = chunk.get(2..).unwrap_or(&[]);
        XorIterator {
            r: BitReader::new(body),
            count,
            read: 0,
            t: 0,
            t_delta: 0,
            v: 0,
            leading: 0,
            trailing: 0,
            failed: false,
        }
    }

    /// Samples the chunk claims to hold.
    pub fn len(&self) -> u16 {
        self.count
    }

    /// The chunk holds no sample.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// True when decoding stopped on malformed bytes.
    pub fn failed(&self) -> bool {
        self.failed
    }

    #[inline(always)]
    fn step(&mut self) -> Option<(i64, f64)> {
        match self.read {
            0 => {
                self.t = unzigzag(read_uvarint(&mut self.r)?);
                self.v = self.r.read_bits(64)?;
            }
            1 => {
                self.t_delta = unzigzag(read_uvarint(&mut self.r)?);
                self.t = self.t.wrapping_add(self.t_delta);
                self.read_value()?;
            }
            _ => {
                self.t_delta = self.t_delta.wrapping_add(read_dod(&mut self.r)?);
                self.t = self.t.wrapping_add(self.t_delta);
                self.read_value()?;
            }
        }
        self.read += 1;
        Some((self.t, f64::from_bits(self.v)))
    }

    #[inline]
    fn read_value(&mut self) -> Option<()> {
        // Control bits: 0 = same value, 10 = reuse the window, 11 = new window.
        let control = match self.r.peek(2) {
            Some(c) => c,
            None => {
                // Fewer than two bits left: only a lone 0 is valid.
                return if self.r.read_bit()? { None } else { Some(()) };
            }
        };
        if control < 0b10 {
            self.r.skip(1);
            return Some(());
        }
        self.r.skip(2);
        if control == 0b11 {
            let header = self.r.read_bits(11)?;
            self.leading = (header >> 6) as u8;
            let sig = (header & 0x3f) as u8;
            let sig = if sig == 0 { 64 } else { sig };
            if self.leading + sig > 64 {
                return None;
            }
            self.trailing = 64 - self.leading - sig;
        }
        let sig = 64 - self.leading - self.trailing;
        let bits = self.r.read_bits(sig)?;
        self.v ^= if self.trailing >= 64 { 0 } else { bits << self.trailing };
        Some(())
    }
}

impl Iterator for XorIterator<'_> {
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

    fn round_trip(samples: &[(i64, f64)]) -> Vec<u8> {
        let mut a = XorAppender::new();
        for (t, v) in samples {
            a.append(*t, *v);
        }
        let bytes = a.into_bytes();
        let got: Vec<(i64, u64)> = XorIterator::new(&bytes).map(|(t, v)| (t, v.to_bits())).collect();
        let want: Vec<(i64, u64)> = samples.iter().map(|(t, v)| (*t, v.to_bits())).collect();
        assert_eq!(got, want);
        bytes
    }

    #[test]
    fn regular_scrapes_compress_to_about_a_bit_per_timestamp() {
        let samples: Vec<(i64, f64)> = (0..120).map(|k| (1_700_000_000_000 + k * 15_000, 42.0)).collect();
        let bytes = round_trip(&samples);
        assert!(bytes.len() < 2 + 7 + 8 + 3 + 30, "{} bytes", bytes.len());
    }

    #[test]
    fn irregular_times_and_special_values() {
        let mut t = -5_000i64;
        let mut samples = Vec::new();
        let values = [0.0, -0.0, 1.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MIN_POSITIVE, f64::MAX, 1e-300];
        for k in 0..500 {
            t += [1, 15_000, 14_999, 1 << 13, 1 << 16, 1 << 19, 1 << 30, 3][k % 8];
            let v = if k % 5 == 0 { values[k % values.len()] } else { (k as f64).sqrt() * 1e3 };
            samples.push((t, v));
        }
        samples.push((i64::MAX / 2, f64::from_bits(crate::STALE_NAN_BITS)));
        round_trip(&samples);
    }

    #[test]
    fn truncated_chunks_stop_cleanly() {
        let samples: Vec<(i64, f64)> = (0..50).map(|k| (k * 1000, k as f64 * 1.1)).collect();
        let mut a = XorAppender::new();
        for (t, v) in &samples {
            a.append(*t, *v);
        }
        let bytes = a.into_bytes();
        for cut in 0..bytes.len() {
            let mut it = XorIterator::new(&bytes[..cut]);
            let n = it.by_ref().count();
            assert!(n <= samples.len());
        }
        // A count larger than the data: decoding stops and says so.
        let mut lying = bytes.clone();
        lying[0] = 0xff;
        let mut it = XorIterator::new(&lying);
        assert_eq!(it.by_ref().count(), 50);
        assert!(it.failed());
    }
}
