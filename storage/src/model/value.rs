//! Samples and Prometheus's staleness marker.

/// The bit pattern Prometheus writes as a staleness marker: a NaN that no
/// arithmetic produces, so it can be told apart from a scraped NaN.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as an `f64`. Compare with [`is_stale_nan`], never `==`.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether `v` is exactly the staleness marker (not any other NaN).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One sample: a millisecond Unix timestamp and a float value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Timestamp (ms since the epoch).
    pub t: i64,
    /// Value (the staleness marker is a NaN with its own bits).
    pub v: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_marker_is_a_specific_nan() {
        assert!(stale_nan().is_nan());
        assert!(is_stale_nan(stale_nan()));
        assert!(!is_stale_nan(f64::NAN));
    }
}
