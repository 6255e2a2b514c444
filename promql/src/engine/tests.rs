use super::*;
use crate::parser::parse;
use storage::{stale_nan, Sample as StoredSample};

fn db() -> Db {
    let db = Db::in_memory();
    let a = db.get_or_create(&Labels::from_pairs([("__name__", "up"), ("job", "a")]));
    let b = db.get_or_create(&Labels::from_pairs([("__name__", "up"), ("job", "b")]));
    db.append(&[
        (a, StoredSample { t: 0, v: 1.0 }),
        (b, StoredSample { t: 0, v: 0.0 }),
        (a, StoredSample { t: 60_000, v: 1.0 }),
        (b, StoredSample { t: 60_000, v: stale_nan() }),
    ]);
    db
}

fn eval(q: &str, t: i64) -> Value {
    Engine::default().instant(&db(), &parse(q).unwrap(), t).unwrap()
}

#[test]
fn stale_series_disappear() {
    let Value::Vector(v) = eval("up", 60_000) else { panic!() };
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].labels.get("job"), Some("a"));
    let Value::Vector(v) = eval("up", 30_000) else { panic!() };
    assert_eq!(v.len(), 2);
}

#[test]
fn lookback_window_is_left_open() {
    // The sample at 60 s is exactly 5 m before 360 s: outside the window.
    let Value::Vector(v) = eval(r#"up{job="a"}"#, 360_000) else { panic!() };
    assert!(v.is_empty());
    let Value::Vector(v) = eval(r#"up{job="a"}"#, 359_999) else { panic!() };
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].t, 359_999);
}

#[test]
fn arithmetic_and_aggregation() {
    let Value::Vector(v) = eval("sum(up) + 1", 30_000) else { panic!() };
    assert_eq!(v[0].v, 2.0);
    assert!(v[0].labels.is_empty());
    let Value::Scalar { v, .. } = eval("2 ^ 3 ^ 2", 0) else { panic!() };
    assert_eq!(v, 512.0);
    let Value::Scalar { v, .. } = eval("-2 ^ 2", 0) else { panic!() };
    assert_eq!(v, -4.0);
}

#[test]
fn range_query_steps() {
    let e = parse("up").unwrap();
    let Value::Matrix(m) = Engine::default().range(&db(), &e, 0, 120_000, 30_000).unwrap() else { panic!() };
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].points.len(), 5);
    assert_eq!(m[1].points.len(), 2, "job b goes stale at 60 s");
}

#[test]
fn values_are_written_as_go_formats_them() {
    for (v, want) in [
        (1.0, "1"),
        (-0.0, "-0"),
        (0.1, "0.1"),
        (1.5e-6, "0.0000015"),
        (1e-7, "1e-07"),
        (-2.5e-10, "-2.5e-10"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.2345e300, "1.2345e+300"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
    ] {
        assert_eq!(format_value(v), want, "{v:e}");
    }
}

#[test]
fn the_fast_value_writer_agrees_with_the_general_one() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let check = |v: f64| {
        let (mut fast, mut general) = (String::new(), String::new());
        write_value(&mut fast, v);
        write_value_general(&mut general, v);
        assert_eq!(fast, general, "{v:e} ({:#x})", v.to_bits());
    };
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        check(f64::from_bits(x));
        // Values of everyday sizes too: counters, ratios, latencies.
        check((x % 10_000_000) as f64 / [1.0, 8.0, 1000.0, 3.0][(x % 4) as usize]);
    }
    for v in [0.0, -0.0, 1e-6, 9.99e-7, 1e21, 9.99e20, 1e16, 123456789012345680.0, 5e-324] {
        check(v);
    }
}

/// A range query's steps (computed series by series, aggregations folded
/// in) give exactly what instant queries at those times give: counters
/// with resets, gauges with gaps and staleness markers, irregular scrapes,
/// offsets and `@`.
#[test]
fn range_steps_equal_instant_queries() {
    let db = Db::in_memory();
    let mut batch = Vec::new();
    for i in 0..24u64 {
        let job = ["a", "b", "c"][(i % 3) as usize];
        let l = Labels::from_pairs([
            ("__name__", "req_total".to_string()),
            ("job", job.to_string()),
            ("code", format!("{}", 200 + i % 4)),
            ("i", i.to_string()),
        ]);
        let g = Labels::from_pairs([("__name__", "temp".to_string()), ("job", job.to_string()), ("i", i.to_string())]);
        let (r, gr) = (db.get_or_create(&l), db.get_or_create(&g));
        let mut v = 0.0;
        for k in 0..400i64 {
            // Irregular scrapes (7–23 s apart), a reset every 97 samples, gaps and stale markers.
            let t = k * 15_000 + ((k * 7 + i as i64 * 3) % 17) * 1000;
            v = if k % 97 == (i as i64 % 5) { 1.0 } else { v + (k % 5) as f64 + i as f64 * 0.1 };
            if (k + i as i64) % 41 < 3 {
                continue;
            }
            let gv = if (k + i as i64) % 59 == 0 { stale_nan() } else { ((k as f64) / 9.0).sin() * 10.0 + i as f64 };
            batch.push((r, StoredSample { t, v }));
            batch.push((gr, StoredSample { t, v: gv }));
        }
    }
    // Counters scraped together: a job's series share their sample times
    // (except where one misses a scrape), each resetting at its own time.
    for i in 0..12u64 {
        let job = ["a", "b"][(i % 2) as usize];
        let l = Labels::from_pairs([("__name__", "shared_total"), ("job", job), ("i", &i.to_string())]);
        let r = db.get_or_create(&l);
        let mut v = i as f64;
        for k in 0..400i64 {
            let t = k * 15_000 + (i % 2) as i64 * 4_000 + ((k * 5) % 3) * 1000;
            v = if k % 53 == i as i64 { 0.5 } else { v + (k % 7) as f64 * 0.3 };
            if i % 4 == 1 && k % 31 == 0 {
                continue;
            }
            batch.push((r, StoredSample { t, v }));
        }
    }
    // Histogram buckets of two jobs, one bucket with a bad bound, some
    // missing scrapes (so a step's set of buckets changes).
    for (j, job) in ["a", "b"].iter().enumerate() {
        for (b, le) in ["0.1", "1", "+Inf", "x"].iter().enumerate() {
            let l = Labels::from_pairs([("__name__", "lat_bucket"), ("job", job), ("le", le)]);
            let r = db.get_or_create(&l);
            for k in 0..400i64 {
                if (k / 20 + b as i64 * 2 + j as i64) % 5 == 0 {
                    continue;
                }
                let v = (k * (b as i64 + 1) * (j as i64 + 2)) as f64 + (k % 11) as f64 * b as f64;
                batch.push((r, StoredSample { t: k * 15_000 + j as i64 * 2_000, v }));
            }
        }
    }
    batch.sort_by_key(|(_, s)| s.t);
    db.append(&batch);
    let queries = [
        "histogram_quantile(0.9, sum by (le, job) (rate(lat_bucket[1m])))",
        "histogram_fraction(0, 0.5, rate(lat_bucket[2m]))",
        "sum by (job) (rate(shared_total[1m]))",
        "increase(shared_total[50s])",
        "rate(shared_total[2m] offset 7s)",
        "rate(req_total[1m])",
        "sum by (job) (rate(req_total[2m]))",
        "sum without (i) (increase(req_total[5m] offset 1m))",
        "avg by (code) (irate(req_total[1m]))",
        "count(deriv(temp[3m]))",
        "max by (job) (max_over_time(temp[1m]))",
        "min(min_over_time(temp[90s] @ 3000))",
        "stddev by (job) (avg_over_time(temp[2m]))",
        "stdvar(sum_over_time(temp[2m]))",
        "group by (job) (changes(temp[5m]))",
        "sum(resets(req_total[10m])) / count(last_over_time(req_total[1m]))",
        "quantile_over_time(0.9, temp[4m])",
        "predict_linear(temp[5m], 600)",
        "topk(2, sum by (code) (rate(req_total[1m])))",
        "sum by (job) (rate(req_total[1m])) and on (job) sum by (job) (present_over_time(temp[1m]))",
        "sum(rate(req_total[1m:15s]))",
        "sum by (job) (increase(req_total[2m] anchored))",
        "rate(req_total[1m] smoothed)",
        "changes(temp[3m] anchored) + resets(req_total[5m] anchored)",
        "temp smoothed offset 30s",
        "temp offset 1m",
        "max by (job) (temp @ 3000) - timestamp(temp)",
    ];
    let e = Engine::default();
    let (start, end, step) = (120_000, 5_900_000, 37_000);
    for q in queries {
        let expr = parse(q).unwrap();
        let Value::Matrix(m) = e.range(&db, &expr, start, end, step).unwrap() else { panic!("{q}") };
        let mut t = start;
        while t <= end {
            let inst = match e.instant(&db, &expr, t).unwrap() {
                Value::Vector(v) => v,
                other => panic!("{q}: {other:?}"),
            };
            let at_t: Vec<(&Labels, f64)> =
                m.iter().filter_map(|s| s.points.iter().find(|p| p.0 == t).map(|p| (&s.labels, p.1))).collect();
            assert_eq!(at_t.len(), inst.len(), "{q} at {t}");
            for s in &inst {
                let (_, v) = at_t.iter().find(|(l, _)| **l == s.labels).unwrap_or_else(|| panic!("{q} at {t}"));
                assert!(v.to_bits() == s.v.to_bits() || (v.is_nan() && s.v.is_nan()), "{q} at {t}: {v} vs {}", s.v);
            }
            t += step;
        }
    }
}

#[test]
fn a_canceled_query_stops_with_prometheus_error() {
    let flag = Arc::new(AtomicBool::new(true));
    let e = Engine { cancel: Some(flag), ..Engine::default() };
    let err = e.range(&db(), &parse("sum_over_time(up[1h:1s])").unwrap(), 0, 3_600_000, 60_000).unwrap_err();
    assert!(matches!(err, EvalError::Canceled(_)));
    assert_eq!(err.to_string(), "query was canceled in query execution");
}

/// A larger selection (1,200 series, 293 steps) gives, step for step, what
/// instant queries give.
#[test]
fn large_range_queries_equal_instant_queries() {
    let db = Db::in_memory();
    let refs: Vec<_> = (0..1200u64)
        .map(|i| {
            db.get_or_create(&Labels::from_pairs([
                ("__name__", "c_total".to_string()),
                ("g", (i % 7).to_string()),
                ("i", i.to_string()),
            ]))
        })
        .collect();
    for k in 0..300i64 {
        let batch: Vec<_> = refs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let v = ((k * (i as i64 % 13 + 1)) % 997) as f64 * 1.37;
                (*r, StoredSample { t: k * 15_000 + (i as i64 % 5) * 1000, v })
            })
            .collect();
        db.append(&batch);
    }
    let e = Engine::default();
    let (start, end, step) = (60_000, 4_440_000, 15_000);
    for q in ["sum by (g) (rate(c_total[1m]))", "increase(c_total[2m])"] {
        let expr = parse(q).unwrap();
        let Value::Matrix(m) = e.range(&db, &expr, start, end, step).unwrap() else { panic!("{q}") };
        for t in (start..=end).step_by(step as usize * 37) {
            let Value::Vector(inst) = e.instant(&db, &expr, t).unwrap() else { panic!("{q}") };
            assert!(!inst.is_empty(), "{q} at {t}");
            for s in &inst {
                let series = m.iter().find(|x| x.labels == s.labels).unwrap_or_else(|| panic!("{q} at {t}"));
                let v = series.points.iter().find(|p| p.0 == t).map(|p| p.1);
                assert_eq!(v.map(f64::to_bits), Some(s.v.to_bits()), "{q} at {t}");
            }
        }
    }
}

/// Series that come and go, and change places in the vector, between the
/// steps of a range query: each step of label_replace and label_join must
/// give what an instant query at that time gives (the per-call memo of
/// output labels must never hand one series another's labels).
#[test]
fn label_functions_in_range_queries_match_instant_queries_at_every_step() {
    let db = Db::in_memory();
    let series: Vec<_> = ["a:1", "b:2", "c:3"]
        .iter()
        .map(|i| db.get_or_create(&Labels::from_pairs([("__name__", "x"), ("instance", i), ("job", "j")])))
        .collect();
    // a at steps 0–4, b at 3–9, c at 0–9 (then a again at 8–9); values differ per series.
    for k in 0..10i64 {
        let t = k * 60_000;
        let mut batch = Vec::new();
        if k <= 4 || k >= 8 {
            batch.push((series[0], StoredSample { t, v: 1.0 }));
        } else {
            batch.push((series[0], StoredSample { t, v: stale_nan() }));
        }
        if k >= 3 {
            batch.push((series[1], StoredSample { t, v: 2.0 }));
        }
        batch.push((series[2], StoredSample { t, v: 3.0 }));
        db.append(&batch);
    }
    let e = Engine::default();
    for q in [
        r#"label_replace(x, "host", "$1", "instance", "(.*):.*")"#,
        r#"label_replace(x * 2, "__name__", "renamed_$1", "instance", "(a|c).*")"#,
        r#"label_join(x, "both", "/", "instance", "job")"#,
        r#"label_replace(rate(x[3m]), "host", "$1", "instance", "(.*):.*")"#,
        r#"sort_desc(label_replace(x, "instance", "same", "job", ".*"))"#,
        // At the root: relabelled once per series over the range.
        r#"label_replace(x, "instance", "same", "job", ".*")"#,
        r#"label_replace(x, "instance", "$1", "instance", "(a|b):.*")"#,
        r#"label_join(rate(x[3m]), "__name__", "_", "job", "job")"#,
    ] {
        let expr = parse(q).unwrap();
        let range = e.range(&db, &expr, 0, 9 * 60_000, 60_000);
        for k in 0..10i64 {
            let t = k * 60_000;
            let mut want: Vec<(String, f64)> = match e.instant(&db, &expr, t) {
                Ok(Value::Vector(v)) => v.iter().map(|s| (s.labels.to_string(), s.v)).collect(),
                Err(err) => {
                    assert!(range.is_err(), "{q}: instant failed at {t} ({err}) but the range query did not");
                    continue;
                }
                other => panic!("{other:?}"),
            };
            let Ok(Value::Matrix(m)) = &range else { panic!("{q}: {range:?}") };
            let mut got: Vec<(String, f64)> = m
                .iter()
                .filter_map(|s| s.points.iter().find(|p| p.0 == t).map(|p| (s.labels.to_string(), p.1)))
                .collect();
            want.sort_by(|a, b| a.0.cmp(&b.0));
            got.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(got, want, "{q} at step {k}");
        }
    }
}

/// A label function at the root of a range query relabels each series once;
/// its arguments are checked as the call checks them, and series that meet
/// are one series unless they have a value at the same time.
#[test]
fn a_root_label_function_relabels_each_series_once_and_keeps_the_call_s_errors() {
    let db = Db::in_memory();
    let a = db.get_or_create(&Labels::from_pairs([("__name__", "x"), ("instance", "a:1")]));
    let b = db.get_or_create(&Labels::from_pairs([("__name__", "x"), ("instance", "b:2")]));
    // a until minute 4, b from minute 5: the same labels once relabelled, never at the same time.
    for k in 0..10i64 {
        let (s, v) = if k < 5 { (a, 1.0) } else { (b, 2.0) };
        db.append(&[(s, StoredSample { t: k * 60_000, v })]);
        if k == 5 {
            db.append(&[(a, StoredSample { t: k * 60_000, v: stale_nan() })]);
        }
    }
    let e = Engine::default();
    let q = parse(r#"label_replace(x, "instance", "one", "", "")"#).unwrap();
    let Ok(Value::Matrix(m)) = e.range(&db, &q, 0, 9 * 60_000, 60_000) else { panic!() };
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].points.len(), 10);
    assert_eq!(m[0].labels.to_string(), r#"x{instance="one"}"#);
    for (q, want) in [
        (r#"label_replace(x, "instance", "$1", "instance", "(")"#, "invalid regular expression in label_replace()"),
        (
            r#"label_replace(x, "1bad", "$1", "instance", "(.*)")"#,
            "invalid destination label name in label_replace(): 1bad",
        ),
        (r#"label_join(x, "1bad", ",", "instance")"#, "invalid destination label name in label_join(): 1bad"),
    ] {
        let err = e.range(&db, &parse(q).unwrap(), 0, 9 * 60_000, 60_000).unwrap_err().to_string();
        assert!(err.contains(want), "{q}: {err}");
    }
}
