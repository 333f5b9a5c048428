//! `redact` (`enrich/redact.py`) under its default `RedactConfig`, exactly: the secret-named fields
//! masked at any depth, and the four string patterns (bearer, query_secret, card, email) applied in
//! Python's order, each to the previous one's output, with the same matches and the same count.
//!
//! The `regex` crate has no lookaround, so each pattern is a scanner written by hand over the UTF-8
//! bytes, following Python's `re.subn` step by step: the leftmost match, searched again from the end
//! of the last one, lookbehinds and lookaheads read in the original string, greedy runs and their
//! backtracking worked out below pattern by pattern. Bearer, card and email are compiled with
//! `re.ASCII` in Python: every class they use is ASCII, so a non-ASCII character (its bytes all
//! ≥ 0x80) is simply in none of them, and the scanners are exact on any text. `_KEY_VALUE` is not
//! ASCII (`\w` and `\s` are Unicode there): a non-ASCII text it would scan is declined.

use super::event::Event;
use super::{is_secret_name, TopLevel, ALLOWED_NAMES, SECRET_TERMS};
use super::{known_kinds, redact_would_touch, secret_name, top_level_kind, Decline, Step};
use crate::json::Value;
use std::borrow::Cow;

/// `RedactConfig().mask`.
pub const MASK: &str = "[REDACTED]";

/// The event redacted in place as `Redact()` would; the number of values masked (what the Python
/// processor adds to `Redact.redactions`). An event redaction cannot change costs one read-only
/// pass (`redact_would_touch`); only the others are walked again, writing.
pub fn redact(event: &mut Event) -> Step<usize> {
    if !redact_would_touch(event)? {
        return Ok(0);
    }
    let kinds = known_kinds();
    let mut count = 0;
    for (key, id, value) in event.iter_mut() {
        let kind = match id.and_then(|id| kinds[usize::from(id)]) {
            Some(kind) => kind,
            None => top_level_kind(key)?,
        };
        match kind {
            TopLevel::Skip => {}
            TopLevel::Secret => mask_value(value, &mut count),
            TopLevel::Scan => redact_value(value, &mut count)?,
        }
    }
    Ok(count)
}

/// A secret field's value: replaced whole, unless it cannot hold a secret (None, "", a boolean).
fn mask_value(value: &mut Value, count: &mut usize) {
    match value {
        Value::Null | Value::Bool(_) => {}
        Value::Str(text) if text.is_empty() => {}
        _ => {
            *value = Value::Str(MASK.to_string());
            *count += 1;
        }
    }
}

/// `_visit` below the top level: secret names masked, strings scrubbed, containers walked (the
/// reader's depth limit bounds the recursion).
fn redact_value(value: &mut Value, count: &mut usize) -> Step<()> {
    match value {
        Value::Str(text) => {
            if let Some(scrubbed) = scrub(text, count)? {
                *text = scrubbed;
            }
        }
        Value::List(items) => {
            for item in items {
                redact_value(item, count)?;
            }
        }
        Value::Obj(map) => {
            for (key, item) in map.iter_mut() {
                if is_secret_name(key)? {
                    mask_value(item, count);
                } else {
                    redact_value(item, count)?;
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
    }
    Ok(())
}

/// `Redact.scrub`: bearer, query_secret, card, email, each over the previous one's output; the
/// scrubbed text, or None when nothing matched. `count` grows by the masks made.
pub fn scrub(text: &str, count: &mut usize) -> Step<Option<String>> {
    let mut current = Cow::Borrowed(text);
    if let Some(next) = scrub_bearer(&current, count) {
        current = Cow::Owned(next);
    }
    if let Some(next) = scrub_query_secret(&current, count)? {
        current = Cow::Owned(next);
    }
    if let Some(next) = scrub_card(&current, count) {
        current = Cow::Owned(next);
    }
    if let Some(next) = scrub_email(&current, count) {
        current = Cow::Owned(next);
    }
    Ok(match current {
        Cow::Borrowed(_) => None,
        Cow::Owned(scrubbed) => Some(scrubbed),
    })
}

/// A text rebuilt from its unchanged stretches and the masked ones, allocated at the first mask.
struct Rewrite<'t> {
    text: &'t str,
    out: Option<String>,
    copied: usize,
}

impl<'t> Rewrite<'t> {
    fn new(text: &'t str) -> Self {
        Rewrite {
            text,
            out: None,
            copied: 0,
        }
    }

    /// `text[start..end]` becomes the mask (both ends at ASCII characters, so on char boundaries).
    fn mask(&mut self, start: usize, end: usize) {
        let text = self.text;
        let out = self
            .out
            .get_or_insert_with(|| String::with_capacity(text.len() + MASK.len()));
        out.push_str(&text[self.copied..start]);
        out.push_str(MASK);
        self.copied = end;
    }

    fn finish(self) -> Option<String> {
        let mut out = self.out?;
        out.push_str(&self.text[self.copied..]);
        Some(out)
    }
}

/// `\w` under `re.ASCII`, and Unicode `\w` on an ASCII character.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

// ------------------------------------------------------------------ bearer
// `\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*`, IGNORECASE | ASCII. At a start the match is unique: `\s+`
// takes the whole whitespace run (the token class holds no whitespace, so giving some back never
// helps), the token class run must be non-empty, `=*` takes every `=` after it (`=` is not in the
// class). `\b` before a `b` means: the text starts there or the character before is not `\w`.

/// `\s` under `re.ASCII`: space, \t, \n, \v, \f, \r (not \x1c-\x1f, which `str.isspace` counts).
fn ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn bearer_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

/// `_scrub_bearer`: `Bearer <token>` → `Bearer [REDACTED]`, the word and spaces kept as written.
fn scrub_bearer(text: &str, count: &mut usize) -> Option<String> {
    let b = text.as_bytes();
    let mut rewrite = Rewrite::new(text);
    let mut i = 0;
    while i + 6 < b.len() {
        if (b[i] == b'b' || b[i] == b'B')
            && (i == 0 || !is_word(b[i - 1]))
            && b[i + 1..i + 6].eq_ignore_ascii_case(b"earer")
        {
            let spaces = i + 6;
            let mut at = spaces;
            while at < b.len() && ascii_space(b[at]) {
                at += 1;
            }
            let token = at;
            while at < b.len() && bearer_token_char(b[at]) {
                at += 1;
            }
            if token > spaces && at > token {
                while at < b.len() && b[at] == b'=' {
                    at += 1;
                }
                rewrite.mask(token, at);
                *count += 1;
                i = at;
                continue;
            }
        }
        i += 1;
    }
    rewrite.finish()
}

// ------------------------------------------------------------------ query_secret
// `(?<![\w.\-\[\]])([\w.\-\[\]]+)=([^&#;,'"\s]+)` (Unicode). The lookbehind lets a match start only
// where a run of key characters starts; the key is that whole run (`=` is not a key character, so a
// shorter key is followed by a key character, not `=`), then `=`, then the longest non-empty value.
// A run that fails is skipped whole: every later start inside it fails the lookbehind.

fn key_char(b: u8) -> bool {
    is_word(b) || matches!(b, b'.' | b'-' | b'[' | b']')
}

/// `[^&#;,'"\s]` on an ASCII character (Unicode `\s` there: \t-\r, \x1c-\x1f, space).
fn value_char(b: u8) -> bool {
    !matches!(
        b,
        b'&' | b'#' | b';' | b',' | b'\'' | b'"' | b'\t'..=b'\r' | 0x1c..=0x1f | b' '
    )
}

/// `_scrub_query_secret`: `key=value` with a secret key → `key=[REDACTED]` (a value already the mask
/// is left, uncounted). A non-ASCII text that mentions a secret term is declined (Unicode classes).
fn scrub_query_secret(text: &str, count: &mut usize) -> Step<Option<String>> {
    let b = text.as_bytes();
    if !b.contains(&b'=') || !mentions_secret_name(text) {
        return Ok(None);
    }
    if !text.is_ascii() {
        return Err(Decline);
    }
    let mut rewrite = Rewrite::new(text);
    let mut i = 0;
    while i < b.len() {
        if !key_char(b[i]) || (i > 0 && key_char(b[i - 1])) {
            i += 1;
            continue;
        }
        let mut at = i;
        while at < b.len() && key_char(b[at]) {
            at += 1;
        }
        let key_end = at;
        if key_end < b.len() && b[key_end] == b'=' {
            let value = key_end + 1;
            at = value;
            while at < b.len() && value_char(b[at]) {
                at += 1;
            }
            if at > value {
                if &text[value..at] != MASK && secret_name(&text[i..key_end])? {
                    rewrite.mask(value, at);
                    *count += 1;
                }
                i = at;
                continue;
            }
        }
        i = key_end;
    }
    Ok(rewrite.finish())
}

/// `Redact._mentions_secret_name`: whether `_normalize(text)` contains a term.
fn mentions_secret_name(text: &str) -> bool {
    contains_term(&normalized(text))
}

/// `_normalize(text)` (`text.lower()` without `-` and `_`) as far as ASCII terms and names can tell:
/// only two non-ASCII characters lowercase to anything ASCII, K (Kelvin sign) → `k` and İ → `i` +
/// U+0307; every other one lowercases to non-ASCII only, here the byte 0x80, which no term or allowed
/// name contains.
fn normalized(text: &str) -> Vec<u8> {
    let mut normalized: Vec<u8> = Vec::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '-' | '_' => {}
            '\u{212a}' => normalized.push(b'k'),
            '\u{130}' => normalized.extend_from_slice(b"i\x80"),
            c if c.is_ascii() => normalized.push((c as u8).to_ascii_lowercase()),
            _ => normalized.push(0x80),
        }
    }
    normalized
}

fn contains_term(normalized: &[u8]) -> bool {
    SECRET_TERMS.iter().any(|term| {
        normalized
            .windows(term.len())
            .any(|window| window == term.as_bytes())
    })
}

/// `Redact.is_secret_name` for a name with non-ASCII characters: a term in its normalized form,
/// and its last dotted part not an allowed name.
pub fn non_ascii_secret_name(name: &str) -> bool {
    let normalized = normalized(name);
    let last = normalized.rsplit(|b| *b == b'.').next().unwrap_or(&[]);
    let allowed = ALLOWED_NAMES.iter().any(|name| name.as_bytes() == last);
    contains_term(&normalized) && !allowed
}

// ------------------------------------------------------------------ card
// `(?<![\w-])\d(?:[ -]?\d){12,18}(?!\w|-\w)`, ASCII. From a start, the greedy loop takes up to 18
// more digits, each after at most one space or dash (`[ -]?` gives its separator back only to meet
// a digit where the separator is, which never succeeds). When the lookahead fails after k digits,
// the loop gives back whole iterations: the end after k - 1, k - 2, … down to 12 is tried in turn,
// and the first end the lookahead accepts is the match. A match whose digits fail the Luhn check
// is kept as it is, but it is a match: the search goes on after it.

/// `_scrub_card`: a Luhn-valid card number standing on its own → the mask.
fn scrub_card(text: &str, count: &mut usize) -> Option<String> {
    let b = text.as_bytes();
    if b.len() < 13 {
        return None;
    }
    let mut rewrite = Rewrite::new(text);
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !(is_word(b[i - 1]) || b[i - 1] == b'-')) {
            if let Some(end) = card_end(b, i) {
                if luhn_valid(&b[i..end]) {
                    rewrite.mask(i, end);
                    *count += 1;
                }
                i = end;
                continue;
            }
        }
        i += 1;
    }
    rewrite.finish()
}

/// Where `_CARD` matching at `start` (a digit, the lookbehind passed) ends, if it matches there.
fn card_end(b: &[u8], start: usize) -> Option<usize> {
    // ends[k]: the end after the first digit and k more.
    let mut ends = [0usize; 19];
    ends[0] = start + 1;
    let mut more = 0;
    while more < 18 {
        let at = ends[more];
        let digit = if at < b.len() && (b[at] == b' ' || b[at] == b'-') {
            at + 1
        } else {
            at
        };
        if digit < b.len() && b[digit].is_ascii_digit() {
            more += 1;
            ends[more] = digit + 1;
        } else {
            break;
        }
    }
    (12..=more).rev().map(|k| ends[k]).find(|&end| {
        let next = b.get(end).copied();
        !(next.is_some_and(is_word)
            || (next == Some(b'-') && b.get(end + 1).copied().is_some_and(is_word)))
    })
}

/// `luhn_valid` over the digits of `candidate` (its spaces and dashes left out).
fn luhn_valid(candidate: &[u8]) -> bool {
    let mut total = 0u32;
    let digits = candidate.iter().rev().filter(|b| b.is_ascii_digit());
    for (position, digit) in digits.enumerate() {
        let mut value = u32::from(digit - b'0');
        if position % 2 == 1 {
            value *= 2;
            if value > 9 {
                value -= 9;
            }
        }
        total += value;
    }
    total.is_multiple_of(10)
}

// ------------------------------------------------------------------ email
// `(?<![\w.%+-])[\w.%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}`, ASCII. The lookbehind lets a match
// start only where a run of local-part characters starts; the local part is that whole run (`@` is
// not in its class) and must be followed by `@`. After it, the greedy group takes labels (a whole run
// of `[A-Za-z0-9-]`, then `.`) while it can: n labels. `[A-Za-z]{2,}` is tried after the n-th dot,
// then, giving back one label at a time, after the (n-1)-th … first; it takes the longest run of
// letters there and nothing follows it in the pattern, so the first place with two letters wins:
// the last dot (in text order) followed by two letters.

fn local_char(b: u8) -> bool {
    is_word(b) || matches!(b, b'.' | b'%' | b'+' | b'-')
}

fn label_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// `_scrub_email`: every address → the mask.
fn scrub_email(text: &str, count: &mut usize) -> Option<String> {
    let b = text.as_bytes();
    if !b.contains(&b'@') {
        return None;
    }
    let mut rewrite = Rewrite::new(text);
    let mut i = 0;
    while i < b.len() {
        if !local_char(b[i]) || (i > 0 && local_char(b[i - 1])) {
            i += 1;
            continue;
        }
        let mut at = i;
        while at < b.len() && local_char(b[at]) {
            at += 1;
        }
        if at < b.len() && b[at] == b'@' {
            if let Some(end) = domain_end(b, at + 1) {
                rewrite.mask(i, end);
                *count += 1;
                i = end;
                continue;
            }
        }
        i = at;
    }
    rewrite.finish()
}

/// Where `(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}` matching at `start` ends, if it matches there.
fn domain_end(b: &[u8], start: usize) -> Option<usize> {
    let mut end = None;
    let mut label = start;
    loop {
        let mut at = label;
        while at < b.len() && label_char(b[at]) {
            at += 1;
        }
        if at == label || at >= b.len() || b[at] != b'.' {
            return end;
        }
        let tld = at + 1;
        let mut letters = tld;
        while letters < b.len() && b[letters].is_ascii_alphabetic() {
            letters += 1;
        }
        if letters - tld >= 2 {
            end = Some(letters);
        }
        label = tld;
    }
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
