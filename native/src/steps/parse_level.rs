//! `parse_level` (`parsers/level.py`): one lowercase `log.level` from the first usable field, names
//! through `aliases`, pino/bunyan numbers through `numeric`, an unknown number kept as its text.

use super::{ascii_lower, find_first, py_strip, Alias, Build, Decline, Line, Maybe, Step};
use crate::event::{Event, K};
use crate::json::Value;
use crate::options::{Built, Options, Refusal};
use rustc_hash::FxHashMap;

pub struct ParseLevel {
    fields: Vec<Alias>,
    /// `_by_text`: lowercased alias names, then each number's text, to a level.
    by_text: FxHashMap<String, String>,
    by_number: FxHashMap<i64, String>,
}

impl ParseLevel {
    pub fn build(options: &mut Options, b: &mut Build) -> Built<Self> {
        let fields = options.string_list("fields")?;
        let mut by_text = FxHashMap::default();
        for (key, value) in options.string_map("aliases")? {
            by_text.insert(
                ascii_lower("parse_level", &key)?,
                ascii_lower("parse_level", &value)?,
            );
        }
        let mut by_number = FxHashMap::default();
        let mut numbers = Vec::new();
        for (key, value) in options.string_map("numeric")? {
            // JSON keys are text: the number's decimal text, as `str(n)` writes it.
            let number: i64 = key.parse().map_err(|_| {
                Refusal::new(format!(
                    "parse_level: numeric key {key:?} is not a 64-bit integer"
                ))
            })?;
            if number.to_string() != key {
                return Err(Refusal::new(format!("parse_level: numeric key {key:?}")));
            }
            let name = ascii_lower("parse_level", &value)?;
            by_number.insert(number, name.clone());
            numbers.push((key, name));
        }
        for (text, name) in numbers {
            by_text.insert(text, name);
        }
        Ok(ParseLevel {
            fields: b.aliases(&fields),
            by_text,
            by_number,
        })
    }

    fn number(&self, number: i64) -> String {
        match self.by_number.get(&number) {
            Some(name) if !name.is_empty() => name.clone(), // `get(value) or str(value)`
            _ => number.to_string(),
        }
    }

    fn convert(&self, value: &Value) -> Maybe<Option<String>> {
        match value {
            Value::Str(s) => {
                if !s.is_ascii() {
                    return Err(Decline);
                }
                let text = py_strip(s).to_ascii_lowercase();
                Ok(if text.is_empty() {
                    None
                } else {
                    Some(self.by_text.get(&text).cloned().unwrap_or(text))
                })
            }
            Value::Float(f) if f.fract() == 0.0 => {
                if f.abs() >= 9.0e15 {
                    return Err(Decline);
                }
                Ok(Some(self.number(*f as i64)))
            }
            Value::Int(n) => Ok(Some(self.number(*n))),
            _ => Ok(None),
        }
    }
}

impl Step for ParseLevel {
    fn apply(&self, event: &mut Event, _line: &mut Line) -> Maybe<()> {
        if let Some((alias, level)) = find_first(event, &self.fields, |v| self.convert(v))? {
            alias.remove(event);
            event.insert(K::LOG__LEVEL, Value::Str(level));
        }
        Ok(())
    }
}
