use super::*;
use crate::model::matcher::{MatchOp, Matcher};

fn s(t: i64, v: f64) -> Sample {
    Sample { t, v }
}

#[test]
fn same_labels_same_ref() {
    let db = Db::in_memory();
    let a = db.get_or_create(&Labels::from_pairs([("__name__", "up"), ("job", "x")]));
    let b = db.get_or_create(&Labels::from_pairs([("job", "x"), ("__name__", "up")]));
    assert_eq!(a, b);
    assert_eq!(db.num_series(), 1);
}

#[test]
fn out_of_order_and_duplicates_rejected() {
    let db = Db::in_memory();
    let r = db.get_or_create(&Labels::from_pairs([("__name__", "m")]));
    let o = db.append(&[(r, s(10, 1.0)), (r, s(10, 1.0)), (r, s(10, 2.0)), (r, s(5, 1.0)), (r, s(20, 3.0))]);
    assert_eq!(o, AppendOutcome { appended: 2, out_of_order: 1, duplicate: 1, unknown: 0 });
    let got = db.select(&[], 0, 100);
    assert_eq!(got[0].samples, vec![s(10, 1.0), s(20, 3.0)]);
}

#[test]
fn select_by_matchers_and_time() {
    let db = Db::in_memory();
    let a = db.get_or_create(&Labels::from_pairs([("__name__", "up"), ("job", "a")]));
    let b = db.get_or_create(&Labels::from_pairs([("__name__", "up"), ("job", "b")]));
    let c = db.get_or_create(&Labels::from_pairs([("__name__", "other"), ("job", "a")]));
    db.append(&[(a, s(1, 1.0)), (b, s(1, 0.0)), (c, s(1, 5.0)), (a, s(50, 1.0))]);
    let up = Matcher::new(MatchOp::Equal, "__name__", "up").unwrap();
    assert_eq!(db.select(std::slice::from_ref(&up), 0, 100).len(), 2);
    let not_a = Matcher::new(MatchOp::NotRegex, "job", "a").unwrap();
    let got = db.select(&[up.clone(), not_a], 0, 100);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].labels.get("job"), Some("b"));
    let late = db.select(&[up], 10, 100);
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].samples, vec![s(50, 1.0)]);
    let re = Matcher::new(MatchOp::Regex, "__name__", "u.").unwrap();
    assert_eq!(db.select(&[re], 0, 100).len(), 2);
    assert_eq!(db.label_values("job", &[], i64::MIN, i64::MAX), vec!["a", "b"]);
    assert_eq!(db.label_names(&[], i64::MIN, i64::MAX), vec!["__name__", "job"]);
}

#[test]
fn label_apis_follow_the_time_range() {
    let db = Db::in_memory();
    let a = db.get_or_create(&Labels::from_pairs([("__name__", "up"), ("job", "a"), ("zone", "x")]));
    let b = db.get_or_create(&Labels::from_pairs([("__name__", "up"), ("job", "b")]));
    db.get_or_create(&Labels::from_pairs([("__name__", "never"), ("job", "c")]));
    db.append(&[(a, s(1, 1.0)), (a, s(10, 1.0)), (b, s(50, 1.0))]);
    assert_eq!(db.label_values("job", &[], 40, 100), vec!["b"]);
    assert_eq!(db.label_values("job", &[], 0, 10), vec!["a"]);
    assert_eq!(db.label_values("job", &[], i64::MIN, i64::MAX), vec!["a", "b"], "series without samples are left out");
    assert_eq!(db.label_names(&[], 40, 100), vec!["__name__", "job"]);
    assert_eq!(db.label_names(&[], 0, 5), vec!["__name__", "job", "zone"]);
    let up = Matcher::new(MatchOp::Equal, "__name__", "up").unwrap();
    assert_eq!(db.series_labels(std::slice::from_ref(&up), 11, 49).len(), 0);
    assert_eq!(db.series_labels(&[up], 10, 50).len(), 2);
    let c = db.cardinality(2);
    assert_eq!(c.num_series, 3);
    assert_eq!(c.series_by_metric, vec![("up".to_string(), 2), ("never".to_string(), 1)]);
    assert_eq!(c.series_by_label[0], ("__name__".to_string(), 3));
    assert_eq!(c.values_by_label[0], ("job".to_string(), 3));
}

#[test]
fn truncate_drops_old_samples_only() {
    let db = Db::in_memory();
    let r = db.get_or_create(&Labels::from_pairs([("__name__", "m")]));
    db.append(&[(r, s(1, 1.0)), (r, s(2, 2.0)), (r, s(3, 3.0))]);
    db.truncate_before(3);
    assert_eq!(db.select(&[], 0, 10)[0].samples, vec![s(3, 3.0)]);
}
