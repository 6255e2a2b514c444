//! Property test: any sequence of appends and queries returns exactly what
//! a simple in-memory model of Prometheus's rules says (out-of-order and
//! conflicting duplicates rejected, equal duplicates ignored, values bit-exact).

use proptest::prelude::*;
use std::collections::BTreeMap;
use storage::{Db, Labels, MatchOp, Matcher, Sample, SeriesRef};

#[derive(Debug, Clone)]
enum Op {
    /// (series index, time step, value choice)
    Append(Vec<(usize, i64, u8)>),
    Select {
        series: usize,
        from: i64,
        to: i64,
    },
}

fn value(choice: u8, t: i64) -> f64 {
    match choice % 6 {
        0 => f64::NAN,
        1 => storage::stale_nan(),
        2 => f64::INFINITY,
        3 => -0.0,
        4 => t as f64 * 0.25,
        _ => (t % 7) as f64,
    }
}

/// Series `k`'s samples in `[mint, maxt]` as (time, value bits).
fn read(db: &Db, k: usize, mint: i64, maxt: i64) -> Vec<(i64, u64)> {
    let m = Matcher::new(MatchOp::Equal, "k", k.to_string()).unwrap();
    let eager: Vec<(i64, u64)> = db
        .select(std::slice::from_ref(&m), mint, maxt)
        .into_iter()
        .flat_map(|s| s.samples.into_iter().map(|x| (x.t, x.v.to_bits())))
        .collect();
    // The lazy iterators read the same.
    let lazy: Vec<(i64, u64)> =
        db.select_series(&[m], mint, maxt).iter().flat_map(|s| s.samples().map(|x| (x.t, x.v.to_bits()))).collect();
    assert_eq!(lazy, eager, "series {k} in [{mint}, {maxt}]");
    eager
}

fn expected(model: &BTreeMap<i64, u64>, mint: i64, maxt: i64) -> Vec<(i64, u64)> {
    model.range(mint..=maxt).map(|(t, b)| (*t, *b)).collect()
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => prop::collection::vec((0usize..4, -5i64..400, any::<u8>()), 1..60).prop_map(Op::Append),
        1 => (0usize..4, -10i64..500, 0i64..300).prop_map(|(series, from, len)| Op::Select { series, from, to: from + len }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn head_matches_model(ops in prop::collection::vec(op(), 1..30)) {
        let db = Db::in_memory();
        let labels: Vec<Labels> = (0..4).map(|k| Labels::from_pairs([("__name__", "m"), ("k", &k.to_string())])).collect();
        let refs: Vec<SeriesRef> = labels.iter().map(|l| db.get_or_create(l)).collect();
        let mut model: Vec<BTreeMap<i64, u64>> = vec![BTreeMap::new(); 4];
        for op in ops {
            match op {
                Op::Append(batch) => {
                    let mut expect = (0u64, 0u64, 0u64);
                    let samples: Vec<(SeriesRef, Sample)> = batch
                        .iter()
                        .map(|(s, step, c)| (refs[*s], Sample { t: step * 1000, v: value(*c, *step) }))
                        .collect();
                    for (k, (s, step, c)) in batch.iter().enumerate() {
                        let (t, bits) = (step * 1000, value(*c, *step).to_bits());
                        let m = &mut model[*s];
                        match m.last_key_value().map(|(lt, lb)| (*lt, *lb)) {
                            Some((lt, _)) if t < lt => expect.1 += 1,
                            Some((lt, lb)) if t == lt => if lb != bits { expect.2 += 1 },
                            _ => { m.insert(t, bits); expect.0 += 1; }
                        }
                        let _ = k;
                    }
                    let got = db.append(&samples);
                    prop_assert_eq!((got.appended, got.out_of_order, got.duplicate), expect);
                }
                Op::Select { series, from, to } => {
                    let (mint, maxt) = (from * 1000, to * 1000);
                    prop_assert_eq!(read(&db, series, mint, maxt), expected(&model[series], mint, maxt));
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
enum DiskOp {
    Append(Vec<(usize, i64, u8)>),
    Select {
        series: usize,
        from: i64,
        to: i64,
    },
    /// Drop the store without closing it, as a crash would, and reopen it.
    Restart,
    Maintain,
    Checkpoint,
}

fn disk_op() -> impl Strategy<Value = DiskOp> {
    prop_oneof![
        4 => prop::collection::vec((0usize..4, -5i64..600, any::<u8>()), 1..80).prop_map(DiskOp::Append),
        2 => (0usize..4, -10i64..700, 0i64..400).prop_map(|(series, from, len)| DiskOp::Select { series, from, to: from + len }),
        1 => Just(DiskOp::Restart),
        1 => Just(DiskOp::Maintain),
        1 => Just(DiskOp::Checkpoint),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// The same rules hold for the persistent store across restarts, chunk
    /// writes, partition closes and checkpoints. A step is one minute, so a
    /// run spans several two-hour partitions.
    #[test]
    fn persistent_store_matches_model_across_restarts(ops in prop::collection::vec(disk_op(), 1..40)) {
        let tmp = tempfile::tempdir().unwrap();
        let opts = storage::Options { maintain_every: None, ..storage::Options::default() };
        let mut db = Db::open(tmp.path(), opts).unwrap();
        let labels: Vec<Labels> = (0..4).map(|k| Labels::from_pairs([("__name__", "m"), ("k", &k.to_string())])).collect();
        let mut model: Vec<BTreeMap<i64, u64>> = vec![BTreeMap::new(); 4];
        const STEP: i64 = 60_000;
        for op in ops {
            match op {
                DiskOp::Append(batch) => {
                    let mut expect = (0u64, 0u64, 0u64);
                    let samples: Vec<(SeriesRef, Sample)> = batch
                        .iter()
                        .map(|(s, step, c)| (db.get_or_create(&labels[*s]), Sample { t: step * STEP, v: value(*c, *step) }))
                        .collect();
                    for (s, step, c) in &batch {
                        let (t, bits) = (step * STEP, value(*c, *step).to_bits());
                        let m = &mut model[*s];
                        match m.last_key_value().map(|(lt, lb)| (*lt, *lb)) {
                            Some((lt, _)) if t < lt => expect.1 += 1,
                            Some((lt, lb)) if t == lt => if lb != bits { expect.2 += 1 },
                            _ => { m.insert(t, bits); expect.0 += 1; }
                        }
                    }
                    let got = db.append(&samples);
                    prop_assert_eq!((got.appended, got.out_of_order, got.duplicate), expect);
                }
                DiskOp::Select { series, from, to } => {
                    let (mint, maxt) = (from * STEP, to * STEP);
                    prop_assert_eq!(read(&db, series, mint, maxt), expected(&model[series], mint, maxt));
                }
                DiskOp::Restart => {
                    drop(db);
                    db = Db::open(tmp.path(), opts).unwrap();
                }
                DiskOp::Maintain => db.maintain(),
                DiskOp::Checkpoint => db.checkpoint().unwrap(),
            }
        }
        // Finally every series reads back whole after one more restart.
        drop(db);
        let db = Db::open(tmp.path(), opts).unwrap();
        for (k, m) in model.iter().enumerate() {
            prop_assert_eq!(read(&db, k, i64::MIN, i64::MAX), expected(m, i64::MIN, i64::MAX));
        }
    }
}
