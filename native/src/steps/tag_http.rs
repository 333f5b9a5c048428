//! `tag_http` (`parsers/http.py`): ECS request fields for a line with a method and a url, tag `http`,
//! and `slow_request` when its duration exceeds `slow_request_ms`.

use super::{
    add_tag, any_present, as_nonempty_str, find_first, head_keys, is_ascii_digits, py_strip, Alias,
    Build, Decline, Line, Maybe, Step,
};
use crate::event::{Event, NameRef, K};
use crate::json::Value;
use crate::options::{Built, Options, Refusal};

pub struct TagHttp {
    method: Vec<Alias>,
    url: Vec<Alias>,
    status: Vec<Alias>,
    /// Each duration field and its milliseconds per unit.
    duration: Vec<(Alias, f64)>,
    slow_ms: f64,
    heads: Vec<NameRef>,
}

/// `MILLIS_PER_UNIT`.
fn millis_per_unit(unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" => 1e-6,
        "us" => 1e-3,
        "ms" => 1.0,
        "s" => 1000.0,
        _ => return None,
    })
}

impl TagHttp {
    pub fn build(options: &mut Options, b: &mut Build) -> Built<Self> {
        let method = b.aliases(&options.string_list("method_fields")?);
        let url = b.aliases(&options.string_list("url_fields")?);
        let status = b.aliases(&options.string_list("status_fields")?);
        let mut duration = Vec::new();
        for spec in options.string_list("duration_fields")? {
            // `_duration_field`: "latency:s" is the field "latency" in seconds; no colon, milliseconds.
            let (name, unit) = match spec.rsplit_once(':') {
                Some((name, unit)) => (name, unit),
                None => (spec.as_str(), "ms"),
            };
            let per_unit = millis_per_unit(unit)
                .ok_or_else(|| Refusal::new(format!("tag_http: unit of {spec:?}")))?;
            duration.push((b.alias(name), per_unit));
        }
        let slow_ms = options.number("slow_request_ms")?;
        let heads = head_keys(&method);
        Ok(TagHttp {
            method,
            url,
            status,
            duration,
            slow_ms,
            heads,
        })
    }
}

fn as_status(value: &Value) -> Maybe<Option<i64>> {
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

fn as_millis(value: &Value, millis_per_unit: f64) -> Maybe<Option<Millis>> {
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

/// `split_url` for a request target; a full URL's path is `urlsplit`'s: declined.
fn split_url(url: &str) -> Maybe<(String, Option<String>)> {
    if !url.starts_with('/') && url.contains("://") {
        return Err(Decline);
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

impl Step for TagHttp {
    fn apply(&self, event: &mut Event, _line: &mut Line) -> Maybe<()> {
        if !any_present(event, &self.heads) {
            return Ok(());
        }
        let Some((method_alias, method)) = find_first(event, &self.method, as_nonempty_str)? else {
            return Ok(());
        };
        let Some((url_alias, url)) = find_first(event, &self.url, as_nonempty_str)? else {
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
        if let Some((status_alias, status)) = find_first(event, &self.status, as_status)? {
            status_alias.remove(event);
            event.insert(K::HTTP__RESPONSE__STATUS_CODE, Value::Int(status));
        }
        for (alias, per_unit) in &self.duration {
            let Some(value) = alias.get(event) else {
                continue;
            };
            let Some(millis) = as_millis(value, *per_unit)? else {
                continue;
            };
            alias.remove(event);
            let (nanos, slow) = match millis {
                Millis::Int(n) => (n * 1_000_000, n as f64 > self.slow_ms),
                Millis::Float(f) => ((f * 1e6).round_ties_even() as i64, f > self.slow_ms),
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
}
