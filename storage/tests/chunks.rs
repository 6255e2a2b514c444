//! Property test: any strictly increasing timestamps and any float bit
//! patterns survive a Gorilla chunk round trip bit-exact.

use proptest::prelude::*;
use storage::chunkenc::{XorAppender, XorIterator};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]
    #[test]
    fn xor_round_trip(start in -1i64 << 50..1i64 << 50, steps in prop::collection::vec((1i64..1 << 40, any::<u64>()), 1..300)) {
        let mut t = start;
        let mut samples = Vec::new();
        for (dt, bits) in steps {
            t = t.saturating_add(dt);
            samples.push((t, bits));
        }
        samples.dedup_by_key(|s| s.0);
        let mut a = XorAppender::new();
        for (t, bits) in &samples {
            a.append(*t, f64::from_bits(*bits));
        }
        let bytes = a.into_bytes();
        let mut it = XorIterator::new(&bytes);
        let got: Vec<(i64, u64)> = it.by_ref().map(|(t, v)| (t, v.to_bits())).collect();
        prop_assert!(!it.failed());
        prop_assert_eq!(got, samples);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let n = XorIterator::new(&bytes).count();
        prop_assert!(n <= u16::MAX as usize);
    }
}
