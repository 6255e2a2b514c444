use super::*;
use crate::config::parse;
use std::path::Path;
use storage::{is_stale_nan, MatchOp, Matcher};

fn setup(extra: &str) -> (Arc<Db>, Appender) {
    let yaml = format!("scrape_configs:\n  - job_name: j\n{extra}");
    let cfg = Arc::new(parse(&yaml, "t.yml", Path::new(".")).unwrap().scrape_configs.remove(0));
    let db = Arc::new(Db::in_memory());
    let target = Labels::from_pairs([("job", "j"), ("instance", "h:1")]);
    (db.clone(), Appender::new(db, target, cfg))
}

fn series(db: &Db, name: &str) -> Vec<storage::SeriesData> {
    db.select(&[Matcher::new(MatchOp::Equal, "__name__", name).unwrap()], i64::MIN, i64::MAX)
}

#[test]
fn target_labels_added_and_conflicts_exported() {
    let (db, mut app) = setup("");
    let r = app.append_body("m{job=\"x\",a=\"1\"} 5\n", Format::Text, 1000).unwrap();
    assert_eq!((r.scraped, r.post_relabel, r.series_added), (1, 1, 1));
    let s = series(&db, "m");
    assert_eq!(
        s[0].labels,
        Labels::from_pairs([("__name__", "m"), ("a", "1"), ("exported_job", "x"), ("instance", "h:1"), ("job", "j")])
    );
}

#[test]
fn honor_labels_keeps_scraped_values() {
    let (db, mut app) = setup("    honor_labels: true\n");
    app.append_body("m{job=\"x\"} 5\n", Format::Text, 1000).unwrap();
    assert_eq!(series(&db, "m")[0].labels.get("job"), Some("x"));
}

#[test]
fn vanished_series_get_staleness_markers() {
    let (db, mut app) = setup("");
    app.append_body("a 1\nb 2\n", Format::Text, 1000).unwrap();
    let r = app.append_body("a 1\n", Format::Text, 2000).unwrap();
    assert_eq!(r.series_added, 0);
    let b = series(&db, "b");
    assert_eq!(b[0].samples.len(), 2);
    assert!(is_stale_nan(b[0].samples[1].v));
    assert_eq!(b[0].samples[1].t, 2000);
    // A failed scrape makes everything stale.
    assert!(app.append_body("a{ 1\n", Format::Text, 3000).is_err());
    app.mark_all_stale(3000);
    let a = series(&db, "a");
    assert!(is_stale_nan(a[0].samples.last().unwrap().v));
}

#[test]
fn sample_limit_fails_the_whole_scrape() {
    let (db, mut app) = setup("    sample_limit: 2\n");
    let e = app.append_body("a 1\nb 2\nc 3\n", Format::Text, 1000).unwrap_err();
    assert!(e.contains("sample_limit exceeded"), "{e}");
    assert!(series(&db, "a").is_empty(), "nothing of a failed scrape is stored");
}

#[test]
fn label_limits_fail_the_scrape() {
    let (_, mut app) = setup("    label_limit: 3\n");
    assert!(app.append_body("m{a=\"1\",b=\"2\"} 1\n", Format::Text, 1).unwrap_err().contains("label_limit exceeded"));
    let (_, mut app) = setup("    label_value_length_limit: 3\n");
    assert!(app.append_body("m{a=\"long\"} 1\n", Format::Text, 1).unwrap_err().contains("label_value_length_limit"));
    let (_, mut app) = setup("    label_name_length_limit: 3\n");
    assert!(app.append_body("m{abcd=\"1\"} 1\n", Format::Text, 1).unwrap_err().contains("label_name_length_limit"));
}

#[test]
fn duplicate_label_names_fail_the_scrape() {
    let (_, mut app) = setup("");
    assert!(app.append_body("m{a=\"1\",a=\"2\"} 1\n", Format::Text, 1).unwrap_err().contains("not unique"));
}

#[test]
fn metric_relabeling_drops_series() {
    let (db, mut app) = setup("    metric_relabel_configs:\n      - source_labels: [__name__]\n        regex: 'go_.*'\n        action: drop\n");
    let r = app.append_body("go_x 1\nkeep 2\n", Format::Text, 1).unwrap();
    assert_eq!((r.scraped, r.post_relabel), (2, 1));
    assert!(series(&db, "go_x").is_empty());
    assert_eq!(series(&db, "keep").len(), 1);
}

#[test]
fn explicit_timestamps_honored_and_out_of_order_counted() {
    let (db, mut app) = setup("");
    app.append_body("m 1 5000\n", Format::Text, 9000).unwrap();
    let r = app.append_body("m 2 4000\n", Format::Text, 10000).unwrap();
    assert_eq!(r.out_of_order, 1);
    assert_eq!(series(&db, "m")[0].samples, vec![Sample { t: 5000, v: 1.0 }]);
    let (db, mut app) = setup("    honor_timestamps: false\n");
    app.append_body("m 1 5000\n", Format::Text, 9000).unwrap();
    assert_eq!(series(&db, "m")[0].samples[0].t, 9000);
}

#[test]
fn duplicate_series_in_one_scrape_keep_the_first() {
    let (db, mut app) = setup("");
    let r = app.append_body("m 1\nm 2\n", Format::Text, 1000).unwrap();
    assert_eq!(r.duplicate, 1);
    assert_eq!(series(&db, "m")[0].samples, vec![Sample { t: 1000, v: 1.0 }]);
}

#[test]
fn report_series_carry_target_labels() {
    let (db, mut app) = setup("");
    let r = app.append_body("m 1\n", Format::Text, 1000).unwrap();
    app.append_report(1000, true, 0.25, &r);
    for name in REPORT_SERIES {
        let s = series(&db, name);
        assert_eq!(s.len(), 1, "{name}");
        assert_eq!(s[0].labels.get("job"), Some("j"));
    }
    assert_eq!(series(&db, "up")[0].samples[0].v, 1.0);
    assert_eq!(series(&db, "scrape_duration_seconds")[0].samples[0].v, 0.25);
}

#[test]
fn series_removed_by_retention_are_resolved_again_and_lose_nothing() {
    let (db, mut app) = setup("");
    app.append_body("a 1\nb 2\n", Format::Text, 1_000).unwrap();
    app.append_report(1_000, true, 0.01, &AppendReport::default());
    // Two passes: the first only marks which series existed.
    db.truncate_before(10_000);
    db.truncate_before(10_000);
    assert_eq!(db.num_series(), 0, "every series lost its samples");
    // The appender's cache still names the removed series.
    app.append_body("a 3\nb 4\n", Format::Text, 20_000).unwrap();
    app.append_report(20_000, true, 0.01, &AppendReport::default());
    for (name, v) in [("a", 3.0), ("b", 4.0), ("up", 1.0)] {
        let s = series(&db, name);
        assert_eq!(s.len(), 1, "{name}");
        assert_eq!((s[0].samples[0].t, s[0].samples[0].v), (20_000, v), "{name}");
    }
}
