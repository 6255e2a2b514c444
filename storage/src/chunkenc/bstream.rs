//! Bit streams for the Gorilla chunk encoding: a writer that appends bits to
//! a byte vector, and a reader that refills a 64-bit buffer so that most
//! reads are a shift and a mask.

/// Appends bits, most significant first.
#[derive(Clone, Debug, Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    /// Bits still free in the last byte (0 when a new byte is needed).
    free: u8,
}

impl BitWriter {
    pub fn with_capacity(bytes: usize) -> Self {
        BitWriter { bytes: Vec::with_capacity(bytes), free: 0 }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub fn write_bit(&mut self, bit: bool) {
        if self.free == 0 {
            self.bytes.push(0);
            self.free = 8;
        }
        self.free -= 1;
        if bit {
            let last = self.bytes.len() - 1;
            self.bytes[last] |= 1 << self.free;
        }
    }

    /// Writes the low `n` bits of `v` (n ≤ 64).
    pub fn write_bits(&mut self, v: u64, mut n: u8) {
        debug_assert!(n <= 64);
        while n > 0 {
            if self.free == 0 {
                self.bytes.push(0);
                self.free = 8;
            }
            let take = n.min(self.free);
            let shift = n - take;
            let chunk = ((v >> shift) & ((1u64 << take) - 1)) as u8;
            let last = self.bytes.len() - 1;
            self.bytes[last] |= chunk << (self.free - take);
            self.free -= take;
            n -= take;
        }
    }

    /// Overwrites two already written bytes at byte offset `at` (a header).
    pub fn patch_u16(&mut self, at: usize, v: u16) {
        self.bytes[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }

    /// Writes whole bytes at a byte boundary or not: used for headers.
    pub fn write_byte(&mut self, b: u8) {
        self.write_bits(b as u64, 8);
    }
}

/// Reads bits, most significant first. Reading past the end is an error
/// (`None`), never a panic: chunk bytes from disk are untrusted.
#[derive(Clone, Debug)]
pub struct BitReader<'a> {
    bytes: &'a [u8],
    /// Next byte of `bytes` to load into `buf`.
    pos: usize,
    /// Bits not yet consumed, left-aligned.
    buf: u64,
    /// Valid bits in `buf`.
    avail: u8,
}

impl<'a> BitReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        BitReader { bytes, pos: 0, buf: 0, avail: 0 }
    }

    /// Tops up `buf` to at least 57 valid bits where the input allows.
    /// Bits beyond `avail` may already hold the next input bits; refilling
    /// ORs the same bits over them, so they stay correct.
    #[inline]
    fn refill(&mut self) {
        if let Some(chunk) = self.bytes.get(self.pos..self.pos + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let word = u64::from_be_bytes(word);
            self.buf |= if self.avail == 0 { word } else { word >> self.avail };
            let take = (63 - self.avail) >> 3;
            self.pos += take as usize;
            self.avail += take * 8;
        } else {
            while self.avail <= 56 && self.pos < self.bytes.len() {
                self.buf |= (self.bytes[self.pos] as u64) << (56 - self.avail);
                self.avail += 8;
                self.pos += 1;
            }
        }
    }

    #[inline]
    fn ensure(&mut self, n: u8) -> bool {
        if self.avail < n {
            self.refill();
        }
        self.avail >= n
    }

    #[inline]
    fn consume(&mut self, n: u8) {
        self.buf = if n >= 64 { 0 } else { self.buf << n };
        self.avail -= n;
    }

    /// The next `n` bits (1 ≤ n ≤ 56) without consuming them, if the input has them.
    #[inline]
    pub fn peek(&mut self, n: u8) -> Option<u64> {
        self.ensure(n).then(|| self.buf >> (64 - n))
    }

    /// Consumes `n` bits known to be there (after a successful `peek`).
    #[inline]
    pub fn skip(&mut self, n: u8) {
        debug_assert!(n <= self.avail);
        self.consume(n);
    }

    #[inline]
    pub fn read_bit(&mut self) -> Option<bool> {
        if !self.ensure(1) {
            return None;
        }
        let bit = self.buf >> 63 == 1;
        self.consume(1);
        Some(bit)
    }

    /// Reads `n` bits (n ≤ 64) as the low bits of the result.
    #[inline]
    pub fn read_bits(&mut self, n: u8) -> Option<u64> {
        debug_assert!(n <= 64);
        if n == 0 {
            return Some(0);
        }
        if n > 56 {
            let hi = self.read_bits(n - 32)?;
            let lo = self.read_bits(32)?;
            return Some((hi << 32) | lo);
        }
        if !self.ensure(n) {
            return None;
        }
        let v = self.buf >> (64 - n);
        self.consume(n);
        Some(v)
    }

    /// Counts leading one bits up to `max` (≤ 8), consuming them and the
    /// terminating zero (if fewer than `max`).
    #[inline]
    pub fn read_unary(&mut self, max: u8) -> Option<u8> {
        if self.ensure(max) {
            let ones = (self.buf.leading_ones() as u8).min(max);
            self.consume(if ones < max { ones + 1 } else { ones });
            return Some(ones);
        }
        // Near the end of the input: bit by bit.
        let mut n = 0;
        while n < max {
            if !self.read_bit()? {
                return Some(n);
            }
            n += 1;
        }
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_mixed_widths() {
        let mut w = BitWriter::default();
        let items: Vec<(u64, u8)> = (0..500u64)
            .map(|k| (k.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (k % 64), ((k * 7) % 64 + 1) as u8))
            .collect();
        for (v, n) in &items {
            let mask = if *n == 64 { u64::MAX } else { (1 << n) - 1 };
            w.write_bits(v & mask, *n);
            w.write_bit(*n % 2 == 0);
        }
        let bytes = w.into_bytes();
        let mut r = BitReader::new(&bytes);
        for (v, n) in &items {
            let mask = if *n == 64 { u64::MAX } else { (1 << n) - 1 };
            assert_eq!(r.read_bits(*n), Some(v & mask), "width {n}");
            assert_eq!(r.read_bit(), Some(*n % 2 == 0));
        }
    }

    #[test]
    fn reading_past_the_end_is_none() {
        let mut r = BitReader::new(&[0xff]);
        assert_eq!(r.read_bits(8), Some(0xff));
        assert_eq!(r.read_bit(), None);
        let mut r = BitReader::new(&[0xff, 0x00]);
        assert_eq!(r.read_bits(17), None);
    }
}
