//! Tokens of PromQL as nom parsers over `&str`: whitespace and comments,
//! identifiers, numbers, strings, matching operators.
//!
//! Positions are kept as the number of bytes *remaining* after the point
//! (`&str` carries no offset); [`super::parse`] turns them into offsets.

use storage::MatchOp;

pub type Input<'a> = &'a str;

/// A parse failure: where (bytes remaining) and what was expected or wrong.
#[derive(Debug)]
pub struct Error {
    pub remaining: usize,
    expected: Option<String>,
    message: Option<String>,
}

impl Error {
    /// A hard failure with a message (no backtracking past it).
    pub fn fail(remaining: usize, message: impl Into<String>) -> nom::Err<Error> {
        nom::Err::Failure(Error { remaining, expected: None, message: Some(message.into()) })
    }

    /// Adds what was expected here unless a more precise message exists.
    pub fn or_expected(mut self, what: &str) -> Self {
        if self.message.is_none() && self.expected.is_none() {
            self.expected = Some(what.to_string());
        }
        self
    }

    pub fn message(&self) -> String {
        match (&self.message, &self.expected) {
            (Some(m), _) => m.clone(),
            (None, Some(e)) => format!("unexpected input, expected {e}"),
            (None, None) => "unexpected input".to_string(),
        }
    }
}

impl<'a> nom::error::ParseError<Input<'a>> for Error {
    fn from_error_kind(input: Input<'a>, _: nom::error::ErrorKind) -> Self {
        Error { remaining: input.len(), expected: None, message: None }
    }
    fn append(_: Input<'a>, _: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

impl<'a> nom::error::FromExternalError<Input<'a>, String> for Error {
    fn from_external_error(input: Input<'a>, _: nom::error::ErrorKind, e: String) -> Self {
        Error { remaining: input.len(), expected: None, message: Some(e) }
    }
}

type PResult<'a, T> = nom::IResult<Input<'a>, T, Error>;

fn err<T>(i: Input<'_>) -> PResult<'_, T> {
    Err(nom::Err::Error(Error { remaining: i.len(), expected: None, message: None }))
}

/// A token's value and where it started (bytes remaining).
#[derive(Debug)]
pub struct Span<T> {
    pub value: T,
    pub remaining: usize,
}

/// Skips whitespace and `#` comments (to end of line).
pub fn ws(mut i: Input<'_>) -> PResult<'_, ()> {
    loop {
        let t = i.trim_start();
        if let Some(rest) = t.strip_prefix('#') {
            i = rest.find('\n').map_or("", |n| &rest[n..]);
        } else {
            return Ok((t, ()));
        }
    }
}

fn ident_len(i: &str, first: impl Fn(u8) -> bool, rest: impl Fn(u8) -> bool) -> usize {
    let b = i.as_bytes();
    if b.is_empty() || !first(b[0]) {
        return 0;
    }
    1 + b[1..].iter().take_while(|&&c| rest(c)).count()
}

/// Words that are operators or keywords, never metric names on their own.
const KEYWORDS: &[&str] =
    &["and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"];

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`, not a keyword.
pub fn metric_name(i: Input<'_>) -> PResult<'_, Span<String>> {
    let n = ident_len(
        i,
        |c| c.is_ascii_alphabetic() || c == b'_' || c == b':',
        |c| c.is_ascii_alphanumeric() || c == b'_' || c == b':',
    );
    if n == 0 || KEYWORDS.contains(&&i[..n]) || is_number_word(&i[..n]) {
        return err(i);
    }
    Ok((&i[n..], Span { value: i[..n].to_string(), remaining: i.len() }))
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, or a quoted string (UTF-8 label names).
pub fn label_name(i: Input<'_>) -> PResult<'_, Span<String>> {
    if i.starts_with(['"', '\'', '`']) {
        return string(i);
    }
    let n = ident_len(i, |c| c.is_ascii_alphabetic() || c == b'_', |c| c.is_ascii_alphanumeric() || c == b'_');
    if n == 0 {
        return err(i);
    }
    Ok((&i[n..], Span { value: i[..n].to_string(), remaining: i.len() }))
}

/// `=~`, `!~`, `!=`, `=` (longest first).
pub fn match_op(i: Input<'_>) -> PResult<'_, MatchOp> {
    for (tok, op) in
        [("=~", MatchOp::Regex), ("!~", MatchOp::NotRegex), ("!=", MatchOp::NotEqual), ("=", MatchOp::Equal)]
    {
        if let Some(rest) = i.strip_prefix(tok) {
            return Ok((rest, op));
        }
    }
    err(i)
}

fn is_number_word(w: &str) -> bool {
    w.eq_ignore_ascii_case("inf") || w.eq_ignore_ascii_case("nan")
}

/// Number literals: decimal with optional exponent, hex (`0x1f`), `Inf`, `NaN`
/// (any case). A sign is an operator, not part of the literal.
pub fn number(i: Input<'_>) -> PResult<'_, f64> {
    let b = i.as_bytes();
    let word = ident_len(i, |c| c.is_ascii_alphabetic(), |c| c.is_ascii_alphanumeric() || c == b'_' || c == b':');
    if word > 0 {
        let w = &i[..word];
        if w.eq_ignore_ascii_case("inf") {
            return Ok((&i[word..], f64::INFINITY));
        }
        if w.eq_ignore_ascii_case("nan") {
            return Ok((&i[word..], f64::NAN));
        }
        return err(i);
    }
    if b.len() > 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        let n = 2 + b[2..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
        if n > 2 {
            return match u64::from_str_radix(&i[2..n], 16) {
                Ok(v) => Ok((&i[n..], v as f64)),
                Err(_) => Err(nom::Err::Failure(Error {
                    remaining: i.len(),
                    expected: None,
                    message: Some(format!("bad number or duration syntax: {:?}", &i[..n])),
                })),
            };
        }
    }
    let mut n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let int_digits = n;
    let mut frac_digits = 0;
    if b.get(n) == Some(&b'.') {
        frac_digits = b[n + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        n += 1 + frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return err(i);
    }
    if matches!(b.get(n), Some(b'e' | b'E')) {
        let mut m = n + 1;
        if matches!(b.get(m), Some(b'+' | b'-')) {
            m += 1;
        }
        let exp = b[m.min(b.len())..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp > 0 {
            n = m + exp;
        }
    }
    // A letter right after the digits would be a duration or garbage; both
    // are outside this grammar for now.
    if b.get(n).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') {
        return Err(nom::Err::Failure(Error {
            remaining: i.len(),
            expected: None,
            message: Some(format!("bad number or duration syntax: {:?}", &i[..n + 1])),
        }));
    }
    match i[..n].parse::<f64>() {
        Ok(v) => Ok((&i[n..], v)),
        Err(_) => err(i),
    }
}

/// A string literal in double or single quotes (Go escapes) or backticks (raw).
pub fn string(i: Input<'_>) -> PResult<'_, Span<String>> {
    let remaining = i.len();
    let Some(q) = i.chars().next().filter(|c| matches!(c, '"' | '\'' | '`')) else {
        return err(i);
    };
    let body = &i[1..];
    if q == '`' {
        return match body.find('`') {
            Some(end) => Ok((&body[end + 1..], Span { value: body[..end].to_string(), remaining })),
            None => Err(nom::Err::Failure(Error {
                remaining,
                expected: None,
                message: Some("unterminated raw string".into()),
            })),
        };
    }
    let mut out = String::new();
    let mut chars = body.char_indices();
    let fail = |at: usize, msg: String| {
        nom::Err::Failure(Error { remaining: body.len() - at, expected: None, message: Some(msg) })
    };
    while let Some((at, c)) = chars.next() {
        match c {
            c if c == q => return Ok((&body[at + 1..], Span { value: out, remaining })),
            '\n' => return Err(fail(at, "unterminated quoted string".into())),
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                match e {
                    'a' => out.push('\x07'),
                    'b' => out.push('\x08'),
                    'f' => out.push('\x0c'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'v' => out.push('\x0b'),
                    '\\' => out.push('\\'),
                    '"' | '\'' if e == q => out.push(e),
                    'x' | 'u' | 'U' | '0'..='7' => {
                        let (len, radix) = match e {
                            'x' => (2, 16),
                            'u' => (4, 16),
                            'U' => (8, 16),
                            _ => (3, 8),
                        };
                        let mut digits = String::new();
                        if radix == 8 {
                            digits.push(e);
                        }
                        while digits.len() < len {
                            match chars.next() {
                                Some((_, d)) if d.is_digit(radix) => digits.push(d),
                                _ => return Err(fail(at, "invalid escape sequence in string".into())),
                            }
                        }
                        let code = u32::from_str_radix(&digits, radix).unwrap_or(u32::MAX);
                        if radix == 8 || e == 'x' {
                            // \xNN and octal escapes are bytes; PromQL strings must stay valid UTF-8.
                            match char::from_u32(code).filter(|c| c.is_ascii()) {
                                Some(c) => out.push(c),
                                None => return Err(fail(at, "invalid UTF-8 byte escape in string".into())),
                            }
                        } else {
                            match char::from_u32(code) {
                                Some(c) => out.push(c),
                                None => return Err(fail(at, "invalid Unicode code point in string".into())),
                            }
                        }
                    }
                    other => return Err(fail(at, format!("unknown escape sequence '\\{other}'"))),
                }
            }
            c => out.push(c),
        }
    }
    Err(nom::Err::Failure(Error { remaining, expected: None, message: Some("unterminated quoted string".into()) }))
}
