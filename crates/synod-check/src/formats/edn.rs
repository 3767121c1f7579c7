//! A small reader for EDN, the data notation Jepsen and Knossos write histories in.
//!
//! It reads the subset histories use, and skips the rest gracefully: `nil`, booleans, integers,
//! floats (kept as text), strings with escapes, characters, keywords, symbols, lists, vectors,
//! sets, maps, `#tag value` (the tag is dropped) and `#_` discards. Commas are whitespace and `;`
//! starts a comment. Nesting is limited so that hostile input cannot overflow the stack; every
//! error carries the line where it was found.

use std::borrow::Cow;

/// An EDN value. Its text borrows from the document where it can (keywords, symbols, and
/// strings without escapes): a history has several keywords on every line, and allocating
/// each was a third of reading one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Edn<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    /// A float or another number we do not interpret, as written.
    Number(Cow<'a, str>),
    Str(Cow<'a, str>),
    Char(char),
    /// A keyword without its leading colon.
    Keyword(Cow<'a, str>),
    Symbol(Cow<'a, str>),
    List(Vec<Edn<'a>>),
    Vector(Vec<Edn<'a>>),
    Set(Vec<Edn<'a>>),
    Map(Vec<(Edn<'a>, Edn<'a>)>),
}

impl<'a> Edn<'a> {
    /// The same value, owning its text.
    pub(crate) fn into_owned(self) -> Edn<'static> {
        let own = |text: Cow<'a, str>| Cow::Owned(text.into_owned());
        let all = |items: Vec<Edn<'a>>| items.into_iter().map(Edn::into_owned).collect();
        match self {
            Edn::Nil => Edn::Nil,
            Edn::Bool(b) => Edn::Bool(b),
            Edn::Int(n) => Edn::Int(n),
            Edn::Number(s) => Edn::Number(own(s)),
            Edn::Str(s) => Edn::Str(own(s)),
            Edn::Char(c) => Edn::Char(c),
            Edn::Keyword(k) => Edn::Keyword(own(k)),
            Edn::Symbol(s) => Edn::Symbol(own(s)),
            Edn::List(items) => Edn::List(all(items)),
            Edn::Vector(items) => Edn::Vector(all(items)),
            Edn::Set(items) => Edn::Set(all(items)),
            Edn::Map(pairs) => Edn::Map(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
            ),
        }
    }

    /// Looks up a keyword key in a map.
    pub(crate) fn get(&self, keyword: &str) -> Option<&Edn<'a>> {
        match self {
            Edn::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| matches!(k, Edn::Keyword(name) if name == keyword))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Takes the value of a keyword key out of a map, leaving `nil` in its place.
    pub(crate) fn take(&mut self, keyword: &str) -> Option<Edn<'a>> {
        match self {
            Edn::Map(pairs) => pairs
                .iter_mut()
                .find(|(k, _)| matches!(k, Edn::Keyword(name) if name == keyword))
                .map(|(_, v)| std::mem::replace(v, Edn::Nil)),
            _ => None,
        }
    }

    /// A short rendering for error messages.
    pub(crate) fn brief(&self) -> String {
        match self {
            Edn::Nil => String::from("nil"),
            Edn::Bool(b) => b.to_string(),
            Edn::Int(n) => n.to_string(),
            Edn::Number(s) | Edn::Symbol(s) => s.to_string(),
            Edn::Str(s) => format!("{s:?}"),
            Edn::Char(c) => format!("\\{c}"),
            Edn::Keyword(k) => format!(":{k}"),
            Edn::List(_) => String::from("a list"),
            Edn::Vector(v) => format!("a vector of {}", v.len()),
            Edn::Set(_) => String::from("a set"),
            Edn::Map(_) => String::from("a map"),
        }
    }
}

/// Deepest nesting accepted.
const MAX_DEPTH: u32 = 200;

/// A parse error: the line (1-based) and a message.
pub(crate) type EdnError = (u32, String);

/// Reads the top-level forms of a document, each with the line it starts on. A document that is
/// a single vector or list is unwrapped, so both Knossos's `[{...} {...}]` and Jepsen's one map
/// per line give the list of maps.
pub(crate) fn read_document(text: &str) -> Result<Vec<(u32, Edn<'_>)>, EdnError> {
    let mut r = Reader {
        s: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    r.skip_ws()?;
    let wrapped = match r.peek() {
        Some(b'[') => Some(b']'),
        Some(b'(') => Some(b')'),
        _ => None,
    };
    let mut forms = Vec::new();
    if let Some(close) = wrapped {
        r.pos += 1;
        loop {
            r.skip_ws()?;
            match r.peek() {
                None => return Err((r.line, String::from("unterminated top-level collection"))),
                Some(c) if c == close => {
                    r.pos += 1;
                    break;
                }
                Some(_) => {
                    let line = r.line;
                    if let Some(form) = r.read(1)? {
                        forms.push((line, form));
                    }
                }
            }
        }
        r.skip_ws()?;
        if r.peek().is_some() {
            return Err((
                r.line,
                String::from("unexpected data after the top-level collection"),
            ));
        }
    } else {
        loop {
            r.skip_ws()?;
            if r.peek().is_none() {
                break;
            }
            let line = r.line;
            if let Some(form) = r.read(0)? {
                forms.push((line, form));
            }
        }
    }
    Ok(forms)
}

/// Reads exactly one value from `text` (used for the value column of Jepsen logs).
pub(crate) fn read_one(text: &str) -> Result<Edn<'_>, String> {
    let mut r = Reader {
        s: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    r.skip_ws().map_err(|(_, m)| m)?;
    let value = r
        .read(0)
        .map_err(|(_, m)| m)?
        .ok_or_else(|| String::from("missing value"))?;
    r.skip_ws().map_err(|(_, m)| m)?;
    if r.peek().is_some() {
        return Err(format!("unexpected text after value in {text:?}"));
    }
    Ok(value)
}

struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
    line: u32,
}

fn is_delimiter(c: u8) -> bool {
    c.is_ascii_whitespace()
        || matches!(
            c,
            b',' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b';'
        )
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        if c == b'\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T, EdnError> {
        Err((self.line, msg.into()))
    }

    fn skip_ws(&mut self) -> Result<(), EdnError> {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() || c == b',' {
                self.bump();
            } else if c == b';' {
                while let Some(c) = self.peek() {
                    if c == b'\n' {
                        break;
                    }
                    self.bump();
                }
            } else {
                break;
            }
        }
        Ok(())
    }

    /// Reads one form. `None` means a `#_` discard consumed a form and produced nothing.
    fn read(&mut self, depth: u32) -> Result<Option<Edn<'a>>, EdnError> {
        if depth > MAX_DEPTH {
            return self.err("nesting too deep");
        }
        self.skip_ws()?;
        let Some(c) = self.peek() else {
            return self.err("unexpected end of input");
        };
        let value = match c {
            b'(' => Edn::List(self.read_seq(b')', depth)?),
            b'[' => Edn::Vector(self.read_seq(b']', depth)?),
            b'{' => self.read_map(depth)?,
            b')' | b']' | b'}' => return self.err(format!("unexpected '{}'", char::from(c))),
            b'"' => Edn::Str(self.read_string()?),
            b'\\' => self.read_char()?,
            b'#' => return self.read_dispatch(depth),
            b':' => {
                self.bump();
                let tok = self.token();
                if tok.is_empty() {
                    return self.err("empty keyword");
                }
                Edn::Keyword(tok)
            }
            _ => self.read_atom()?,
        };
        Ok(Some(value))
    }

    fn read_seq(&mut self, close: u8, depth: u32) -> Result<Vec<Edn<'a>>, EdnError> {
        let mut items = Vec::new();
        self.read_items(close, depth, |item| items.push(item))?;
        Ok(items)
    }

    /// Reads the forms of a collection up to `close`, handing each to `item`.
    fn read_items(
        &mut self,
        close: u8,
        depth: u32,
        mut item: impl FnMut(Edn<'a>),
    ) -> Result<(), EdnError> {
        let start = self.line;
        self.bump();
        loop {
            self.skip_ws()?;
            match self.peek() {
                None => {
                    return Err((
                        start,
                        format!("unterminated collection (expected '{}')", char::from(close)),
                    ))
                }
                Some(c) if c == close => {
                    self.bump();
                    return Ok(());
                }
                Some(_) => {
                    if let Some(v) = self.read(depth + 1)? {
                        item(v);
                    }
                }
            }
        }
    }

    fn read_map(&mut self, depth: u32) -> Result<Edn<'a>, EdnError> {
        let start = self.line;
        let mut pairs = Vec::new();
        let mut key = None;
        self.read_items(b'}', depth, |item| match key.take() {
            None => key = Some(item),
            Some(k) => pairs.push((k, item)),
        })?;
        if key.is_some() {
            return Err((start, String::from("map with an odd number of forms")));
        }
        Ok(Edn::Map(pairs))
    }

    fn read_dispatch(&mut self, depth: u32) -> Result<Option<Edn<'a>>, EdnError> {
        self.bump();
        match self.peek() {
            Some(b'{') => Ok(Some(Edn::Set(self.read_seq(b'}', depth)?))),
            Some(b'_') => {
                self.bump();
                self.read(depth + 1)?;
                Ok(None)
            }
            Some(c) if c.is_ascii_alphabetic() => {
                // A tagged literal such as #inst "..." or #jepsen.history.Op{...}: keep the value.
                self.token();
                loop {
                    if let Some(v) = self.read(depth + 1)? {
                        return Ok(Some(v));
                    }
                }
            }
            _ => self.err("unsupported '#' form"),
        }
    }

    fn read_string(&mut self) -> Result<Cow<'a, str>, EdnError> {
        let start = self.line;
        self.bump();
        let mut out: Vec<u8> = Vec::new();
        loop {
            // Take the run up to the next quote or escape at once; a string that is one run
            // is borrowed.
            let s: &'a [u8] = self.s;
            let run = s[self.pos..]
                .iter()
                .position(|&c| matches!(c, b'"' | b'\\' | b'\n'))
                .unwrap_or(s.len() - self.pos);
            let text = &s[self.pos..self.pos + run];
            self.pos += run;
            if out.is_empty() && self.peek() == Some(b'"') {
                self.bump();
                return self.text(text);
            }
            out.extend_from_slice(text);
            let Some(c) = self.bump() else {
                return Err((start, String::from("unterminated string")));
            };
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(e) = self.bump() else {
                        return Err((start, String::from("unterminated string")));
                    };
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'\\' | b'"' | b'\'' => out.push(e),
                        b'u' => {
                            let ch = self.read_hex4()?;
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => {
                            return self.err(format!("unknown string escape '\\{}'", char::from(e)))
                        }
                    }
                }
                _ => out.push(c),
            }
        }
        String::from_utf8(out)
            .map(Cow::Owned)
            .or_else(|_| self.err("string is not valid UTF-8"))
    }

    /// A run of the document as text.
    fn text(&self, bytes: &'a [u8]) -> Result<Cow<'a, str>, EdnError> {
        std::str::from_utf8(bytes)
            .map(Cow::Borrowed)
            .or_else(|_| self.err("string is not valid UTF-8"))
    }

    fn read_hex4(&mut self) -> Result<char, EdnError> {
        let mut code = 0u32;
        for _ in 0..4 {
            let digit = self.bump().and_then(|c| char::from(c).to_digit(16));
            let Some(d) = digit else {
                return self.err("bad \\u escape");
            };
            code = code * 16 + d;
        }
        char::from_u32(code).map_or_else(|| self.err("\\u escape is not a character"), Ok)
    }

    fn read_char(&mut self) -> Result<Edn<'a>, EdnError> {
        self.bump();
        let Some(first) = self.bump() else {
            return self.err("unterminated character");
        };
        let mut tok = vec![first];
        while let Some(c) = self.peek() {
            if is_delimiter(c) {
                break;
            }
            tok.push(c);
            self.pos += 1;
        }
        let text = String::from_utf8(tok).or_else(|_| self.err("character is not valid UTF-8"))?;
        let ch = match text.as_str() {
            "newline" => '\n',
            "space" => ' ',
            "tab" => '\t',
            "return" => '\r',
            t => {
                let mut chars = t.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => c,
                    _ => return self.err(format!("unknown character \\{t}")),
                }
            }
        };
        Ok(Edn::Char(ch))
    }

    /// Reads bytes up to the next delimiter.
    fn token(&mut self) -> Cow<'a, str> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if is_delimiter(c) {
                break;
            }
            self.pos += 1;
        }
        let s: &'a [u8] = self.s;
        String::from_utf8_lossy(&s[start..self.pos])
    }

    fn read_atom(&mut self) -> Result<Edn<'a>, EdnError> {
        let tok = self.token();
        if tok.is_empty() {
            // A lone non-ASCII or control byte that is not a delimiter cannot happen; be safe.
            self.bump();
            return self.err("unexpected character");
        }
        let bytes = tok.as_bytes();
        let numeric = bytes[0].is_ascii_digit()
            || (bytes.len() > 1 && matches!(bytes[0], b'+' | b'-') && bytes[1].is_ascii_digit());
        if numeric {
            let plain = tok.strip_suffix('N').unwrap_or(&tok);
            return match plain.parse::<i64>() {
                Ok(n) => Ok(Edn::Int(n)),
                Err(_) if tok.contains(['.', 'e', 'E', 'M', '/']) => Ok(Edn::Number(tok)),
                Err(_) => self.err(format!("bad or too large integer {tok:?}")),
            };
        }
        Ok(match &*tok {
            "nil" => Edn::Nil,
            "true" => Edn::Bool(true),
            "false" => Edn::Bool(false),
            _ => Edn::Symbol(tok),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_maps_vectors_comments_and_commas() {
        let doc = "; a comment\n[{:process 0, :type :invoke, :f :cas, :value [1 2]}\n {:process :nemesis :type :info}]";
        let forms = read_document(doc).unwrap();
        assert_eq!(forms.len(), 2);
        assert_eq!(forms[0].0, 2);
        assert_eq!(forms[1].0, 3);
        assert_eq!(
            forms[0].1.get("value"),
            Some(&Edn::Vector(vec![Edn::Int(1), Edn::Int(2)]))
        );
        assert_eq!(
            forms[1].1.get("process"),
            Some(&Edn::Keyword("nemesis".into()))
        );
    }

    #[test]
    fn reads_strings_with_escapes_and_tagged_values() {
        let forms =
            read_document(r#"{:s "a\"b\n\u0041" :t #inst "2020" :n -3 :x #_ 5 7 :y 1.5}"#).unwrap();
        let m = &forms[0].1;
        assert_eq!(m.get("s"), Some(&Edn::Str("a\"b\nA".into())));
        assert_eq!(m.get("t"), Some(&Edn::Str("2020".into())));
        assert_eq!(m.get("n"), Some(&Edn::Int(-3)));
        assert_eq!(m.get("x"), Some(&Edn::Int(7)));
        assert_eq!(m.get("y"), Some(&Edn::Number("1.5".into())));
    }

    #[test]
    fn a_string_across_lines_keeps_its_newlines_and_the_line_count() {
        let forms = read_document("{:s \"a\nb\\\"c\"}\n{:t 1}").unwrap();
        assert_eq!(forms[0].1.get("s"), Some(&Edn::Str("a\nb\"c".into())));
        assert_eq!(forms[1].0, 3);
        assert_eq!(read_document("{:s \"a\nb").unwrap_err().0, 1);
    }

    #[test]
    fn errors_carry_the_line() {
        assert_eq!(read_document("{:a 1}\n{:b 2\n").unwrap_err().0, 2);
        assert_eq!(read_document("{:a 1}\n\n{:b}").unwrap_err().0, 3);
        assert_eq!(read_document("\"abc").unwrap_err().0, 1);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert!(read_document(&deep).is_err());
    }
}
