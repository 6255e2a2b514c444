//! What follows an expression: `[range]` and `[range:step]`, `offset`, `@`,
//! `anchored` and `smoothed`, and the durations (literal or, in Prometheus
//! 3's experimental syntax, arithmetic) they take.

use super::ast::*;
use super::parse::{fail, PResult, Parser, MAX_DEPTH};
use super::token::Tok;
use super::value::ValueType;

impl Parser<'_> {
    pub(super) fn duration(&mut self, what: &str) -> PResult<i64> {
        match self.peek().clone() {
            Tok::Duration(d) => {
                self.next();
                Ok(d)
            }
            Tok::Number(n) if n.is_finite() => {
                // Plain numbers are seconds.
                self.next();
                Ok((n * 1000.0).round() as i64)
            }
            t => fail(self.pos(), format!("unexpected {} in {what}, expected duration", t.describe())),
        }
    }

    pub(super) fn peek_after(&self) -> &Tok {
        &self.toks[(self.i + 1).min(self.toks.len() - 1)].tok
    }

    /// A range or subquery step: a duration or a number of seconds, or a
    /// duration expression (kept as written; its value when it needs no query).
    pub(super) fn dur(&mut self, what: &str) -> PResult<(i64, Option<DurExpr>)> {
        let literal = matches!(self.peek(), Tok::Duration(_) | Tok::Number(_));
        if literal && matches!(self.peek_after(), Tok::RBracket | Tok::Colon) {
            return Ok((self.duration(what)?, None));
        }
        let start = self.pos();
        let e = self.dur_expr(0, what)?;
        self.dur_value(e, start)
    }

    pub(super) fn dur_value(&self, e: DurExpr, start: usize) -> PResult<(i64, Option<DurExpr>)> {
        if !e.is_const() {
            return Ok((0, Some(e)));
        }
        match e.millis(0, 0) {
            Ok(ms) => Ok((ms, Some(e))),
            Err(m) => fail(start, m),
        }
    }

    /// After `offset`: an optionally signed duration, number, parenthesised
    /// duration expression or duration function; what follows is not part of
    /// it (`x offset 1m + 2` adds 2 to the offset selector).
    pub(super) fn offset(&mut self) -> PResult<(i64, Option<DurExpr>)> {
        let start = self.pos();
        let neg = match self.peek() {
            Tok::Sub => {
                self.next();
                true
            }
            Tok::Add => {
                self.next();
                false
            }
            _ => false,
        };
        if matches!(self.peek(), Tok::Duration(_) | Tok::Number(_)) {
            let d = self.duration("offset")?;
            return Ok((if neg { -d } else { d }, None));
        }
        let p = self.dur_primary("offset")?;
        self.dur_value(if neg { DurExpr::Neg(Box::new(p)) } else { p }, start)
    }

    /// Duration arithmetic by precedence (`^` binds right, above unary minus).
    pub(super) fn dur_expr(&mut self, min_prec: u8, what: &str) -> PResult<DurExpr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return fail(self.pos(), "expression nested too deeply");
        }
        let mut lhs = match self.peek() {
            Tok::Sub => {
                self.next();
                DurExpr::Neg(Box::new(self.dur_expr(BinOp::Pow.precedence(), what)?))
            }
            Tok::Add => {
                self.next();
                self.dur_expr(BinOp::Pow.precedence(), what)?
            }
            _ => self.dur_primary(what)?,
        };
        loop {
            // Durations take the arithmetic operators only.
            let arithmetic =
                |op: &BinOp| matches!(op, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Pow);
            let Some(op) = self.binop().filter(arithmetic) else { break };
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            self.next();
            let rhs = self.dur_expr(if op == BinOp::Pow { prec } else { prec + 1 }, what)?;
            lhs = DurExpr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        self.depth -= 1;
        Ok(lhs)
    }

    pub(super) fn dur_primary(&mut self, what: &str) -> PResult<DurExpr> {
        let pos = self.pos();
        match self.peek().clone() {
            Tok::Number(n) if n.is_finite() => {
                self.next();
                Ok(DurExpr::Number(n))
            }
            Tok::Duration(d) => {
                self.next();
                Ok(DurExpr::Duration(d))
            }
            Tok::LParen => {
                self.next();
                let e = self.dur_expr(0, what)?;
                self.expect(Tok::RParen, what)?;
                Ok(DurExpr::Paren(Box::new(e)))
            }
            Tok::Ident(name) => {
                let f = name.to_ascii_lowercase();
                if !matches!(f.as_str(), "step" | "range" | "min_of" | "max_of") {
                    return fail(pos, format!("unexpected identifier {name:?} in {what}, expected duration"));
                }
                self.next();
                self.expect(Tok::LParen, what)?;
                let e = match f.as_str() {
                    "step" => DurExpr::Step,
                    "range" => DurExpr::Range,
                    _ => {
                        let a = self.dur_expr(0, what)?;
                        self.expect(Tok::Comma, what)?;
                        let b = self.dur_expr(0, what)?;
                        if f == "min_of" {
                            DurExpr::MinOf(Box::new(a), Box::new(b))
                        } else {
                            DurExpr::MaxOf(Box::new(a), Box::new(b))
                        }
                    }
                };
                self.expect(Tok::RParen, what)?;
                Ok(e)
            }
            t => fail(pos, format!("unexpected {} in {what}, expected duration", t.describe())),
        }
    }

    pub(super) fn postfix(&mut self, mut e: Expr) -> PResult<Expr> {
        loop {
            match self.peek() {
                Tok::LBracket => e = self.range_or_subquery(e)?,
                Tok::Ident(s)
                    if (s.eq_ignore_ascii_case("anchored") || s.eq_ignore_ascii_case("smoothed"))
                        && matches!(
                            e,
                            Expr::VectorSelector(_) | Expr::MatrixSelector { .. } | Expr::Subquery { .. }
                        ) =>
                {
                    let (pos, anchored) = (self.pos(), s.eq_ignore_ascii_case("anchored"));
                    let name = if anchored { "anchored" } else { "smoothed" };
                    self.next();
                    let vs = match &mut e {
                        Expr::VectorSelector(vs) | Expr::MatrixSelector { vs, .. } => vs,
                        _ => return fail(pos, format!("{name} modifier is not supported for subqueries")),
                    };
                    if vs.anchored || vs.smoothed {
                        return fail(pos, "anchored and smoothed modifiers cannot be used together");
                    }
                    if anchored {
                        vs.anchored = true;
                    } else {
                        vs.smoothed = true;
                    }
                }
                Tok::Ident(s) if s.eq_ignore_ascii_case("offset") => {
                    let pos = self.pos();
                    self.next();
                    let (d, written) = self.offset()?;
                    e = set_offset(e, d, written, pos)?;
                }
                Tok::At => {
                    let pos = self.pos();
                    self.next();
                    let at = self.at_modifier(pos)?;
                    e = set_at(e, at, pos)?;
                }
                _ => return Ok(e),
            }
        }
    }

    /// `[range]` after a selector, or `[range:step]` after an instant
    /// expression (the `[` is next).
    fn range_or_subquery(&mut self, e: Expr) -> PResult<Expr> {
        let pos = self.pos();
        self.next();
        let (range, range_expr) = self.dur("range")?;
        let range_known = range_expr.as_ref().is_none_or(DurExpr::is_const);
        if self.eat(&Tok::Colon) {
            let (step, step_expr) = if *self.peek() == Tok::RBracket {
                (None, None)
            } else {
                let (s, x) = self.dur("subquery step")?;
                (Some(s), x)
            };
            let step_known = step_expr.as_ref().is_none_or(DurExpr::is_const);
            self.expect(Tok::RBracket, "subquery")?;
            if e.value_type() != ValueType::Vector {
                return fail(
                    pos,
                    format!("subquery is only allowed on instant vector, got {} instead", e.value_type().as_str()),
                );
            }
            if range_known && range <= 0 {
                return fail(pos, "range must be greater than 0");
            }
            if step_known && step.is_some_and(|s| s <= 0) {
                return fail(pos, "step must be greater than 0");
            }
            let durs = (range_expr.is_some() || step_expr.is_some())
                .then(|| Box::new(Durations { range: range_expr, step: step_expr, offset: None }));
            Ok(Expr::Subquery { expr: Box::new(e), range, step, offset: 0, at: None, durs })
        } else {
            self.expect(Tok::RBracket, "range")?;
            let mut vs = match e {
                Expr::VectorSelector(vs)
                    if vs.offset == 0 && vs.at.is_none() && vs.durs.is_none() && !vs.anchored && !vs.smoothed =>
                {
                    vs
                }
                Expr::VectorSelector(_) => return fail(pos, "no offset modifiers allowed before range"),
                _ => return fail(pos, "ranges only allowed for vector selectors"),
            };
            if range_known && range <= 0 {
                return fail(pos, "range must be greater than 0");
            }
            if range_expr.is_some() {
                vs.durs = Some(Box::new(Durations { range: range_expr, ..Durations::default() }));
            }
            Ok(Expr::MatrixSelector { vs, range })
        }
    }

    /// The time of an `@` modifier (after the `@` at `pos`): a Unix time,
    /// `start()` or `end()`.
    fn at_modifier(&mut self, pos: usize) -> PResult<At> {
        Ok(match self.peek().clone() {
            Tok::Number(n) => {
                self.next();
                at_time(n, pos)?
            }
            Tok::Duration(d) => {
                self.next();
                At::Time(d)
            }
            Tok::Sub => {
                self.next();
                match self.peek().clone() {
                    Tok::Number(n) => {
                        self.next();
                        at_time(-n, pos)?
                    }
                    t => return fail(self.pos(), format!("unexpected {} in @, expected number", t.describe())),
                }
            }
            Tok::Ident(s) if s == "start" || s == "end" => {
                self.next();
                self.expect(Tok::LParen, "@ modifier")?;
                self.expect(Tok::RParen, "@ modifier")?;
                if s == "start" {
                    At::Start
                } else {
                    At::End
                }
            }
            t => return fail(self.pos(), format!("unexpected {} in @, expected timestamp", t.describe())),
        })
    }
}

fn at_time(secs: f64, pos: usize) -> PResult<At> {
    if !secs.is_finite() || secs.abs() > (i64::MAX / 1000) as f64 {
        return fail(pos, "timestamp out of bounds for @ modifier");
    }
    Ok(At::Time((secs * 1000.0).round() as i64))
}

/// Where offset and `@` may go: selectors and subqueries (through parentheses
/// they are an error, as in Prometheus).
fn set_offset(e: Expr, d: i64, written: Option<DurExpr>, pos: usize) -> PResult<Expr> {
    let has = |durs: &Option<Box<Durations>>| durs.as_ref().is_some_and(|x| x.offset.is_some());
    let with = |durs: Option<Box<Durations>>| match written {
        Some(o) => Some(Box::new(Durations { offset: Some(o), ..durs.map(|d| *d).unwrap_or_default() })),
        None => durs,
    };
    match e {
        Expr::VectorSelector(mut vs) => {
            if vs.offset != 0 || has(&vs.durs) {
                return fail(pos, "offset may not be set multiple times");
            }
            vs.offset = d;
            vs.durs = with(vs.durs);
            Ok(Expr::VectorSelector(vs))
        }
        Expr::MatrixSelector { mut vs, range } => {
            if vs.offset != 0 || has(&vs.durs) {
                return fail(pos, "offset may not be set multiple times");
            }
            vs.offset = d;
            vs.durs = with(vs.durs);
            Ok(Expr::MatrixSelector { vs, range })
        }
        Expr::Subquery { expr, range, step, offset, at, durs } => {
            if offset != 0 || has(&durs) {
                return fail(pos, "offset may not be set multiple times");
            }
            Ok(Expr::Subquery { expr, range, step, offset: d, at, durs: with(durs) })
        }
        _ => fail(
            pos,
            "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
        ),
    }
}

fn set_at(e: Expr, at: At, pos: usize) -> PResult<Expr> {
    match e {
        Expr::VectorSelector(mut vs) => {
            if vs.at.is_some() {
                return fail(pos, "@ <timestamp> may not be set multiple times");
            }
            vs.at = Some(at);
            Ok(Expr::VectorSelector(vs))
        }
        Expr::MatrixSelector { mut vs, range } => {
            if vs.at.is_some() {
                return fail(pos, "@ <timestamp> may not be set multiple times");
            }
            vs.at = Some(at);
            Ok(Expr::MatrixSelector { vs, range })
        }
        Expr::Subquery { expr, range, step, offset, at: old, durs } => {
            if old.is_some() {
                return fail(pos, "@ <timestamp> may not be set multiple times");
            }
            Ok(Expr::Subquery { expr, range, step, offset, at: Some(at), durs })
        }
        _ => fail(
            pos,
            "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
        ),
    }
}
