//! The PromQL grammar over tokens: precedence climbing for binary
//! operators, selectors, calls and aggregations (the postfix modifiers are in
//! `modifiers.rs`), and the type checks Prometheus's parser makes, each with a position.

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

pub(super) type PResult<T> = Result<T, Failure>;

pub(super) fn fail<T>(pos: usize, message: impl Into<String>) -> PResult<T> {
    Err(Failure { pos, message: message.into() })
}

/// Nesting limit: deeper expressions are refused instead of overflowing the stack.
pub const MAX_DEPTH: usize = 256;

pub struct Parser<'a> {
    pub(super) toks: &'a [Token],
    query: &'a str,
    pub(super) i: usize,
    pub(super) depth: usize,
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
    pub(super) fn line_col(&self, pos: usize) -> Pos {
        let before = &self.query[..pos.min(self.query.len())];
        Pos {
            line: before.matches('\n').count() + 1,
            col: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
        }
    }

    pub(super) fn peek(&self) -> &Tok {
        &self.toks[self.i].tok
    }

    pub(super) fn pos(&self) -> usize {
        self.toks[self.i].pos
    }

    pub(super) fn next(&mut self) -> &Token {
        let t = &self.toks[self.i];
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
        t
    }

    pub(super) fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == t {
            self.next();
            true
        } else {
            false
        }
    }

    pub(super) fn expect(&mut self, t: Tok, what: &str) -> PResult<()> {
        if self.eat(&t) {
            Ok(())
        } else {
            fail(self.pos(), format!("unexpected {} in {what}, expected {:?}", self.peek().describe(), t.symbol()))
        }
    }

    pub(super) fn is_word(&self, w: &str) -> bool {
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

    pub(super) fn binop(&self) -> Option<BinOp> {
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
