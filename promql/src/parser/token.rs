//! The PromQL lexer: the query text as a list of tokens with byte
//! positions. Token shapes are recognised with nom over bytes; the parser
//! (`parse.rs`) works on the token list.

use crate::duration::{unit_rank, UNITS};
use nom::bytes::complete::take_while;
use nom::Parser;

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Number(f64),
    /// A duration literal in milliseconds (`5m`, `1h30m`, `250ms`).
    Duration(i64),
    Str(String),
    /// Metric names, label names, function names and keywords.
    Ident(String),
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    At,
    /// `=` (label matching)
    Assign,
    /// `==`
    EqlC,
    Neq,
    RegexMatch,
    RegexNoMatch,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eof,
}

impl Tok {
    /// How the token is named in "unexpected …" messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Number(_) => "number".into(),
            Tok::Duration(_) => "duration".into(),
            Tok::Str(_) => "string".into(),
            Tok::Ident(s) => format!("identifier {s:?}"),
            Tok::Eof => "end of input".into(),
            other => format!("{:?}", other.symbol()),
        }
    }

    pub fn symbol(&self) -> &'static str {
        match self {
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Colon => ":",
            Tok::At => "@",
            Tok::Assign => "=",
            Tok::EqlC => "==",
            Tok::Neq => "!=",
            Tok::RegexMatch => "=~",
            Tok::RegexNoMatch => "!~",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Add => "+",
            Tok::Sub => "-",
            Tok::Mul => "*",
            Tok::Div => "/",
            Tok::Mod => "%",
            Tok::Pow => "^",
            _ => "",
        }
    }
}

/// A token and where it starts (byte offset).
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
}

/// A lexing failure at a byte offset.
#[derive(Debug)]
pub struct LexError {
    pub pos: usize,
    pub message: String,
}

type ByteResult<'a> = nom::IResult<&'a [u8], &'a [u8], nom::error::Error<&'a [u8]>>;

fn span(b: &[u8], pred: impl Fn(u8) -> bool) -> usize {
    let r: ByteResult = take_while(pred).parse(b);
    r.map_or(0, |(_, m)| m.len())
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

/// Splits a query into tokens, ending with [`Tok::Eof`].
pub fn lex(q: &str) -> Result<Vec<Token>, LexError> {
    let b = q.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'#' {
            i += span(&b[i..], |c| c != b'\n');
            continue;
        }
        let pos = i;
        let two = b.get(i..i + 2);
        let (tok, len) = match (c, two) {
            (_, Some(b"==")) => (Tok::EqlC, 2),
            (_, Some(b"!=")) => (Tok::Neq, 2),
            (_, Some(b"=~")) => (Tok::RegexMatch, 2),
            (_, Some(b"!~")) => (Tok::RegexNoMatch, 2),
            (_, Some(b"<=")) => (Tok::Le, 2),
            (_, Some(b">=")) => (Tok::Ge, 2),
            (b'=', _) => (Tok::Assign, 1),
            (b'<', _) => (Tok::Lt, 1),
            (b'>', _) => (Tok::Gt, 1),
            (b'(', _) => (Tok::LParen, 1),
            (b')', _) => (Tok::RParen, 1),
            (b'{', _) => (Tok::LBrace, 1),
            (b'}', _) => (Tok::RBrace, 1),
            (b'[', _) => (Tok::LBracket, 1),
            (b']', _) => (Tok::RBracket, 1),
            (b',', _) => (Tok::Comma, 1),
            (b':', _)
                if !b.get(i + 1).is_some_and(|&n| is_ident_char(n))
                    || out.last().is_some_and(|t: &Token| {
                        t.tok == Tok::LBracket || matches!(t.tok, Tok::Duration(_) | Tok::Number(_))
                    }) =>
            {
                (Tok::Colon, 1)
            }
            (b'@', _) => (Tok::At, 1),
            (b'+', _) => (Tok::Add, 1),
            (b'-', _) => (Tok::Sub, 1),
            (b'*', _) => (Tok::Mul, 1),
            (b'/', _) => (Tok::Div, 1),
            (b'%', _) => (Tok::Mod, 1),
            (b'^', _) => (Tok::Pow, 1),
            (b'"' | b'\'' | b'`', _) => {
                let (s, len) = string(q, i)?;
                (Tok::Str(s), len)
            }
            (b'0'..=b'9' | b'.', _) => number_or_duration(q, i)?,
            (c, _) if is_ident_start(c) => {
                let len = span(&b[i..], is_ident_char);
                let word = &q[i..i + len];
                if word.eq_ignore_ascii_case("inf") {
                    (Tok::Number(f64::INFINITY), len)
                } else if word.eq_ignore_ascii_case("nan") {
                    (Tok::Number(f64::NAN), len)
                } else {
                    (Tok::Ident(word.to_string()), len)
                }
            }
            (b'!', _) => {
                return Err(LexError { pos, message: "unexpected character after '!': expected '=' or '~'".into() })
            }
            _ => {
                let ch = q[i..].chars().next().unwrap_or('?');
                return Err(LexError { pos, message: format!("unexpected character: {ch:?}") });
            }
        };
        out.push(Token { tok, pos });
        i += len;
    }
    out.push(Token { tok: Tok::Eof, pos: b.len() });
    Ok(out)
}

/// A number (`1`, `1.5e3`, `.5`, `0x1f`) or a duration (`5m`, `1h30m`).
fn number_or_duration(q: &str, start: usize) -> Result<(Tok, usize), LexError> {
    let b = q.as_bytes();
    let bad = |end: usize| {
        // The offending text, cut at a character boundary (input is untrusted).
        let mut end = end.min(q.len());
        while !q.is_char_boundary(end) {
            end += 1;
        }
        LexError { pos: start, message: format!("bad number or duration syntax: {:?}", &q[start..end]) }
    };
    if b[start] == b'0' && matches!(b.get(start + 1), Some(b'x' | b'X')) {
        let digits = span(&b[start + 2..], |c| c.is_ascii_hexdigit());
        let end = start + 2 + digits;
        if digits == 0 || b.get(end).is_some_and(|c| is_ident_char(*c)) {
            return Err(bad(end + 1));
        }
        let v = u64::from_str_radix(&q[start + 2..end], 16).map_err(|_| bad(end))?;
        return Ok((Tok::Number(v as f64), end - start));
    }
    // Duration: digits followed by a unit, repeated.
    let digits = span(&b[start..], |c| c.is_ascii_digit());
    if digits > 0 {
        let after = start + digits;
        let unit_follows = UNITS.iter().any(|(u, _)| q[after..].starts_with(u))
            && !q[after..].starts_with("e") // exponent, not a unit
            ;
        if unit_follows {
            let mut i = start;
            let mut total: i64 = 0;
            let mut last_rank: Option<usize> = None;
            while i < b.len() && b[i].is_ascii_digit() {
                let d = span(&b[i..], |c| c.is_ascii_digit());
                let n: i64 = q[i..i + d].parse().map_err(|_| bad(i + d))?;
                i += d;
                let Some((u, mult)) = UNITS.iter().find(|(u, _)| q[i..].starts_with(u)) else {
                    return Err(bad(i + 1));
                };
                let rank = unit_rank(u);
                if last_rank.is_some_and(|r| r >= rank) {
                    return Err(bad(i + u.len()));
                }
                last_rank = Some(rank);
                i += u.len();
                total = n.checked_mul(*mult).and_then(|x| total.checked_add(x)).ok_or_else(|| LexError {
                    pos: start,
                    message: format!("duration out of range: {:?}", &q[start..i]),
                })?;
            }
            if b.get(i).is_some_and(|c| (is_ident_char(*c) && *c != b':') || *c == b'.') {
                return Err(bad(i + 1));
            }
            return Ok((Tok::Duration(total), i - start));
        }
    }
    // Decimal number with optional fraction and exponent.
    let mut i = start + digits;
    let mut frac = 0;
    if b.get(i) == Some(&b'.') {
        frac = span(&b[i + 1..], |c| c.is_ascii_digit());
        i += 1 + frac;
    }
    if digits == 0 && frac == 0 {
        return Err(bad(i + 1));
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let e = span(&b[j.min(b.len())..], |c| c.is_ascii_digit());
        if e == 0 {
            return Err(bad(j + 1));
        }
        i = j + e;
    }
    if b.get(i).is_some_and(|c| (is_ident_char(*c) && *c != b':') || *c == b'.') {
        return Err(bad(i + 1));
    }
    let v: f64 = q[start..i].parse().map_err(|_| bad(i))?;
    Ok((Tok::Number(v), i - start))
}

/// A string literal starting at `start`; returns its value and length.
fn string(q: &str, start: usize) -> Result<(String, usize), LexError> {
    let quote = q.as_bytes()[start] as char;
    let body = &q[start + 1..];
    if quote == '`' {
        return match body.find('`') {
            Some(end) => Ok((body[..end].to_string(), end + 2)),
            None => Err(LexError { pos: start, message: "unterminated raw string".into() }),
        };
    }
    let mut out = String::new();
    let mut chars = body.char_indices();
    let fail = |at: usize, msg: &str| LexError { pos: start + 1 + at, message: msg.to_string() };
    while let Some((at, c)) = chars.next() {
        match c {
            c if c == quote => return Ok((out, at + 2)),
            '\n' => return Err(fail(at, "unterminated quoted string")),
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
                    '"' | '\'' if e == quote => out.push(e),
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
                                _ => return Err(fail(at, "invalid escape sequence in string")),
                            }
                        }
                        let code = u32::from_str_radix(&digits, radix).unwrap_or(u32::MAX);
                        let ch = if radix == 8 || e == 'x' {
                            char::from_u32(code).filter(|c| c.is_ascii())
                        } else {
                            char::from_u32(code)
                        };
                        match ch {
                            Some(c) => out.push(c),
                            None => return Err(fail(at, "invalid escape sequence in string")),
                        }
                    }
                    other => return Err(fail(at, &format!("unknown escape sequence '\\{other}'"))),
                }
            }
            c => out.push(c),
        }
    }
    Err(LexError { pos: start, message: "unterminated quoted string".into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(q: &str) -> Vec<Tok> {
        lex(q).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers_durations_and_operators() {
        assert_eq!(toks("1.5e3"), vec![Tok::Number(1500.0), Tok::Eof]);
        assert_eq!(toks("5m"), vec![Tok::Duration(300_000), Tok::Eof]);
        assert_eq!(toks("1h30m"), vec![Tok::Duration(5_400_000), Tok::Eof]);
        assert_eq!(toks("250ms"), vec![Tok::Duration(250), Tok::Eof]);
        assert_eq!(toks("0x1f"), vec![Tok::Number(31.0), Tok::Eof]);
        assert_eq!(
            toks("a[5m:1m] offset -2h"),
            vec![
                Tok::Ident("a".into()),
                Tok::LBracket,
                Tok::Duration(300_000),
                Tok::Colon,
                Tok::Duration(60_000),
                Tok::RBracket,
                Tok::Ident("offset".into()),
                Tok::Sub,
                Tok::Duration(7_200_000),
                Tok::Eof
            ]
        );
        assert_eq!(toks("a:b:c"), vec![Tok::Ident("a:b:c".into()), Tok::Eof]);
        assert_eq!(
            toks("x != 2 >= 1 # c"),
            vec![Tok::Ident("x".into()), Tok::Neq, Tok::Number(2.0), Tok::Ge, Tok::Number(1.0), Tok::Eof]
        );
        assert!(lex("1h1h").is_err());
        assert!(lex("1.5m").is_err());
        assert!(lex("3x").is_err());
        assert!(lex("a ! b").is_err());
    }

    /// Found by the fuzzer: an error message cut a multi-byte character in two.
    #[test]
    fn bad_number_before_multibyte_character_is_an_error_not_a_panic() {
        assert!(lex("0.9e\u{61d}ec").is_err());
        assert!(lex("1h\u{e9}").is_err());
        assert!(lex("0x\u{e9}").is_err());
    }
}
