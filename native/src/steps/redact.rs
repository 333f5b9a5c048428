//! `redact` (`enrich/redact.py`), exactly: secret-named fields masked at any depth, and the string
//! patterns (bearer, query_secret, card, email, then `extra_patterns`) applied in Python's order, each
//! to the previous one's output, with the same matches and the same count.
//!
//! The `regex` crate has no lookaround, so each built-in pattern is a scanner written by hand over the
//! UTF-8 bytes, following Python's `re.subn` step by step: the leftmost match, searched again from the
//! end of the last one, lookbehinds and lookaheads read in the original string, greedy runs and their
//! backtracking worked out below pattern by pattern. Bearer, card and email are compiled with
//! `re.ASCII` in Python: every class they use is ASCII, so a non-ASCII character (its bytes all
//! ≥ 0x80) is simply in none of them, and the scanners are exact on any text. `_KEY_VALUE` is not
//! ASCII (`\w` and `\s` are Unicode there): a non-ASCII text it would scan is declined.
//! `extra_patterns` run in `regex` as `ingest/native_regex.py` translated them (never matching empty).
//!
//! The names and the terms are compared as Python's `_normalize` lowercases them; a non-ASCII term or
//! allowed name in the options refuses the step (the trick of `normalized` holds for ASCII terms).

use super::{compile, plain_for_regex, Build, Decline, Line, Maybe, Step};
use crate::event::{Event, Names};
use crate::json::Value;
use crate::options::{Built, Options, Refusal};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a secret name is: one whose normalized form contains a term, unless its last dotted part
/// (normalized) is an allowed name.
pub struct Secrets {
    terms: Vec<Vec<u8>>,
    allowed: Vec<Vec<u8>>,
    /// Every lowercase first letter of a term (a name with none of them has none of the terms).
    first_letters: [bool; 256],
    /// A term that is empty after normalizing (`"-"`): every name contains it.
    empty_term: bool,
}

fn normalize_ascii(text: &str) -> Vec<u8> {
    text.bytes()
        .filter(|b| *b != b'-' && *b != b'_')
        .map(|b| b.to_ascii_lowercase())
        .collect()
}

impl Secrets {
    pub fn new(fields: &[String], allow_fields: &[String]) -> Built<Secrets> {
        let mut terms: Vec<Vec<u8>> = Vec::new();
        for field in fields.iter().filter(|field| !field.is_empty()) {
            if !field.is_ascii() {
                return Err(Refusal::new(format!(
                    "redact: a non-ASCII term ({field:?})"
                )));
            }
            let term = normalize_ascii(field);
            if !terms.contains(&term) {
                terms.push(term);
            }
        }
        terms.sort();
        let mut allowed = Vec::new();
        for name in allow_fields {
            if !name.is_ascii() {
                return Err(Refusal::new(format!(
                    "redact: a non-ASCII allowed name ({name:?})"
                )));
            }
            allowed.push(normalize_ascii(name));
        }
        let mut first_letters = [false; 256];
        for term in &terms {
            if let Some(first) = term.first() {
                first_letters[usize::from(*first)] = true;
            }
        }
        let empty_term = terms.iter().any(Vec::is_empty);
        Ok(Secrets {
            terms,
            allowed,
            first_letters,
            empty_term,
        })
    }

    fn contains_term(&self, normalized: &[u8]) -> bool {
        self.terms.iter().any(|term| {
            term.is_empty()
                || normalized
                    .windows(term.len())
                    .any(|window| window == term.as_slice())
        })
    }

    /// `Redact._mentions_secret_name`: whether `_normalize(text)` contains a term.
    pub fn mentioned_in(&self, text: &str) -> bool {
        self.contains_term(&normalized(text))
    }

    /// `Redact.is_secret_name`, uncached.
    pub fn is_secret(&self, name: &str) -> bool {
        if self.terms.is_empty() {
            return false;
        }
        if name.is_ascii()
            && !self.empty_term
            && !name
                .bytes()
                .any(|b| self.first_letters[usize::from(b.to_ascii_lowercase())])
        {
            return false;
        }
        let normalized = normalized(name);
        let last = normalized.rsplit(|b| *b == b'.').next().unwrap_or(&[]);
        self.contains_term(&normalized) && !self.allowed.iter().any(|allowed| allowed == last)
    }

    /// Whether a redaction pattern could change this string: `@`, a card trigger, `bearer` in any
    /// case, or `=` beside a term; one pass over the bytes (a superset of what the scanners change).
    pub fn may_scrub(&self, text: &str) -> bool {
        let b = text.as_bytes();
        let (mut equals, mut bearer, mut wide) = (false, false, false);
        for (i, &c) in b.iter().enumerate() {
            match c {
                b'@' => return true,
                b'=' => equals = true,
                b'0'..=b'9' if card_starts_at(b, i) => return true,
                b'b' | b'B' => {
                    bearer = bearer
                        || b.get(i + 1..i + 6)
                            .is_some_and(|r| r.eq_ignore_ascii_case(b"earer"));
                }
                0x80.. => wide = true,
                _ => {}
            }
        }
        if wide {
            return equals || text.to_lowercase().contains("bearer");
        }
        bearer || (equals && self.mentioned_in(text))
    }
}

/// Whether a card number could start at `i` (a digit): `_CARD` only matches 13+ digits (spaces or
/// dashes between) that start a token (not after a word character or a dash); a superset of its matches.
fn card_starts_at(b: &[u8], i: usize) -> bool {
    (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'-'))
        && b.len() >= i + 13
        && b[i + 1..i + 13]
            .iter()
            .all(|c| c.is_ascii_digit() || *c == b' ' || *c == b'-')
}

/// What redaction does with a top-level field, by name.
#[derive(Clone, Copy, PartialEq)]
enum TopLevel {
    /// Ours, holding no user data: never touched.
    Skip,
    /// A secret name: its value is masked.
    Secret,
    /// Its strings are scanned for patterns.
    Scan,
}

/// `SKIPPED_KEYS` and every `log.*` key.
fn skipped(key: &str) -> bool {
    matches!(
        key,
        "@raw" | "@source_id" | "@timestamp" | "event.id" | "trace.id" | "span.id"
    ) || key.starts_with("log.")
}

static NEXT_STEP: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// Field names repeat from line to line: whether each is secret, per redact step (their terms
    /// differ), worked out once (bounded).
    static SECRET_NAMES: RefCell<FxHashMap<u64, FxHashMap<String, bool>>> = Default::default();
}

pub struct Redact {
    enabled: bool,
    secrets: Secrets,
    mask: String,
    bearer: bool,
    query_secret: bool,
    card: bool,
    email: bool,
    /// `extra_patterns`, and whether each needs plain text.
    extra: Vec<(regex::Regex, bool)>,
    /// `TopLevel` of each name the chain numbered, by id (`prepare`).
    kinds: Vec<TopLevel>,
    uid: u64,
}

impl Redact {
    pub fn build(options: &mut Options, b: &mut Build) -> Built<Self> {
        let enabled = options.boolean("enabled")?;
        let fields = options.string_list("fields")?;
        let allow_fields = options.string_list("allow_fields")?;
        let all = ["bearer", "email", "card", "query_secret"];
        let patterns: Vec<String> = match options.raw("patterns")? {
            Value::Bool(true) => all.iter().map(|name| name.to_string()).collect(),
            Value::Bool(false) => Vec::new(),
            Value::List(names) => names
                .into_iter()
                .map(|name| match name {
                    Value::Str(name) if all.contains(&name.as_str()) => Ok(name),
                    _ => Err(Refusal::new("redact: patterns")),
                })
                .collect::<Built<Vec<String>>>()?,
            _ => return Err(Refusal::new("redact: patterns")),
        };
        let mut extra = Vec::new();
        for pattern in options.string_list("extra_patterns")? {
            let translated = b.regex(&pattern)?;
            if translated.may_be_empty {
                return Err(Refusal::new(format!(
                    "redact: {pattern:?} can match empty text"
                )));
            }
            extra.push((compile(&translated, false)?, translated.plain_text_only));
        }
        let mask = options.string("mask")?;
        let has = |name: &str| patterns.iter().any(|p| p == name);
        Ok(Redact {
            enabled,
            secrets: Secrets::new(&fields, &allow_fields)?,
            bearer: has("bearer"),
            query_secret: has("query_secret"),
            card: has("card"),
            email: has("email"),
            mask,
            extra,
            kinds: Vec::new(),
            uid: NEXT_STEP.fetch_add(1, Ordering::Relaxed),
        })
    }

    fn is_secret_name(&self, name: &str) -> bool {
        let cached = SECRET_NAMES.with_borrow(|steps| {
            steps
                .get(&self.uid)
                .and_then(|names| names.get(name).copied())
        });
        if let Some(known) = cached {
            return known;
        }
        let secret = self.secrets.is_secret(name);
        SECRET_NAMES.with_borrow_mut(|steps| {
            if steps.len() >= 64 && !steps.contains_key(&self.uid) {
                steps.clear(); // the steps of chains long gone: their memory starts over
            }
            let names = steps.entry(self.uid).or_default();
            if names.len() >= 4096 {
                names.clear();
            }
            names.insert(name.to_string(), secret);
        });
        secret
    }

    fn top_level_kind(&self, key: &str) -> TopLevel {
        if skipped(key) {
            TopLevel::Skip
        } else if self.is_secret_name(key) {
            TopLevel::Secret
        } else {
            TopLevel::Scan
        }
    }

    fn kind_of(&self, key: &str, id: Option<u8>) -> TopLevel {
        match id.and_then(|id| self.kinds.get(usize::from(id))) {
            Some(kind) => *kind,
            None => self.top_level_kind(key),
        }
    }

    /// Whether an `extra_patterns` regex may change `text` (on text a plain-only one cannot judge,
    /// the writing pass declines the line).
    fn extra_may_match(&self, text: &str) -> bool {
        self.extra.iter().any(|(pattern, plain_only)| {
            (*plain_only && !plain_for_regex(text)) || pattern.is_match(text)
        })
    }

    /// Whether redaction could change the event: a secret name, or a string a pattern may touch.
    fn would_touch(&self, event: &Event) -> bool {
        let extra = !self.extra.is_empty();
        let mut pending: Vec<&Value> = Vec::new();
        for (key, id, value) in event.iter() {
            match self.kind_of(key, id) {
                TopLevel::Skip => continue,
                TopLevel::Secret => return true,
                TopLevel::Scan => pending.push(value),
            }
        }
        while let Some(value) = pending.pop() {
            match value {
                Value::Str(s)
                    if self.secrets.may_scrub(s) || (extra && self.extra_may_match(s)) =>
                {
                    return true
                }
                Value::List(items) => pending.extend(items.iter()),
                Value::Obj(map) => {
                    for (key, item) in map {
                        if self.is_secret_name(key) {
                            return true;
                        }
                        pending.push(item);
                    }
                }
                _ => {}
            }
        }
        false
    }

    /// A secret field's value: replaced whole, unless it cannot hold a secret (None, "", a boolean).
    fn mask_value(&self, value: &mut Value, count: &mut usize) {
        match value {
            Value::Null | Value::Bool(_) => {}
            Value::Str(text) if text.is_empty() => {}
            _ => {
                *value = Value::Str(self.mask.clone());
                *count += 1;
            }
        }
    }

    /// `_visit` below the top level: secret names masked, strings scrubbed, containers walked (the
    /// reader's depth limit bounds the recursion).
    fn redact_value(&self, value: &mut Value, count: &mut usize) -> Maybe<()> {
        match value {
            Value::Str(text) => {
                if let Some(scrubbed) = self.scrub(text, count)? {
                    *text = scrubbed;
                }
            }
            Value::List(items) => {
                for item in items {
                    self.redact_value(item, count)?;
                }
            }
            Value::Obj(map) => {
                for (key, item) in map.iter_mut() {
                    if self.is_secret_name(key) {
                        self.mask_value(item, count);
                    } else {
                        self.redact_value(item, count)?;
                    }
                }
            }
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
        }
        Ok(())
    }

    /// `Redact.scrub`: the enabled patterns in Python's order, each over the previous one's output;
    /// the scrubbed text, or None when nothing matched. `count` grows by the masks made.
    pub fn scrub(&self, text: &str, count: &mut usize) -> Maybe<Option<String>> {
        let mask = self.mask.as_str();
        let mut current = Cow::Borrowed(text);
        if self.bearer {
            if let Some(next) = scrub_bearer(&current, mask, count) {
                current = Cow::Owned(next);
            }
        }
        if self.query_secret {
            if let Some(next) = scrub_query_secret(&current, mask, &self.secrets, count)? {
                current = Cow::Owned(next);
            }
        }
        if self.card {
            if let Some(next) = scrub_card(&current, mask, count) {
                current = Cow::Owned(next);
            }
        }
        if self.email {
            if let Some(next) = scrub_email(&current, mask, count) {
                current = Cow::Owned(next);
            }
        }
        for (pattern, plain_only) in &self.extra {
            if *plain_only && !plain_for_regex(&current) {
                return Err(Decline);
            }
            let mut found = 0;
            let replaced = pattern.replace_all(&current, |_: &regex::Captures| {
                found += 1;
                mask
            });
            if found > 0 {
                *count += found;
                current = Cow::Owned(replaced.into_owned());
            }
        }
        Ok(match current {
            Cow::Borrowed(_) => None,
            Cow::Owned(scrubbed) => Some(scrubbed),
        })
    }
}

impl Step for Redact {
    fn prepare(&mut self, names: &Names) {
        self.kinds = (0..names.len())
            .map(|id| self.secrets_kind(names.name(id as u8)))
            .collect();
    }

    /// The event redacted in place as `Redact()` would; the values masked go to the line's count
    /// (what the Python processor adds to `Redact.redactions`). An event redaction cannot change
    /// costs one read-only pass; only the others are walked again, writing.
    fn apply(&self, event: &mut Event, line: &mut Line) -> Maybe<()> {
        if !self.enabled || !self.would_touch(event) {
            return Ok(());
        }
        let mut count = 0;
        let mut kinds: Vec<TopLevel> = Vec::with_capacity(event.len());
        for (key, id, _) in event.iter() {
            kinds.push(self.kind_of(key, id));
        }
        for ((_, _, value), kind) in event.iter_mut().zip(kinds) {
            match kind {
                TopLevel::Skip => {}
                TopLevel::Secret => self.mask_value(value, &mut count),
                TopLevel::Scan => self.redact_value(value, &mut count)?,
            }
        }
        line.redactions += count;
        Ok(())
    }
}

impl Redact {
    fn secrets_kind(&self, name: &str) -> TopLevel {
        if skipped(name) {
            TopLevel::Skip
        } else if self.secrets.is_secret(name) {
            TopLevel::Secret
        } else {
            TopLevel::Scan
        }
    }
}

/// A text rebuilt from its unchanged stretches and the masked ones, allocated at the first mask.
struct Rewrite<'t> {
    text: &'t str,
    mask: &'t str,
    out: Option<String>,
    copied: usize,
}

impl<'t> Rewrite<'t> {
    fn new(text: &'t str, mask: &'t str) -> Self {
        Rewrite {
            text,
            mask,
            out: None,
            copied: 0,
        }
    }

    /// `text[start..end]` becomes the mask (both ends at ASCII characters, so on char boundaries).
    fn mask(&mut self, start: usize, end: usize) {
        let text = self.text;
        let out = self
            .out
            .get_or_insert_with(|| String::with_capacity(text.len() + self.mask.len()));
        out.push_str(&text[self.copied..start]);
        out.push_str(self.mask);
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
fn scrub_bearer(text: &str, mask: &str, count: &mut usize) -> Option<String> {
    let b = text.as_bytes();
    let mut rewrite = Rewrite::new(text, mask);
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
fn scrub_query_secret(
    text: &str,
    mask: &str,
    secrets: &Secrets,
    count: &mut usize,
) -> Maybe<Option<String>> {
    let b = text.as_bytes();
    if !b.contains(&b'=') || !secrets.mentioned_in(text) {
        return Ok(None);
    }
    if !text.is_ascii() {
        return Err(Decline);
    }
    let mut rewrite = Rewrite::new(text, mask);
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
                if &text[value..at] != mask && secrets.is_secret(&text[i..key_end]) {
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

// ------------------------------------------------------------------ card
// `(?<![\w-])\d(?:[ -]?\d){12,18}(?!\w|-\w)`, ASCII. From a start, the greedy loop takes up to 18
// more digits, each after at most one space or dash (`[ -]?` gives its separator back only to meet
// a digit where the separator is, which never succeeds). When the lookahead fails after k digits,
// the loop gives back whole iterations: the end after k - 1, k - 2, … down to 12 is tried in turn,
// and the first end the lookahead accepts is the match. A match whose digits fail the Luhn check
// is kept as it is, but it is a match: the search goes on after it.

/// `_scrub_card`: a Luhn-valid card number standing on its own → the mask.
fn scrub_card(text: &str, mask: &str, count: &mut usize) -> Option<String> {
    let b = text.as_bytes();
    if b.len() < 13 {
        return None;
    }
    let mut rewrite = Rewrite::new(text, mask);
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
pub fn luhn_valid(candidate: &[u8]) -> bool {
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
fn scrub_email(text: &str, mask: &str, count: &mut usize) -> Option<String> {
    let b = text.as_bytes();
    if !b.contains(&b'@') {
        return None;
    }
    let mut rewrite = Rewrite::new(text, mask);
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

/// `_normalize` of a name with non-ASCII characters judged against the default terms (for tests).
#[cfg(test)]
pub fn non_ascii_secret_name(name: &str) -> bool {
    default_secrets().is_secret(name)
}

/// The secret names of the default options (`default_chain.json`, generated from Python's).
#[cfg(test)]
pub fn default_secrets() -> Secrets {
    let options = crate::chain::Chain::default_options_for_tests("redact");
    let mut options = crate::options::Options::new("redact", options).expect("options");
    let fields = options.string_list("fields").expect("fields");
    let allow = options.string_list("allow_fields").expect("allow_fields");
    Secrets::new(&fields, &allow).expect("ASCII terms")
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
