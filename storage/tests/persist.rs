//! The persistent store: what is appended is there after a restart, through
//! the WAL, checkpoints, chunks on disk and retention.

use std::path::Path;
use std::sync::Arc;
use storage::{Db, Labels, MatchOp, Matcher, Options, Sample, SeriesRef, PARTITION_MS};

fn opts() -> Options {
    Options { maintain_every: None, ..Options::default() }
}

fn open(dir: &Path) -> Arc<Db> {
    Db::open(dir, opts()).unwrap()
}

fn name(n: &str) -> Matcher {
    Matcher::new(MatchOp::Equal, "__name__", n).unwrap()
}

fn series(db: &Db, metric: &str, job: &str) -> SeriesRef {
    db.get_or_create(&Labels::from_pairs([("__name__", metric), ("job", job)]))
}

fn all(db: &Db, metric: &str) -> Vec<(Labels, Vec<Sample>)> {
    db.select(&[name(metric)], i64::MIN, i64::MAX).into_iter().map(|s| (s.labels, s.samples)).collect()
}

#[test]
fn samples_survive_a_restart_without_close() {
    let tmp = tempfile::tempdir().unwrap();
    let want = {
        let db = open(tmp.path());
        let a = series(&db, "up", "a");
        let b = series(&db, "up", "b");
        for k in 0..500i64 {
            db.append(&[
                (a, Sample { t: k * 1000, v: k as f64 }),
                (b, Sample { t: k * 1000, v: storage::stale_nan() }),
            ]);
            if k % 97 == 0 {
                db.maintain();
            }
        }
        all(&db, "up")
    };
    let db = open(tmp.path());
    let got = all(&db, "up");
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1, want[0].1);
    assert_eq!(got[1].1.len(), 500);
    assert!(got[1].1.iter().all(|s| storage::is_stale_nan(s.v)), "staleness markers kept bit-exact");
    let report = db.open_report().unwrap();
    assert_eq!(report.series, 2);
    assert!(report.wal_samples > 0);
}

#[test]
fn chunks_on_disk_and_checkpoints_replace_the_wal() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 1_000i64;
    {
        let db = open(tmp.path());
        let a = series(&db, "m", "a");
        for k in 0..n {
            db.append(&[(a, Sample { t: k * 15_000, v: (k % 7) as f64 })]);
        }
        db.maintain();
        assert!(db.stats().chunks_written.load(std::sync::atomic::Ordering::Relaxed) >= 8);
        db.checkpoint().unwrap();
        // After the checkpoint the WAL holds only what came later.
        for k in n..n + 10 {
            db.append(&[(a, Sample { t: k * 15_000, v: 1.0 })]);
        }
        let usage = db.disk_usage();
        assert!(usage.chunks > 100 && usage.samples >= 960 && usage.partitions >= 2, "{usage:?}");
    }
    let db = open(tmp.path());
    let report = db.open_report().unwrap();
    assert_eq!(report.wal_samples, 10, "{report:?}");
    let got = all(&db, "m");
    let ts: Vec<i64> = got[0].1.iter().map(|s| s.t).collect();
    assert_eq!(ts, (0..n + 10).map(|k| k * 15_000).collect::<Vec<_>>());
    // Appends continue where they stopped; older samples are out of order.
    let a = series(&db, "m", "a");
    let o = db.append(&[(a, Sample { t: 0, v: 1.0 }), (a, Sample { t: (n + 10) * 15_000, v: 2.0 })]);
    assert_eq!((o.appended, o.out_of_order), (1, 1));
}

#[test]
fn ranges_read_across_disk_and_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let db = open(tmp.path());
    let a = series(&db, "m", "a");
    for k in 0..2_000i64 {
        db.append(&[(a, Sample { t: k * 10_000, v: k as f64 })]);
        if k % 300 == 0 {
            db.maintain();
        }
    }
    for (lo, hi) in [(0, 5), (100, 1_000), (1_195, 1_205), (1_900, 1_999), (719, 721)] {
        let got = db.select(&[name("m")], lo * 10_000, hi * 10_000);
        let ts: Vec<i64> = got[0].samples.iter().map(|s| s.t / 10_000).collect();
        assert_eq!(ts, (lo..=hi).collect::<Vec<_>>(), "range {lo}..={hi}");
    }
}

#[test]
fn retention_drops_whole_partitions() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let db = open(tmp.path());
        let a = series(&db, "m", "a");
        // Five partitions of data at one sample a minute.
        for k in 0..(5 * PARTITION_MS / 60_000) {
            db.append(&[(a, Sample { t: k * 60_000, v: 1.0 })]);
        }
        db.maintain();
        assert!(db.disk_usage().partitions >= 3);
        db.truncate_before(3 * PARTITION_MS + 1);
        let got = all(&db, "m");
        assert_eq!(got[0].1.first().map(|s| s.t), Some(3 * PARTITION_MS + 60_000));
        assert!(db.disk_usage().partitions <= 2);
        db.close().unwrap();
    }
    let db = open(tmp.path());
    let got = all(&db, "m");
    // Restarted, the cut is the partition boundary (the retention task sets the exact one again).
    assert_eq!(got[0].1.first().map(|s| s.t), Some(3 * PARTITION_MS));
    assert_eq!(got[0].1.last().map(|s| s.t), Some(5 * PARTITION_MS - 60_000));
}

#[test]
fn a_second_open_is_refused_while_one_is_live() {
    let tmp = tempfile::tempdir().unwrap();
    let _db = open(tmp.path());
    let err = Db::open(tmp.path(), opts()).err().unwrap();
    assert!(err.to_string().contains("in use by another Vigil process"), "{err}");
}

#[test]
fn import_writes_chunks_directly_and_keeps_stored_samples() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let db = open(tmp.path());
        let a = series(&db, "m", "a");
        // Scraped samples at 0..10 min, one a minute.
        for k in 0..10 {
            db.append(&[(a, Sample { t: k * 60_000, v: 1.0 })]);
        }
        let la = Labels::from_pairs([("__name__", "m"), ("job", "a")]);
        let lb = Labels::from_pairs([("__name__", "m"), ("job", "b")]);
        // Three days of history for b, shuffled, with a repeat and a conflict; and a for overlap.
        let mut hist: Vec<Sample> = (0..3 * 1440).rev().map(|k| Sample { t: -k * 60_000, v: k as f64 }).collect();
        hist.push(Sample { t: -60_000, v: 1.0 });
        hist.push(Sample { t: -120_000, v: 99.0 });
        let overlap: Vec<Sample> = (5..15).map(|k| Sample { t: k * 60_000, v: 2.0 }).collect();
        let o = db.import(vec![(lb, hist), (la, overlap)]).unwrap();
        assert_eq!(o.series, 2);
        assert_eq!(o.samples, 3 * 1440 + 5);
        assert_eq!(o.duplicate, 1);
        assert_eq!(o.already_stored, 5);
        assert!(db.disk_usage().partitions >= 36, "{:?}", db.disk_usage());
    }
    let db = open(tmp.path());
    let got = all(&db, "m");
    let a = &got[0].1;
    assert_eq!(a.len(), 15);
    assert!(a[..10].iter().all(|s| s.v == 1.0) && a[10..].iter().all(|s| s.v == 2.0), "stored samples win");
    let b = &got[1].1;
    assert_eq!(b.len(), 3 * 1440);
    assert_eq!(b[0], Sample { t: -(3 * 1440 - 1) * 60_000, v: (3 * 1440 - 1) as f64 });
    assert!(b.windows(2).all(|w| w[1].t - w[0].t == 60_000));
}

#[test]
fn snapshot_copies_a_live_store() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("snap");
    let db = open(&tmp.path().join("live"));
    let a = series(&db, "m", "a");
    for k in 0..1_000 {
        db.append(&[(a, Sample { t: k * 15_000, v: k as f64 })]);
        if k % 250 == 0 {
            db.maintain();
        }
    }
    db.snapshot(&dest).unwrap();
    db.append(&[(a, Sample { t: 1_000 * 15_000, v: 0.0 })]);
    // A snapshot goes only into a new or empty directory.
    let err = db.snapshot(&dest).unwrap_err();
    assert!(err.to_string().contains("exists and is not empty"), "{err}");
    let copy = open(&dest);
    let got = all(&copy, "m");
    assert_eq!(got[0].1.len(), 1_000);
    assert_eq!(got[0].1.last(), Some(&Sample { t: 999 * 15_000, v: 999.0 }));
    assert_eq!(all(&db, "m")[0].1.len(), 1_001);
}

#[test]
fn retention_forgets_series_left_without_samples_and_never_reuses_their_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let (live, gone);
    {
        let db = open(tmp.path());
        live = series(&db, "m", "live");
        // The removed series has the highest id: its id must still not come back after a restart.
        gone = series(&db, "m", "gone");
        for k in 0..(5 * PARTITION_MS / 60_000) {
            db.append(&[(live, Sample { t: k * 60_000, v: 1.0 })]);
            if k < PARTITION_MS / 60_000 {
                db.append(&[(gone, Sample { t: k * 60_000, v: 2.0 })]);
            }
        }
        db.maintain();
        db.truncate_before(3 * PARTITION_MS + 1);
        db.truncate_before(3 * PARTITION_MS + 1);
        assert_eq!(db.num_series(), 1);
        assert_eq!(db.stats().series_removed.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert_eq!(db.append(&[(gone, Sample { t: 5 * PARTITION_MS, v: 3.0 })]).unknown, 1);
        assert_eq!(db.label_values("job", &[], i64::MIN, i64::MAX), ["live"]);
        db.close().unwrap();
    }
    let db = open(tmp.path());
    assert_eq!(db.label_values("job", &[], i64::MIN, i64::MAX), ["live"]);
    assert_eq!(db.num_series(), 1);
    let again = series(&db, "m", "gone");
    assert!(again.0 > gone.0, "ids are not reused: {again:?} after {gone:?}");
    assert!(all(&db, "m").iter().all(|(l, _)| l.get("job") != Some("gone")), "nothing of the removed series");
}

#[test]
fn a_series_created_between_two_retention_passes_is_spared() {
    let db = Db::in_memory();
    let old = series(&db, "m", "old");
    db.append(&[(old, Sample { t: 1_000, v: 1.0 })]);
    db.truncate_before(10_000);
    // Created, not yet appended to, when the next pass runs.
    let fresh = series(&db, "m", "fresh");
    assert_eq!(db.remove_dead_series(10_000), 1);
    assert_eq!(db.append(&[(fresh, Sample { t: 20_000, v: 2.0 })]).appended, 1);
    assert_eq!(db.label_values("job", &[], i64::MIN, i64::MAX), ["fresh"]);
}

#[test]
fn size_retention_drops_oldest_partitions_first() {
    let tmp = tempfile::tempdir().unwrap();
    let db = open(tmp.path());
    // Ten partitions of history for 50 series, imported; then a live sample.
    let series: Vec<(Labels, Vec<Sample>)> = (0..50)
        .map(|i| {
            let l = Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())]);
            (l, (0..10 * 480).map(|k| Sample { t: k * 15_000, v: (k * 7 + i) as f64 * 1.5 }).collect())
        })
        .collect();
    db.import(series).unwrap();
    let a = series_ref(&db);
    db.append(&[(a, Sample { t: 10 * PARTITION_MS, v: 1.0 })]);
    let before = db.disk_usage();
    assert_eq!(before.partitions, 10);
    let total = before.chunks + before.index + before.wal;
    // A limit around 60 % keeps the newest partitions only.
    let dropped = db.enforce_size(total * 6 / 10);
    let after = db.disk_usage();
    assert!(dropped >= 4 && after.chunks + after.index + after.wal <= total * 6 / 10, "{dropped} {after:?}");
    let got = db.select(&[name("m")], i64::MIN, i64::MAX);
    let first = got.iter().flat_map(|s| s.samples.first()).map(|s| s.t).min().unwrap();
    assert_eq!(first, dropped as i64 * PARTITION_MS, "oldest first, whole partitions");
    // The partition the head writes to is never dropped.
    assert_eq!(db.enforce_size(0), 10 - dropped);
    assert_eq!(db.disk_usage().partitions, 0);
    assert_eq!(all(&db, "x").len(), 1);
}

fn series_ref(db: &Db) -> SeriesRef {
    db.get_or_create(&Labels::from_pairs([("__name__", "x")]))
}

#[test]
fn a_long_query_does_not_hold_up_appends() {
    let tmp = tempfile::tempdir().unwrap();
    let db = open(tmp.path());
    let refs: Vec<SeriesRef> = (0..2_000)
        .map(|i| db.get_or_create(&Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())])))
        .collect();
    let batch = |k: i64| -> Vec<(SeriesRef, Sample)> {
        refs.iter().map(|r| (*r, Sample { t: k * 15_000, v: (k * 3) as f64 })).collect()
    };
    for k in 0..600 {
        db.append(&batch(k));
        if k % 120 == 0 {
            db.maintain();
        }
    }
    // Queries over everything run on one thread while the other appends.
    // `phase` is odd while a query runs; an append that starts and ends in
    // the same odd phase ran entirely inside one query.
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
    let phase = AtomicU64::new(0);
    let inside = AtomicU64::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..3 {
                phase.fetch_add(1, SeqCst);
                let got = db.select(&[name("m")], i64::MIN, i64::MAX);
                phase.fetch_add(1, SeqCst);
                assert_eq!(got.len(), 2_000);
            }
        });
        let mut k = 600;
        while phase.load(SeqCst) < 6 {
            let before = phase.load(SeqCst);
            let o = db.append(&batch(k));
            assert_eq!(o.appended, 2_000);
            if before % 2 == 1 && phase.load(SeqCst) == before {
                inside.fetch_add(1, SeqCst);
            }
            k += 1;
        }
    });
    // A query that held appends up would let at most one in as it starts.
    assert!(inside.load(SeqCst) > 10, "appends waited for the queries: {} ran inside one", inside.load(SeqCst));
}
