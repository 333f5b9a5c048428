//! `decode_json`'s fallback for a line that is not a JSON object (`parsers/decode.py`): which lines
//! orjson cannot read as an object, their text with a trailing line end cut, and invalid UTF-8
//! repaired as Python's `bytes.decode("utf-8", "replace")` repairs it.

/// `raw.rstrip(b"\r\n")`: every trailing `\r` and `\n`, in any order.
pub fn strip_line_end(raw: &[u8]) -> &[u8] {
    let end = raw
        .iter()
        .rposition(|b| *b != b'\r' && *b != b'\n')
        .map_or(0, |at| at + 1);
    &raw[..end]
}

/// `raw.decode("utf-8", "replace")`: each maximal subpart of an ill-formed sequence becomes one
/// U+FFFD (Unicode's recommended practice, which both CPython's decoder and `from_utf8_lossy`
/// follow: a truncated sequence is one U+FFFD, an overlong or surrogate lead byte and each of its
/// continuation bytes one each).
pub fn repaired(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

/// Nesting beyond this is not followed: such a text is reported as possibly an object (declined).
const MAX_DEPTH: usize = 512;

/// Whether `orjson.loads(text)` certainly gives no dict: it raises (the text is not JSON per
/// RFC 8259, which orjson enforces: no BOM, no comments, no trailing commas, only the four
/// whitespace bytes) or the value is an array or a scalar. `false` when the text is a well-formed
/// object: that one the chain's reader declined for a reason of its own (a duplicate key, a number
/// beyond 64 bits …), and orjson may well read it. `text` is valid UTF-8.
pub fn never_an_object(text: &[u8]) -> bool {
    let mut syntax = Syntax { text, at: 0 };
    syntax.skip_ws();
    if syntax.peek() != Some(b'{') {
        return true;
    }
    match syntax.value(0) {
        Ok(()) => {
            syntax.skip_ws();
            syntax.at != text.len()
        }
        Err(Malformed::Syntax) => true,
        Err(Malformed::TooDeep) => false,
    }
}

enum Malformed {
    Syntax,
    TooDeep,
}

/// A JSON grammar check over bytes, building nothing.
struct Syntax<'a> {
    text: &'a [u8],
    at: usize,
}

type Checked = Result<(), Malformed>;

impl Syntax<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Checked {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(Malformed::Syntax)
        }
    }

    fn value(&mut self, depth: usize) -> Checked {
        if depth > MAX_DEPTH {
            return Err(Malformed::TooDeep);
        }
        self.skip_ws();
        match self.peek().ok_or(Malformed::Syntax)? {
            b'{' => self.members(depth),
            b'[' => self.items(depth),
            b'"' => self.string(),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Malformed::Syntax),
        }
    }

    fn members(&mut self, depth: usize) -> Checked {
        self.expect(b'{')?;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            self.string()?;
            self.skip_ws();
            self.expect(b':')?;
            self.value(depth + 1)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(Malformed::Syntax),
            }
        }
    }

    fn items(&mut self, depth: usize) -> Checked {
        self.expect(b'[')?;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.value(depth + 1)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(Malformed::Syntax),
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Checked {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(Malformed::Syntax)
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Checked {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let first = self.at;
        let count = self.digits();
        if count == 0 || (count > 1 && self.text[first] == b'0') {
            return Err(Malformed::Syntax);
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return Err(Malformed::Syntax);
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(Malformed::Syntax);
            }
        }
        Ok(())
    }

    /// A string: no raw control character, only JSON's escapes (a `\u` escape's surrogates are not
    /// paired up here: a lone one is well-formed grammar that orjson refuses, i.e. not an object).
    fn string(&mut self) -> Checked {
        self.expect(b'"')?;
        loop {
            let byte = self.peek().ok_or(Malformed::Syntax)?;
            self.at += 1;
            match byte {
                b'"' => return Ok(()),
                0x00..=0x1f => return Err(Malformed::Syntax),
                b'\\' => {
                    let escape = self.peek().ok_or(Malformed::Syntax)?;
                    self.at += 1;
                    match escape {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            let hex = self.text.get(self.at..self.at + 4);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Err(Malformed::Syntax);
                            }
                            self.at += 4;
                        }
                        _ => return Err(Malformed::Syntax),
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_arrays_scalars_and_broken_objects_are_never_objects() {
        for text in [
            &b""[..],
            b"   ",
            b"plain text",
            b"2026-12-01T07:31:05.196Z WARN plain text line",
            b"[1,2]",
            b"\"a string\"",
            b"42",
            b"null",
            b"{",
            b"{\"a\":1,}",
            b"{\"a\":01}",
            b"{\"a\":\"\x01\"}",
            b"{\"a\":\"\\x\"}",
            b"{'a':1}",
            b"{\"a\":1} trailing",
            b"{\"a\":1}\x00",
            b"\xef\xbb\xbf{\"a\":1}",
            b"\x0c{\"a\":1}",
            b"{\"a\":NaN}",
            b"{\"a\":.5}",
            b"{\"a\":1.}",
            b"{\"a\":tru}",
        ] {
            assert!(never_an_object(text), "{:?}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn well_formed_objects_may_be_objects() {
        for text in [
            &b"{}"[..],
            b" {\"a\":1} \r\n",
            b"{\"a\":1,\"a\":2}",
            b"{\"a\":18446744073709551616}",
            b"{\"a\":\"\\ud800\"}",
            b"{\"a\":[{\"b\":-0.5e+3}],\"c\":\"\\u00e9\\n\"}",
        ] {
            assert!(
                !never_an_object(text),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
        let deep = [&b"{\"a\":"[..], &b"[".repeat(600), &b"]".repeat(600), b"}"].concat();
        assert!(!never_an_object(&deep), "too deep to tell: declined");
    }

    #[test]
    fn line_ends_are_cut_like_rstrip() {
        assert_eq!(strip_line_end(b"a b\r\n\n\r"), b"a b");
        assert_eq!(strip_line_end(b"\r\n"), b"");
        assert_eq!(strip_line_end(b"a\rb "), b"a\rb ");
    }

    #[test]
    fn invalid_utf8_is_repaired_per_maximal_subpart() {
        // Expected strings from CPython 3.11: bytes.decode("utf-8", "replace").
        for (raw, expected) in [
            (&b"caf\xc3"[..], "caf\u{fffd}"),
            (b"\xe2\x82x", "\u{fffd}x"),
            (b"\xc0\x80", "\u{fffd}\u{fffd}"),
            (b"\xe0\x80\x80", "\u{fffd}\u{fffd}\u{fffd}"),
            (b"\xed\xa0\x80", "\u{fffd}\u{fffd}\u{fffd}"),
            (b"\xf4\x90\x80\x80", "\u{fffd}\u{fffd}\u{fffd}\u{fffd}"),
            (b"\xf0\x9f\x98", "\u{fffd}"),
            (b"\x80a\xff", "\u{fffd}a\u{fffd}"),
        ] {
            assert_eq!(repaired(raw), expected, "{raw:?}");
        }
    }
}
