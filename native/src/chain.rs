//! The default processor chain, fused: the same steps, in the same order, with the same key-order
//! effects as the Python processors (`parsers/`, `enrich/`) under their default config.
//!
//! Every step mirrors its Python twin line by line over an ordered map (a Python dict: delete then
//! insert goes to the end, overwrite keeps the place). Whatever a step cannot reproduce exactly
//! returns `Err(Decline)`, and the whole line goes through the Python chain instead.
//!
//! One value is not Python's by construction: a line without a readable time gets the processing
//! time as `@timestamp`, which Python reads from its clock and the chain takes from the block's
//! `event.ingested` (see `parse_timestamp`).

use crate::json::{write_int, write_str, write_value, Map, Reader, Value};
use base64::Engine;
use blake2::digest::{Update, VariableOutput};
use event::{Event, Key, Probe, K};
use std::sync::OnceLock;

#[path = "event.rs"]
mod event;
#[path = "plain.rs"]
mod plain;
#[path = "redact.rs"]
mod redact;

#[derive(Debug)]
pub struct Decline;

pub type Step<T> = Result<T, Decline>;

type TextConverter = fn(&Value) -> Step<Option<String>>;

/// What the batcher and the sinks need of one processed line.
pub struct Output {
    pub doc: Vec<u8>,
    pub event_id: String,
    pub timestamp: String,
    pub tags: Vec<String>,
    /// The values `redact` masked: what the Python `Redact` would add to its count.
    pub redactions: usize,
}

/// What the batcher and the sinks read of a processed line, besides its document.
pub struct Stub {
    pub event_id: String,
    pub timestamp: String,
    pub tags: Vec<String>,
    /// The values `redact` masked (`Output::redactions`).
    pub redactions: usize,
}

impl Stub {
    fn with_doc(self, doc: Vec<u8>) -> Output {
        Output {
            doc,
            event_id: self.event_id,
            timestamp: self.timestamp,
            tags: self.tags,
            redactions: self.redactions,
        }
    }
}

/// One source field name: a flat key and, for a dotted name, the path into nested objects.
struct Alias {
    key: &'static str,
    probe: Probe<'static>,
    /// For a dotted name: its first part (looked up at the top level) and the rest.
    path: Option<(Probe<'static>, Vec<&'static str>)>,
}

impl Alias {
    fn new(key: &'static str) -> Self {
        let path = key
            .split_once('.')
            .map(|(head, rest)| (Probe::new(head), rest.split('.').collect()));
        Alias {
            key,
            probe: Probe::new(key),
            path,
        }
    }

    fn get<'a>(&self, event: &'a Event) -> Option<&'a Value> {
        match event.get(self.probe) {
            Some(value) => Some(value),
            None => self.get_nested(event),
        }
    }

    fn get_nested<'a>(&self, event: &'a Event) -> Option<&'a Value> {
        let (head, rest) = self.path.as_ref()?;
        let Value::Obj(first) = event.get(*head)? else {
            return None;
        };
        let mut node: &Map = first;
        for (i, part) in rest.iter().enumerate() {
            let value = node.get(*part)?;
            if i + 1 == rest.len() {
                return Some(value);
            }
            match value {
                Value::Obj(child) => node = child,
                _ => return None,
            }
        }
        None
    }

    /// Delete the field; nested parents left empty go too.
    fn remove(&self, event: &mut Event) {
        match &self.path {
            Some((head, rest)) if !event.contains_key(self.probe) => {
                if let Some(Value::Obj(child)) = event.get_mut(*head) {
                    remove_path(child, rest);
                    if child.is_empty() {
                        event.shift_remove(*head);
                    }
                }
            }
            _ => {
                event.shift_remove(self.probe);
            }
        }
    }
}

fn remove_path(map: &mut Map, parts: &[&str]) {
    if parts.len() == 1 {
        map.shift_remove(parts[0]);
        return;
    }
    if let Some(Value::Obj(child)) = map.get_mut(parts[0]) {
        remove_path(child, &parts[1..]);
        if child.is_empty() {
            map.shift_remove(parts[0]);
        }
    }
}

fn aliases(names: &[&'static str]) -> Vec<Alias> {
    names.iter().map(|name| Alias::new(name)).collect()
}

/// `find_first`: the first alias whose value `convert` accepts, and the converted value.
fn find_first<'a, T>(
    event: &Event,
    list: &'a [Alias],
    convert: impl Fn(&Value) -> Step<Option<T>>,
) -> Step<Option<(&'a Alias, T)>> {
    for alias in list {
        if let Some(value) = alias.get(event) {
            if let Some(result) = convert(value)? {
                return Ok(Some((alias, result)));
            }
        }
    }
    Ok(None)
}

fn add_tag(event: &mut Event, tag: &str) {
    match event.get_mut(K::TAGS) {
        None | Some(Value::Null) => {
            event.insert(K::TAGS, Value::List(vec![Value::Str(tag.into())]));
        }
        Some(tags) => {
            if !matches!(tags, Value::List(_)) {
                let single = std::mem::replace(tags, Value::Null);
                *tags = Value::List(vec![single]);
            }
            if let Value::List(items) = tags {
                if !items
                    .iter()
                    .any(|item| matches!(item, Value::Str(s) if s == tag))
                {
                    items.push(Value::Str(tag.into()));
                }
            }
        }
    }
}

/// Python's `str.isspace` for the characters this module meets (Unicode White_Space and \x1c-\x1f).
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn py_strip(text: &str) -> &str {
    text.trim_matches(py_space)
}

/// Text whose Python case mapping and regex classes this module reproduces: printable ASCII and tabs/newlines.
fn plain(text: &str) -> bool {
    text.bytes()
        .all(|b| (0x20..0x7f).contains(&b) || b == b'\t' || b == b'\n' || b == b'\r')
}

fn as_str(value: &Value) -> Step<Option<String>> {
    Ok(match value {
        Value::Str(s) => Some(s.clone()),
        _ => None,
    })
}

fn as_nonempty_str(value: &Value) -> Step<Option<String>> {
    Ok(match value {
        Value::Str(s) if !py_strip(s).is_empty() => Some(s.clone()),
        _ => None,
    })
}

fn is_ascii_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------- decode_json

const JSON_PARSE_FAILURE: &str = "_jsonparsefailure";
const UTF8_ERROR: &str = "_utf8error";

/// `decode_json`: the line's object with the source fields merged in; a line that is not a JSON
/// object keeps its text in `message`, tagged `_jsonparsefailure`; invalid UTF-8 is repaired,
/// tagged `_utf8error`, and the repaired text read as any other.
fn decode(raw: &[u8], source: impl IntoIterator<Item = (Key, Value)>) -> Step<Event> {
    decode_text(raw, source, false)
}

/// `decode` of `text`; `repaired`: the line was not UTF-8 and this is its repair (Python tags the
/// source event first, so the tag comes before a line's own tags are merged with it: `add_tag`
/// after the merge is the same). The reader checks UTF-8 first: a valid line is checked once.
fn decode_text(
    text: &[u8],
    source: impl IntoIterator<Item = (Key, Value)>,
    repaired: bool,
) -> Step<Event> {
    // Room for the line's fields and those the chain adds (deletes leave their entries in place).
    let mut event = Event::with_capacity(64);
    let read = Reader::new(text).members(|name, value| {
        let key = match name {
            std::borrow::Cow::Borrowed(name) => Key::new(name),
            std::borrow::Cow::Owned(name) => Key::from(name),
        };
        event.push_new(key, value)
    });
    if read.is_err() {
        if !repaired && std::str::from_utf8(text).is_err() {
            let text = plain::repaired(plain::strip_line_end(text));
            return decode_text(text.as_bytes(), source, true);
        }
        if !plain::never_an_object(text) {
            return Err(Decline); // an object our reader does not take (duplicate keys …): Python
        }
        let mut event = Event::with_capacity(8);
        for (key, value) in source {
            event.insert(key, value);
        }
        if repaired {
            add_tag(&mut event, UTF8_ERROR);
        }
        add_tag(&mut event, JSON_PARSE_FAILURE);
        let message = String::from_utf8_lossy(plain::strip_line_end(text)).into_owned();
        event.insert(K::MESSAGE, Value::Str(message));
        return Ok(event);
    }
    if event.has_duplicate_names() {
        return Err(Decline);
    }
    if event.contains_key(K::RECORD) && event.contains_key(K::TEXT) {
        return Err(Decline);
    }
    for internal in [K::AT_RAW, K::AT_SOURCE_ID, K::AT_TIMEZONE] {
        if event.contains_key(internal) {
            return Err(Decline);
        }
    }
    for (key, value) in source {
        event.insert(key, value);
    }
    if repaired {
        add_tag(&mut event, UTF8_ERROR);
    }
    Ok(event)
}

// ---------------------------------------------------------------- parse_timestamp

const TIMESTAMP_FIELDS: [K; 5] = [K::TIMESTAMP, K::AT_TIMESTAMP, K::TIME, K::TS, K::ASCTIME];
const MIN_MILLIS: i128 = 0;
const MAX_MILLIS: i128 = 4_133_980_800_000; // 2101-01-01T00:00:00Z
const DATE_PARSE_FAILURE: &str = "_dateparsefailure";
/// Where a source `@timestamp` that did not parse is kept.
const INVALID_TIMESTAMP_KEY: &str = "_@timestamp";

/// A time field's value read as `ParseTimestamp.parse` reads it: `Ok(Some)` the canonical time,
/// `Ok(None)` certainly no time (Python's `parse` gives `None`), `Err` not sure (declined).
type Time = Step<Option<String>>;

/// `parse_timestamp`: the first present time field, or the processing time. Python stamps a line
/// without a readable time with its own clock (`now_utc()`); the chain has none and uses `ingested`,
/// the block's `event.ingested`, taken when the block is processed: the same kind of time, and the
/// line's `event.ingested` equals it.
fn parse_timestamp(event: &mut Event, ingested: &str) -> Step<String> {
    for key in TIMESTAMP_FIELDS {
        let Some(value) = event.get(key) else {
            continue;
        };
        if let Some(parsed) = time_of(value)? {
            event.shift_remove(key);
            event.insert(K::AT_TIMESTAMP, Value::Str(parsed.clone()));
            return Ok(parsed);
        }
        if matches!(key, K::AT_TIMESTAMP) {
            let invalid = value.clone();
            event.insert(INVALID_TIMESTAMP_KEY, invalid);
        }
        add_tag(event, DATE_PARSE_FAILURE);
        break;
    }
    event.insert(K::AT_TIMESTAMP, Value::Str(ingested.to_owned()));
    Ok(ingested.to_owned())
}

fn time_of(value: &Value) -> Time {
    match value {
        Value::Str(text) => match parse_text(text) {
            Err(Decline) if never_a_time(text) => Ok(None),
            parsed => parsed,
        },
        Value::Int(n) => from_epoch_int(*n as i128),
        Value::Float(f) => from_epoch_float(*f),
        Value::Null | Value::Bool(_) | Value::List(_) | Value::Obj(_) => Ok(None),
    }
}

/// Text without a digit of any script: neither `fromisoformat` nor `float` reads it, bar `nan` and
/// `inf`, which are no time either.
fn never_a_time(text: &str) -> bool {
    !text.chars().any(char::is_numeric)
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// `_format_millis`, `None` outside 1970..2100 (where Python's range check gives `None` too).
fn format_millis(millis: i128) -> Time {
    if !(MIN_MILLIS..MAX_MILLIS).contains(&millis) {
        return Ok(None);
    }
    let millis = millis as i64;
    let (seconds, fraction) = (millis.div_euclid(1000), millis.rem_euclid(1000));
    let (days, day_seconds) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    // YYYY-MM-DDTHH:MM:SS.mmmZ, digits written in place (the year is 1970..2100 here)
    let mut text = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut number: i64| {
        for i in (at..at + width).rev() {
            text[i] = b'0' + (number % 10) as u8;
            number /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, day_seconds / 3600);
    put(14, 2, day_seconds / 60 % 60);
    put(17, 2, day_seconds % 60);
    put(20, 3, fraction);
    Ok(Some(
        String::from_utf8(text.to_vec()).expect("ASCII digits"),
    ))
}

fn from_epoch_int(number: i128) -> Time {
    let magnitude = number.abs();
    let millis = if magnitude < 100_000_000_000 {
        number * 1000
    } else if magnitude < 100_000_000_000_000 {
        number
    } else if magnitude < 100_000_000_000_000_000 {
        number.div_euclid(1000)
    } else {
        number.div_euclid(1_000_000)
    };
    format_millis(millis)
}

fn from_epoch_float(number: f64) -> Time {
    let magnitude = number.abs();
    let millis = if magnitude < 1e11 {
        (number * 1000.0).round_ties_even()
    } else if magnitude < 1e14 {
        number.round_ties_even()
    } else {
        return Err(Decline); // floor division of large floats: left to Python
    };
    format_millis(millis as i128)
}

fn two(bytes: &[u8], at: usize) -> Option<i64> {
    let (a, b) = (*bytes.get(at)?, *bytes.get(at + 1)?);
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some(((a - b'0') * 10 + (b - b'0')) as i64)
    } else {
        None
    }
}

/// ISO 8601 as Python 3.11's `datetime.fromisoformat` reads the forms loggers write:
/// `YYYY-MM-DD[T ]HH:MM:SS[.,fraction][Z|±HH|±HHMM|±HH:MM]`, and winston's `HH:MM:SS:mmm`.
fn parse_text(text: &str) -> Time {
    let text = py_strip(text);
    if !plain(text) {
        return Err(Decline);
    }
    if is_ascii_digits(text) {
        if text.len() > 30 {
            return Err(Decline);
        }
        return from_epoch_int(text.parse::<i128>().map_err(|_| Decline)?);
    }
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return epoch_text(text);
    }
    let year = two(b, 0)
        .zip(two(b, 2))
        .map(|(h, l)| h * 100 + l)
        .ok_or(Decline)?;
    let (month, day) = (two(b, 5).ok_or(Decline)?, two(b, 8).ok_or(Decline)?);
    let (hour, minute, second) = (
        two(b, 11).ok_or(Decline)?,
        two(b, 14).ok_or(Decline)?,
        two(b, 17).ok_or(Decline)?,
    );
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(Decline);
    }
    let mut at = 19;
    let mut millis = 0i64;
    if at < b.len() && (b[at] == b'.' || b[at] == b',' || (b[at] == b':' && b.len() > 20)) {
        at += 1;
        let start = at;
        while at < b.len() && b[at].is_ascii_digit() {
            at += 1;
        }
        let digits = &text[start..at];
        if digits.is_empty() {
            return Err(Decline);
        }
        let first3: String = digits.chars().chain("000".chars()).take(3).collect();
        millis = first3.parse::<i64>().map_err(|_| Decline)?;
    }
    let offset_minutes = match &b[at..] {
        [] => 0,
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (hours, minutes) = match rest {
                [_, _] => (two(rest, 0), Some(0)),
                [_, _, _, _] => (two(rest, 0), two(rest, 2)),
                [_, _, b':', _, _] => (two(rest, 0), two(rest, 3)),
                _ => return Err(Decline),
            };
            let (hours, minutes) = (hours.ok_or(Decline)?, minutes.ok_or(Decline)?);
            if hours > 23 || minutes > 59 {
                return Err(Decline);
            }
            let total = hours * 60 + minutes;
            if *sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return Err(Decline),
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    format_millis(seconds as i128 * 1000 + millis as i128)
}

/// A decimal epoch number written as text (`1700000000.5`).
fn epoch_text(text: &str) -> Time {
    let (whole, fraction) = text.split_once('.').ok_or(Decline)?;
    if !is_ascii_digits(whole) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Decline);
    }
    from_epoch_float(text.parse::<f64>().map_err(|_| Decline)?)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

// ---------------------------------------------------------------- parse_level, parse_message

fn level_of_text(text: &str) -> String {
    let known = match text {
        "warning" => "warn",
        "err" => "error",
        "crit" => "critical",
        "information" => "info",
        "10" => "trace",
        "20" => "debug",
        "30" => "info",
        "40" => "warn",
        "50" => "error",
        "60" => "fatal",
        _ => return text.to_string(),
    };
    known.to_string()
}

fn level_of_number(number: i64) -> String {
    match number {
        10 => "trace".into(),
        20 => "debug".into(),
        30 => "info".into(),
        40 => "warn".into(),
        50 => "error".into(),
        60 => "fatal".into(),
        _ => number.to_string(),
    }
}

fn convert_level(value: &Value) -> Step<Option<String>> {
    match value {
        Value::Str(s) => {
            if !s.is_ascii() {
                return Err(Decline);
            }
            let text = py_strip(s).to_ascii_lowercase();
            Ok(if text.is_empty() {
                None
            } else {
                Some(level_of_text(&text))
            })
        }
        Value::Float(f) if f.fract() == 0.0 => {
            if f.abs() >= 9.0e15 {
                return Err(Decline);
            }
            Ok(Some(level_of_number(*f as i64)))
        }
        Value::Int(n) => Ok(Some(level_of_number(*n))),
        _ => Ok(None),
    }
}

// ---------------------------------------------------------------- tag_error

const ERROR_MESSAGE: K = K::ERROR__MESSAGE;
const ERROR_TYPE: K = K::ERROR__TYPE;
const ERROR_STACK: K = K::ERROR__STACK_TRACE;
const ERROR_HEADS: [K; 18] = [
    K::ERROR,
    K::ERR,
    K::PANIC,
    K::ERROR_MESSAGE,
    K::ERRORMESSAGE,
    K::ERROR_TYPE,
    K::ERRORTYPE,
    K::EXCEPTION_TYPE,
    K::EXC_TYPE,
    K::STACK_TRACE,
    K::STACK,
    K::STACKTRACE,
    K::EXCEPTION,
    K::EXC_INFO,
    K::ERRORVERBOSE,
    ERROR_MESSAGE,
    ERROR_TYPE,
    ERROR_STACK,
];

/// `(type, message)` of the exception a stack names: `exception.rs`, the twin of `parsers.exception`.
fn exception_line(text: &str) -> Step<Option<(String, String)>> {
    Ok(crate::exception::exception_line(text))
}

fn as_stack(value: &Value) -> Step<Option<String>> {
    Ok(match value {
        Value::Str(s) => Some(s.clone()),
        Value::List(items)
            if !items.is_empty() && items.iter().all(|item| matches!(item, Value::Str(_))) =>
        {
            Some(
                items
                    .iter()
                    .map(|item| {
                        if let Value::Str(s) = item {
                            s.as_str()
                        } else {
                            ""
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        }
        _ => None,
    })
}

fn is_exception_dicts(value: &Value) -> bool {
    match value {
        Value::List(items) => {
            matches!(items.first(), Some(Value::Obj(first)) if first.contains_key("exc_type"))
                && items.iter().all(|item| matches!(item, Value::Obj(_)))
        }
        _ => false,
    }
}

struct ErrorAliases {
    panics: Vec<Alias>,
    objects: Vec<Alias>,
    messages: Vec<Alias>,
    types: Vec<Alias>,
    stacks: Vec<Alias>,
}

fn tag_error(event: &mut Event, a: &ErrorAliases) -> Step<()> {
    let mut error_level = matches!(event.get(K::LOG__LEVEL), Some(Value::Str(l)) if l == "error" || l == "fatal" || l == "critical");
    if ERROR_HEADS.iter().any(|head| event.contains_key(*head)) {
        let panicked = map_error_fields(event, a)?;
        if panicked || event.contains_key(ERROR_TYPE) || event.contains_key(ERROR_STACK) {
            error_level = true;
        }
    }
    if error_level {
        add_tag(event, "error");
    }
    Ok(())
}

fn as_panic(value: &Value) -> Step<Option<String>> {
    Ok(match value {
        Value::Str(s) if !s.is_empty() => Some(s.clone()),
        Value::Int(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True".into() } else { "False".into() }),
        Value::Float(_) => return Err(Decline),
        _ => None,
    })
}

fn map_error_fields(event: &mut Event, a: &ErrorAliases) -> Step<bool> {
    let mut panicked = false;
    for alias in &a.panics {
        let Some(value) = alias.get(event) else {
            continue;
        };
        if let Some(text) = as_panic(value)? {
            panicked = true;
            if !event.contains_key(ERROR_MESSAGE) {
                event.insert(ERROR_MESSAGE, Value::Str(text));
                alias.remove(event);
            }
            break;
        }
    }
    for alias in &a.objects {
        match alias.get(event) {
            Some(Value::Str(text)) if !event.contains_key(ERROR_MESSAGE) => {
                let text = text.clone();
                event.insert(ERROR_MESSAGE, Value::Str(text));
                alias.remove(event);
            }
            Some(Value::Obj(_)) => map_error_object(event, alias)?,
            _ => {}
        }
    }
    if !event.contains_key(ERROR_STACK) {
        for alias in &a.stacks {
            if alias.get(event).is_some_and(is_exception_dicts) {
                return Err(Decline); // structlog's dict tracebacks: rendered by the Python chain
            }
        }
    }
    for (target, list, convert) in [
        (
            ERROR_MESSAGE,
            &a.messages,
            as_str as fn(&Value) -> Step<Option<String>>,
        ),
        (ERROR_TYPE, &a.types, as_str),
        (ERROR_STACK, &a.stacks, as_stack),
    ] {
        if !event.contains_key(target) {
            if let Some((alias, value)) = find_first(event, list, convert)? {
                alias.remove(event);
                event.insert(target, Value::Str(value));
            }
        }
    }
    if !event.contains_key(ERROR_TYPE) || !event.contains_key(ERROR_MESSAGE) {
        derive_type_and_message(event)?;
    }
    Ok(panicked)
}

fn map_error_object(event: &mut Event, alias: &Alias) -> Step<()> {
    // The object stays in its place while its fields move out (as in Python, where it is mutated in place).
    let slot = event.get_mut(alias.key).ok_or(Decline)?;
    let Value::Obj(mut object) = std::mem::replace(slot, Value::Null) else {
        return Err(Decline);
    };
    let groups: [(K, &[&str], TextConverter); 3] = [
        (ERROR_TYPE, &["type", "name"], as_str),
        (ERROR_MESSAGE, &["message", "msg"], as_str),
        (
            ERROR_STACK,
            &["stack_trace", "stacktrace", "stack"],
            as_stack,
        ),
    ];
    let mut result = Ok(());
    for (target, keys, convert) in groups {
        if event.contains_key(target) {
            continue;
        }
        for key in keys {
            let converted = match object.get(*key) {
                Some(value) => convert(value),
                None => Ok(None),
            };
            match converted {
                Ok(Some(value)) => {
                    event.insert(target, Value::Str(value));
                    object.shift_remove(*key);
                    break;
                }
                Ok(None) => {}
                Err(decline) => {
                    result = Err(decline);
                    break;
                }
            }
        }
    }
    let empty = object.is_empty();
    if let Some(slot) = event.get_mut(alias.key) {
        *slot = Value::Obj(object);
    }
    result?;
    if empty {
        alias.remove(event);
    }
    Ok(())
}

fn derive_type_and_message(event: &mut Event) -> Step<()> {
    if let Some(Value::Str(stack)) = event.get(ERROR_STACK) {
        if let Some((kind, message)) = exception_line(stack)? {
            if !event.contains_key(ERROR_TYPE) {
                event.insert(ERROR_TYPE, Value::Str(kind));
            }
            if !event.contains_key(ERROR_MESSAGE) && !message.is_empty() {
                event.insert(ERROR_MESSAGE, Value::Str(message));
            }
            return Ok(());
        }
    }
    if !event.contains_key(ERROR_TYPE) {
        if let Some(Value::Str(message)) = event.get(ERROR_MESSAGE) {
            if let Some((kind, _)) = exception_line(message)? {
                event.insert(ERROR_TYPE, Value::Str(kind));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- tag_http

struct HttpAliases {
    method: Vec<Alias>,
    url: Vec<Alias>,
    status: Vec<Alias>,
    duration: Vec<(Alias, f64)>,
    heads: Vec<K>,
}

fn as_status(value: &Value) -> Step<Option<i64>> {
    Ok(match value {
        Value::Int(n) if (0..1000).contains(n) => Some(*n),
        Value::Str(s) => {
            let text = py_strip(s);
            if is_ascii_digits(text) && text.len() < 4 {
                Some(text.parse().map_err(|_| Decline)?)
            } else {
                None
            }
        }
        Value::Float(f) if f.fract() == 0.0 && (0.0..1000.0).contains(f) => Some(*f as i64),
        _ => None,
    })
}

/// A duration in milliseconds, as an int or a float (Python keeps an int an int).
enum Millis {
    Int(i64),
    Float(f64),
}

const MAX_DURATION_MILLIS: f64 = 9e12;

fn decimal_text(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok =
        digits_ok(whole) && digits_ok(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits_ok(e)
    });
    mantissa_ok && exponent_ok
}

fn as_millis(value: &Value, millis_per_unit: f64) -> Step<Option<Millis>> {
    let millis = match value {
        Value::Str(s) => {
            let text = py_strip(s);
            if text.chars().last().is_some_and(|c| c.is_alphabetic()) || !text.is_ascii() {
                return Err(Decline); // Go durations ("1.5s") and the rest: Python
            }
            if text.contains('_') || text.is_empty() {
                return Ok(None);
            }
            if !decimal_text(text) {
                return Err(Decline);
            }
            Millis::Float(text.parse::<f64>().map_err(|_| Decline)?)
        }
        Value::Int(n) => Millis::Int(*n),
        Value::Float(f) => Millis::Float(*f),
        _ => return Ok(None),
    };
    let millis = if millis_per_unit != 1.0 {
        match millis {
            Millis::Int(n) => Millis::Float(n as f64 * millis_per_unit),
            Millis::Float(f) => Millis::Float(f * millis_per_unit),
        }
    } else {
        millis
    };
    Ok(match millis {
        Millis::Int(n) if n >= 0 && (n as f64) < MAX_DURATION_MILLIS && n < 9_000_000_000_000 => {
            Some(millis)
        }
        Millis::Float(f) if (0.0..MAX_DURATION_MILLIS).contains(&f) => Some(millis),
        _ => None,
    })
}

fn tag_http(event: &mut Event, a: &HttpAliases) -> Step<()> {
    if !a.heads.iter().any(|head| event.contains_key(*head)) {
        return Ok(());
    }
    let Some((method_alias, method)) = find_first(event, &a.method, as_nonempty_str)? else {
        return Ok(());
    };
    let Some((url_alias, url)) = find_first(event, &a.url, as_nonempty_str)? else {
        return Ok(());
    };
    if !method.is_ascii() {
        return Err(Decline);
    }
    let (path, query) = split_url(&url)?;
    method_alias.remove(event);
    url_alias.remove(event);
    event.insert(
        K::HTTP__REQUEST__METHOD,
        Value::Str(py_strip(&method).to_ascii_uppercase()),
    );
    event.insert(K::URL__ORIGINAL, Value::Str(url));
    event.insert(K::URL__PATH, Value::Str(path));
    if let Some(query) = query {
        event.insert(K::URL__QUERY, Value::Str(query));
    }
    if let Some((status_alias, status)) = find_first(event, &a.status, as_status)? {
        status_alias.remove(event);
        event.insert(K::HTTP__RESPONSE__STATUS_CODE, Value::Int(status));
    }
    for (alias, millis_per_unit) in &a.duration {
        let Some(value) = alias.get(event) else {
            continue;
        };
        let Some(millis) = as_millis(value, *millis_per_unit)? else {
            continue;
        };
        alias.remove(event);
        let (nanos, slow) = match millis {
            Millis::Int(n) => (n * 1_000_000, n as f64 > 1000.0),
            Millis::Float(f) => ((f * 1e6).round_ties_even() as i64, f > 1000.0),
        };
        event.insert(K::EVENT__DURATION, Value::Int(nanos));
        if slow {
            add_tag(event, "slow_request");
        }
        break;
    }
    add_tag(event, "http");
    Ok(())
}

fn split_url(url: &str) -> Step<(String, Option<String>)> {
    if !url.starts_with('/') && url.contains("://") {
        return Err(Decline); // urlsplit: Python
    }
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    Ok((
        path.to_string(),
        if query.is_empty() {
            None
        } else {
            Some(query.to_string())
        },
    ))
}

// ---------------------------------------------------------------- map_common_fields

#[derive(Clone, Copy, PartialEq)]
enum Convert {
    Id,
    Address,
    Port,
    NonEmpty,
}

fn as_port(text: &str) -> Option<i64> {
    if is_ascii_digits(text) && text.len() <= 5 {
        let port: i64 = text.parse().ok()?;
        (port <= 65535).then_some(port)
    } else {
        None
    }
}

fn split_host_port(text: &str) -> (String, Option<i64>) {
    if let Some(inner) = text.strip_prefix('[') {
        if let Some(close) = text.find(']') {
            if close > 1 {
                let rest = &text[close + 1..];
                let port = rest.strip_prefix(':').and_then(as_port);
                if port.is_some() || rest.is_empty() {
                    return (inner[..close - 1].to_string(), port);
                }
            }
        }
        return (text.to_string(), None);
    }
    if let Some((host, port_text)) = text.split_once(':') {
        if !host.is_empty() && !port_text.contains(':') {
            if let Some(port) = as_port(port_text) {
                return (host.to_string(), Some(port));
            }
        }
    }
    (text.to_string(), None)
}

enum Common {
    Text(String),
    Address(String, Option<i64>),
    Port(i64),
}

fn convert_common(kind: Convert, value: &Value) -> Step<Option<Common>> {
    Ok(match (kind, value) {
        (Convert::Id, Value::Str(s)) if !s.is_empty() => Some(Common::Text(s.clone())),
        (Convert::Id, Value::Int(n)) => Some(Common::Text(n.to_string())),
        (Convert::Address, Value::Str(s)) if !py_strip(s).is_empty() => {
            let (ip, port) = split_host_port(py_strip(s));
            Some(Common::Address(ip, port))
        }
        (Convert::Port, Value::Int(n)) if (0..=65535).contains(n) => Some(Common::Port(*n)),
        (Convert::Port, Value::Str(s)) => as_port(py_strip(s)).map(Common::Port),
        (Convert::NonEmpty, Value::Str(s)) if !py_strip(s).is_empty() => {
            Some(Common::Text(s.clone()))
        }
        _ => None,
    })
}

fn map_common_fields(
    event: &mut Event,
    mappings: &[(&'static str, Vec<Alias>, Convert)],
) -> Step<()> {
    for (target, list, kind) in mappings {
        if *target == "client.port" && event.contains_key(K::CLIENT__PORT) {
            continue;
        }
        let Some((alias, value)) = find_first(event, list, |v| convert_common(*kind, v))? else {
            continue;
        };
        alias.remove(event);
        match value {
            Common::Text(text) => {
                event.insert(*target, Value::Str(text));
            }
            Common::Address(ip, port) => {
                if let Some(port) = port {
                    event.insert(K::CLIENT__PORT, Value::Int(port));
                }
                event.insert(*target, Value::Str(ip));
            }
            Common::Port(port) => {
                event.insert(*target, Value::Int(port));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- fingerprint_error

/// `parsers.fingerprint.FingerprintError` with its default `frames`: the grouping key, title and
/// culprit of an event `tag_error` tagged `error` (`fingerprint.rs`).
fn fingerprint_error(event: &mut Event) {
    let tagged = matches!(event.get(K::TAGS), Some(Value::List(items))
        if items.iter().any(|item| matches!(item, Value::Str(s) if s == "error")));
    if !tagged {
        return;
    }
    fn text(value: Option<&Value>) -> Option<&str> {
        match value {
            Some(Value::Str(s)) => Some(s.as_str()),
            _ => None,
        }
    }
    let message = text(event.get(ERROR_MESSAGE))
        .or_else(|| text(event.get(K::MESSAGE)))
        .unwrap_or("");
    let (key, title, culprit) = crate::fingerprint::grouping(
        text(event.get(K::SERVICE__NAME)).unwrap_or(""),
        text(event.get(ERROR_TYPE)),
        message,
        text(event.get(ERROR_STACK)),
        1,
    );
    event.insert("error.grouping_key", Value::Str(key));
    event.insert("error.grouping_name", Value::Str(title));
    if let Some(culprit) = culprit {
        event.insert("error.culprit", Value::Str(culprit));
    }
}

// ---------------------------------------------------------------- fit_ecs_objects

const HOMES: [(K, K); 12] = [
    (K::USER, K::USER__NAME),
    (K::URL, K::URL__ORIGINAL),
    (K::HOST, K::HOST__NAME),
    (K::ERROR, K::ERROR__MESSAGE),
    (K::SERVICE, K::SERVICE__NAME),
    (K::TRACE, K::TRACE__ID),
    (K::SPAN, K::SPAN__ID),
    (K::USER_AGENT, K::USER_AGENT__ORIGINAL),
    (K::CLIENT, K::CLIENT__ADDRESS),
    (K::LOG, K::LOG__ORIGINAL),
    (K::EVENT, K::EVENT__ORIGINAL),
    (K::HTTP, K::HTTP__VALUE),
];

fn fit_ecs_objects(event: &mut Event) {
    for (root, home) in HOMES {
        match event.get(root) {
            None | Some(Value::Null) | Some(Value::Obj(_)) => continue,
            Some(_) => {}
        }
        let value = event.shift_remove(root).unwrap_or(Value::Null);
        let target = if event.contains_key(home) {
            Key::from(format!("{}.value", root.name()))
        } else {
            Key::from(home)
        };
        event.insert(target, value);
    }
}

// ---------------------------------------------------------------- template_endpoint

fn extract_path(value: &str) -> Option<&str> {
    let path = if value.starts_with('/') {
        value
    } else {
        let scheme_end = value.find("://")?;
        if scheme_end == 0 {
            return None;
        }
        let authority = scheme_end + 3;
        let Some(slash) = value[authority..].find('/').map(|i| i + authority) else {
            return Some("/");
        };
        if value[authority..slash].contains(['?', '#']) {
            return Some("/");
        }
        &value[slash..]
    };
    Some(match path.find(['?', '#']) {
        Some(cut) => &path[..cut],
        None => path,
    })
}

fn is_id(segment: &str) -> bool {
    let b = segment.as_bytes();
    if b.iter().all(u8::is_ascii_digit) {
        return true;
    }
    if b.len() < 16 {
        return false;
    }
    if b.iter().all(u8::is_ascii_hexdigit) {
        return true;
    }
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

fn template(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.is_empty() {
        return "/".into();
    }
    let mut out = String::with_capacity(path.len() + 8);
    for segment in segments {
        out.push('/');
        out.push_str(if is_id(segment) { "{id}" } else { segment });
    }
    if path.ends_with('/') {
        out.push('/');
    }
    out
}

fn template_endpoint(event: &mut Event) {
    for field in [K::URL__PATH, K::URL__ORIGINAL, K::PATH, K::URL] {
        if let Some(Value::Str(value)) = event.get(field) {
            if value.is_empty() {
                continue;
            }
            if let Some(path) = extract_path(value) {
                let endpoint = template(path);
                event.insert(K::ENDPOINT, Value::Str(endpoint));
                return;
            }
        }
    }
}

// ---------------------------------------------------------------- classify_status

fn classify_status(event: &mut Event) {
    if let Some(Value::Int(code)) = event.get(K::HTTP__RESPONSE__STATUS_CODE) {
        if (100..=599).contains(code) {
            let class = ["1xx", "2xx", "3xx", "4xx", "5xx"][(*code / 100 - 1) as usize];
            event.insert(K::HTTP__RESPONSE__STATUS_CLASS, Value::Str(class.into()));
        }
    }
}

// ---------------------------------------------------------------- redact: what it may touch (redact.rs masks it)

const SECRET_TERMS: [&str; 7] = [
    "apikey",
    "authorization",
    "cookie",
    "passwd",
    "password",
    "secret",
    "token",
];
const ALLOWED_NAMES: [&str; 7] = [
    "completiontokens",
    "inputtokens",
    "maxtokens",
    "outputtokens",
    "prompttokens",
    "tokencount",
    "totaltokens",
];

fn normalize(text: &str) -> String {
    text.bytes()
        .filter(|b| *b != b'-' && *b != b'_')
        .map(|b| b.to_ascii_lowercase() as char)
        .collect()
}

fn mentions_term(normalized: &str) -> bool {
    SECRET_TERMS.iter().any(|term| normalized.contains(term))
}

thread_local! {
    /// Field names repeat from line to line: whether each is secret, worked out once (bounded).
    static SECRET_NAMES: std::cell::RefCell<rustc_hash::FxHashMap<String, bool>> = Default::default();
}

fn is_secret_name(name: &str) -> Step<bool> {
    if let Some(known) = SECRET_NAMES.with_borrow(|names| names.get(name).copied()) {
        return Ok(known);
    }
    let secret = secret_name(name)?;
    SECRET_NAMES.with_borrow_mut(|names| {
        if names.len() >= 4096 {
            names.clear();
        }
        names.insert(name.to_string(), secret);
    });
    Ok(secret)
}

fn secret_name(name: &str) -> Step<bool> {
    if !name.is_ascii() {
        return Ok(redact::non_ascii_secret_name(name));
    }
    if !name
        .bytes()
        .any(|b| matches!(b.to_ascii_lowercase(), b'a' | b'c' | b'p' | b's' | b't'))
    {
        return Ok(false); // every term starts with one of these letters
    }
    let normalized = normalize(name);
    let last = normalized.rsplit('.').next().unwrap_or("");
    Ok(mentions_term(&normalized) && !ALLOWED_NAMES.contains(&last))
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

/// Whether a redaction pattern could change this string (then the line is Python's): `@`, a card
/// trigger, `bearer` in any case, or `=` beside a secret-name term; one pass over the bytes.
fn may_scrub(text: &str) -> bool {
    let b = text.as_bytes();
    let (mut equals, mut bearer, mut wide) = (false, false, false);
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'@' => return true,
            b'=' => equals = true,
            b'0'..=b'9' => {
                if card_starts_at(b, i) {
                    return true;
                }
            }
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
    bearer || (equals && mentions_term(&normalize(text)))
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

fn top_level_kind(key: &str) -> Step<TopLevel> {
    if matches!(
        key,
        "@raw" | "@source_id" | "@timestamp" | "event.id" | "trace.id" | "span.id"
    ) || key.starts_with("log.")
    {
        return Ok(TopLevel::Skip);
    }
    Ok(if is_secret_name(key)? {
        TopLevel::Secret
    } else {
        TopLevel::Scan
    })
}

/// `top_level_kind` of every name the chain knows, by id, worked out once.
fn known_kinds() -> &'static [Option<TopLevel>] {
    static KINDS: OnceLock<Vec<Option<TopLevel>>> = OnceLock::new();
    KINDS.get_or_init(|| {
        event::known_names()
            .iter()
            .map(|name| top_level_kind(name).ok())
            .collect()
    })
}

fn redact_would_touch(event: &Event) -> Step<bool> {
    let mut pending: Vec<&Value> = Vec::new();
    let kinds = known_kinds();
    for (key, id, value) in event.iter() {
        let kind = match id.and_then(|id| kinds[usize::from(id)]) {
            Some(kind) => kind,
            None => top_level_kind(key)?,
        };
        match kind {
            TopLevel::Skip => continue,
            TopLevel::Secret => return Ok(true),
            TopLevel::Scan => pending.push(value),
        }
    }
    while let Some(value) = pending.pop() {
        match value {
            Value::Str(s) if may_scrub(s) => return Ok(true),
            Value::List(items) => pending.extend(items.iter()),
            Value::Obj(map) => {
                for (key, item) in map {
                    if is_secret_name(key)? {
                        return Ok(true);
                    }
                    pending.push(item);
                }
            }
            _ => {}
        }
    }
    Ok(false)
}

// ---------------------------------------------------------------- assign_id

fn event_id(source_id: &str, offset: i64) -> String {
    let mut hasher = blake2::Blake2bVar::new(15).expect("15 is a valid BLAKE2b size");
    let mut text = Vec::with_capacity(source_id.len() + 21);
    text.extend_from_slice(source_id.as_bytes());
    text.push(b':');
    write_int(&mut text, offset);
    hasher.update(&text);
    let mut digest = [0u8; 15];
    hasher
        .finalize_variable(&mut digest)
        .expect("digest size matches");
    base64::engine::general_purpose::URL_SAFE.encode(digest)
}

// ---------------------------------------------------------------- serialize (nest)

/// The nested document, borrowing the flat event's keys and values: nesting moves no value and
/// allocates no key. Every node of the tree lives in one list (one allocation per line, not one
/// per object): an object's members are a chain of `next` links from its `first` to its `last`.
struct Tree<'a> {
    nodes: Vec<Node<'a>>,
}

struct Node<'a> {
    name: &'a str,
    kind: Kind<'a>,
    /// The next member of the same object, or `NONE`.
    next: u32,
}

enum Kind<'a> {
    Leaf(&'a Value),
    /// An object's members (`first == NONE`: none yet).
    Object {
        first: u32,
        last: u32,
    },
}

const NONE: u32 = u32::MAX;
/// The document's top level: the first node.
const ROOT: u32 = 0;

impl<'a> Tree<'a> {
    fn new(capacity: usize) -> Self {
        let mut nodes = Vec::with_capacity(capacity);
        nodes.push(Node {
            name: "",
            kind: Kind::Object {
                first: NONE,
                last: NONE,
            },
            next: NONE,
        });
        Tree { nodes }
    }

    fn kind(&mut self, at: u32) -> &mut Kind<'a> {
        &mut self.nodes[at as usize].kind
    }

    /// The member of object `parent` named `name`.
    fn find(&self, parent: u32, name: &str) -> Option<u32> {
        let Kind::Object { first, .. } = self.nodes[parent as usize].kind else {
            return None;
        };
        let mut at = first;
        while at != NONE {
            let node = &self.nodes[at as usize];
            if same_name(node.name, name) {
                return Some(at);
            }
            at = node.next;
        }
        None
    }

    /// Add a member at the end of object `parent`.
    fn append(&mut self, parent: u32, name: &'a str, kind: Kind<'a>) -> u32 {
        let at = self.nodes.len() as u32;
        self.nodes.push(Node {
            name,
            kind,
            next: NONE,
        });
        if let Kind::Object { first, last } = &mut self.nodes[parent as usize].kind {
            if *first == NONE {
                *first = at;
            } else {
                let previous = *last;
                self.nodes[previous as usize].next = at;
            }
            if let Kind::Object { last, .. } = &mut self.nodes[parent as usize].kind {
                *last = at;
            }
        }
        at
    }

    /// Whether node `at` is an object to descend into or merge with, making a decoded object
    /// (a leaf) into members first; `false` for a scalar.
    fn as_object(&mut self, at: u32) -> bool {
        match self.nodes[at as usize].kind {
            Kind::Object { .. } => true,
            Kind::Leaf(Value::Obj(map)) => {
                self.nodes[at as usize].kind = Kind::Object {
                    first: NONE,
                    last: NONE,
                };
                for (key, value) in map {
                    self.append(at, key.as_str(), Kind::Leaf(value));
                }
                true
            }
            Kind::Leaf(_) => false,
        }
    }

    fn write(&self, out: &mut Vec<u8>, at: u32) {
        match self.nodes[at as usize].kind {
            Kind::Leaf(value) => write_value(out, value),
            Kind::Object { first, .. } => {
                out.push(b'{');
                let mut member = first;
                while member != NONE {
                    let node = &self.nodes[member as usize];
                    if member != first {
                        out.push(b',');
                    }
                    write_str(out, node.name);
                    out.push(b':');
                    self.write(out, member);
                    member = node.next;
                }
                out.push(b'}');
            }
        }
    }

    /// `nest`'s placing of one flat field at `path`; a conflict (a scalar where an object is
    /// needed, an object met by a scalar) is declined.
    fn place(&mut self, path: &[&'a str], value: &'a Value) -> Step<()> {
        let (last, parents) = path.split_last().ok_or(Decline)?;
        let mut parent = ROOT;
        for part in parents {
            let child = match self.find(parent, part) {
                Some(child) => child,
                None => self.append(
                    parent,
                    part,
                    Kind::Object {
                        first: NONE,
                        last: NONE,
                    },
                ),
            };
            if matches!(self.kind(child), Kind::Leaf(Value::Null)) {
                *self.kind(child) = Kind::Object {
                    first: NONE,
                    last: NONE,
                };
            }
            if !self.as_object(child) {
                return Err(Decline);
            }
            parent = child;
        }
        match self.find(parent, last) {
            None => {
                self.append(parent, last, Kind::Leaf(value));
            }
            Some(existing) => match self.kind(existing) {
                Kind::Leaf(Value::Null) => *self.kind(existing) = Kind::Leaf(value),
                Kind::Object { .. } | Kind::Leaf(Value::Obj(_)) => match value {
                    Value::Obj(other) => {
                        self.as_object(existing);
                        self.merge(existing, other);
                    }
                    _ => return Err(Decline),
                },
                Kind::Leaf(_) => *self.kind(existing) = Kind::Leaf(value),
            },
        }
        Ok(())
    }

    fn merge(&mut self, into: u32, other: &'a Map) {
        for (key, value) in other {
            let Some(existing) = self.find(into, key) else {
                self.append(into, key.as_str(), Kind::Leaf(value));
                continue;
            };
            if let Value::Obj(more) = value {
                if self.as_object(existing) {
                    self.merge(existing, more);
                    continue;
                }
            }
            *self.kind(existing) = Kind::Leaf(value);
        }
    }
}

/// Name equality, length and last byte first: most names in a scan differ there, without a call
/// to memcmp.
fn same_name(name: &str, key: &str) -> bool {
    name.len() == key.len() && name.as_bytes().last() == key.as_bytes().last() && name == key
}

/// A name of a shape: a known name's id, or another name's text.
enum ShapeName {
    Known(u8),
    Other(Box<str>),
}

/// The document of every event of one shape (its names, in order) whose names meet only in the
/// objects their dots make (no name is a leaf where another name's path goes on, the usual case):
/// then nesting depends on the names alone, so the document is fixed text (braces, escaped names)
/// around the values, in `literals`, each `steps` entry giving where a value goes in the text and
/// which value (the event's order). Worked out once per shape (`PLANS`), it replaces the tree of
/// `write_nested` and the escaping of every name, which were a quarter of the chain's instructions.
struct Plan {
    names: Vec<ShapeName>,
    literals: Vec<u8>,
    steps: Vec<(usize, usize)>,
}

/// A member of a planned document: an object's members, or the index of a value.
struct PlanNode<'a> {
    name: &'a str,
    members: Vec<usize>,
    value: Option<usize>,
}

impl Plan {
    /// The plan for `event`'s shape, or None when its names meet elsewhere than in a dotted
    /// name's objects, or have more parts than the tree takes (`write_nested` decides those).
    fn of(event: &Event) -> Option<Plan> {
        let mut nodes = vec![PlanNode {
            name: "",
            members: Vec::new(),
            value: None,
        }];
        let mut names = Vec::with_capacity(event.len());
        for (index, (key, id, _)) in event.iter().enumerate() {
            names.push(match id {
                Some(id) => ShapeName::Known(id),
                None => ShapeName::Other(key.into()),
            });
            let path: Vec<&str> = if key == "@timestamp" {
                vec![key]
            } else {
                key.split('.').collect()
            };
            if path.len() > 16 {
                return None;
            }
            let (last, parents) = path.split_last()?;
            let mut parent = 0;
            for part in parents {
                let found = nodes[parent]
                    .members
                    .iter()
                    .copied()
                    .find(|&at| nodes[at].name == *part);
                parent = match found {
                    Some(at) if nodes[at].value.is_none() => at,
                    Some(_) => return None,
                    None => {
                        nodes.push(PlanNode {
                            name: part,
                            members: Vec::new(),
                            value: None,
                        });
                        let at = nodes.len() - 1;
                        nodes[parent].members.push(at);
                        at
                    }
                };
            }
            if nodes[parent]
                .members
                .iter()
                .any(|&at| nodes[at].name == *last)
            {
                return None;
            }
            nodes.push(PlanNode {
                name: last,
                members: Vec::new(),
                value: Some(index),
            });
            let at = nodes.len() - 1;
            nodes[parent].members.push(at);
        }
        let mut plan = Plan {
            names,
            literals: Vec::new(),
            steps: Vec::new(),
        };
        plan.emit(&nodes, 0);
        Some(plan)
    }

    fn emit(&mut self, nodes: &[PlanNode], at: usize) {
        self.literals.push(b'{');
        for (n, &member) in nodes[at].members.iter().enumerate() {
            if n > 0 {
                self.literals.push(b',');
            }
            write_str(&mut self.literals, nodes[member].name);
            self.literals.push(b':');
            match nodes[member].value {
                Some(index) => self.steps.push((self.literals.len(), index)),
                None => self.emit(nodes, member),
            }
        }
        self.literals.push(b'}');
    }

    /// Whether `event` has exactly this plan's names (a hash may collide).
    fn fits(&self, event: &Event) -> bool {
        let mut names = self.names.iter();
        event.iter().all(|(key, id, _)| match (names.next(), id) {
            (Some(ShapeName::Known(a)), Some(b)) => *a == b,
            (Some(ShapeName::Other(a)), None) => **a == *key,
            _ => false,
        }) && names.next().is_none()
    }

    fn write(&self, out: &mut Vec<u8>, event: &Event) {
        let mut values: Vec<&Value> = Vec::with_capacity(self.names.len());
        values.extend(event.iter().map(|(_, _, value)| value));
        let mut from = 0;
        for &(to, index) in &self.steps {
            out.extend_from_slice(&self.literals[from..to]);
            write_value(out, values[index]);
            from = to;
        }
        out.extend_from_slice(&self.literals[from..]);
    }
}

/// At most this many shapes are remembered per thread; then the memory starts over.
const MAX_PLANS: usize = 4096;

thread_local! {
    /// Plans by shape hash; None for a shape whose names meet (the tree decides each such event).
    static PLANS: std::cell::RefCell<rustc_hash::FxHashMap<u64, Option<std::rc::Rc<Plan>>>> =
        std::cell::RefCell::new(rustc_hash::FxHashMap::default());
}

/// The event's document by its shape's plan; false (nothing written) when the shape has none.
fn write_planned(out: &mut Vec<u8>, event: &Event) -> bool {
    let hash = event.shape_hash();
    let plan = PLANS.with(|plans| {
        let mut plans = plans.borrow_mut();
        if let Some(known) = plans.get(&hash) {
            return known.clone();
        }
        if plans.len() >= MAX_PLANS {
            plans.clear();
        }
        let plan = Plan::of(event).map(std::rc::Rc::new);
        plans.insert(hash, plan.clone());
        plan
    });
    match plan {
        Some(plan) if plan.fits(event) => {
            plan.write(out, event);
            true
        }
        _ => false,
    }
}

/// `ingest.document.nest` then orjson, for events without a conflict (a conflict is declined).
fn write_nested(out: &mut Vec<u8>, event: &Event) -> Step<()> {
    #[cfg(test)]
    if bench::TREE_ONLY.with(std::cell::Cell::get) {
        return write_tree(out, event);
    }
    if write_planned(out, event) {
        return Ok(());
    }
    write_tree(out, event)
}

/// `write_nested` through a tree of the event's names: for any shape, the plan's or another.
fn write_tree(out: &mut Vec<u8>, event: &Event) -> Step<()> {
    let mut tree = Tree::new(event.len() * 2 + 8);
    // The first parts of the dotted names: an undotted name that is none of them can meet no other
    // name at the top (the event's names are unique), so it is appended without a search.
    let mut heads: Vec<&str> = Vec::with_capacity(16);
    for (key, _, _) in event.iter() {
        if key != "@timestamp" {
            if let Some(dot) = key.bytes().position(|b| b == b'.') {
                heads.push(&key[..dot]);
            }
        }
    }
    for (key, _, value) in event.iter() {
        if key == "@timestamp" || !key.as_bytes().contains(&b'.') {
            if heads.iter().any(|head| same_name(head, key)) {
                tree.place(&[key], value)?;
            } else {
                tree.append(ROOT, key, Kind::Leaf(value));
            }
        } else {
            let mut parts = [""; 16];
            let mut count = 0;
            let mut start = 0;
            for (at, byte) in key.bytes().enumerate() {
                if byte == b'.' {
                    *parts.get_mut(count).ok_or(Decline)? = &key[start..at];
                    count += 1;
                    start = at + 1;
                }
            }
            *parts.get_mut(count).ok_or(Decline)? = &key[start..];
            count += 1;
            tree.place(&parts[..count], value)?;
        }
    }
    tree.write(out, ROOT);
    Ok(())
}

// ---------------------------------------------------------------- the chain

pub struct Chain {
    host_name: String,
    error: ErrorAliases,
    http: HttpAliases,
    common: Vec<(&'static str, Vec<Alias>, Convert)>,
    level: Vec<Alias>,
    message: Vec<Alias>,
}

impl Chain {
    pub fn new(host_name: String) -> Self {
        Chain {
            host_name,
            error: ErrorAliases {
                panics: aliases(&["panic"]),
                objects: aliases(&["error", "err"]),
                messages: aliases(&["error_message", "errorMessage"]),
                types: aliases(&["error_type", "errorType", "exception_type", "exc_type"]),
                stacks: aliases(&[
                    "stack_trace",
                    "stack",
                    "stacktrace",
                    "exception",
                    "exc_info",
                    "errorVerbose",
                ]),
            },
            http: HttpAliases {
                method: aliases(&[
                    "method",
                    "req.method",
                    "request.method",
                    "http.request.method",
                ]),
                url: aliases(&[
                    "url",
                    "path",
                    "req.url",
                    "request.url",
                    "req.path",
                    "url.original",
                ]),
                status: aliases(&[
                    "status",
                    "statusCode",
                    "status_code",
                    "res.statusCode",
                    "res.status",
                    "response.status",
                    "http.response.status_code",
                ]),
                duration: vec![
                    (Alias::new("responseTime"), 1.0),
                    (Alias::new("response_time"), 1.0),
                    (Alias::new("duration_ms"), 1.0),
                    (Alias::new("latency"), 1000.0),
                    (Alias::new("elapsed_ms"), 1.0),
                    (Alias::new("duration"), 1e-6),
                ],
                heads: vec![
                    K::METHOD,
                    K::REQ,
                    K::REQUEST,
                    K::HTTP,
                    K::REQ__METHOD,
                    K::REQUEST__METHOD,
                    K::HTTP__REQUEST__METHOD,
                ],
            },
            common: vec![
                (
                    "user.id",
                    aliases(&["userId", "user_id", "user.id"]),
                    Convert::Id,
                ),
                (
                    "client.ip",
                    aliases(&["ip", "remote_addr", "client_ip", "req.remoteAddress"]),
                    Convert::Address,
                ),
                (
                    "client.port",
                    aliases(&["client_port", "remote_port", "req.remotePort"]),
                    Convert::Port,
                ),
                (
                    "user_agent.original",
                    aliases(&["userAgent", "user_agent", "ua", "req.headers.user-agent"]),
                    Convert::NonEmpty,
                ),
                (
                    "trace.id",
                    aliases(&["trace_id", "traceId", "trace.id"]),
                    Convert::Id,
                ),
                (
                    "span.id",
                    aliases(&["span_id", "spanId", "span.id"]),
                    Convert::Id,
                ),
                (
                    "service.name",
                    aliases(&["service", "service_name", "app", "service.name"]),
                    Convert::NonEmpty,
                ),
            ],
            level: aliases(&["level", "severity", "log.level", "lvl", "levelname"]),
            message: aliases(&["msg", "event"]),
        }
    }

    /// The shipped document of one source line, or `Decline`.
    pub fn process(
        &self,
        raw: &[u8],
        source: Vec<(String, Value)>,
        ingested: &str,
    ) -> Step<Output> {
        let source = source
            .into_iter()
            .map(|(key, value)| (Key::from(key), value));
        let mut doc = Vec::with_capacity(raw.len() + 512);
        let stub = self.process_event(decode(raw, source)?, ingested, &mut doc)?;
        Ok(stub.with_doc(doc))
    }

    #[cfg(test)]
    /// `process` for a line of a file: exactly what `process` gives for the source fields
    /// `[("@source_id", source_id), ("log.file.path", path), ("log.offset", offset)]`, without
    /// building them as a list of owned names first.
    pub fn process_file_line(
        &self,
        raw: &[u8],
        source_id: &str,
        path: &str,
        offset: i64,
        ingested: &str,
    ) -> Step<Output> {
        let mut doc = Vec::with_capacity(raw.len() + 512);
        let stub = self.process_file_line_into(raw, source_id, path, offset, ingested, &mut doc)?;
        Ok(stub.with_doc(doc))
    }

    /// `process_file_line` appending the document to `docs`, which is left as it was on `Decline`:
    /// a block's documents written one after another into one buffer stay in the cache, where a
    /// fresh buffer per line cost about as much as the chain itself (measured in process_lines).
    pub fn process_file_line_into(
        &self,
        raw: &[u8],
        source_id: &str,
        path: &str,
        offset: i64,
        ingested: &str,
        docs: &mut Vec<u8>,
    ) -> Step<Stub> {
        let source = [
            (Key::from(K::AT_SOURCE_ID), Value::Str(source_id.to_owned())),
            (Key::from(K::LOG__FILE__PATH), Value::Str(path.to_owned())),
            (Key::from(K::LOG__OFFSET), Value::Int(offset)),
        ];
        let start = docs.len();
        let stub = self.process_event(decode(raw, source)?, ingested, docs);
        if stub.is_err() {
            docs.truncate(start);
        }
        stub
    }

    fn process_event(&self, mut event: Event, ingested: &str, doc: &mut Vec<u8>) -> Step<Stub> {
        // apply_path_settings: no rules in the default config
        let timestamp = parse_timestamp(&mut event, ingested)?;
        if let Some((alias, level)) = find_first(&event, &self.level, convert_level)? {
            alias.remove(&mut event);
            event.insert(K::LOG__LEVEL, Value::Str(level));
        }
        if !event.contains_key(K::MESSAGE) {
            if let Some((alias, text)) = find_first(&event, &self.message, as_str)? {
                alias.remove(&mut event);
                event.insert(K::MESSAGE, Value::Str(text));
            }
        }
        tag_error(&mut event, &self.error)?;
        tag_http(&mut event, &self.http)?;
        map_common_fields(&mut event, &self.common)?;
        fingerprint_error(&mut event);
        fit_ecs_objects(&mut event);
        template_endpoint(&mut event);
        classify_status(&mut event);
        let redactions = redact::redact(&mut event)?;
        // add_metadata
        let names_host = event.contains_key(K::HOST__NAME)
            || matches!(event.get(K::HOST), Some(Value::Obj(host)) if host.contains_key("name"));
        if !names_host {
            event.insert(K::HOST__NAME, Value::Str(self.host_name.clone()));
        }
        event.insert(K::EVENT__INGESTED, Value::Str(ingested.to_string()));
        // assign_id
        let source_id = match event.shift_remove(K::AT_SOURCE_ID) {
            Some(Value::Str(id)) if !id.is_empty() && id != "stdin" => id,
            _ => return Err(Decline), // a content-hashed id: Python
        };
        let Some(Value::Int(offset)) = event.get(K::LOG__OFFSET) else {
            return Err(Decline);
        };
        let id = event_id(&source_id, *offset);
        event.insert(K::EVENT__ID, Value::Str(id.clone()));
        if !matches!(event.get(K::AT_TIMESTAMP), Some(Value::Str(t)) if *t == timestamp) {
            return Err(Decline);
        }
        let tags = match event.get(K::TAGS) {
            Some(Value::Str(tag)) => vec![tag.clone()],
            Some(Value::List(items)) => items
                .iter()
                .filter_map(|item| {
                    if let Value::Str(s) = item {
                        Some(s.clone())
                    } else {
                        None
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        write_nested(doc, &event)?;
        Ok(Stub {
            event_id: id,
            timestamp,
            tags,
            redactions,
        })
    }
}

#[cfg(test)]
#[path = "chain_bench.rs"]
mod bench;
