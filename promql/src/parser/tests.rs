use super::*;
use storage::MatchOp;

fn sel(q: &str) -> VectorSelector {
    match parse(q) {
        Ok(Expr::VectorSelector(v)) => v,
        other => panic!("{q}: {other:?}"),
    }
}

fn err(q: &str) -> ParseError {
    parse(q).expect_err(q)
}

#[test]
fn selectors() {
    let v = sel("up");
    assert_eq!(v.name.as_deref(), Some("up"));
    assert_eq!(v.matchers.len(), 1);
    let v = sel(r#"up{job="vigil", instance=~"local.*",}"#);
    assert_eq!(v.matchers.len(), 3);
    assert_eq!(v.matchers[2].op, MatchOp::Regex);
    let v = sel(r#"{__name__=~"up|scrape_.*"}"#);
    assert_eq!(v.name, None);
    let v = sel("  http:requests:rate5m { }  # a comment");
    assert_eq!(v.name.as_deref(), Some("http:requests:rate5m"));
    let v = sel(r#"m{a!="x", b!~'y\'z'}"#);
    assert_eq!(v.matchers[2].value, "y'z");
    let v = sel("m{a=`raw\\n`}");
    assert_eq!(v.matchers[1].value, "raw\\n");
    let v = sel(r#"m{a="\u00e9\x41\101\n"}"#);
    assert_eq!(v.matchers[1].value, "éAA\n");
}

#[test]
fn numbers_and_strings() {
    assert_eq!(parse("42").unwrap(), Expr::Number(42.0));
    assert_eq!(parse("1.5e3").unwrap(), Expr::Number(1500.0));
    assert_eq!(parse(".5").unwrap(), Expr::Number(0.5));
    assert_eq!(parse("0x1F").unwrap(), Expr::Number(31.0));
    assert_eq!(parse("Inf").unwrap(), Expr::Number(f64::INFINITY));
    assert!(matches!(parse("nan").unwrap(), Expr::Number(v) if v.is_nan()));
    assert_eq!(parse(r#""a\tb""#).unwrap(), Expr::String("a\tb".into()));
}

#[test]
fn errors_name_the_position() {
    let e = err("");
    assert_eq!(e.message, "no expression found in input");
    let e = err("up{job=\"a\"");
    assert_eq!((e.line, e.col), (1, 11), "{e}");
    let e = err("up{job~\"a\"}");
    assert_eq!(e.col, 7, "{e}");
    assert!(e.message.contains("label matching operator") || e.message.contains("unexpected character"), "{e}");
    let e = err("{job=\"\"}");
    assert!(e.message.contains("at least one non-empty matcher"), "{e}");
    assert!(parse("up{a=\"(\"}").is_ok(), "equality with regex metacharacters is fine");
    let e = err("up{a=~\"(\"}");
    assert!(e.message.contains("invalid regular expression"), "{e}");
    let e = err("up\n  }");
    assert_eq!((e.line, e.col), (2, 3), "{e}");
    let e = err("up{a=\"x\\q\"}");
    assert!(e.message.contains("unknown escape"), "{e}");
    let e = err("up{__name__=\"x\"}");
    assert!(e.message.contains("set twice"), "{e}");
    let e = err("\"unterminated");
    assert!(e.message.contains("unterminated"), "{e}");
    assert!(err("éé{").col >= 1);
    assert!(err("and").message.contains("unexpected"), "{}", err("and"));
}

#[test]
fn display_has_prometheus_shape() {
    assert_eq!(err("up}").to_string(), "1:3: parse error: unexpected \"}\"");
}

#[test]
fn duration_expressions() {
    // Constant ones are worked out when parsed and printed as written.
    let e = parse("changes(m[2m*(10+5)])").unwrap();
    let Expr::Call { args, .. } = &e else { panic!("{e:?}") };
    assert!(matches!(args[0], Expr::MatrixSelector { range: 1_800_000, .. }), "{e:?}");
    assert_eq!(e.to_string(), "changes(m[2m * (10 + 5)])");
    assert_eq!(parse("m[-5m+35m]").unwrap().to_string(), "m[-5m + 35m]");
    // `offset` takes one term: what follows is the outer expression's.
    assert_eq!(parse("m offset 100 + 2").unwrap().to_string(), "m offset 1m40s + 2");
    assert_eq!(parse("m offset -(2 * 2)").unwrap().to_string(), "m offset -(2 * 2)");
    let Expr::VectorSelector(vs) = parse("m offset -(2 * 2)").unwrap() else { panic!() };
    assert_eq!(vs.offset, -4000);
    // step() and range() wait for the query.
    let e = parse("sum_over_time(m[step()+1:min_of(range(), 5s)] offset STEP())").unwrap();
    assert_eq!(e.to_string(), "sum_over_time(m[step() + 1:min_of(range(), 5s)] offset step())");
    let r = e.with_query_durations(10_000, 60_000).unwrap().expect("resolved");
    let Expr::Call { args, .. } = &r else { panic!() };
    assert!(matches!(args[0], Expr::Subquery { range: 11_000, step: Some(5_000), offset: 10_000, .. }), "{r:?}");
    assert!(parse("m[range()]").unwrap().with_query_durations(0, 0).is_err(), "a zero range at an instant query");
    // Bad ones name their place.
    let e = err("m[5m / 0]");
    assert_eq!((e.line, e.col), (1, 3), "{e}");
    assert!(err("m[5m - 10m]").message.contains("range must be greater than 0"));
    assert!(err("m[stop()]").message.contains("unexpected identifier \"stop\" in range"));
    assert!(err("m[(5m]").message.contains("expected \")\""), "{}", err("m[(5m]"));
    assert!(err(&format!("m[{}5m{}]", "(".repeat(300), ")".repeat(300))).message.contains("nested too deeply"));
}

#[test]
fn fill_modifiers() {
    assert_eq!(parse("a + fill(0) b").unwrap().to_string(), "a + fill(0) b");
    assert_eq!(
        parse("a + on(x) group_left fill_left(-Inf) fill_right(2) b").unwrap().to_string(),
        "a + on (x) group_left () fill_left(-Inf) fill_right(2) b"
    );
    assert_eq!(parse("a < bool fill_left(NaN) fill_right(NaN) b").unwrap().to_string(), "a < bool fill(NaN) b");
    // A metric named fill is a metric.
    assert_eq!(parse("other + fill").unwrap().to_string(), "other + fill");
    assert_eq!(parse("fill + fill(1) fill").unwrap().to_string(), "fill + fill(1) fill");
    assert!(
        err("a and fill(0) b").message.contains("fill modifier not allowed for \"and\""),
        "{}",
        err("a and fill(0) b")
    );
    assert!(err("a + fill_left(1) fill(2) b").message.contains("may not be set multiple times"));
    assert!(err("a + fill(x) b").message.contains("expected number"));
}

#[test]
fn anchored_and_smoothed_modifiers() {
    assert_eq!(parse("rate(m[5m] anchored offset 1m)").unwrap().to_string(), "rate(m[5m] anchored offset 1m)");
    assert_eq!(parse("m smoothed @ 100").unwrap().to_string(), "m smoothed @ 100.000");
    assert_eq!(parse("anchored").unwrap().to_string(), "anchored", "a metric of that name");
    assert!(err("m[5m] anchored smoothed").message.contains("cannot be used together"));
    assert!(err("m[5m:1m] smoothed").message.contains("not supported for subqueries"));
    assert!(err("m smoothed[5m]").message.contains("no offset modifiers allowed before range"));
}

#[test]
fn info_takes_a_label_selector_that_may_match_empty() {
    assert_eq!(parse("info(m, {data=~\".*\"})").unwrap().to_string(), "info(m, {data=~\".*\"})");
    assert!(err("info(m, sum(x))").message.contains("expected label selectors as the second argument"));
    assert!(err("rate({data=~\".*\"}[5m])").message.contains("at least one non-empty matcher"));
}
