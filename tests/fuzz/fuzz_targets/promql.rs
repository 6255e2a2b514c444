//! Any text as a PromQL query: parsing returns an expression or an error
//! with a position inside the query, and evaluating a parsed query over a
//! small store returns, never panicking or hanging.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use storage::{Db, Labels, Sample};

fn db() -> &'static Db {
    static DB: OnceLock<Db> = OnceLock::new();
    DB.get_or_init(|| {
        let db = Db::in_memory();
        for (k, name) in ["a_total", "b", "b_bucket"].iter().enumerate() {
            for le in ["0.1", "1", "+Inf"] {
                let r = db.get_or_create(&Labels::from_pairs([("__name__", *name), ("le", le), ("job", "x")]));
                let batch: Vec<_> = (0..20).map(|i| (r, Sample { t: i * 15_000, v: (i * (k as i64 + 1)) as f64 })).collect();
                db.append(&batch);
            }
        }
        db
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(q) = std::str::from_utf8(data) else { return };
    match promql::parse(q) {
        Ok(expr) => {
            let engine = promql::Engine { timeout: std::time::Duration::from_millis(200), ..Default::default() };
            let _ = engine.instant(db(), &expr, 300_000);
            if matches!(expr.value_type(), promql::ValueType::Scalar | promql::ValueType::Vector) {
                let _ = engine.range(db(), &expr, 0, 300_000, 30_000);
            }
        }
        Err(e) => assert!(e.pos <= q.len()),
    }
});
