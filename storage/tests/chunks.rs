//! Property tests: any strictly increasing timestamps and any float bit
//! patterns survive a Gorilla chunk round trip bit-exact; whole numbers
//! survive the integer chunk, and recoding picks a chunk that decodes to
//! the same samples.

use proptest::prelude::*;
use storage::chunkenc::{self, int, XorAppender, XorIterator};

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
    fn int_round_trip_and_compact(
        start in -1i64 << 50..1i64 << 50,
        steps in prop::collection::vec((1i64..1 << 40, prop_oneof![Just(0i64), -3i64..3, -1000i64..1000, any::<i64>()]), 1..121),
        v0 in -(1i64 << 53)..(1i64 << 53),
        regular in any::<bool>(),
    ) {
        let mut t = start;
        let mut v = v0;
        let mut samples = Vec::new();
        for (dt, dv) in steps {
            t = t.saturating_add(if regular { 15_000 } else { dt });
            v = v.wrapping_add(dv).clamp(-(1 << 53), 1 << 53);
            samples.push((t, v as f64));
        }
        samples.dedup_by_key(|s| s.0);
        let bytes = int::encode(samples.iter().copied()).expect("whole numbers encode");
        let mut it = chunkenc::iter(&bytes);
        let got: Vec<(i64, u64)> = it.by_ref().map(|(t, v)| (t, v.to_bits())).collect();
        prop_assert!(!it.failed());
        let want: Vec<(i64, u64)> = samples.iter().map(|(t, v)| (*t, v.to_bits())).collect();
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(chunkenc::count(&bytes) as usize, samples.len());
        let mut a = XorAppender::new();
        for (t, v) in &samples {
            a.append(*t, *v);
        }
        let xor = a.into_bytes();
        let best = chunkenc::compact(&xor).unwrap_or_else(|| xor.clone());
        prop_assert!(best.len() <= xor.len());
        let got: Vec<(i64, u64)> = chunkenc::iter(&best).map(|(t, v)| (t, v.to_bits())).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let n = XorIterator::new(&bytes).count();
        prop_assert!(n <= u16::MAX as usize);
        let n = chunkenc::iter(&bytes).count();
        prop_assert!(n <= u16::MAX as usize);
    }
}
