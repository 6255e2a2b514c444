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
