//! Times as `parsers/timestamp.py` reads them: ISO 8601 as Python 3.11's `datetime.fromisoformat`
//! reads the forms loggers write, naive ones in a time zone, and epoch numbers by magnitude.
//!
//! A zone is the table `ingest/native_zones.py` works out from Python's own `zoneinfo`: the local
//! times (seconds since 1970 on the local clock) from which each UTC offset holds, for `fold=0`
//! (an ambiguous local time takes the first offset, a skipped one the offset before the gap), as
//! `datetime.replace(tzinfo=zone).astimezone(UTC)` reads them.

use super::{is_ascii_digits, plain, py_strip, Decline, Maybe};
use crate::json::Value;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Zone {
    /// The offset (seconds) before the first transition.
    initial: i64,
    /// `(local seconds, offset)`: from that local time on, this offset, ascending.
    transitions: Option<Arc<Vec<(i64, i64)>>>,
}

impl Zone {
    pub const UTC: Zone = Zone {
        initial: 0,
        transitions: None,
    };

    pub fn utc() -> Zone {
        Zone::UTC
    }

    pub fn new(initial: i64, transitions: Vec<(i64, i64)>) -> Zone {
        Zone {
            initial,
            transitions: Some(Arc::new(transitions)),
        }
    }

    /// The UTC offset of a local time (`bisect_right` over the local transitions, as zoneinfo does).
    pub fn offset_at_local(&self, local: i64) -> i64 {
        let Some(transitions) = &self.transitions else {
            return self.initial;
        };
        let at = transitions.partition_point(|(from, _)| *from <= local);
        if at == 0 {
            self.initial
        } else {
            transitions[at - 1].1
        }
    }
}

const MIN_MILLIS: i128 = 0;
const MAX_MILLIS: i128 = 4_133_980_800_000; // 2101-01-01T00:00:00Z

/// A time field's value read as `ParseTimestamp.parse` reads it: `Ok(Some)` the canonical time,
/// `Ok(None)` certainly no time (Python's `parse` gives `None`), `Err` not sure (declined).
pub type Time = Maybe<Option<String>>;

pub fn time_of(value: &Value, zone: &Zone) -> Time {
    match value {
        Value::Str(text) => match parse_text(text, zone) {
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
pub fn format_millis(millis: i128) -> Time {
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
/// `YYYY-MM-DD[T ]HH:MM:SS[.,fraction][Z|±HH|±HHMM|±HH:MM]`, and winston's `HH:MM:SS:mmm`; a time
/// without an offset is read in `zone`.
fn parse_text(text: &str, zone: &Zone) -> Time {
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
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    let offset_seconds = match &b[at..] {
        [] => zone.offset_at_local(local),
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
            let total = (hours * 60 + minutes) * 60;
            if *sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return Err(Decline),
    };
    format_millis((local - offset_seconds) as i128 * 1000 + millis as i128)
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
