//! A strict JSON reader and an orjson-compatible writer.
//!
//! The reader accepts only what it can give back exactly as `orjson.loads` would: anything unusual
//! (duplicate keys, integers outside i64, non-finite floats, lone surrogates, deep nesting) is an
//! error, and the caller declines the line, so the Python chain handles it.

use rustc_hash::FxHashSet;
use std::borrow::Cow;

/// A JSON object below the top level, in its order: a list of members searched from the start.
/// Nested objects in log lines hold a handful of members, where a scan beats hashing every key on
/// read, and each object costs one allocation instead of a table and a list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map {
    entries: Vec<(String, Value)>,
}

/// Above this many members, duplicates are found with a hash set instead of comparing every pair.
const PAIRWISE_DUPLICATE_CHECK: usize = 16;

impl Map {
    fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|(name, _)| name == key)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|at| &self.entries[at].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.position(key).map(|at| &mut self.entries[at].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Delete a member; the later ones keep their order (a dict's `del`).
    pub fn shift_remove(&mut self, key: &str) -> Option<Value> {
        self.position(key).map(|at| self.entries.remove(at).1)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> MapIter<'_> {
        self.entries.iter().map(|(key, value)| (key, value))
    }

    /// The members in order, their values writable in place.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut Value)> {
        self.entries
            .iter_mut()
            .map(|(key, value)| (key.as_str(), value))
    }

    /// A map of these members in order; None when two have the same name.
    pub fn from_entries(entries: Vec<(String, Value)>) -> Option<Map> {
        let map = Map { entries };
        (!map.has_duplicates()).then_some(map)
    }

    /// Whether two members have the same name (the reader declines such an object).
    fn has_duplicates(&self) -> bool {
        let names = &self.entries;
        if names.len() <= PAIRWISE_DUPLICATE_CHECK {
            return (1..names.len())
                .any(|i| names[..i].iter().any(|(name, _)| *name == names[i].0));
        }
        let mut seen = FxHashSet::default();
        !names.iter().all(|(name, _)| seen.insert(name.as_str()))
    }
}

pub type MapIter<'a> = std::iter::Map<
    std::slice::Iter<'a, (String, Value)>,
    fn(&'a (String, Value)) -> (&'a String, &'a Value),
>;

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a String, &'a Value);
    type IntoIter = MapIter<'a>;

    fn into_iter(self) -> MapIter<'a> {
        self.iter()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Obj(Map),
}

const MAX_DEPTH: usize = 64;

/// The input must be UTF-8 as a whole (orjson's rule); checked once, so strings need no check of their own.
fn valid_utf8(bytes: &[u8]) -> Parsed<()> {
    std::str::from_utf8(bytes).map(|_| ()).map_err(|_| ())
}

pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

pub type Parsed<T> = Result<T, ()>;

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    /// The whole input as one JSON object, each member handed to `add` as it is read (the key
    /// borrowed from the input when it has no escape): the caller builds its own top level.
    pub fn members(mut self, mut add: impl FnMut(Cow<'a, str>, Value) -> Parsed<()>) -> Parsed<()> {
        valid_utf8(self.bytes)?;
        self.skip_ws();
        self.expect(b'{')?;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.skip_ws();
                let key = self.key()?;
                self.skip_ws();
                self.expect(b':')?;
                let value = self.value(1)?;
                add(key, value)?;
                self.skip_ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(()),
                }
            }
        }
        self.skip_ws();
        if self.pos != self.bytes.len() {
            return Err(());
        }
        Ok(())
    }

    /// A string borrowed from the input when it holds no escape, else decoded.
    fn key(&mut self) -> Parsed<Cow<'a, str>> {
        self.expect(b'"')?;
        let start = self.pos;
        let end = plain_run_end(self.bytes, start);
        if self.bytes.get(end) == Some(&b'"') {
            self.pos = end + 1;
            // SAFETY: the whole input was checked to be UTF-8, and a string's run ends at an ASCII byte.
            return Ok(Cow::Borrowed(unsafe {
                std::str::from_utf8_unchecked(&self.bytes[start..end])
            }));
        }
        self.pos = start - 1;
        self.string().map(Cow::Owned)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Parsed<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(())
        }
    }

    fn value(&mut self, depth: usize) -> Parsed<Value> {
        if depth > MAX_DEPTH {
            return Err(());
        }
        self.skip_ws();
        match self.peek().ok_or(())? {
            b'{' => {
                self.pos += 1;
                let mut map = Map::default();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Value::Obj(map));
                }
                loop {
                    self.skip_ws();
                    let key = self.string()?;
                    self.skip_ws();
                    self.expect(b':')?;
                    let value = self.value(depth + 1)?;
                    map.entries.push((key, value));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            if map.has_duplicates() {
                                return Err(());
                            }
                            return Ok(Value::Obj(map));
                        }
                        _ => return Err(()),
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                let mut list = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Value::List(list));
                }
                loop {
                    list.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Value::List(list));
                        }
                        _ => return Err(()),
                    }
                }
            }
            b'"' => Ok(Value::Str(self.string()?)),
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'n' => self.literal(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(()),
        }
    }

    fn literal(&mut self, text: &[u8], value: Value) -> Parsed<Value> {
        if self.bytes[self.pos..].starts_with(text) {
            self.pos += text.len();
            Ok(value)
        } else {
            Err(())
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Parsed<Value> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let int_digits = self.digits();
        if int_digits == 0 || (int_digits > 1 && self.bytes[int_start] == b'0') {
            return Err(());
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(());
            }
            float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(());
            }
            float = true;
        }
        // SAFETY: sign, digits, point and exponent letters: ASCII.
        let text = unsafe { std::str::from_utf8_unchecked(&self.bytes[start..self.pos]) };
        if float {
            let number: f64 = text.parse().map_err(|_| ())?;
            if !number.is_finite() {
                return Err(());
            }
            Ok(Value::Float(number))
        } else {
            text.parse::<i64>().map(Value::Int).map_err(|_| ())
        }
    }

    fn hex4(&mut self) -> Parsed<u32> {
        let chunk = self.bytes.get(self.pos..self.pos + 4).ok_or(())?;
        let text = std::str::from_utf8(chunk).map_err(|_| ())?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(());
        }
        self.pos += 4;
        u32::from_str_radix(text, 16).map_err(|_| ())
    }

    fn string(&mut self) -> Parsed<String> {
        self.expect(b'"')?;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let start = self.pos;
            self.pos = plain_run_end(self.bytes, start);
            match self.peek().ok_or(())? {
                b'"' if out.is_empty() => {
                    // The common case, no escape: one exact allocation, no copy through a buffer.
                    // SAFETY: the whole input was checked to be UTF-8, and the run ends at an ASCII byte.
                    let text =
                        unsafe { std::str::from_utf8_unchecked(&self.bytes[start..self.pos]) };
                    self.pos += 1;
                    return Ok(text.to_owned());
                }
                b'"' => {
                    out.extend_from_slice(&self.bytes[start..self.pos]);
                    self.pos += 1;
                    // SAFETY: runs of the UTF-8 input cut at ASCII bytes, and whole encoded chars.
                    return Ok(unsafe { String::from_utf8_unchecked(out) });
                }
                b'\\' => {
                    out.extend_from_slice(&self.bytes[start..self.pos]);
                    self.pos += 1;
                    let escape = self.peek().ok_or(())?;
                    self.pos += 1;
                    let ch = match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let first = self.hex4()?;
                            if (0xD800..0xDC00).contains(&first) {
                                if !self.bytes[self.pos..].starts_with(b"\\u") {
                                    return Err(());
                                }
                                self.pos += 2;
                                let second = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&second) {
                                    return Err(());
                                }
                                char::from_u32(
                                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00),
                                )
                                .ok_or(())?
                            } else {
                                char::from_u32(first).ok_or(())?
                            }
                        }
                        _ => return Err(()),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                _ => return Err(()),
            }
        }
    }
}

/// Append `value` as orjson writes it (compact; only `"`, `\` and control characters escaped).
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(n) => write_int(out, *n),
        Value::Float(f) => write_float(out, *f),
        Value::Str(s) => write_str(out, s),
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Obj(map) => write_map(out, map),
    }
}

pub fn write_map(out: &mut Vec<u8>, map: &Map) {
    out.push(b'{');
    for (i, (key, item)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, key);
        out.push(b':');
        write_value(out, item);
    }
    out.push(b'}');
}

/// Decimal digits of `n`, written in place (no `String` per number).
pub fn write_int(out: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `word` is zero (the classic SWAR test; exact, no false positives).
fn has_zero_byte(word: u64) -> bool {
    word.wrapping_sub(ONES) & !word & HIGHS != 0
}

/// Whether any byte of `word` is below 0x20.
fn has_control_byte(word: u64) -> bool {
    word.wrapping_sub(ONES * 0x20) & !word & HIGHS != 0
}

/// The index of the first byte from `start` on that JSON text must escape (`"`, `\\`, control
/// characters), or `bytes.len()`: sixteen bytes per step (SSE2, which every x86-64 has), then eight,
/// as most of a log line needs no escape.
fn plain_run_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
            _mm_or_si128, _mm_set1_epi8,
        };
        // SAFETY: SSE2 is part of x86-64; each load reads 16 bytes inside `bytes` (checked above it).
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let last_control = _mm_set1_epi8(0x1f);
            while at + 16 <= bytes.len() {
                let chunk = _mm_loadu_si128(bytes.as_ptr().add(at).cast::<__m128i>());
                // unsigned byte <= 0x1f exactly when min(byte, 0x1f) is the byte
                let control = _mm_cmpeq_epi8(_mm_min_epu8(chunk, last_control), chunk);
                let special = _mm_or_si128(
                    _mm_or_si128(
                        _mm_cmpeq_epi8(chunk, quote),
                        _mm_cmpeq_epi8(chunk, backslash),
                    ),
                    control,
                );
                let mask = _mm_movemask_epi8(special) as u32;
                if mask != 0 {
                    return at + mask.trailing_zeros() as usize;
                }
                at += 16;
            }
        }
    }
    while at + 8 <= bytes.len() {
        let word = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
        if has_zero_byte(word ^ (ONES * u64::from(b'"')))
            || has_zero_byte(word ^ (ONES * u64::from(b'\\')))
            || has_control_byte(word)
        {
            break;
        }
        at += 8;
    }
    while at < bytes.len() && !matches!(bytes[at], b'"' | b'\\' | 0x00..=0x1f) {
        at += 1;
    }
    at
}

/// orjson's float text: the shortest round-trip digits; an exponent is written `e+16` / `e-7`.
fn write_float(out: &mut Vec<u8>, f: f64) {
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(f);
    match text.find('e') {
        Some(at) if text.as_bytes().get(at + 1) != Some(&b'-') => {
            out.extend_from_slice(&text.as_bytes()[..=at]);
            out.push(b'+');
            out.extend_from_slice(&text.as_bytes()[at + 1..]);
        }
        _ => out.extend_from_slice(text.as_bytes()),
    }
}

pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    loop {
        let i = plain_run_end(bytes, start);
        if i == bytes.len() {
            break;
        }
        let b = bytes[i];
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            _ => b"",
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(format!("\\u{:04x}", b).as_bytes());
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::{plain_run_end, Reader, Value};

    /// A nested object with a repeated name is refused (the line is declined), whether its
    /// duplicates are found pairwise (few members) or with a set (many); distinct names are kept in order.
    #[test]
    fn nested_objects_refuse_duplicate_names() {
        for size in [1, 2, 16, 17, 100] {
            let names: Vec<String> = (0..size).map(|i| format!("k{i}")).collect();
            let members = |names: &[String]| {
                names
                    .iter()
                    .map(|n| format!("\"{n}\":1"))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let line = format!("{{\"o\":{{{}}}}}", members(&names));
            let mut found = Vec::new();
            Reader::new(line.as_bytes())
                .members(|_, value| {
                    found.push(value);
                    Ok(())
                })
                .expect("distinct names");
            let Some(Value::Obj(map)) = found.first() else {
                panic!("an object");
            };
            let read: Vec<&str> = map.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(read, names.iter().map(String::as_str).collect::<Vec<_>>());
            for repeated in [0, size - 1] {
                let mut twice = names.clone();
                twice.push(names[repeated].clone());
                let line = format!("{{\"o\":{{{}}}}}", members(&twice));
                let result = Reader::new(line.as_bytes()).members(|_, _| Ok(()));
                assert!(result.is_err(), "size {size}: {line}");
            }
        }
    }

    /// The vector scan finds the same first byte to escape as a byte-by-byte scan, wherever it sits
    /// (every offset of a 16-byte step, the 8-byte tail, the last bytes) and whatever surrounds it.
    #[test]
    fn plain_run_end_is_the_first_byte_to_escape() {
        let fillers: [u8; 6] = [b'a', b' ', 0x7f, 0x80, 0xff, 0x20];
        let specials: [u8; 6] = [b'"', b'\\', 0x00, 0x1f, b'\n', 0x01];
        for len in 0..48 {
            for filler in fillers {
                let plain = vec![filler; len];
                assert_eq!(plain_run_end(&plain, 0), len);
                for at in 0..len {
                    for special in specials {
                        let mut bytes = plain.clone();
                        bytes[at] = special;
                        for start in [0, at / 2, at] {
                            let expected = (start..len)
                                .find(|i| matches!(bytes[*i], b'"' | b'\\' | 0x00..=0x1f))
                                .unwrap_or(len);
                            assert_eq!(plain_run_end(&bytes, start), expected, "{bytes:?} {start}");
                        }
                    }
                }
            }
        }
    }
}
