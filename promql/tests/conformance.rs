//! Prometheus's PromQL test scripts (../shared/promql-tests, format in its
//! FORMAT.md) run against Vigil's engine: `cargo test -p promql --test
//! conformance -- --include-ignored --nocapture` prints per-file pass counts.
//!
//! Evals on native histograms or start timestamps are skipped (listed in
//! promql/CONFORMANCE.md). The test fails if fewer evals pass than the count
//! recorded in promql/conformance-ratchet.txt.

use promql::{parse, parse_series, Engine, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use storage::{Db, Labels, Sample};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/promql-tests")
}

fn duration(s: &str) -> Result<i64, String> {
    promql::duration::parse_duration(s)
}

fn number(s: &str) -> Option<f64> {
    let l = s.to_ascii_lowercase();
    match l.trim_start_matches('+') {
        "inf" => return Some(if l.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY }),
        "-inf" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if l == "-inf" {
        return Some(f64::NEG_INFINITY);
    }
    s.parse::<f64>().ok()
}

/// One expanded value: None = omitted, Some(bits) = value (stale marker included).
fn expand(items: &str) -> Result<Vec<Option<f64>>, String> {
    let mut out = Vec::new();
    for item in items.split_whitespace() {
        if item == "_" {
            out.push(None);
            continue;
        }
        if item == "stale" {
            out.push(Some(storage::stale_nan()));
            continue;
        }
        if let Some(n) = item.strip_prefix("_x") {
            let n: usize = n.parse().map_err(|_| format!("bad item {item}"))?;
            out.extend(std::iter::repeat_n(None, n));
            continue;
        }
        if item.contains("{{") {
            return Err("native histogram".into());
        }
        match item.rsplit_once('x') {
            Some((head, times)) if times.bytes().all(|c| c.is_ascii_digit()) && !times.is_empty() => {
                let n: usize = times.parse().map_err(|_| format!("bad item {item}"))?;
                // head: a, a+b or a-b (a may have a sign).
                let split = head
                    .char_indices()
                    .skip(1)
                    .find(|(i, c)| (*c == '+' || *c == '-') && !head[..*i].ends_with(['e', 'E']));
                let (a, b) = match split {
                    Some((i, c)) => {
                        let a = number(&head[..i]).ok_or(format!("bad number in {item}"))?;
                        let b = number(&head[i + 1..]).ok_or(format!("bad number in {item}"))?;
                        (a, if c == '-' { -b } else { b })
                    }
                    None => (number(head).ok_or(format!("bad number in {item}"))?, 0.0),
                };
                for k in 0..=n {
                    out.push(Some(a + b * k as f64));
                }
            }
            _ => out.push(Some(number(item).ok_or(format!("bad value {item}"))?)),
        }
    }
    Ok(out)
}

/// `metric{labels} values…` → labels and value list.
fn series_line(line: &str) -> Result<(Labels, Vec<Option<f64>>), String> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    let mut split = line.len();
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) => {
                if c == q && prev != '\\' {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' | '`' => quote = Some(c),
                '{' => depth += 1,
                '}' => depth -= 1,
                c if c.is_whitespace() && depth == 0 => {
                    split = i;
                    break;
                }
                _ => {}
            },
        }
        prev = if prev == '\\' && c == '\\' { ' ' } else { c };
    }
    let labels = parse_series(&line[..split]).map_err(|e| e.to_string())?;
    Ok((labels, expand(&line[split..])?))
}

fn float_eq(a: f64, b: f64) -> bool {
    let sa = storage::is_stale_nan(a);
    let sb = storage::is_stale_nan(b);
    if sa || sb {
        return sa && sb;
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let d = (a - b).abs();
    let s = a.abs() + b.abs();
    let m = 2.2250738585072014e-308;
    if a == 0.0 || b == 0.0 || s < m {
        return d < 1e-6 * m;
    }
    d / s.min(f64::MAX) < 1e-6
}

/// What an eval says about warnings or infos: any, none, an exact message, a regex.
#[derive(Clone)]
enum AnnoExpect {
    Any,
    None,
    Msg(String),
    Regex(String),
}

fn anno_ok(want: &Option<AnnoExpect>, got: &[String]) -> bool {
    match want {
        None => true,
        Some(AnnoExpect::Any) => !got.is_empty(),
        Some(AnnoExpect::None) => got.is_empty(),
        Some(AnnoExpect::Msg(m)) => got.iter().any(|g| g == m),
        Some(AnnoExpect::Regex(r)) => {
            regex::Regex::new(r).map(|re| got.iter().any(|g| re.is_match(g))).unwrap_or(false)
        }
    }
}

#[derive(Default)]
struct Expect {
    fail: Option<(bool, String)>, // (is_regex, text); text empty = any
    fails: bool,
    warn: Option<AnnoExpect>,
    info: Option<AnnoExpect>,
    ordered: bool,
    scalar: Option<f64>,
    string: Option<String>,
    range_vector: Option<(i64, i64, i64)>,
    series: Vec<(Labels, Vec<Option<f64>>)>,
}

enum Outcome {
    Pass,
    Fail(String),
    Skip,
}

fn check(db: &Db, engine: &Engine, header: &str, body: &[&str], native: bool) -> Outcome {
    if native {
        return Outcome::Skip;
    }
    let words: Vec<&str> = header.split_whitespace().collect();
    let cmd = words[0];
    let mut ex = Expect::default();
    if cmd == "eval_fail" {
        ex.fails = true;
    }
    if cmd == "eval_ordered" {
        ex.ordered = true;
    }
    if cmd == "eval_warn" {
        ex.warn = Some(AnnoExpect::Any);
    }
    if cmd == "eval_info" {
        ex.info = Some(AnnoExpect::Any);
    }
    let (range, expr_text) = match words.get(1) {
        Some(&"instant") => {
            let t = match words.get(3).map(|w| duration(w)) {
                Some(Ok(t)) => t,
                _ => return Outcome::Fail("bad eval time".into()),
            };
            let idx = header.find(words[3]).unwrap_or(0) + words[3].len();
            (Err(t), header[idx..].trim())
        }
        Some(&"range") => {
            let get = |k: usize| words.get(k).map(|w| duration(w));
            let (Some(Ok(a)), Some(Ok(b)), Some(Ok(s))) = (get(3), get(5), get(7)) else {
                return Outcome::Fail("bad range header".into());
            };
            let idx = header.find(&format!("step {}", words[7])).unwrap_or(0) + 5 + words[7].len();
            (Ok((a, b, s)), header[idx..].trim())
        }
        _ => return Outcome::Fail("bad eval header".into()),
    };
    for line in body {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("expect range vector") {
            let w: Vec<&str> = rest.split_whitespace().collect();
            match (w.get(1).map(|x| duration(x)), w.get(3).map(|x| duration(x)), w.get(5).map(|x| duration(x))) {
                (Some(Ok(a)), Some(Ok(b)), Some(Ok(s))) => ex.range_vector = Some((a, b, s)),
                _ => return Outcome::Fail("bad expect range vector".into()),
            }
        } else if let Some(rest) = l.strip_prefix("expect string") {
            let r = rest.trim();
            let unq = if r.starts_with('`') {
                r.trim_matches('`').to_string()
            } else {
                serde_json::from_str::<String>(r).unwrap_or_default()
            };
            ex.string = Some(unq);
        } else if l.split_whitespace().next() == Some("expect") {
            let kind = l.split_whitespace().nth(1).unwrap_or("");
            let rest = l.splitn(3, char::is_whitespace).nth(2).unwrap_or("").trim();
            match kind {
                "fail" => {
                    ex.fails = true;
                    if let Some(m) = rest.strip_prefix("msg:") {
                        ex.fail = Some((false, m.trim().to_string()));
                    } else if let Some(r) = rest.strip_prefix("regex:") {
                        ex.fail = Some((true, r.trim().to_string()));
                    }
                }
                "warn" | "info" | "no_warn" | "no_info" => {
                    let e = if kind.starts_with("no_") {
                        AnnoExpect::None
                    } else if let Some(m) = rest.strip_prefix("msg:") {
                        AnnoExpect::Msg(m.trim().to_string())
                    } else if let Some(r) = rest.strip_prefix("regex:") {
                        AnnoExpect::Regex(r.trim().to_string())
                    } else {
                        AnnoExpect::Any
                    };
                    if kind.ends_with("warn") {
                        ex.warn = Some(e);
                    } else {
                        ex.info = Some(e);
                    }
                }
                "ordered" => ex.ordered = true,
                _ => {}
            }
        } else if let Some(v) = number(l) {
            ex.scalar = Some(v);
        } else {
            match series_line(l) {
                Ok(s) => ex.series.push(s),
                Err(e) if e == "native histogram" => return Outcome::Skip,
                Err(e) => return Outcome::Fail(format!("cannot read expected line {l:?}: {e}")),
            }
        }
    }
    let expr = match parse(expr_text) {
        Ok(e) => e,
        Err(e) => {
            return if ex.fails { Outcome::Pass } else { Outcome::Fail(format!("parse: {e}")) };
        }
    };
    let result = match range {
        Err(t) => engine.instant_annotated(db, &expr, ex.range_vector.map_or(t, |(_, b, _)| b)),
        Ok((a, b, s)) => engine.range_annotated(db, &expr, a, b, s),
    };
    let value = match result {
        Err(e) => {
            if !ex.fails {
                return Outcome::Fail(format!("error: {e}"));
            }
            return match &ex.fail {
                Some((false, m)) if !m.is_empty() && *m != e.to_string() => {
                    Outcome::Fail(format!("message {:?}, want {m:?}", e.to_string()))
                }
                Some((true, r)) if !regex::Regex::new(r).map(|re| re.is_match(&e.to_string())).unwrap_or(false) => {
                    Outcome::Fail(format!("message {:?} does not match {r:?}", e.to_string()))
                }
                _ => Outcome::Pass,
            };
        }
        Ok(v) => v,
    };
    let (value, annos) = value;
    if ex.fails {
        return Outcome::Fail("expected an error".into());
    }
    if !anno_ok(&ex.warn, &annos.warnings) {
        return Outcome::Fail(format!("warnings {:?} do not meet the expectation", annos.warnings));
    }
    if !anno_ok(&ex.info, &annos.infos) {
        return Outcome::Fail(format!("infos {:?} do not meet the expectation", annos.infos));
    }
    match (value, range) {
        (Value::Scalar { v, .. }, _) => match ex.scalar {
            Some(want) if float_eq(want, v) => Outcome::Pass,
            Some(want) => Outcome::Fail(format!("scalar {v}, want {want}")),
            None => Outcome::Fail(format!("got scalar {v}, want a vector")),
        },
        (Value::String { s, .. }, _) => match &ex.string {
            Some(want) if *want == s => Outcome::Pass,
            _ => Outcome::Fail(format!("string {s:?}")),
        },
        (Value::Vector(v), Err(_)) => {
            if ex.scalar.is_some() {
                return Outcome::Fail("got a vector, want a scalar".into());
            }
            if v.len() != ex.series.len() {
                return Outcome::Fail(format!("{} series, want {}", v.len(), ex.series.len()));
            }
            for (pos, s) in v.iter().enumerate() {
                let Some(k) = ex.series.iter().position(|(l, _)| *l == s.labels) else {
                    return Outcome::Fail(format!("unexpected series {}", s.labels));
                };
                if ex.ordered && k != pos {
                    return Outcome::Fail(format!("{} at position {}, want {}", s.labels, pos + 1, k + 1));
                }
                let want = ex.series[k].1.first().copied().flatten();
                match want {
                    Some(w) if float_eq(w, s.v) => {}
                    _ => return Outcome::Fail(format!("{} = {}, want {:?}", s.labels, s.v, want)),
                }
            }
            Outcome::Pass
        }
        (Value::Matrix(m), r) => {
            let (a, s) = match (r, ex.range_vector) {
                (Ok((a, _, s)), _) => (a, s),
                (Err(_), Some((a, _, s))) => (a, s),
                _ => return Outcome::Fail("got a matrix".into()),
            };
            if m.len() != ex.series.len() {
                return Outcome::Fail(format!("{} series, want {}", m.len(), ex.series.len()));
            }
            for w in m.windows(2) {
                if w[0].labels > w[1].labels {
                    return Outcome::Fail("matrix not sorted by labels".into());
                }
            }
            for series in &m {
                let Some((_, vals)) = ex.series.iter().find(|(l, _)| *l == series.labels) else {
                    return Outcome::Fail(format!("unexpected series {}", series.labels));
                };
                let want: Vec<(i64, f64)> =
                    vals.iter().enumerate().filter_map(|(i, v)| v.map(|v| (a + i as i64 * s, v))).collect();
                if want.len() != series.points.len()
                    || want.iter().zip(&series.points).any(|(w, g)| w.0 != g.0 || !float_eq(w.1, g.1))
                {
                    return Outcome::Fail(format!("{}: {:?}, want {:?}", series.labels, series.points, want));
                }
            }
            Outcome::Pass
        }
        (Value::Vector(_), Ok(_)) => Outcome::Fail("range eval returned a vector".into()),
    }
}

/// file:line of evals whose data or expectations hold native histograms, from evals-index.tsv.
fn native_index() -> HashSet<(String, usize)> {
    let text = std::fs::read_to_string(shared().join("evals-index.tsv")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("file\t"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() > 4 && f[3] == "1").then(|| (f[0].to_string(), f[1].parse().unwrap_or(0)))
        })
        .collect()
}

#[derive(Default, Clone, Copy)]
struct Counts {
    pass: usize,
    fail: usize,
    skip: usize,
}

fn run_file(path: &Path, native: &HashSet<(String, usize)>, failures: &mut Vec<String>) -> Counts {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<String> =
        text.lines().map(|l| if l.trim().starts_with('#') { String::new() } else { l.trim().to_string() }).collect();
    let engine = Engine::default();
    let mut db = Db::in_memory();
    let mut counts = Counts::default();
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        if line.is_empty() {
            i += 1;
            continue;
        }
        let start = i;
        let mut body = Vec::new();
        i += 1;
        if line.split_whitespace().next().is_some_and(|w| w.eq_ignore_ascii_case("clear")) {
            db = Db::in_memory();
            continue;
        }
        while i < lines.len() && !lines[i].is_empty() {
            body.push(lines[i].as_str());
            i += 1;
        }
        let word = line.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
        if word == "clear" {
            db = Db::in_memory();
        } else if word.starts_with("load") {
            let interval = line.split_whitespace().nth(1).map(duration).and_then(Result::ok).unwrap_or(60_000);
            let mut block: BTreeMap<Labels, Vec<Option<f64>>> = BTreeMap::new();
            for b in &body {
                if b.split_whitespace().next().is_some_and(|m| m.ends_with("@st")) {
                    continue;
                }
                match series_line(b) {
                    Ok((labels, vals)) => {
                        block.insert(labels, vals);
                    }
                    Err(e) if e == "native histogram" => {}
                    Err(e) => failures.push(format!("{name}:{}: load line {b:?}: {e}", start + 1)),
                }
            }
            for (labels, vals) in block {
                let r = db.get_or_create(&labels);
                let batch: Vec<(storage::SeriesRef, Sample)> = vals
                    .iter()
                    .enumerate()
                    .filter_map(|(k, v)| v.map(|v| (r, Sample { t: k as i64 * interval, v })))
                    .collect();
                db.append(&batch);
            }
        } else if word.starts_with("eval") {
            if name == "start_timestamps.test" {
                counts.skip += 1;
                continue;
            }
            let is_native = native.contains(&(name.clone(), start + 1));
            match check(&db, &engine, line, &body, is_native) {
                Outcome::Pass => counts.pass += 1,
                Outcome::Skip => counts.skip += 1,
                Outcome::Fail(why) => {
                    counts.fail += 1;
                    failures.push(format!("{name}:{}: {why}", start + 1));
                }
            }
        }
    }
    counts
}

#[test]
#[ignore = "reads ../shared/promql-tests; .ci/run runs it"]
fn prometheus_test_scripts() {
    let dir = shared();
    assert!(dir.exists(), "{} is missing: run beside ../shared", dir.display());
    let native = native_index();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    files.sort();
    let mut total = Counts::default();
    let mut failures = Vec::new();
    println!("{:<28} {:>6} {:>6} {:>8}", "file", "pass", "fail", "skipped");
    let only = std::env::var("CONFORMANCE_FILE").ok();
    for f in files.iter().filter(|f| only.as_ref().is_none_or(|o| f.to_string_lossy().ends_with(o.as_str()))) {
        let c = run_file(f, &native, &mut failures);
        println!("{:<28} {:>6} {:>6} {:>8}", f.file_name().unwrap().to_string_lossy(), c.pass, c.fail, c.skip);
        total.pass += c.pass;
        total.fail += c.fail;
        total.skip += c.skip;
    }
    println!("{:<28} {:>6} {:>6} {:>8}", "total", total.pass, total.fail, total.skip);
    // Every skipped eval must be listed, with its reason, in CONFORMANCE.md.
    let listed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("CONFORMANCE.md")).unwrap_or_default();
    let listed_count = listed.lines().filter(|l| l.starts_with("| ") && l.contains(".test:")).count();
    if only.is_none() {
        assert_eq!(
            listed_count, total.skip,
            "CONFORMANCE.md lists {listed_count} skipped evals, the run skipped {}",
            total.skip
        );
    }
    if std::env::var_os("CONFORMANCE_FAILURES").is_some() {
        for f in &failures {
            println!("FAIL {f}");
        }
    }
    let ratchet_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance-ratchet.txt");
    let recorded: usize = std::fs::read_to_string(&ratchet_path)
        .ok()
        .and_then(|s| s.lines().find(|l| !l.starts_with('#')).and_then(|l| l.trim().parse().ok()))
        .unwrap_or(0);
    assert!(
        total.pass >= recorded,
        "{} evals pass, fewer than the {recorded} recorded in {}",
        total.pass,
        ratchet_path.display()
    );
}

/// Every expression of the test scripts that parses prints, on one line and
/// laid out as /api/v1/format_query answers, to text that parses and prints
/// the same.
#[test]
#[ignore = "reads ../shared/promql-tests; .ci/run runs it"]
fn every_script_expression_prints_back_to_itself() {
    let index = std::fs::read_to_string(shared().join("evals-index.tsv")).expect("evals-index.tsv");
    let mut checked = 0;
    for line in index.lines().filter(|l| !l.starts_with('#') && !l.starts_with("file\t")) {
        let expr = line.rsplit('\t').next().unwrap_or("");
        let Ok(e) = promql::parse(expr) else { continue };
        let printed = e.to_string();
        let again = promql::parse(&printed).unwrap_or_else(|err| panic!("{expr}\nprinted as {printed}\nfails: {err}"));
        assert_eq!(again.to_string(), printed, "{expr}");
        let pretty = e.pretty();
        let from_pretty =
            promql::parse(&pretty).unwrap_or_else(|err| panic!("{expr}\npretty as {pretty}\nfails: {err}"));
        assert_eq!(from_pretty.to_string(), printed, "{expr}");
        checked += 1;
    }
    println!("{checked} expressions print back to themselves");
    assert!(checked > 1000, "only {checked} expressions parsed");
}
