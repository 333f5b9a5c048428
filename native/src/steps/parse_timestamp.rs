//! `parse_timestamp` (`parsers/timestamp.py`): `@timestamp` from the first present time field, read
//! in the zone `apply_path_settings` named for the line's file (`@timezone`, removed here) or the
//! configured one; a field that does not parse is tagged `_dateparsefailure` (a source `@timestamp`
//! kept as `_@timestamp`). A line without a readable time gets the processing time: Python reads its
//! clock (`now_utc()`), the chain has none and uses the block's `event.ingested`, taken when the
//! block is processed: the same kind of time, and the line's `event.ingested` equals it.

use super::time::{time_of, Zone};
use super::{add_tag, Alias, Build, Decline, Line, Maybe, Step};
use crate::event::{Event, K};
use crate::json::Value;
use crate::options::{Built, Options};
use rustc_hash::FxHashMap;

const DATE_PARSE_FAILURE: &str = "_dateparsefailure";

pub struct ParseTimestamp {
    fields: Vec<Alias>,
    zone: Zone,
    /// The zones path rules may name, by name.
    zones: FxHashMap<String, Zone>,
}

impl ParseTimestamp {
    pub fn build(options: &mut Options, b: &mut Build) -> Built<Self> {
        let fields = options.string_list("fields")?;
        let timezone = options.string("timezone")?;
        let zone = if timezone == "UTC" {
            Zone::utc()
        } else {
            b.zone(&timezone)?
        };
        Ok(ParseTimestamp {
            fields: b.aliases(&fields),
            zone,
            zones: b
                .zones
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }
}

impl Step for ParseTimestamp {
    fn apply(&self, event: &mut Event, line: &mut Line) -> Maybe<()> {
        let zone = match event.shift_remove(K::AT_TIMEZONE) {
            None => &self.zone,
            Some(Value::Str(name)) if name == "UTC" => &Zone::UTC,
            Some(Value::Str(name)) => self.zones.get(&name).ok_or(Decline)?,
            Some(_) => return Err(Decline),
        };
        for alias in &self.fields {
            let Some(value) = alias.get(event) else {
                continue;
            };
            if let Some(parsed) = time_of(value, zone)? {
                alias.remove(event);
                event.insert(K::AT_TIMESTAMP, Value::Str(parsed));
                return Ok(());
            }
            if &*alias.key.text == "@timestamp" {
                let invalid = value.clone();
                event.insert(K::_AT_TIMESTAMP, invalid);
            }
            add_tag(event, DATE_PARSE_FAILURE);
            break;
        }
        event.insert(K::AT_TIMESTAMP, Value::Str(line.ingested.to_owned()));
        Ok(())
    }
}
