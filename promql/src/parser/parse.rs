//! The PromQL grammar over tokens: precedence climbing for binary
//! operators, postfix modifiers (`[range]`, `[range:step]`, `offset`, `@`),
//! and the type checks Prometheus's parser makes, each with a position.

use super::ast::*;
use super::functions;
use super::token::{Tok, Token};
use super::value::ValueType;
use storage::{MatchOp, Matcher, METRIC_NAME};

/// A parse failure at a byte offset.
#[derive(Debug)]
pub struct Failure {
    pub pos: usize,
    pub message: String,
}

type PResult<T> = Result<T, Failure>;

fn fail<T>(pos: usize, message: impl Into<String>) -> PResult<T> {
    Err(Failure { pos, message: message.into() })
}

/// Nesting limit: deeper expressions are refused instead of overflowing the stack.
pub const MAX_DEPTH: usize = 256;

pub struct Parser<'a> {
    toks: &'a [Token],
    query: &'a str,
    i: usize,
    depth: usize,
    /// The next selector may match only empty values (`info`'s data-label selector).
    empty_selector_ok: bool,
}

const KEYWORDS: &[&str] =
    &["and", "or", "unless", "atan2", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"];

impl<'a> Parser<'a> {
    pub fn new(toks: &'a [Token], query: &'a str) -> Self {
        Parser { toks, query, i: 0, depth: 0, empty_selector_ok: false }
    }

    /// Line and column (1-based, in characters) of a byte offset.
    fn line_col(&self, pos: usize) -> Pos {
        let before = &self.query[..pos.min(self.query.len())];
        Pos {
            line: before.matches('\n').count() + 1,
            col: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
        }
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.i].tok
    }

    fn pos(&self) -> usize {
        self.toks[self.i].pos
    }

    fn next(&mut self) -> &Token {
        let t = &self.toks[self.i];
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
        t
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == t {
            self.next();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: Tok, what: &str) -> PResult<()> {
        if self.eat(&t) {
            Ok(())
        } else {
            fail(self.pos(), format!("unexpected {} in {what}, expected {:?}", self.peek().describe(), t.symbol()))
        }
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(w))
    }

    /// The whole query.
    pub fn parse_query(&mut self) -> PResult<Expr> {
        if *self.peek() == Tok::Eof {
            return fail(0, "no expression found in input");
        }
        let e = self.expr(0)?;
        if *self.peek() != Tok::Eof {
            return fail(self.pos(), format!("unexpected {}", self.peek().describe()));
        }
        Ok(e)
    }

    fn binop(&self) -> Option<BinOp> {
        Some(match self.peek() {
            Tok::Add => BinOp::Add,
            Tok::Sub => BinOp::Sub,
            Tok::Mul => BinOp::Mul,
            Tok::Div => BinOp::Div,
            Tok::Mod => BinOp::Mod,
            Tok::Pow => BinOp::Pow,
            Tok::EqlC => BinOp::Eql,
            Tok::Neq => BinOp::Neq,
            Tok::Lt => BinOp::Lt,
            Tok::Le => BinOp::Le,
            Tok::Gt => BinOp::Gt,
            Tok::Ge => BinOp::Ge,
            Tok::Ident(s) => match s.to_ascii_lowercase().as_str() {
                "and" => BinOp::And,
                "or" => BinOp::Or,
                "unless" => BinOp::Unless,
                "atan2" => BinOp::Atan2,
                _ => return None,
            },
            _ => return None,
        })
    }

    fn expr(&mut self, min_prec: u8) -> PResult<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return fail(self.pos(), format!("expression nested more than {MAX_DEPTH} levels deep"));
        }
        let mut lhs = self.unary()?;
        while let Some(op) = self.binop() {
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            let op_pos = self.pos();
            self.next();
            let return_bool = if self.is_word("bool") {
                self.next();
                true
            } else {
                false
            };
            let matching = self.vector_matching(op)?;
            // `^` is right-associative; everything else left-associative.
            let next_min = if op == BinOp::Pow { prec } else { prec + 1 };
            let rhs = self.expr(next_min)?;
            lhs = self.check_binary(op, lhs, rhs, return_bool, matching, op_pos)?;
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn label_list(&mut self) -> PResult<Vec<String>> {
        self.expect(Tok::LParen, "grouping opts")?;
        let mut out = Vec::new();
        loop {
            match self.peek().clone() {
                Tok::RParen => {
                    self.next();
                    return Ok(out);
                }
                Tok::Ident(s) if storage::is_valid_label_name(&s) => {
                    self.next();
                    out.push(s);
                }
                Tok::Str(s) => {
                    self.next();
                    out.push(s);
                }
                t => return fail(self.pos(), format!("unexpected {} in grouping opts, expected label", t.describe())),
            }
            if !self.eat(&Tok::Comma) && *self.peek() != Tok::RParen {
                return fail(
                    self.pos(),
                    format!("unexpected {} in grouping opts, expected \",\" or \")\"", self.peek().describe()),
                );
            }
        }
    }

    fn vector_matching(&mut self, op: BinOp) -> PResult<Option<VectorMatching>> {
        let on = if self.is_word("on") {
            true
        } else if self.is_word("ignoring") {
            false
        } else {
            let card = if op.is_set() { Card::ManyToMany } else { Card::OneToOne };
            let (fill_left, fill_right) = self.fills(op)?;
            let m = VectorMatching { card, on: false, labels: vec![], include: vec![], fill_left, fill_right };
            return Ok((op.is_set() || fill_left.is_some() || fill_right.is_some()).then_some(m));
        };
        self.next();
        let labels = self.label_list()?;
        let mut card = if op.is_set() { Card::ManyToMany } else { Card::OneToOne };
        let mut include = Vec::new();
        if self.is_word("group_left") || self.is_word("group_right") {
            let left = self.is_word("group_left");
            let pos = self.pos();
            self.next();
            if op.is_set() {
                return fail(pos, format!("no grouping allowed for \"{}\" operation", op.symbol()));
            }
            card = if left { Card::ManyToOne } else { Card::OneToMany };
            if *self.peek() == Tok::LParen {
                include = self.label_list()?;
            }
        }
        let (fill_left, fill_right) = self.fills(op)?;
        Ok(Some(VectorMatching { card, on, labels, include, fill_left, fill_right }))
    }

    /// `fill(v)`, `fill_left(v)`, `fill_right(v)` after the matching: a word
    /// followed by `(` (a metric of that name is not).
    fn fills(&mut self, op: BinOp) -> PResult<(Option<f64>, Option<f64>)> {
        let (mut left, mut right) = (None, None);
        loop {
            let word = match self.peek() {
                Tok::Ident(w) if matches!(w.as_str(), "fill" | "fill_left" | "fill_right") => w.clone(),
                _ => break,
            };
            if *self.peek_after() != Tok::LParen {
                break;
            }
            let pos = self.pos();
            if op.is_set() {
                return fail(pos, format!("{word} modifier not allowed for \"{}\" operation", op.symbol()));
            }
            self.next();
            self.next();
            let sign = match self.peek() {
                Tok::Sub => {
                    self.next();
                    -1.0
                }
                Tok::Add => {
                    self.next();
                    1.0
                }
                _ => 1.0,
            };
            let v = match self.peek().clone() {
                Tok::Number(n) => {
                    self.next();
                    sign * n
                }
                t => return fail(self.pos(), format!("unexpected {} in {word}, expected number", t.describe())),
            };
            self.expect(Tok::RParen, &word)?;
            let twice = |x: Option<f64>| {
                if x.is_some() {
                    fail(pos, format!("{word} may not be set multiple times"))
                } else {
                    Ok(())
                }
            };
            if word != "fill_right" {
                twice(left)?;
                left = Some(v);
            }
            if word != "fill_left" {
                twice(right)?;
                right = Some(v);
            }
        }
        Ok((left, right))
    }

    fn unary(&mut self) -> PResult<Expr> {
        match self.peek() {
            Tok::Sub | Tok::Add => {
                let neg = *self.peek() == Tok::Sub;
                let pos = self.pos();
                self.next();
                // Unary minus binds looser than `^`: -a^b is -(a^b).
                let e = self.expr(BinOp::Pow.precedence())?;
                let t = e.value_type();
                if t != ValueType::Scalar && t != ValueType::Vector {
                    return fail(
                        pos,
                        format!(
                            "unary expression only allowed on expressions of type scalar or instant vector, got {:?}",
                            t.as_str()
                        ),
                    );
                }
                Ok(if neg {
                    match e {
                        Expr::Number(v) => Expr::Number(-v),
                        e => Expr::Neg(Box::new(e)),
                    }
                } else {
                    e
                })
            }
            _ => {
                let p = self.primary()?;
                self.postfix(p)
            }
        }
    }

    fn duration(&mut self, what: &str) -> PResult<i64> {
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

    fn peek_after(&self) -> &Tok {
        &self.toks[(self.i + 1).min(self.toks.len() - 1)].tok
    }

    /// A range or subquery step: a duration or a number of seconds, or a
    /// duration expression (kept as written; its value when it needs no query).
    fn dur(&mut self, what: &str) -> PResult<(i64, Option<DurExpr>)> {
        let literal = matches!(self.peek(), Tok::Duration(_) | Tok::Number(_));
        if literal && matches!(self.peek_after(), Tok::RBracket | Tok::Colon) {
            return Ok((self.duration(what)?, None));
        }
        let start = self.pos();
        let e = self.dur_expr(0, what)?;
        self.dur_value(e, start)
    }

    fn dur_value(&self, e: DurExpr, start: usize) -> PResult<(i64, Option<DurExpr>)> {
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
    fn offset(&mut self) -> PResult<(i64, Option<DurExpr>)> {
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
    fn dur_expr(&mut self, min_prec: u8, what: &str) -> PResult<DurExpr> {
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

    fn dur_primary(&mut self, what: &str) -> PResult<DurExpr> {
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

    fn postfix(&mut self, mut e: Expr) -> PResult<Expr> {
        loop {
            match self.peek() {
                Tok::LBracket => {
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
                                format!(
                                    "subquery is only allowed on instant vector, got {} instead",
                                    e.value_type().as_str()
                                ),
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
                        e = Expr::Subquery { expr: Box::new(e), range, step, offset: 0, at: None, durs };
                    } else {
                        self.expect(Tok::RBracket, "range")?;
                        let mut vs = match e {
                            Expr::VectorSelector(vs)
                                if vs.offset == 0
                                    && vs.at.is_none()
                                    && vs.durs.is_none()
                                    && !vs.anchored
                                    && !vs.smoothed =>
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
                        e = Expr::MatrixSelector { vs, range };
                    }
                }
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
                    let at = match self.peek().clone() {
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
                                t => {
                                    return fail(
                                        self.pos(),
                                        format!("unexpected {} in @, expected number", t.describe()),
                                    )
                                }
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
                    };
                    e = set_at(e, at, pos)?;
                }
                _ => return Ok(e),
            }
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        let pos = self.pos();
        match self.peek().clone() {
            Tok::Number(n) => {
                self.next();
                Ok(Expr::Number(n))
            }
            Tok::Duration(d) => {
                // A duration where a number is expected is its seconds.
                self.next();
                Ok(Expr::Number(d as f64 / 1000.0))
            }
            Tok::Str(s) => {
                self.next();
                Ok(Expr::String(s))
            }
            Tok::LParen => {
                self.next();
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return fail(pos, format!("expression nested more than {MAX_DEPTH} levels deep"));
                }
                let e = self.expr(0)?;
                self.depth -= 1;
                self.expect(Tok::RParen, "paren expression")?;
                Ok(Expr::Paren(Box::new(e)))
            }
            Tok::LBrace => {
                let matchers = self.matchers()?;
                self.selector(None, matchers, pos)
            }
            Tok::Ident(name) => {
                self.next();
                let lparen = *self.peek() == Tok::LParen;
                if let Some(op) = AggOp::from_name(&name) {
                    if lparen || self.is_word("by") || self.is_word("without") {
                        return self.aggregate(op, pos);
                    }
                }
                if lparen {
                    return match functions::lookup(&name) {
                        Some(f) => self.call(f, pos),
                        None => fail(pos, format!("unknown function with name {name:?}")),
                    };
                }
                if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(&name)) {
                    return fail(pos, format!("unexpected {name:?}"));
                }
                let matchers = if *self.peek() == Tok::LBrace { self.matchers()? } else { Vec::new() };
                self.selector(Some(name), matchers, pos)
            }
            t => fail(pos, format!("unexpected {}", t.describe())),
        }
    }

    fn selector(&mut self, name: Option<String>, braces: Vec<(Matcher, usize)>, pos: usize) -> PResult<Expr> {
        let mut matchers = Vec::new();
        if let Some(n) = &name {
            matchers.push(
                Matcher::new(MatchOp::Equal, METRIC_NAME, n.clone())
                    .map_err(|e| Failure { pos, message: e.to_string() })?,
            );
        }
        for (m, mpos) in braces {
            if name.is_some() && m.name == METRIC_NAME {
                return fail(
                    mpos,
                    format!("metric name must not be set twice: {:?} or {:?}", name.as_deref().unwrap_or(""), m.value),
                );
            }
            matchers.push(m);
        }
        let empty_ok = std::mem::take(&mut self.empty_selector_ok);
        if !empty_ok && matchers.iter().all(|m| m.matches_empty()) {
            return fail(pos, "vector selector must contain at least one non-empty matcher");
        }
        Ok(Expr::VectorSelector(VectorSelector {
            name,
            matchers,
            offset: 0,
            at: None,
            durs: None,
            anchored: false,
            smoothed: false,
        }))
    }

    /// `{a="b", c=~"d", "quoted"}`
    fn matchers(&mut self) -> PResult<Vec<(Matcher, usize)>> {
        self.expect(Tok::LBrace, "label matching")?;
        let mut out = Vec::new();
        loop {
            let pos = self.pos();
            let name = match self.peek().clone() {
                Tok::RBrace => {
                    self.next();
                    return Ok(out);
                }
                Tok::Ident(s) if storage::is_valid_label_name(&s) => s,
                Tok::Str(s) => s,
                t => return fail(pos, format!("unexpected {} in label matching, expected label", t.describe())),
            };
            self.next();
            let op = match self.peek() {
                Tok::Assign => MatchOp::Equal,
                Tok::Neq => MatchOp::NotEqual,
                Tok::RegexMatch => MatchOp::Regex,
                Tok::RegexNoMatch => MatchOp::NotRegex,
                Tok::Comma | Tok::RBrace if matches!(self.toks[self.i - 1].tok, Tok::Str(_)) => {
                    // A bare quoted name: the metric name (UTF-8 syntax).
                    out.push((
                        Matcher::new(MatchOp::Equal, METRIC_NAME, name)
                            .map_err(|e| Failure { pos, message: e.to_string() })?,
                        pos,
                    ));
                    self.eat(&Tok::Comma);
                    continue;
                }
                t => {
                    return fail(
                        self.pos(),
                        format!("unexpected {} in label matching, expected label matching operator", t.describe()),
                    )
                }
            };
            self.next();
            let vpos = self.pos();
            let value = match self.peek().clone() {
                Tok::Str(v) => v,
                t => return fail(vpos, format!("unexpected {} in label matching, expected string", t.describe())),
            };
            self.next();
            let m = Matcher::new(op, name, value).map_err(|e| Failure { pos: vpos, message: e.to_string() })?;
            out.push((m, pos));
            if !self.eat(&Tok::Comma) && *self.peek() != Tok::RBrace {
                return fail(
                    self.pos(),
                    format!("unexpected {} in label matching, expected \",\" or \"}}\"", self.peek().describe()),
                );
            }
        }
    }

    /// A call's arguments; for `info`, the second is a label selector that
    /// may match only empty values.
    fn args(&mut self, info: bool) -> PResult<Vec<(Expr, usize)>> {
        self.expect(Tok::LParen, "function call")?;
        let mut args = Vec::new();
        if self.eat(&Tok::RParen) {
            return Ok(args);
        }
        loop {
            let pos = self.pos();
            let selector_arg = info && args.len() == 1;
            self.empty_selector_ok = selector_arg;
            let a = self.expr(0)?;
            self.empty_selector_ok = false;
            if selector_arg && !matches!(a, Expr::VectorSelector(_)) {
                return fail(pos, "expected label selectors as the second argument to \"info\" function");
            }
            args.push((a, pos));
            if self.eat(&Tok::RParen) {
                return Ok(args);
            }
            if !self.eat(&Tok::Comma) {
                return fail(
                    self.pos(),
                    format!("unexpected {} in argument list, expected \",\" or \")\"", self.peek().describe()),
                );
            }
            if self.eat(&Tok::RParen) {
                return Ok(args); // trailing comma
            }
        }
    }

    fn call(&mut self, f: &'static functions::Function, pos: usize) -> PResult<Expr> {
        let args = self.args(f.name == "info")?;
        let n = args.len();
        let min =
            if f.optional == functions::REPEAT { f.args.len().saturating_sub(1) } else { f.args.len() - f.optional };
        let max = if f.optional == functions::REPEAT { usize::MAX } else { f.args.len() };
        if n < min || n > max {
            let want = if min == max { format!("{min}") } else { format!("at least {min}") };
            return fail(pos, format!("expected {want} argument(s) in call to {:?}, got {n}", f.name));
        }
        let mut out = Vec::with_capacity(n);
        let arg_pos: Vec<Pos> = args.iter().map(|(_, p)| self.line_col(*p)).collect();
        for (k, (a, apos)) in args.into_iter().enumerate() {
            let want = f.args[k.min(f.args.len() - 1)];
            let got = a.value_type();
            if got != want {
                return fail(
                    apos,
                    format!("expected type {} in call to function {:?}, got {}", want.as_str(), f.name, got.as_str()),
                );
            }
            out.push(a);
        }
        Ok(Expr::Call { func: f, args: out, pos: self.line_col(pos), arg_pos })
    }

    fn aggregate(&mut self, op: AggOp, pos: usize) -> PResult<Expr> {
        let mut grouping = Vec::new();
        let mut without = false;
        let mut have_grouping = false;
        if self.is_word("by") || self.is_word("without") {
            without = self.is_word("without");
            self.next();
            grouping = self.label_list()?;
            have_grouping = true;
        }
        let mut args = self.args(false)?;
        if !have_grouping && (self.is_word("by") || self.is_word("without")) {
            without = self.is_word("without");
            self.next();
            grouping = self.label_list()?;
        }
        let want = if op.has_param() { 2 } else { 1 };
        if args.len() != want {
            return fail(
                pos,
                format!(
                    "wrong number of arguments for aggregate expression provided, expected {want}, got {}",
                    args.len()
                ),
            );
        }
        let (expr, epos) = args.pop().expect("checked length");
        if expr.value_type() != ValueType::Vector {
            return fail(
                epos,
                format!("expected type instant vector in aggregation expression, got {}", expr.value_type().as_str()),
            );
        }
        let mut at = self.line_col(pos);
        let param = match args.pop() {
            Some((p, ppos)) => {
                at = self.line_col(ppos);
                let want = if op == AggOp::CountValues { ValueType::String } else { ValueType::Scalar };
                if p.value_type() != want {
                    return fail(
                        ppos,
                        format!(
                            "expected type {} in aggregation parameter, got {}",
                            want.as_str(),
                            p.value_type().as_str()
                        ),
                    );
                }
                Some(Box::new(p))
            }
            None => None,
        };
        Ok(Expr::Aggregate { op, expr: Box::new(expr), param, grouping, without, pos: at })
    }

    fn check_binary(
        &self,
        op: BinOp,
        lhs: Expr,
        rhs: Expr,
        return_bool: bool,
        matching: Option<VectorMatching>,
        pos: usize,
    ) -> PResult<Expr> {
        let (lt, rt) = (lhs.value_type(), rhs.value_type());
        for t in [lt, rt] {
            if t != ValueType::Scalar && t != ValueType::Vector {
                return fail(pos, "binary expression must contain only scalar and instant vector types");
            }
        }
        if return_bool && !op.is_comparison() {
            return fail(pos, "bool modifier can only be used on comparison operators");
        }
        if op.is_comparison() && lt == ValueType::Scalar && rt == ValueType::Scalar && !return_bool {
            return fail(pos, "comparisons between scalars must use BOOL modifier");
        }
        if op.is_set() && (lt == ValueType::Scalar || rt == ValueType::Scalar) {
            return fail(pos, format!("set operator {:?} not allowed in binary scalar expression", op.symbol()));
        }
        let explicit = matching
            .as_ref()
            .is_some_and(|m| m.on || !m.labels.is_empty() || m.card != Card::OneToOne && m.card != Card::ManyToMany);
        if explicit && (lt != ValueType::Vector || rt != ValueType::Vector) {
            return fail(pos, "vector matching only allowed between instant vectors");
        }
        if let Some(m) = &matching {
            if matches!(m.card, Card::ManyToOne | Card::OneToMany) {
                for l in &m.include {
                    if m.on && m.labels.contains(l) {
                        return fail(pos, format!("label {l:?} must not occur in ON and GROUP clause at once"));
                    }
                }
            }
        }
        let matching = if lt == ValueType::Vector && rt == ValueType::Vector {
            Some(matching.unwrap_or_else(VectorMatching::one_to_one))
        } else {
            None
        };
        Ok(Expr::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs), return_bool, matching })
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
