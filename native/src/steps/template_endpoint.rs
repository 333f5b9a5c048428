//! `template_endpoint` (`enrich/endpoint.py`): `endpoint`, the request path with id-like segments
//! replaced by `{id}`, or the configured route it matches.

use super::{compile, plain_for_regex, Build, Decline, Line, Maybe, Step};
use crate::event::{Event, K};
use crate::json::Value;
use crate::options::{Built, Options};
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_STEP: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// Path segments repeat from line to line (`api`, `v1`, `users`): whether `id_patterns` take
    /// each, per step, worked out once (bounded), as Python remembers whole templates.
    static PATTERN_IDS: RefCell<FxHashMap<u64, FxHashMap<Box<str>, bool>>> = Default::default();
}

/// A configured route: its text, and per segment the literal (None for a `{placeholder}`).
type Route = (String, Vec<Option<String>>);

pub struct TemplateEndpoint {
    /// Routes by segment count, fewer placeholders first, then in the order listed.
    routes: FxHashMap<usize, Vec<Route>>,
    /// `id_patterns`, each matched against a whole segment; and whether it needs plain text.
    id_patterns: Vec<(regex::Regex, bool)>,
    uid: u64,
}

fn is_placeholder(segment: &str) -> bool {
    segment.len() >= 2 && segment.starts_with('{') && segment.ends_with('}')
}

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

impl TemplateEndpoint {
    pub fn build(options: &mut Options, b: &mut Build) -> Built<Self> {
        let mut routes: FxHashMap<usize, Vec<Route>> = FxHashMap::default();
        for route in options.string_list("routes")? {
            let literals: Vec<Option<String>> = segments(&route)
                .into_iter()
                .map(|s| (!is_placeholder(s)).then(|| s.to_string()))
                .collect();
            routes
                .entry(literals.len())
                .or_default()
                .push((route, literals));
        }
        for candidates in routes.values_mut() {
            candidates.sort_by_key(|(_, literals)| literals.iter().filter(|l| l.is_none()).count());
        }
        let mut id_patterns = Vec::new();
        for pattern in options.string_list("id_patterns")? {
            let translated = b.regex(&pattern)?;
            id_patterns.push((compile(&translated, true)?, translated.plain_text_only));
        }
        options.number("cache_size")?; // how many templates Python remembers: no effect on the result
        Ok(TemplateEndpoint {
            routes,
            id_patterns,
            uid: NEXT_STEP.fetch_add(1, Ordering::Relaxed),
        })
    }

    fn is_id(&self, segment: &str) -> Maybe<bool> {
        if builtin_id(segment) {
            return Ok(true);
        }
        if self.id_patterns.is_empty() {
            return Ok(false);
        }
        let known = PATTERN_IDS.with_borrow(|steps| {
            steps
                .get(&self.uid)
                .and_then(|ids| ids.get(segment).copied())
        });
        if let Some(known) = known {
            return Ok(known);
        }
        let found = self.pattern_id(segment)?;
        PATTERN_IDS.with_borrow_mut(|steps| {
            if steps.len() >= 64 && !steps.contains_key(&self.uid) {
                steps.clear(); // the steps of chains long gone: their memory starts over
            }
            let ids = steps.entry(self.uid).or_default();
            if ids.len() >= 4096 {
                ids.clear();
            }
            ids.insert(segment.into(), found);
        });
        Ok(found)
    }

    fn pattern_id(&self, segment: &str) -> Maybe<bool> {
        for (pattern, plain_only) in &self.id_patterns {
            if *plain_only && !plain_for_regex(segment) {
                return Err(Decline);
            }
            if pattern.is_match(segment) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn template(&self, path: &str) -> Maybe<String> {
        let parts = segments(path);
        if parts.is_empty() {
            return Ok("/".into());
        }
        if let Some(candidates) = self.routes.get(&parts.len()) {
            for (route, literals) in candidates {
                let matches = literals
                    .iter()
                    .zip(&parts)
                    .all(|(literal, segment)| literal.as_deref().is_none_or(|l| l == *segment));
                if matches {
                    return Ok(route.clone());
                }
            }
        }
        let mut out = String::with_capacity(path.len() + 8);
        for segment in parts {
            out.push('/');
            out.push_str(if self.is_id(segment)? {
                "{id}"
            } else {
                segment
            });
        }
        if path.ends_with('/') {
            out.push('/');
        }
        Ok(out)
    }
}

/// `_BUILTIN_ID` (ASCII digits, a UUID of any case, 16+ hex digits), matched whole.
fn builtin_id(segment: &str) -> bool {
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

/// `extract_path`: the path of a request target or URL, without query or fragment.
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

impl Step for TemplateEndpoint {
    fn apply(&self, event: &mut Event, _line: &mut Line) -> Maybe<()> {
        for field in [K::URL__PATH, K::URL__ORIGINAL, K::PATH, K::URL] {
            if let Some(Value::Str(value)) = event.get(field) {
                if value.is_empty() {
                    continue;
                }
                if let Some(path) = extract_path(value) {
                    let endpoint = self.template(path)?;
                    event.insert(K::ENDPOINT, Value::Str(endpoint));
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}
